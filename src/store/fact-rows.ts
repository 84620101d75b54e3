/**
 * The facts effective access is computed from, read one entity kind at a time: the rows the
 * access index applies (src/engine/tenant-index.ts) and what access history records of each
 * version (src/store/fact-history.ts). One reader for both, so the history holds exactly
 * what the live index is built from.
 */
import type { Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { selectByIds } from './id-lookups.ts';

/** The entity kinds effective access follows, by the names services record in `tx.change(...)`. */
export type FactEntity = 'unit' | 'identity' | 'application' | 'permission' | 'role' | 'assignment' | 'account';

const ENTITY_NAMES: Record<string, FactEntity> = {
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

export function factEntity(name: string): FactEntity | undefined {
  return ENTITY_NAMES[name];
}

/** Every `tx.change(...)` entity name the access index follows (a write that recorded none changed nothing it holds). */
export const FACT_ENTITY_NAMES: readonly string[] = Object.keys(ENTITY_NAMES);

/** Order in which facts are applied (referenced things first). */
export const FACT_ORDER: readonly FactEntity[] = ['unit', 'application', 'permission', 'role', 'identity', 'assignment', 'account'];

export interface UnitRow {
  id: string;
  number: number;
  name: string;
  parent_id: string | null;
  external_id: string | null;
}
export interface IdentityRow {
  id: string;
  number: number;
  subject: string;
  username: string | null;
  email: string | null;
  display_name: string | null;
  status: string;
  org_unit_id: string | null;
}
export interface ApplicationRow {
  id: string;
  number: number;
  name: string;
  kind: string;
  builtin?: number | undefined;
}
export interface PermissionRow {
  id: string;
  number: number;
  application_id: string;
  name: string;
  delegable: number;
}
export interface RoleRow {
  id: string;
  name: string;
  permissionIds: readonly string[];
  includedRoleIds: readonly string[];
}
export interface AssignmentRow {
  id: string;
  assignee_type: string;
  assignee_id: string;
  resource_type: string;
  resource_id: string;
  context_type: string;
  context_id: string | null;
  source: string;
  state: string;
  valid_from: string | null;
  valid_to: string | null;
  delegated_from_id: string | null;
  delegator_id?: string | null | undefined;
  rule_id: string | null;
}
export interface AccountRow {
  id: string;
  application_id: string;
  name: string;
  identity_id: string | null;
  status: string;
  observed_at: string;
  import_id: string | null;
  grants: readonly { permission_id: string; context_type: string; context_id: string | null }[];
}

export interface FactRowOf {
  unit: UnitRow;
  identity: IdentityRow;
  application: ApplicationRow;
  permission: PermissionRow;
  role: RoleRow;
  assignment: AssignmentRow;
  account: AccountRow;
}
export type FactRow = FactRowOf[FactEntity];

export const ASSIGNMENT_COLUMNS = [
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

/**
 * The current rows of the named entities (at most a few hundred ids: callers chunk); an id
 * without a row has been deleted.
 */
export async function readFactRows<E extends FactEntity>(db: Kysely<Database>, tenantId: string, entity: E, ids: readonly string[]): Promise<FactRowOf[E][]> {
  return (await readRows(db, tenantId, entity, ids)) as FactRowOf[E][];
}

async function readRows(db: Kysely<Database>, tenantId: string, entity: FactEntity, ids: readonly string[]): Promise<FactRow[]> {
  if (ids.length === 0) return [];
  const chunk = [...ids];
  // The rows by primary key, one statement whatever the number of ids (see id-lookups.ts).
  switch (entity) {
    case 'unit':
      return selectByIds(db, tenantId, 'org_units', ['id', 'number', 'name', 'parent_id', 'external_id'], chunk);
    case 'identity':
      return selectByIds(db, tenantId, 'identities', ['id', 'number', 'subject', 'username', 'email', 'display_name', 'status', 'org_unit_id'], chunk);
    case 'application':
      return selectByIds(db, tenantId, 'applications', ['id', 'number', 'name', 'kind', 'builtin'], chunk);
    case 'permission':
      return selectByIds(db, tenantId, 'permissions', ['id', 'number', 'application_id', 'name', 'delegable'], chunk);
    case 'role': {
      const rolePerms = new Map<string, string[]>();
      const roleIncludes = new Map<string, string[]>();
      for (const r of await db.selectFrom('role_permissions').select(['role_id', 'permission_id']).where('tenant_id', '=', tenantId).where('role_id', 'in', chunk).execute()) {
        push(rolePerms, r.role_id, r.permission_id);
      }
      for (const r of await db.selectFrom('role_includes').select(['role_id', 'included_role_id']).where('tenant_id', '=', tenantId).where('role_id', 'in', chunk).execute()) {
        push(roleIncludes, r.role_id, r.included_role_id);
      }
      const roles = await selectByIds(db, tenantId, 'roles', ['id', 'name'], chunk);
      return roles.map((r) => ({ id: r.id, name: r.name, permissionIds: rolePerms.get(r.id) ?? [], includedRoleIds: roleIncludes.get(r.id) ?? [] }));
    }
    case 'assignment':
      return selectByIds(db, tenantId, 'assignments', ASSIGNMENT_COLUMNS, chunk);
    case 'account': {
      const grants = new Map<string, AccountRow['grants'][number][]>();
      for (const g of await db
        .selectFrom('grants')
        .select(['account_id', 'permission_id', 'context_type', 'context_id'])
        .where('tenant_id', '=', tenantId)
        .where('account_id', 'in', chunk)
        .execute()) {
        push(grants, g.account_id, { permission_id: g.permission_id, context_type: g.context_type, context_id: g.context_id });
      }
      const accounts = await selectByIds(db, tenantId, 'accounts', ['id', 'application_id', 'name', 'identity_id', 'status', 'observed_at', 'import_id'], chunk);
      return accounts.map((r) => ({ ...r, grants: grants.get(r.id) ?? [] }));
    }
  }
}

/**
 * The ids a fact refers to, by which access history finds it again: an assignment by its
 * assignee, resource, source and delegator; a role by the permissions and roles it includes;
 * an identity by its unit; a unit by its parent; a permission by its application; an
 * account by its identity and the permissions it grants.
 */
export function factRefs(entity: FactEntity, row: FactRow): string[] {
  const refs = new Set<string>();
  const add = (v: string | null | undefined) => {
    if (v !== null && v !== undefined) refs.add(v);
  };
  switch (entity) {
    case 'unit':
      add((row as UnitRow).parent_id);
      break;
    case 'identity':
      add((row as IdentityRow).org_unit_id);
      break;
    case 'application':
      break;
    case 'permission':
      add((row as PermissionRow).application_id);
      break;
    case 'role':
      for (const p of (row as RoleRow).permissionIds) add(p);
      for (const r of (row as RoleRow).includedRoleIds) add(r);
      break;
    case 'assignment': {
      const a = row as AssignmentRow;
      add(a.assignee_id);
      add(a.resource_id);
      add(a.delegated_from_id);
      add(a.delegator_id);
      break;
    }
    case 'account': {
      const a = row as AccountRow;
      add(a.identity_id);
      for (const g of a.grants) add(g.permission_id);
      break;
    }
  }
  return [...refs];
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
