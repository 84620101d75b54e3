/**
 * Roles: named bundles of permissions (of any applications) that may include other roles.
 * Invariants kept here, for every caller (API, vendor profiles, CLI):
 * - names are unique in the tenant;
 * - inclusions never form a cycle (409 naming it, e.g. `A → B → A`);
 * - a system role (e.g. `Admin`) cannot be changed or deleted;
 * - nobody makes a role hold a Grantory right they do not hold themselves (403);
 * - a role that is assigned or included in another role is not deleted (409).
 *
 * ```ts
 * await createRole(deps, actor, { name: 'Auditors', permissionIds: [readAudit.id] });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { assertIfMatch } from '../../domain/etag.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import { RIGHTS, isRight } from '../../domain/rights.ts';
import { inclusionCycle, inclusionEdges, reachableRoles } from '../../domain/role-graph.ts';
import type { Database } from '../../store/schema.ts';
import { isUniqueViolation, type TenantDb } from '../../store/store.ts';
import { requireRight, writeMeta, type Actor, openPager, type Page, writeAs } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { assertNotBlocked } from './blockers.ts';
import { ROLE_READ_RIGHTS, assertDistinct, bool, containsText, invalidField, missingIds, takenField, type Versioned } from './common.ts';
import { withNormalizedName } from '../../domain/identifiers.ts';
import { checkRoleContentsSod, refuseOrReport, sodGraphBefore } from '../sod/index.ts';

export interface RoleView {
  id: string;
  number: number;
  name: string;
  description: string | null;
  /** A role Grantory defines (e.g. `Admin`): read-only. */
  system: boolean;
  /** The permissions the role holds directly (not through included roles). */
  permissionIds: string[];
  includedRoleIds: string[];
  createdAt: string;
  updatedAt: string;
}

export interface RoleInput {
  name: string;
  description?: string | null | undefined;
  permissionIds?: string[] | undefined;
  includedRoleIds?: string[] | undefined;
}

export type RolePatch = Partial<RoleInput>;

export interface RoleFilter {
  q?: string | undefined;
  /** Roles that hold this permission directly. */
  permissionId?: string | undefined;
}

type RoleRow = Database['roles'];

const byText = (a: string, b: string) => (a < b ? -1 : a > b ? 1 : 0);

