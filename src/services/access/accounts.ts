/**
 * The provisioned (IdP) space of connected applications: an identity's account in the
 * application and the permissions it actually holds there (grants), with when they were
 * observed and by which import. Imports will record them; until then (and for tests and
 * scripts) they are recorded directly with {@link putAccount}. Managed applications have no
 * accounts here: what is assigned there is provisioned.
 *
 * Right: `manage-imports` (recording what an application holds is what an import does).
 */
import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../../domain/errors.ts';
import type { AccessContext, ContextType } from '../../domain/access.ts';
import type { Database } from '../../store/schema.ts';
import type { TenantDb } from '../../store/store.ts';
import { requireRight, type Actor, writeAs } from '../kernel/index.ts';
import { reportLinkedAccountSod } from '../sod/index.ts';
import { afterWrite, invalid, normalizeContext } from './common.ts';
import type { ServiceDeps } from '../deps.ts';

export interface GrantInput {
  /** Permission id, or name within the application. */
  permission: string;
  context?: { type: ContextType; id?: string | null } | undefined;
}

export interface PutAccountInput {
  identityId?: string | null | undefined;
  status?: 'active' | 'disabled' | undefined;
  grants: GrantInput[];
  importId?: string | null | undefined;
  observedAt?: string | undefined;
}

export interface AccountView {
  id: string;
  applicationId: string;
  name: string;
  identityId: string | null;
  status: string;
  observedAt: string;
  importId: string | null;
  grants: { permissionId: string; permissionName: string; context: AccessContext }[];
  createdAt: string;
  updatedAt: string;
}

export async function putAccount(
  deps: ServiceDeps,
  actor: Actor,
  applicationId: string,
  accountName: string,
  input: PutAccountInput,
): Promise<{ account: AccountView; created: boolean; revision: number }> {
  requireRight(actor, 'manage-imports');
  const { tenantId } = actor.caller;
  const scope = deps.store.read(tenantId);
  const app = await scope.db.selectFrom('applications').select(['id', 'kind']).where('id', '=', applicationId).executeTakeFirst();
  if (!app) throw notFound('application', applicationId);
  if (app.kind !== 'connected') throw new AppError('unprocessable', 'accounts are recorded for connected applications; a managed application provisions what is assigned');
  if (input.identityId) {
    const identity = await scope.db.selectFrom('identities').select('id').where('id', '=', input.identityId).executeTakeFirst();
    if (!identity) throw notFound('identity', input.identityId);
  }
  if (input.observedAt && Number.isNaN(Date.parse(input.observedAt))) throw invalid('observedAt', 'is not a date-time');
  const perms = await scope.db.selectFrom('permissions').select(['id', 'name']).where('application_id', '=', applicationId).execute();
  const byId = new Map(perms.map((p) => [p.id, p]));
  const byName = new Map(perms.map((p) => [p.name, p]));
  const grants: { permissionId: string; permissionName: string; context: AccessContext }[] = [];
  const seen = new Set<string>();
  for (const [i, g] of input.grants.entries()) {
    const perm = byId.get(g.permission) ?? byName.get(g.permission);
    if (!perm) throw new AppError('not_found', `permission ${g.permission} does not exist in application ${applicationId}`, { errors: [{ field: `grants.${i}.permission`, message: 'does not exist in this application' }] });
    const context = await normalizeContext(scope, g.context);
    const key = `${perm.id}|${context.type}|${context.id ?? ''}`;
    if (seen.has(key)) continue;
    seen.add(key);
    grants.push({ permissionId: perm.id, permissionName: perm.name, context });
  }
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const observedAt = input.observedAt ?? tx.now;
    const existing = await tx.db
      .selectFrom('accounts')
      .selectAll()
      .where('application_id', '=', applicationId)
      .where('name', '=', accountName)
      .executeTakeFirst();
    const row: Database['accounts'] = {
      id: existing?.id ?? randomUUID(),
      tenant_id: tenantId,
      application_id: applicationId,
      name: accountName,
      identity_id: input.identityId ?? null,
      status: input.status ?? 'active',
      observed_at: observedAt,
      import_id: input.importId ?? null,
      created_at: existing?.created_at ?? tx.now,
      updated_at: tx.now,
      version: existing ? Number(existing.version) + 1 : 1,
    };
    let before: AccountView | undefined;
    if (existing) {
      before = await accountView(tx, existing);
      const { id: _id, tenant_id: _t, created_at: _c, ...set } = row;
      await tx.db.updateTable('accounts').set(set).where('id', '=', row.id).execute();
      await tx.db.deleteFrom('grants').where('account_id', '=', row.id).execute();
    } else {
      await tx.db.insertInto('accounts').values(row).execute();
    }
    if (grants.length) {
      await tx.db
        .insertInto('grants')
        .values(
          grants.map((g) => ({
            id: randomUUID(),
            tenant_id: tenantId,
            account_id: row.id,
            permission_id: g.permissionId,
            context_type: g.context.type,
            context_id: g.context.id,
            observed_at: observedAt,
            import_id: row.import_id,
          })),
        )
        .execute();
    }
    const view: AccountView = {
      id: row.id,
      applicationId,
      name: accountName,
      identityId: row.identity_id,
      status: row.status,
      observedAt,
      importId: row.import_id,
      grants,
      createdAt: row.created_at,
      updatedAt: row.updated_at,
    };
    tx.audit({ action: existing ? 'account.update' : 'account.create', targetType: 'account', targetId: row.id, before, after: view });
    // An account newly linked to an identity brings its grants to it.
    if (row.identity_id && row.identity_id !== existing?.identity_id) await reportLinkedAccountSod(tx, deps, actor, { accountId: row.id, identityId: row.identity_id });
    tx.change('account', row.id, existing ? 'update' : 'create');
    return { view, created: !existing };
  });
  await afterWrite(deps, tenantId);
  return { account: value.view, created: value.created, revision };
}

