/**
 * Permissions: the entitlements of one application. Names are unique within their
 * application. Grantory's own rights (the permissions of the built-in application) are
 * defined by the code and cannot be created, changed or deleted through the API.
 * Deleting a permission is refused while it is assigned or held by a role.
 *
 * ```ts
 * await createPermission(deps, actor, appId, { name: 'approve-invoices', risk: 'high' });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { assertIfMatch } from '../../domain/etag.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import type { Database } from '../../store/schema.ts';
import { isUniqueViolation, type TenantDb } from '../../store/store.ts';
import { requireRight, writeMeta, type Actor, openPager, type Page, writeAs } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { findApplicationRow } from './applications.ts';
import { assertNotBlocked } from './blockers.ts';
import { CATALOG_READ_RIGHTS, bool, containsText, flag, takenField, type Versioned } from './common.ts';
import { withNormalizedName } from '../../domain/identifiers.ts';

export const RISKS = ['low', 'medium', 'high', 'critical'] as const;
export type Risk = (typeof RISKS)[number];

export interface PermissionView {
  id: string;
  number: number;
  applicationId: string;
  name: string;
  category: string | null;
  description: string | null;
  risk: Risk;
  requestable: boolean;
  delegable: boolean;
  /** A Grantory right (a permission of the built-in application): read-only. */
  builtin: boolean;
  createdAt: string;
  updatedAt: string;
}

export interface PermissionInput {
  name: string;
  category?: string | null | undefined;
  description?: string | null | undefined;
  risk?: Risk | undefined;
  requestable?: boolean | undefined;
  delegable?: boolean | undefined;
}

export type PermissionPatch = Partial<PermissionInput>;

export interface PermissionFilter {
  applicationId?: string | undefined;
  q?: string | undefined;
  category?: string | undefined;
}

type PermissionRow = Database['permissions'];
type PermissionWithApp = PermissionRow & { app_builtin: number; app_name: string };

