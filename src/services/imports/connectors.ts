/**
 * An application's connector, as imports see it: the application an import names (refused
 * when missing, archived or without a connector), the folder its files are staged in, and
 * reading and setting its connector configuration (one audited write).
 */
import { writeAs, requireRight, type Actor } from '../kernel/index.ts';
import { connectorDocument, storedConnector, validatedConnectorDocument, type Connector, type ConnectorInput } from '../../domain/connector.ts';
import { AppError } from '../../domain/errors.ts';
import type { Database } from '../../store/schema.ts';
import type { TenantDb } from '../../store/store.ts';
import type { ServiceDeps } from '../deps.ts';

export type ApplicationRow = Database['applications'];

export async function findApplication(scope: TenantDb, id: string): Promise<ApplicationRow | undefined> {
  return scope.db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirst();
}

export async function requireApplication(scope: TenantDb, id: string, field = 'applicationId'): Promise<ApplicationRow> {
  const app = await findApplication(scope, id);
  if (!app) throw new AppError('not_found', `application ${id} does not exist`, { errors: [{ field, message: 'no such application' }] });
  return app;
}

/** The application's connector, or a 400 naming the field when it cannot be imported into. */
export function importableConnector(app: ApplicationRow, field = 'applicationId'): Connector {
  if (app.archived === 1) {
    throw new AppError('validation_failed', `application ${app.name} is archived; imports are refused`, {
      errors: [{ field, message: 'the application is archived' }],
    });
  }
  const connector = storedConnector(app.connector);
  if (!connector) {
    throw new AppError('validation_failed', `application ${app.name} has no connector configuration`, {
      errors: [{ field, message: 'the application has no connector configuration' }],
    });
  }
  return connector;
}

export const folderNameOf = (app: { id: string }, connector: Connector): string => connector.directory ?? app.id;

// ---------------------------------------------------------------- connector

export async function getConnector(deps: ServiceDeps, actor: Actor, applicationId: string): Promise<ConnectorInput | null> {
  requireRight(actor, 'manage-imports', 'manage-applications');
  const app = await requireApplication(deps.store.read(actor.caller.tenantId), applicationId, 'id');
  const connector = storedConnector(app.connector);
  return connector ? connectorDocument(connector) : null;
}

export async function setConnector(
  deps: ServiceDeps,
  actor: Actor,
  applicationId: string,
  input: unknown,
): Promise<{ value: ConnectorInput; revision: number }> {
  requireRight(actor, 'manage-imports', 'manage-applications');
  const doc = validatedConnectorDocument(input);
  return writeAs(deps, actor, async (tx) => {
    const app = await requireApplication(tx, applicationId, 'id');
    if (app.builtin === 1) throw new AppError('validation_failed', 'the built-in application has no connector', { errors: [{ field: 'id', message: 'is built in' }] });
    const text = JSON.stringify(doc);
    await tx.db
      .updateTable('applications')
      .set({ connector: text, updated_at: tx.now, version: app.version + 1 })
      .where('id', '=', app.id)
      .execute();
    tx.audit({
      action: 'application.connector.update',
      targetType: 'application',
      targetId: app.id,
      before: app.connector ? (JSON.parse(app.connector) as unknown) : null,
      after: doc,
    });
    tx.change('application', app.id, 'update');
    return doc;
  });
}
