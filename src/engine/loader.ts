/**
 * Reads the store into a {@link TenantIndex}: everything at once (bulk, keyset-paged) when an
 * index is built, or only the entities named by change-feed entries afterwards.
 */
import type { TenantDb } from '../store/store.ts';
import type { AccountRow, AssignmentRow, TenantIndex } from './tenant-index.ts';

const PAGE = 20_000;
const IN_CHUNK = 500;

/** The entity kinds the index follows, by the names services record in `tx.change(...)`. */
export type FollowedEntity = 'unit' | 'identity' | 'application' | 'permission' | 'role' | 'assignment' | 'account';

const ENTITY_NAMES: Record<string, FollowedEntity> = {
  org_unit: 'unit',
  orgUnit: 'unit',
  'org-unit': 'unit',
  unit: 'unit',
  identity: 'identity',
  application: 'application',
  permission: 'permission',
  role: 'role',
  assignment: 'assignment',
  account: 'account',
};

export function followedEntity(name: string): FollowedEntity | undefined {
  return ENTITY_NAMES[name];
}

const ASSIGNMENT_COLUMNS = [
  'id',
  'assignee_type',
  'assignee_id',
  'resource_type',
  'resource_id',
  'context_type',
  'context_id',
  'source',
  'state',
  'valid_from',
  'valid_to',
  'delegated_from_id',
  'delegator_id',
  'rule_id',
] as const;

/** Pages through a table by id; `fetch(after)` returns the next page ordered by id. */
async function eachPage<R extends { id: string }>(fetch: (after: string | null) => Promise<R[]>, apply: (row: R) => void): Promise<void> {
  let after: string | null = null;
  for (;;) {
    const rows = await fetch(after);
    for (const r of rows) apply(r);
    if (rows.length < PAGE) return;
    after = rows[rows.length - 1]!.id;
  }
}

export async function loadAll(scope: TenantDb, index: TenantIndex): Promise<void> {
  const { db, tenantId } = scope;
  await eachPage(
    (after) => {
      let q = db.selectFrom('org_units').select(['id', 'number', 'name', 'parent_id', 'external_id']).where('tenant_id', '=', tenantId);
      if (after !== null) q = q.where('id', '>', after);
      return q.orderBy('id').limit(PAGE).execute();
    },
    (r) => index.applyUnit(r),
  );
  await eachPage(
    (after) => {
      let q = db.selectFrom('applications').select(['id', 'number', 'name', 'kind', 'builtin']).where('tenant_id', '=', tenantId);
      if (after !== null) q = q.where('id', '>', after);
      return q.orderBy('id').limit(PAGE).execute();
    },
    (r) => index.applyApplication(r),
  );
  await eachPage(
    (after) => {
      let q = db.selectFrom('permissions').select(['id', 'number', 'application_id', 'name', 'delegable']).where('tenant_id', '=', tenantId);
      if (after !== null) q = q.where('id', '>', after);
      return q.orderBy('id').limit(PAGE).execute();
    },
    (r) => index.applyPermission(r),
  );
  const rolePerms = new Map<string, string[]>();
  const roleIncludes = new Map<string, string[]>();
  for (const r of await db.selectFrom('role_permissions').select(['role_id', 'permission_id']).where('tenant_id', '=', tenantId).execute()) {
    push(rolePerms, r.role_id, r.permission_id);
  }
  for (const r of await db.selectFrom('role_includes').select(['role_id', 'included_role_id']).where('tenant_id', '=', tenantId).execute()) {
    push(roleIncludes, r.role_id, r.included_role_id);
  }
  await eachPage(
    (after) => {
      let q = db.selectFrom('roles').select(['id', 'name']).where('tenant_id', '=', tenantId);
      if (after !== null) q = q.where('id', '>', after);
      return q.orderBy('id').limit(PAGE).execute();
    },
    (r) => index.applyRole({ id: r.id, name: r.name, permissionIds: rolePerms.get(r.id) ?? [], includedRoleIds: roleIncludes.get(r.id) ?? [] }),
  );
  await eachPage(
    (after) => {
      let q = db
        .selectFrom('identities')
        .select(['id', 'number', 'subject', 'username', 'email', 'display_name', 'status', 'org_unit_id'])
        .where('tenant_id', '=', tenantId);
      if (after !== null) q = q.where('id', '>', after);
      return q.orderBy('id').limit(PAGE).execute();
    },
    (r) => index.applyIdentity(r),
  );
  await eachPage(
    (after) => {
      let q = db.selectFrom('assignments').select(ASSIGNMENT_COLUMNS).where('tenant_id', '=', tenantId);
      if (after !== null) q = q.where('id', '>', after);
      return q.orderBy('id').limit(PAGE).execute() as Promise<AssignmentRow[]>;
    },
    (r) => index.applyAssignment(r),
  );
  const grants = new Map<string, AccountRow['grants'][number][]>();
  for (const g of await db.selectFrom('grants').select(['account_id', 'permission_id', 'context_type', 'context_id']).where('tenant_id', '=', tenantId).execute()) {
    push(grants, g.account_id, g);
  }
  await eachPage(
    (after) => {
      let q = db
        .selectFrom('accounts')
        .select(['id', 'application_id', 'name', 'identity_id', 'status', 'observed_at', 'import_id'])
        .where('tenant_id', '=', tenantId);
      if (after !== null) q = q.where('id', '>', after);
      return q.orderBy('id').limit(PAGE).execute();
    },
    (r) => index.applyAccount({ ...r, grants: grants.get(r.id) ?? [] }),
  );
}