export function toPermissionView(row: PermissionRow & { app_builtin: number }): PermissionView {
  return {
    id: row.id,
    number: Number(row.number),
    applicationId: row.application_id,
    name: row.name,
    category: row.category,
    description: row.description,
    risk: row.risk as Risk,
    requestable: bool(row.requestable),
    delegable: bool(row.delegable),
    builtin: bool(row.app_builtin),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

function selectPermissions(scope: TenantDb) {
  return scope.db
    .selectFrom('permissions')
    .innerJoin('applications', (j) =>
      j.onRef('applications.id', '=', 'permissions.application_id').onRef('applications.tenant_id', '=', 'permissions.tenant_id'),
    )
    .selectAll('permissions')
    .select(['applications.builtin as app_builtin', 'applications.name as app_name']);
}

async function findPermissionRow(scope: TenantDb, id: string): Promise<PermissionWithApp> {
  const row = await selectPermissions(scope).where('permissions.id', '=', id).executeTakeFirst();
  if (!row) throw notFound('permission', id);
  return row;
}

function assertNotRight(row: { app_builtin: number; app_name: string; name: string }): void {
  if (row.app_builtin) {
    throw new AppError('conflict', `"${row.name}" is a right of the built-in application "${row.app_name}" and cannot be changed or deleted`);
  }
}

async function assertNameFree(scope: TenantDb, applicationId: string, name: string, exceptId: string | null): Promise<void> {
  let q = scope.db
    .selectFrom('permissions')
    .select('id')
    .where('application_id', '=', applicationId)
    .where('name', '=', name);
  if (exceptId) q = q.where('id', '!=', exceptId);
  if (await q.executeTakeFirst()) throw takenField('name', `the application already has a permission named "${name}"`);
}

function rethrowUnique(e: unknown, name: string | undefined): never {
  if (isUniqueViolation(e) && name !== undefined) throw takenField('name', `the application already has a permission named "${name}"`);
  throw e;
}

export async function createPermission(
  deps: ServiceDeps,
  actor: Actor,
  applicationId: string,
  input: PermissionInput,
): Promise<Versioned<PermissionView> & { revision: number }> {
  requireRight(actor, 'manage-applications');
  input = withNormalizedName(input);
  const { value, revision } = await deps.store
    .write(actor.caller.tenantId, writeMeta(actor), async (tx) => {
      const app = await findApplicationRow(tx, applicationId);
      if (app.builtin) {
        throw new AppError('conflict', `the built-in application "${app.name}" has a fixed catalog: Grantory's own rights`);
      }
      await assertNameFree(tx, applicationId, input.name, null);
      const row: PermissionRow = {
        id: randomUUID(),
        tenant_id: tx.tenantId,
        number: await tx.nextNumber('permissions'),
        application_id: applicationId,
        name: input.name,
        category: input.category ?? null,
        description: input.description ?? null,
        risk: input.risk ?? 'low',
        requestable: flag(input.requestable ?? true),
        delegable: flag(input.delegable ?? false),
        created_at: tx.now,
        updated_at: tx.now,
        version: 1,
      };
      await tx.db.insertInto('permissions').values(row).execute();
      const view = toPermissionView({ ...row, app_builtin: 0 });
      tx.audit({ action: 'permission.create', targetType: 'permission', targetId: row.id, after: view });
      tx.change('permission', row.id, 'create');
      return view;
    })
    .catch((e: unknown) => rethrowUnique(e, input.name));
  return { value, version: 1, revision };
}

export async function getPermission(deps: ServiceDeps, actor: Actor, id: string): Promise<Versioned<PermissionView>> {
  requireRight(actor, ...CATALOG_READ_RIGHTS);
  const row = await findPermissionRow(deps.store.read(actor.caller.tenantId), id);
  return { value: toPermissionView(row), version: row.version };
}

/** The permission with this integer `number` (vendor profiles address permissions by it). */
export async function getPermissionByNumber(deps: ServiceDeps, actor: Actor, number: number): Promise<PermissionView> {
  requireRight(actor, ...CATALOG_READ_RIGHTS);
  const row = await selectPermissions(deps.store.read(actor.caller.tenantId)).where('permissions.number', '=', number).executeTakeFirst();
  if (!row) throw notFound('permission', String(number));
  return toPermissionView(row);
}

/** Lists permissions in `number` order. With `applicationId`, an unknown application is a 404. */
export async function listPermissions(
  deps: ServiceDeps,
  actor: Actor,
  filter: PermissionFilter,
  page: { limit?: number | undefined; cursor?: string | undefined },
): Promise<Page<PermissionView>> {
  requireRight(actor, ...CATALOG_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  if (filter.applicationId !== undefined) await findApplicationRow(scope, filter.applicationId);
  const pager = await openPager<number>(deps, scope.tenantId, 'permissions', { ...filter }, page);
  let q = selectPermissions(scope);
  if (filter.applicationId !== undefined) q = q.where('permissions.application_id', '=', filter.applicationId);
  if (filter.q !== undefined) q = q.where(containsText('permissions.name', filter.q));
  if (filter.category !== undefined) q = q.where('permissions.category', '=', filter.category);
  if (pager.after !== null) q = q.where('permissions.number', '>', pager.after);
  const rows = await q.orderBy('permissions.number').limit(pager.limit + 1).execute();
  return pager.page(rows, (r) => Number(r.number), toPermissionView);
}

export async function updatePermission(
  deps: ServiceDeps,
  actor: Actor,
  id: string,
  patch: PermissionPatch,
  ifMatch?: string,
): Promise<Versioned<PermissionView> & { revision: number }> {
  requireRight(actor, 'manage-applications');
  patch = withNormalizedName(patch);
  const { value, revision } = await deps.store
    .write(actor.caller.tenantId, writeMeta(actor), async (tx) => {
      const row = await findPermissionRow(tx, id);
      assertIfMatch(ifMatch, row.version);
      assertNotRight(row);
      if (patch.name !== undefined && patch.name !== row.name) await assertNameFree(tx, row.application_id, patch.name, id);
      const next: PermissionWithApp = {
        ...row,
        name: patch.name ?? row.name,
        category: patch.category === undefined ? row.category : patch.category,
        description: patch.description === undefined ? row.description : patch.description,
        risk: patch.risk ?? row.risk,
        requestable: patch.requestable === undefined ? row.requestable : flag(patch.requestable),
        delegable: patch.delegable === undefined ? row.delegable : flag(patch.delegable),
        updated_at: tx.now,
        version: row.version + 1,
      };
      await tx.db
        .updateTable('permissions')
        .set({
          name: next.name,
          category: next.category,
          description: next.description,
          risk: next.risk,
          requestable: next.requestable,
          delegable: next.delegable,
          updated_at: next.updated_at,
          version: next.version,
        })
        .where('id', '=', id)
        .execute();
      const view = toPermissionView(next);
      tx.audit({ action: 'permission.update', targetType: 'permission', targetId: id, before: toPermissionView(row), after: view });
      tx.change('permission', id, 'update');
      return { value: view, version: next.version };
    })
    .catch((e: unknown) => rethrowUnique(e, patch.name));
  return { ...value, revision };
}

export async function deletePermission(deps: ServiceDeps, actor: Actor, id: string, ifMatch?: string): Promise<{ revision: number }> {
  requireRight(actor, 'manage-applications');
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await findPermissionRow(tx, id);
    assertIfMatch(ifMatch, row.version);
    assertNotRight(row);
    await assertNotBlocked(tx, 'permission', [id], `permission "${row.name}"`);
    await tx.db.deleteFrom('permissions').where('id', '=', id).execute();
    tx.audit({ action: 'permission.delete', targetType: 'permission', targetId: id, before: toPermissionView(row) });
    tx.change('permission', id, 'delete');
  });
  return { revision };
}

/**
 * Translates permission `number`s to ids (vendor profiles send numbers). An unknown
 * number is a `validation_failed` naming `field`.
 */
export async function permissionIdsOfNumbers(deps: ServiceDeps, actor: Actor, numbers: readonly number[], field: string): Promise<string[]> {
  requireRight(actor, ...CATALOG_READ_RIGHTS);
  if (!numbers.length) return [];
  const { db } = deps.store.read(actor.caller.tenantId);
  const rows = await db.selectFrom('permissions').select(['id', 'number']).where('number', 'in', [...numbers]).execute();
  const byNumber = new Map(rows.map((r) => [Number(r.number), r.id]));
  const missing = numbers.filter((n) => !byNumber.has(n));
  if (missing.length) {
    throw new AppError('validation_failed', `${field} names permissions that do not exist: ${missing.join(', ')}`, {
      errors: [{ field, message: `names permissions that do not exist: ${missing.join(', ')}` }],
    });
  }
  return numbers.map((n) => byNumber.get(n)!);
}

/** The `number` of each permission id given (ids that do not exist are left out). */
export async function permissionNumbersOfIds(deps: ServiceDeps, actor: Actor, ids: readonly string[]): Promise<Map<string, number>> {
  requireRight(actor, ...CATALOG_READ_RIGHTS);
  if (!ids.length) return new Map();
  const { db } = deps.store.read(actor.caller.tenantId);
  const numbers = new Map<string, number>();
  for (let i = 0; i < ids.length; i += 500) {
    const part = ids.slice(i, i + 500);
    const rows = await db.selectFrom('permissions').select(['id', 'number']).where('id', 'in', part).execute();
    for (const r of rows) numbers.set(r.id, Number(r.number));
  }
  return numbers;
}

/**
 * Grantory's rights as permissions: those of the built-in application, in number order, with
 * that application's number (the Checkmarx profile's service provider of its built-ins).
 */
export async function rightPermissions(deps: ServiceDeps, actor: Actor): Promise<{ applicationNumber: number; permissions: PermissionView[] }> {
  requireRight(actor, ...CATALOG_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  const rows = await selectPermissions(scope).select('applications.number as app_number').where('applications.builtin', '=', 1).orderBy('permissions.number').execute();
  return { applicationNumber: rows.length ? Number(rows[0]!.app_number) : 0, permissions: rows.map(toPermissionView) };
}

/** The permissions of these ids (ids that name none are left out), by id. */
export async function permissionsOfIds(deps: ServiceDeps, actor: Actor, ids: readonly string[]): Promise<Map<string, PermissionView>> {
  requireRight(actor, ...CATALOG_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  const out = new Map<string, PermissionView>();
  for (let i = 0; i < ids.length; i += 500) {
    for (const row of await selectPermissions(scope).where('permissions.id', 'in', ids.slice(i, i + 500)).execute()) out.set(row.id, toPermissionView(row));
  }
  return out;
}

/** The permissions of these numbers (numbers that name none are left out), by number. */
export async function permissionsOfNumbers(deps: ServiceDeps, actor: Actor, numbers: readonly number[]): Promise<Map<number, PermissionView>> {
  requireRight(actor, ...CATALOG_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  const out = new Map<number, PermissionView>();
  for (let i = 0; i < numbers.length; i += 500) {
    for (const row of await selectPermissions(scope).where('permissions.number', 'in', numbers.slice(i, i + 500)).execute()) out.set(Number(row.number), toPermissionView(row));
  }
  return out;
}