export async function accountView(tx: TenantDb, row: Database['accounts']): Promise<AccountView> {
  const grants = await tx.db
    .selectFrom('grants')
    .innerJoin('permissions', 'permissions.id', 'grants.permission_id')
    .select(['grants.permission_id', 'permissions.name', 'grants.context_type', 'grants.context_id'])
    .where('grants.account_id', '=', row.id)
    .orderBy('permissions.name')
    .execute();
  return {
    id: row.id,
    applicationId: row.application_id,
    name: row.name,
    identityId: row.identity_id,
    status: row.status,
    observedAt: row.observed_at,
    importId: row.import_id,
    grants: grants.map((g) => ({ permissionId: g.permission_id, permissionName: g.name, context: { type: g.context_type as ContextType, id: g.context_id } })),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

export async function listAccounts(deps: ServiceDeps, actor: Actor, applicationId: string): Promise<AccountView[]> {
  requireRight(actor, 'manage-imports', 'read-permissions-any-application');
  const scope = deps.store.read(actor.caller.tenantId);
  const app = await scope.db.selectFrom('applications').select('id').where('id', '=', applicationId).executeTakeFirst();
  if (!app) throw notFound('application', applicationId);
  const rows = await scope.db.selectFrom('accounts').selectAll().where('application_id', '=', applicationId).orderBy('name').limit(1000).execute();
  const out: AccountView[] = [];
  for (const r of rows) out.push(await accountView(scope, r));
  return out;
}

export async function deleteAccount(deps: ServiceDeps, actor: Actor, applicationId: string, accountName: string): Promise<{ revision: number }> {
  requireRight(actor, 'manage-imports');
  const { tenantId } = actor.caller;
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await tx.db.selectFrom('accounts').selectAll().where('application_id', '=', applicationId).where('name', '=', accountName).executeTakeFirst();
    if (!row) throw notFound('account', accountName);
    const before = await accountView(tx, row);
    await tx.db.deleteFrom('grants').where('account_id', '=', row.id).execute();
    await tx.db.deleteFrom('accounts').where('id', '=', row.id).execute();
    tx.audit({ action: 'account.delete', targetType: 'account', targetId: row.id, before });
    tx.change('account', row.id, 'delete');
  });
  await afterWrite(deps, tenantId);
  return { revision };
}
