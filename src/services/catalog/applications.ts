/**
 * Applications: the systems whose access Grantory governs. Names are unique in the tenant;
 * owners are identities; the built-in application `grantory` (Grantory's own rights) is
 * read-only. Deleting an application deletes its permissions, finished imports, unmatched
 * accounts and account resolutions, and is refused while any permission is still assigned,
 * held by a role or granted to an account, or while the application has accounts, keys,
 * OAuth clients or an import in progress.
 *
 * ```ts
 * const { value, version, revision } = await createApplication(deps, actor, { name: 'CRM', kind: 'connected' });
 * ```
 */
import { writeAs, requireRight, writeMeta, type Actor, openPager, type Page, APPLICATION_DELETE_BLOCKERS, assertNotBlocked as assertNothingRefers, deleteApplicationRecords } from '../kernel/index.ts';
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical-json.ts';
import { validatedConnectorDocument } from '../../domain/connector.ts';
import { assertIfMatch } from '../../domain/etag.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import type { Database } from '../../store/schema.ts';
import { isUniqueViolation, type TenantDb, type WriteTx } from '../../store/store.ts';
import type { ServiceDeps } from '../deps.ts';
import { assertNotBlocked } from './blockers.ts';
import { withNormalizedName } from '../../domain/identifiers.ts';
import {
  CATALOG_READ_RIGHTS,
  assertDistinct,
  bool,
  containsText,
  flag,
  invalidField,
  missingIds,
  takenField,
  type Versioned,
} from './common.ts';

export const APPLICATION_KINDS = ['managed', 'connected'] as const;
export type ApplicationKind = (typeof APPLICATION_KINDS)[number];
export const PRIORITIES = ['None', 'Low', 'Medium', 'High', 'Critical'] as const;
export type Priority = (typeof PRIORITIES)[number];
/** The connector configuration is kept as canonical JSON of at most this many bytes. */
export const CONNECTOR_MAX_BYTES = 64 * 1024;

export type Connector = Record<string, unknown>;

export interface ApplicationView {
  id: string;
  number: number;
  name: string;
  kind: ApplicationKind;
  description: string | null;
  ownerIds: string[];
  priority: Priority;
  archived: boolean;
  /** The built-in `grantory` application: read-only. */
  builtin: boolean;
  connector: Connector | null;
  /** The application's most recent import (null before its first, and in audit events). */
  lastImport: LastImportSummary | null;
  createdAt: string;
  updatedAt: string;
}