/** Re-reads the named entities and applies them (a missing row is a deletion). */
export async function reloadEntities(scope: TenantDb, index: TenantIndex, entity: FollowedEntity, ids: readonly string[]): Promise<void> {
  const { db, tenantId } = scope;
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    const chunk = ids.slice(i, i + IN_CHUNK);
    const found = new Set<string>();
    switch (entity) {
      case 'unit':
        for (const r of await db.selectFrom('org_units').select(['id', 'number', 'name', 'parent_id', 'external_id']).where('tenant_id', '=', tenantId).where('id', 'in', chunk).execute()) {
          found.add(r.id);
          index.applyUnit(r);
        }
        for (const id of chunk) if (!found.has(id)) index.removeUnit(id);
        break;
      case 'identity':
        for (const r of await db
          .selectFrom('identities')
          .select(['id', 'number', 'subject', 'username', 'email', 'display_name', 'status', 'org_unit_id'])
          .where('tenant_id', '=', tenantId)
          .where('id', 'in', chunk)
          .execute()) {
          found.add(r.id);
          index.applyIdentity(r);
        }
        for (const id of chunk) if (!found.has(id)) index.removeIdentity(id);
        break;
      case 'application':
        for (const r of await db.selectFrom('applications').select(['id', 'number', 'name', 'kind', 'builtin']).where('tenant_id', '=', tenantId).where('id', 'in', chunk).execute()) {
          found.add(r.id);
          index.applyApplication(r);
        }
        for (const id of chunk) if (!found.has(id)) index.removeApplication(id);
        break;
      case 'permission':
        for (const r of await db.selectFrom('permissions').select(['id', 'number', 'application_id', 'name', 'delegable']).where('tenant_id', '=', tenantId).where('id', 'in', chunk).execute()) {
          found.add(r.id);
          index.applyPermission(r);
        }
        for (const id of chunk) if (!found.has(id)) index.removePermission(id);
        break;
      case 'role': {
        const rolePerms = new Map<string, string[]>();
        const roleIncludes = new Map<string, string[]>();
        for (const r of await db.selectFrom('role_permissions').select(['role_id', 'permission_id']).where('tenant_id', '=', tenantId).where('role_id', 'in', chunk).execute()) {
          push(rolePerms, r.role_id, r.permission_id);
        }
        for (const r of await db.selectFrom('role_includes').select(['role_id', 'included_role_id']).where('tenant_id', '=', tenantId).where('role_id', 'in', chunk).execute()) {
          push(roleIncludes, r.role_id, r.included_role_id);
        }
        for (const r of await db.selectFrom('roles').select(['id', 'name']).where('tenant_id', '=', tenantId).where('id', 'in', chunk).execute()) {
          found.add(r.id);
          index.applyRole({ id: r.id, name: r.name, permissionIds: rolePerms.get(r.id) ?? [], includedRoleIds: roleIncludes.get(r.id) ?? [] });
        }
        for (const id of chunk) if (!found.has(id)) index.removeRole(id);
        break;
      }
      case 'assignment':
        for (const r of (await db.selectFrom('assignments').select(ASSIGNMENT_COLUMNS).where('tenant_id', '=', tenantId).where('id', 'in', chunk).execute()) as AssignmentRow[]) {
          found.add(r.id);
          index.applyAssignment(r);
        }
        for (const id of chunk) if (!found.has(id)) index.removeAssignment(id);
        break;
      case 'account': {
        const grants = new Map<string, AccountRow['grants'][number][]>();
        for (const g of await db
          .selectFrom('grants')
          .select(['account_id', 'permission_id', 'context_type', 'context_id'])
          .where('tenant_id', '=', tenantId)
          .where('account_id', 'in', chunk)
          .execute()) {
          push(grants, g.account_id, g);
        }
        for (const r of await db
          .selectFrom('accounts')
          .select(['id', 'application_id', 'name', 'identity_id', 'status', 'observed_at', 'import_id'])
          .where('tenant_id', '=', tenantId)
          .where('id', 'in', chunk)
          .execute()) {
          found.add(r.id);
          index.applyAccount({ ...r, grants: grants.get(r.id) ?? [] });
        }
        for (const id of chunk) if (!found.has(id)) index.removeAccount(id);
        break;
      }
    }
  }
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
