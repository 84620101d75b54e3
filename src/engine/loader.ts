/**
 * Reads the store into a {@link TenantIndex}: everything at once (streamed with the raw
 * driver) when an index is built, or only the entities named by change-feed entries
 * afterwards.
 */
import type { Compilable } from 'kysely';
import type { Store, TenantDb } from '../store/store.ts';
import type { AccountRow, AssignmentRow } from './index-rows.ts';
import type { TenantIndex } from './tenant-index.ts';

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

type Row = unknown[];
const str = (v: unknown): string => v as string;
const strOrNull = (v: unknown): string | null => (v === null || v === undefined ? null : (v as string));

/**
 * Builds the whole index: every followed table streamed once with the raw driver
 * (`Store.scan`: arrays of column values, no paging), in the order references need.
 * Nothing is cached yet while the index is filled, so rows are applied without the
 * invalidation a change-feed update does.
 */
export async function loadAll(store: Store, tenantId: string, index: TenantIndex): Promise<void> {
  const db = store.read(tenantId).db;
  const scan = (query: Compilable, apply: (r: Row) => void) =>
    store.scan(query.compile(), (rows) => {
      for (const r of rows as Row[]) apply(r);
    });
  await scan(db.selectFrom('org_units').select(['id', 'number', 'name', 'parent_id', 'external_id']).where('tenant_id', '=', tenantId), (r) =>
    index.applyUnit({ id: str(r[0]), number: Number(r[1]), name: str(r[2]), parent_id: strOrNull(r[3]), external_id: strOrNull(r[4]) }),
  );
  await scan(db.selectFrom('applications').select(['id', 'number', 'name', 'kind', 'builtin']).where('tenant_id', '=', tenantId), (r) =>
    index.applyApplication({ id: str(r[0]), number: Number(r[1]), name: str(r[2]), kind: str(r[3]), builtin: Number(r[4]) }),
  );
  await scan(db.selectFrom('permissions').select(['id', 'number', 'application_id', 'name', 'delegable']).where('tenant_id', '=', tenantId), (r) =>
    index.applyPermission({ id: str(r[0]), number: Number(r[1]), application_id: str(r[2]), name: str(r[3]), delegable: Number(r[4]) }),
  );
  const rolePerms = new Map<string, string[]>();
  const roleIncludes = new Map<string, string[]>();
  await scan(db.selectFrom('role_permissions').select(['role_id', 'permission_id']).where('tenant_id', '=', tenantId), (r) => push(rolePerms, str(r[0]), str(r[1])));
  await scan(db.selectFrom('role_includes').select(['role_id', 'included_role_id']).where('tenant_id', '=', tenantId), (r) => push(roleIncludes, str(r[0]), str(r[1])));
  await scan(db.selectFrom('roles').select(['id', 'name']).where('tenant_id', '=', tenantId), (r) =>
    index.applyRole({ id: str(r[0]), name: str(r[1]), permissionIds: rolePerms.get(str(r[0])) ?? [], includedRoleIds: roleIncludes.get(str(r[0])) ?? [] }),
  );
  await scan(
    db.selectFrom('identities').select(['id', 'number', 'subject', 'username', 'email', 'display_name', 'status', 'org_unit_id']).where('tenant_id', '=', tenantId),
    (r) =>
      index.applyIdentity(
        { id: str(r[0]), number: Number(r[1]), subject: str(r[2]), username: strOrNull(r[3]), email: strOrNull(r[4]), display_name: strOrNull(r[5]), status: str(r[6]), org_unit_id: strOrNull(r[7]) },
        true,
      ),
  );
  await scan(db.selectFrom('assignments').select(ASSIGNMENT_COLUMNS).where('tenant_id', '=', tenantId), (r) =>
    index.applyAssignment(
      {
        id: str(r[0]),
        assignee_type: str(r[1]),
        assignee_id: str(r[2]),
        resource_type: str(r[3]),
        resource_id: str(r[4]),
        context_type: str(r[5]),
        context_id: strOrNull(r[6]),
        source: str(r[7]),
        state: str(r[8]),
        valid_from: strOrNull(r[9]),
        valid_to: strOrNull(r[10]),
        delegated_from_id: strOrNull(r[11]),
        delegator_id: strOrNull(r[12]),
        rule_id: strOrNull(r[13]),
      },
      true,
    ),
  );
  const grants = new Map<string, AccountRow['grants'][number][]>();
  await scan(db.selectFrom('grants').select(['account_id', 'permission_id', 'context_type', 'context_id']).where('tenant_id', '=', tenantId), (r) =>
    push(grants, str(r[0]), { permission_id: str(r[1]), context_type: str(r[2]), context_id: strOrNull(r[3]) }),
  );
  await scan(
    db.selectFrom('accounts').select(['id', 'application_id', 'name', 'identity_id', 'status', 'observed_at', 'import_id']).where('tenant_id', '=', tenantId),
    (r) =>
      index.applyAccount({
        id: str(r[0]),
        application_id: str(r[1]),
        name: str(r[2]),
        identity_id: strOrNull(r[3]),
        status: str(r[4]),
        observed_at: str(r[5]),
        import_id: strOrNull(r[6]),
        grants: grants.get(str(r[0])) ?? [],
      }),
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
