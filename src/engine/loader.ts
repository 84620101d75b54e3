/**
 * Reads the store into a {@link TenantIndex}: everything at once (streamed with the raw
 * driver) when an index is built, or only the entities named by change-feed entries
 * afterwards.
 */
import type { Compilable } from 'kysely';
import type { Store, TenantDb } from '../store/store.ts';
import { ASSIGNMENT_COLUMNS, factEntity, readFactRows, type FactEntity, type FactRow } from '../store/fact-rows.ts';
import type { AccountRow, ApplicationRow, AssignmentRow, IdentityRow, PermissionRow, RoleRow, UnitRow } from './index-rows.ts';
import type { TenantIndex } from './tenant-index.ts';

const IN_CHUNK = 500;

/** The entity kinds the index follows, by the names services record in `tx.change(...)`. */
export type FollowedEntity = FactEntity;

export function followedEntity(name: string): FollowedEntity | undefined {
  return factEntity(name);
}

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
  await scan(db.selectFrom('org_units').select(['id', 'number', 'name', 'parent_id', 'external_id']), (r) =>
    index.applyUnit({ id: str(r[0]), number: Number(r[1]), name: str(r[2]), parent_id: strOrNull(r[3]), external_id: strOrNull(r[4]) }),
  );
  await scan(db.selectFrom('applications').select(['id', 'number', 'name', 'kind', 'builtin']), (r) =>
    index.applyApplication({ id: str(r[0]), number: Number(r[1]), name: str(r[2]), kind: str(r[3]), builtin: Number(r[4]) }),
  );
  await scan(db.selectFrom('permissions').select(['id', 'number', 'application_id', 'name', 'delegable']), (r) =>
    index.applyPermission({ id: str(r[0]), number: Number(r[1]), application_id: str(r[2]), name: str(r[3]), delegable: Number(r[4]) }),
  );
  const rolePerms = new Map<string, string[]>();
  const roleIncludes = new Map<string, string[]>();
  await scan(db.selectFrom('role_permissions').select(['role_id', 'permission_id']), (r) => push(rolePerms, str(r[0]), str(r[1])));
  await scan(db.selectFrom('role_includes').select(['role_id', 'included_role_id']), (r) => push(roleIncludes, str(r[0]), str(r[1])));
  await scan(db.selectFrom('roles').select(['id', 'name']), (r) =>
    index.applyRole({ id: str(r[0]), name: str(r[1]), permissionIds: rolePerms.get(str(r[0])) ?? [], includedRoleIds: roleIncludes.get(str(r[0])) ?? [] }),
  );
  await scan(
    db.selectFrom('identities').select(['id', 'number', 'subject', 'username', 'email', 'display_name', 'status', 'org_unit_id']),
    (r) =>
      index.applyIdentity(
        { id: str(r[0]), number: Number(r[1]), subject: str(r[2]), username: strOrNull(r[3]), email: strOrNull(r[4]), display_name: strOrNull(r[5]), status: str(r[6]), org_unit_id: strOrNull(r[7]) },
        true,
      ),
  );
  await scan(db.selectFrom('assignments').select(ASSIGNMENT_COLUMNS), (r) =>
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
  await scan(db.selectFrom('grants').select(['account_id', 'permission_id', 'context_type', 'context_id']), (r) =>
    push(grants, str(r[0]), { permission_id: str(r[1]), context_type: str(r[2]), context_id: strOrNull(r[3]) }),
  );
  await scan(
    db.selectFrom('accounts').select(['id', 'application_id', 'name', 'identity_id', 'status', 'observed_at', 'import_id']),
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
  for (let i = 0; i < ids.length; i += IN_CHUNK) {
    const chunk = ids.slice(i, i + IN_CHUNK);
    const rows = await readFactRows(scope.db, scope.tenantId, entity, chunk);
    applyFacts(index, entity, rows);
    const found = new Set(rows.map((r) => r.id));
    for (const id of chunk) if (!found.has(id)) removeFact(index, entity, id);
  }
}

/** Applies rows of one kind to the index (as a change after it was first filled, unless `initial`). */
export function applyFacts(index: TenantIndex, entity: FollowedEntity, rows: readonly FactRow[], initial = false): void {
  for (const r of rows) {
    switch (entity) {
      case 'unit':
        index.applyUnit(r as UnitRow);
        break;
      case 'identity':
        index.applyIdentity(r as IdentityRow, initial);
        break;
      case 'application':
        index.applyApplication(r as ApplicationRow);
        break;
      case 'permission':
        index.applyPermission(r as PermissionRow);
        break;
      case 'role':
        index.applyRole(r as RoleRow);
        break;
      case 'assignment':
        index.applyAssignment(r as AssignmentRow, initial);
        break;
      case 'account':
        index.applyAccount(r as AccountRow);
        break;
    }
  }
}

function removeFact(index: TenantIndex, entity: FollowedEntity, id: string): void {
  switch (entity) {
    case 'unit':
      return index.removeUnit(id);
    case 'identity':
      return index.removeIdentity(id);
    case 'application':
      return index.removeApplication(id);
    case 'permission':
      return index.removePermission(id);
    case 'role':
      return index.removeRole(id);
    case 'assignment':
      return index.removeAssignment(id);
    case 'account':
      return index.removeAccount(id);
  }
}

function push<V>(map: Map<string, V[]>, key: string, value: V): void {
  const list = map.get(key);
  if (list === undefined) map.set(key, [value]);
  else list.push(value);
}