export interface LastImportSummary {
  id: string;
  number: number;
  /** Pending, Running, Held, Finished, Failed, Canceling or Canceled. */
  status: string;
  dryRun: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface ApplicationInput {
  name: string;
  kind?: ApplicationKind | undefined;
  description?: string | null | undefined;
  ownerIds?: string[] | undefined;
  priority?: Priority | undefined;
  archived?: boolean | undefined;
  connector?: Connector | null | undefined;
}

export type ApplicationPatch = Partial<ApplicationInput>;

export interface ApplicationFilter {
  q?: string | undefined;
  kind?: ApplicationKind | undefined;
  archived?: boolean | undefined;
}

type ApplicationRow = Database['applications'];

export function toApplicationView(row: ApplicationRow, lastImport: Database['imports'] | null = null): ApplicationView {
  return {
    id: row.id,
    number: Number(row.number),
    name: row.name,
    kind: row.kind as ApplicationKind,
    description: row.description,
    ownerIds: JSON.parse(row.owner_ids) as string[],
    priority: row.priority as Priority,
    archived: bool(row.archived),
    builtin: bool(row.builtin),
    connector: row.connector === null ? null : (JSON.parse(row.connector) as Connector),
    lastImport: lastImport && {
      id: lastImport.id,
      number: Number(lastImport.number),
      status: lastImport.status,
      dryRun: bool(lastImport.dry_run),
      createdAt: lastImport.created_at,
      updatedAt: lastImport.updated_at,
    },
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/**
 * The stored form of a connector: validated and normalised exactly as an import reads it
 * (a bad configuration is a 400 naming the field), with its defaults and file group ids.
 */
function connectorText(connector: Connector | null): string | null {
  if (connector === null) return null;
  if (Buffer.byteLength(canonicalJson(connector)) > CONNECTOR_MAX_BYTES) {
    throw invalidField('connector', `must be at most ${CONNECTOR_MAX_BYTES} bytes of JSON`);
  }
  return JSON.stringify(validatedConnectorDocument(connector));
}

async function assertOwnersExist(scope: TenantDb, ownerIds: readonly string[]): Promise<void> {
  assertDistinct('ownerIds', ownerIds);
  if (!ownerIds.length) return;
  const rows = await scope.db
    .selectFrom('identities')
    .select('id')
    .where('id', 'in', [...ownerIds])
    .execute();
  const missing = missingIds(ownerIds, rows.map((r) => r.id));
  if (missing.length) throw invalidField('ownerIds', `names identities that do not exist: ${missing.join(', ')}`);
}

async function assertNameFree(scope: TenantDb, name: string, exceptId: string | null): Promise<void> {
  let q = scope.db.selectFrom('applications').select('id').where('name', '=', name);
  if (exceptId) q = q.where('id', '!=', exceptId);
  if (await q.executeTakeFirst()) throw takenField('name', `an application named "${name}" already exists`);
}

/** Translates a unique violation that slipped past the pre-check (a concurrent write). */
function rethrowUnique(e: unknown, name: string | undefined): never {
  if (isUniqueViolation(e) && name !== undefined) throw takenField('name', `an application named "${name}" already exists`);
  throw e;
}

export async function findApplicationRow(scope: TenantDb, id: string): Promise<ApplicationRow> {
  const row = await scope.db.selectFrom('applications').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('application', id);
  return row;
}

function assertNotBuiltin(row: ApplicationRow): void {
  if (row.builtin) {
    throw new AppError('conflict', `the built-in application "${row.name}" holds Grantory's own rights and cannot be changed or deleted`);
  }
}

export async function createApplication(
  deps: ServiceDeps,
  actor: Actor,
  input: ApplicationInput,
): Promise<Versioned<ApplicationView> & { revision: number }> {
  requireRight(actor, 'manage-applications');
  input = withNormalizedName(input);
  const connector = connectorText(input.connector ?? null);
  const { value, revision } = await deps.store
    .write(actor.caller.tenantId, writeMeta(actor), async (tx) => {
      await assertNameFree(tx, input.name, null);
      await assertOwnersExist(tx, input.ownerIds ?? []);
      const row: ApplicationRow = {
        id: randomUUID(),
        tenant_id: tx.tenantId,
        number: await tx.nextNumber('applications'),
        name: input.name,
        kind: input.kind ?? 'connected',
        description: input.description ?? null,
        owner_ids: JSON.stringify(input.ownerIds ?? []),
        priority: input.priority ?? 'None',
        archived: flag(input.archived ?? false),
        builtin: 0,
        connector,
        created_at: tx.now,
        updated_at: tx.now,
        version: 1,
      };
      await tx.db.insertInto('applications').values(row).execute();
      const view = toApplicationView(row);
      tx.audit({ action: 'application.create', targetType: 'application', targetId: row.id, after: view });
      tx.change('application', row.id, 'create');
      return view;
    })
    .catch((e: unknown) => rethrowUnique(e, input.name));
  return { value, version: 1, revision };
}

export async function getApplication(deps: ServiceDeps, actor: Actor, id: string): Promise<Versioned<ApplicationView>> {
  requireRight(actor, ...CATALOG_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  const row = await findApplicationRow(scope, id);
  const last = await lastImportsOf(scope, [row.id]);
  return { value: toApplicationView(row, last.get(row.id) ?? null), version: row.version };
}

/** The most recent import (highest number) of each of these applications that has one. */
export async function lastImportsOf(scope: TenantDb, appIds: string[]): Promise<Map<string, Database['imports']>> {
  const out = new Map<string, Database['imports']>();
  if (!appIds.length) return out;
  const { db } = scope;
  const latest = await db
    .selectFrom('imports')
    .select(['application_id', (eb) => eb.fn.max('number').as('number')])
    .where('application_id', 'in', appIds)
    .groupBy('application_id')
    .execute();
  if (!latest.length) return out;
  const rows = await db
    .selectFrom('imports')
    .selectAll()
    .where(
      'number',
      'in',
      latest.map((l) => Number(l.number)),
    )
    .execute();
  for (const r of rows) out.set(r.application_id, r);
  return out;
}

/** The application with this integer `number` (vendor profiles address applications by it). */
export async function getApplicationByNumber(deps: ServiceDeps, actor: Actor, number: number): Promise<ApplicationView> {
  requireRight(actor, ...CATALOG_READ_RIGHTS);
  const { db } = deps.store.read(actor.caller.tenantId);
  const row = await db.selectFrom('applications').selectAll().where('number', '=', number).executeTakeFirst();
  if (!row) throw notFound('application', String(number));
  return toApplicationView(row);
}

export async function listApplications(
  deps: ServiceDeps,
  actor: Actor,
  filter: ApplicationFilter,
  page: { limit?: number | undefined; cursor?: string | undefined },
): Promise<Page<ApplicationView>> {
  requireRight(actor, ...CATALOG_READ_RIGHTS);
  const { db, tenantId } = deps.store.read(actor.caller.tenantId);
  const pager = await openPager<number>(deps, tenantId, 'applications', { ...filter }, page);
  let q = db.selectFrom('applications').selectAll();
  if (filter.q !== undefined) q = q.where(containsText('name', filter.q));
  if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
  if (filter.archived !== undefined) q = q.where('archived', '=', flag(filter.archived));
  if (pager.after !== null) q = q.where('number', '>', pager.after);
  const rows = await q.orderBy('number').limit(pager.limit + 1).execute();
  const last = await lastImportsOf(deps.store.read(tenantId), rows.map((r) => r.id));
  return pager.page(rows, (r) => Number(r.number), (r) => toApplicationView(r, last.get(r.id) ?? null));
}

export async function updateApplication(
  deps: ServiceDeps,
  actor: Actor,
  id: string,
  patch: ApplicationPatch,
  ifMatch?: string,
): Promise<Versioned<ApplicationView> & { revision: number }> {
  requireRight(actor, 'manage-applications');
  patch = withNormalizedName(patch);
  const connector = patch.connector === undefined ? undefined : connectorText(patch.connector);
  const { value, revision } = await deps.store
    .write(actor.caller.tenantId, writeMeta(actor), async (tx) => {
      const row = await findApplicationRow(tx, id);
      assertIfMatch(ifMatch, row.version);
      assertNotBuiltin(row);
      if (patch.name !== undefined && patch.name !== row.name) await assertNameFree(tx, patch.name, id);
      if (patch.ownerIds !== undefined) await assertOwnersExist(tx, patch.ownerIds);
      const next: ApplicationRow = {
        ...row,
        name: patch.name ?? row.name,
        kind: patch.kind ?? row.kind,
        description: patch.description === undefined ? row.description : patch.description,
        owner_ids: patch.ownerIds === undefined ? row.owner_ids : JSON.stringify(patch.ownerIds),
        priority: patch.priority ?? row.priority,
        archived: patch.archived === undefined ? row.archived : flag(patch.archived),
        connector: connector === undefined ? row.connector : connector,
        updated_at: tx.now,
        version: row.version + 1,
      };
      await tx.db
        .updateTable('applications')
        .set({
          name: next.name,
          kind: next.kind,
          description: next.description,
          owner_ids: next.owner_ids,
          priority: next.priority,
          archived: next.archived,
          connector: next.connector,
          updated_at: next.updated_at,
          version: next.version,
        })
        .where('id', '=', id)
        .execute();
      const view = toApplicationView(next);
      tx.audit({ action: 'application.update', targetType: 'application', targetId: id, before: toApplicationView(row), after: view });
      tx.change('application', id, 'update');
      return { value: view, version: next.version };
    })
    .catch((e: unknown) => rethrowUnique(e, patch.name));
  return { ...value, revision };
}

export async function deleteApplication(deps: ServiceDeps, actor: Actor, id: string, ifMatch?: string): Promise<{ revision: number }> {
  requireRight(actor, 'manage-applications');
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await findApplicationRow(tx, id);
    assertIfMatch(ifMatch, row.version);
    assertNotBuiltin(row);
    await assertNothingRefers(tx, APPLICATION_DELETE_BLOCKERS, `application "${row.name}"`, id);
    const permissionIds = await deleteApplicationPermissions(tx, row);
    const deletedRecords = await deleteApplicationRecords(tx, id);
    await tx.db.deleteFrom('applications').where('id', '=', id).execute();
    tx.audit({
      action: 'application.delete',
      targetType: 'application',
      targetId: id,
      before: { ...toApplicationView(row), permissionIds, deletedRecords },
    });
    tx.change('application', id, 'delete');
  });
  return { revision };
}

/** Deletes the application's permissions, refusing when any is still in use. */
async function deleteApplicationPermissions(tx: WriteTx, app: ApplicationRow): Promise<string[]> {
  const perms = await tx.db
    .selectFrom('permissions')
    .select(['id'])
    .where('application_id', '=', app.id)
    .orderBy('number')
    .execute();
  const ids = perms.map((p) => p.id);
  await assertNotBlocked(tx, 'permission', ids, `application "${app.name}"`, 'its permissions are still in use');
  if (ids.length) {
    await tx.db.deleteFrom('permissions').where('application_id', '=', app.id).execute();
    for (const pid of ids) tx.change('permission', pid, 'delete');
  }
  return ids;
}