function toRoleView(row: RoleRow, permissionIds: string[], includedRoleIds: string[]): RoleView {
  return {
    id: row.id,
    number: Number(row.number),
    name: row.name,
    description: row.description,
    system: bool(row.system),
    permissionIds: [...permissionIds].sort(byText),
    includedRoleIds: [...includedRoleIds].sort(byText),
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

/** Loads the permissions and inclusions of `rows` in two queries and builds their views. */
async function toRoleViews(scope: TenantDb, rows: RoleRow[]): Promise<RoleView[]> {
  if (!rows.length) return [];
  const ids = rows.map((r) => r.id);
  const perms = await scope.db
    .selectFrom('role_permissions')
    .select(['role_id', 'permission_id'])
    .where('role_id', 'in', ids)
    .execute();
  const includes = await scope.db
    .selectFrom('role_includes')
    .select(['role_id', 'included_role_id'])
    .where('role_id', 'in', ids)
    .execute();
  const group = <T extends { role_id: string }>(items: T[], pick: (t: T) => string) => {
    const m = new Map<string, string[]>();
    for (const item of items) m.set(item.role_id, [...(m.get(item.role_id) ?? []), pick(item)]);
    return m;
  };
  const p = group(perms, (x) => x.permission_id);
  const i = group(includes, (x) => x.included_role_id);
  return rows.map((r) => toRoleView(r, p.get(r.id) ?? [], i.get(r.id) ?? []));
}

async function findRoleRow(scope: TenantDb, id: string): Promise<RoleRow> {
  const row = await scope.db.selectFrom('roles').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('role', id);
  return row;
}

function assertNotSystem(row: RoleRow): void {
  if (row.system) throw new AppError('conflict', `"${row.name}" is a system role and cannot be changed or deleted`);
}

async function assertNameFree(scope: TenantDb, name: string, exceptId: string | null): Promise<void> {
  let q = scope.db.selectFrom('roles').select('id').where('name', '=', name);
  if (exceptId) q = q.where('id', '!=', exceptId);
  if (await q.executeTakeFirst()) throw takenField('name', `a role named "${name}" already exists`);
}

function rethrowUnique(e: unknown, name: string | undefined): never {
  if (isUniqueViolation(e) && name !== undefined) throw takenField('name', `a role named "${name}" already exists`);
  throw e;
}

async function assertExist(scope: TenantDb, table: 'permissions' | 'roles', field: string, ids: readonly string[]): Promise<void> {
  assertDistinct(field, ids);
  if (!ids.length) return;
  const rows = await scope.db.selectFrom(table).select('id').where('id', 'in', [...ids]).execute();
  const missing = missingIds(ids, rows.map((r) => r.id));
  if (missing.length) throw invalidField(field, `names ${table} that do not exist: ${missing.join(', ')}`);
}

/**
 * Checks the role's would-be contents: references exist, no inclusion cycle, and no
 * Grantory right beyond the caller's own (directly or through included roles).
 */
async function checkContents(scope: TenantDb, actor: Actor, roleId: string, roleName: string, permissionIds: string[], includedRoleIds: string[]): Promise<void> {
  await assertExist(scope, 'permissions', 'permissionIds', permissionIds);
  await assertExist(scope, 'roles', 'includedRoleIds', includedRoleIds);
  const edges = inclusionEdges(
    await scope.db.selectFrom('role_includes').select(['role_id', 'included_role_id']).execute(),
  );
  const cycle = inclusionCycle(roleId, includedRoleIds, edges);
  if (cycle) {
    const names = new Map(
      (await scope.db.selectFrom('roles').select(['id', 'name']).where('id', 'in', cycle).execute()).map((r) => [r.id, r.name]),
    );
    names.set(roleId, roleName);
    const path = cycle.map((id) => names.get(id) ?? id).join(' → ');
    throw new AppError('conflict', `role inclusions cannot form a cycle: ${path}`, {
      errors: [{ field: 'includedRoleIds', message: `would form the cycle ${path}` }],
      details: { cycle: cycle.map((id) => ({ id, name: names.get(id) ?? null })) },
    });
  }

  const held = new Set(permissionIds);
  const roles = [...reachableRoles(includedRoleIds, edges)];
  if (roles.length) {
    const rows = await scope.db.selectFrom('role_permissions').select('permission_id').where('role_id', 'in', roles).execute();
    rows.forEach((r) => held.add(r.permission_id));
  }
  if (!held.size) return;
  const rights = await scope.db
    .selectFrom('permissions')
    .innerJoin('applications', (j) => j.onRef('applications.id', '=', 'permissions.application_id').onRef('applications.tenant_id', '=', 'permissions.tenant_id'))
    .select('permissions.name')
    .where('applications.builtin', '=', 1)
    .where('permissions.id', 'in', [...held])
    .execute();
  const names = new Set(rights.map((r) => r.name));
  const beyond = RIGHTS.filter((r) => names.has(r) && !actor.caller.rights.has(r));
  // A built-in permission that is not a known right cannot be held by anyone: never grant it.
  const unknown = [...names].filter((n) => !isRight(n));
  if (beyond.length || unknown.length) {
    const all = [...beyond, ...unknown];
    throw new AppError('forbidden', `the role would hold Grantory rights the caller does not hold: ${all.join(', ')}`, {
      details: { rightsBeyondCaller: all },
    });
  }
}

async function replaceContents(tx: TenantDb, roleId: string, permissionIds: string[], includedRoleIds: string[]): Promise<void> {
  await tx.db.deleteFrom('role_permissions').where('role_id', '=', roleId).execute();
  await tx.db.deleteFrom('role_includes').where('role_id', '=', roleId).execute();
  if (permissionIds.length) {
    await tx.db.insertInto('role_permissions').values(permissionIds.map((permission_id) => ({ tenant_id: tx.tenantId, role_id: roleId, permission_id }))).execute();
  }
  if (includedRoleIds.length) {
    await tx.db.insertInto('role_includes').values(includedRoleIds.map((included_role_id) => ({ tenant_id: tx.tenantId, role_id: roleId, included_role_id }))).execute();
  }
}

export async function createRole(deps: ServiceDeps, actor: Actor, input: RoleInput): Promise<Versioned<RoleView> & { revision: number }> {
  requireRight(actor, 'manage-roles');
  input = withNormalizedName(input);
  const permissionIds = input.permissionIds ?? [];
  const includedRoleIds = input.includedRoleIds ?? [];
  const { value, revision } = await deps.store
    .write(actor.caller.tenantId, writeMeta(actor), async (tx) => {
      await assertNameFree(tx, input.name, null);
      const id = randomUUID();
      await checkContents(tx, actor, id, input.name, permissionIds, includedRoleIds);
      const row: RoleRow = {
        id,
        tenant_id: tx.tenantId,
        number: await tx.nextNumber('roles'),
        name: input.name,
        description: input.description ?? null,
        system: 0,
        created_at: tx.now,
        updated_at: tx.now,
        version: 1,
      };
      await tx.db.insertInto('roles').values(row).execute();
      await replaceContents(tx, id, permissionIds, includedRoleIds);
      const view = toRoleView(row, permissionIds, includedRoleIds);
      tx.audit({ action: 'role.create', targetType: 'role', targetId: id, after: view });
      tx.change('role', id, 'create');
      return view;
    })
    .catch((e: unknown) => rethrowUnique(e, input.name));
  return { value, version: 1, revision };
}

export async function getRole(deps: ServiceDeps, actor: Actor, id: string): Promise<Versioned<RoleView>> {
  requireRight(actor, ...ROLE_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  const row = await findRoleRow(scope, id);
  const [view] = await toRoleViews(scope, [row]);
  return { value: view!, version: row.version };
}

/** The role with this integer `number` (vendor profiles address roles by it). */
export async function getRoleByNumber(deps: ServiceDeps, actor: Actor, number: number): Promise<Versioned<RoleView>> {
  requireRight(actor, ...ROLE_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  const row = await scope.db.selectFrom('roles').selectAll().where('number', '=', number).executeTakeFirst();
  if (!row) throw notFound('role', String(number));
  const [view] = await toRoleViews(scope, [row]);
  return { value: view!, version: row.version };
}

export async function listRoles(
  deps: ServiceDeps,
  actor: Actor,
  filter: RoleFilter,
  page: { limit?: number | undefined; cursor?: string | undefined },
): Promise<Page<RoleView>> {
  requireRight(actor, ...ROLE_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  const pager = await openPager<number>(deps, scope.tenantId, 'roles', { ...filter }, page);
  let q = scope.db.selectFrom('roles').selectAll();
  if (filter.q !== undefined) q = q.where(containsText('name', filter.q));
  if (filter.permissionId !== undefined) {
    const permissionId = filter.permissionId;
    q = q.where('id', 'in', (eb) =>
      eb.selectFrom('role_permissions').select('role_id').where('permission_id', '=', permissionId),
    );
  }
  if (pager.after !== null) q = q.where('number', '>', pager.after);
  const rows = await q.orderBy('number').limit(pager.limit + 1).execute();
  const result = pager.page(rows, (r) => Number(r.number), (r) => r);
  return { items: await toRoleViews(scope, result.items), nextCursor: result.nextCursor };
}

export async function updateRole(
  deps: ServiceDeps,
  actor: Actor,
  id: string,
  patch: RolePatch,
  ifMatch?: string,
): Promise<Versioned<RoleView> & { revision: number }> {
  requireRight(actor, 'manage-roles');
  patch = withNormalizedName(patch);
  const { value, revision } = await deps.store
    .write(actor.caller.tenantId, writeMeta(actor), async (tx) => {
      const row = await findRoleRow(tx, id);
      assertIfMatch(ifMatch, row.version);
      assertNotSystem(row);
      const [before] = await toRoleViews(tx, [row]);
      const name = patch.name ?? row.name;
      if (name !== row.name) await assertNameFree(tx, name, id);
      const permissionIds = patch.permissionIds ?? before!.permissionIds;
      const includedRoleIds = patch.includedRoleIds ?? before!.includedRoleIds;
      await checkContents(tx, actor, id, name, permissionIds, includedRoleIds);
      const sodBefore = await sodGraphBefore(tx);
      const next: RoleRow = {
        ...row,
        name,
        description: patch.description === undefined ? row.description : patch.description,
        updated_at: tx.now,
        version: row.version + 1,
      };
      await tx.db
        .updateTable('roles')
        .set({ name: next.name, description: next.description, updated_at: next.updated_at, version: next.version })
        .where('id', '=', id)
        .execute();
      await replaceContents(tx, id, permissionIds, includedRoleIds);
      const view = toRoleView(next, permissionIds, includedRoleIds);
      tx.audit({ action: 'role.update', targetType: 'role', targetId: id, before, after: view });
      tx.change('role', id, 'update');
      // Every holder of the role gains what was added: separation of duties as for an assignment.
      await refuseOrReport(tx, actor, await checkRoleContentsSod(tx, deps, id, sodBefore), { mode: 'refuse', path: 'role', subject: { type: 'role', id } });
      return { value: view, version: next.version };
    })
    .catch((e: unknown) => rethrowUnique(e, patch.name));
  return { ...value, revision };
}

export async function deleteRole(deps: ServiceDeps, actor: Actor, id: string, ifMatch?: string): Promise<{ revision: number }> {
  requireRight(actor, 'manage-roles');
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await findRoleRow(tx, id);
    assertIfMatch(ifMatch, row.version);
    assertNotSystem(row);
    await assertNotBlocked(tx, 'role', [id], `role "${row.name}"`);
    const [before] = await toRoleViews(tx, [row]);
    await replaceContents(tx, id, [], []);
    await tx.db.deleteFrom('roles').where('id', '=', id).execute();
    tx.audit({ action: 'role.delete', targetType: 'role', targetId: id, before });
    tx.change('role', id, 'delete');
  });
  return { revision };
}

/** Translates role `number`s to ids (vendor profiles send numbers); unknown numbers are a 400 naming `field`. */
export async function roleIdsOfNumbers(deps: ServiceDeps, actor: Actor, numbers: readonly number[], field: string): Promise<string[]> {
  requireRight(actor, ...ROLE_READ_RIGHTS);
  if (!numbers.length) return [];
  const { db } = deps.store.read(actor.caller.tenantId);
  const rows = await db.selectFrom('roles').select(['id', 'number']).where('number', 'in', [...numbers]).execute();
  const byNumber = new Map(rows.map((r) => [Number(r.number), r.id]));
  const missing = numbers.filter((n) => !byNumber.has(n));
  if (missing.length) throw invalidField(field, `names roles that do not exist: ${missing.join(', ')}`);
  return numbers.map((n) => byNumber.get(n)!);
}

/** The `number` of each role id given (ids that do not exist are left out). */
export async function roleNumbersOfIds(deps: ServiceDeps, actor: Actor, ids: readonly string[]): Promise<Map<string, number>> {
  requireRight(actor, ...ROLE_READ_RIGHTS);
  const numbers = new Map<string, number>();
  const { db } = deps.store.read(actor.caller.tenantId);
  for (let i = 0; i < ids.length; i += 500) {
    const rows = await db.selectFrom('roles').select(['id', 'number']).where('id', 'in', ids.slice(i, i + 500)).execute();
    for (const r of rows) numbers.set(r.id, Number(r.number));
  }
  return numbers;
}
