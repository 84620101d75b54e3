/**
 * The small part of a tenant that decides who holds Grantory rights, loaded as a
 * {@link ReferenceModel} so that the pure rules of `src/domain/access-rules.ts` answer for
 * it: the permissions of the built-in `grantory` application, the roles that give one of
 * them (transitively), the assignments of those in context `All` that are active and not
 * expired, the organization tree when a unit holds one of them, and the identities asked
 * for. The rights guard loads it twice — from the last commit and from inside the write —
 * and compares.
 *
 * ```ts
 * const state = await loadRightsState(store.committed(tenantId), now);
 * await loadIdentities(state, ['i-1']);
 * identityRights(state, 'i-1', 'potential'); // Set { 'manage-users' }
 * ```
 */
import { effectiveGrants, type ReferenceModel } from '../../domain/access-rules.ts';
import { timeOf, type AssignmentFact } from '../../domain/access.ts';
import { GRANTORY_APPLICATION, isRight, type Right } from '../../domain/rights.ts';
import type { Database } from '../../store/schema.ts';
import { idChunks, selectByIds } from '../../store/id-lookups.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import { addIncludingRoles, chunks, roleEntry, type RoleContents } from './role-closure.ts';

/**
 * `potential`: what an assignment gives while active and not expired, including one valid
 * only from a future date (the guard must not let such an assignment slip through);
 * `current`: what it gives now (rule 1), for "does an administrator remain".
 */
export type RightsView = 'potential' | 'current';

type MutableModel = ReferenceModel & { identities: Map<string, { status: string; unitId: string | null }> };

export interface RightsState {
  readonly scope: TenantDb;
  readonly now: number;
  /** Permission id -> the right it is. */
  readonly rightOf: ReadonlyMap<string, Right>;
  readonly models: Record<RightsView, MutableModel>;
  /** Identities that are the assignee or the delegator of a loaded assignment. */
  readonly directIdentities: ReadonlySet<string>;
  /** Units that are the assignee of a loaded assignment. */
  readonly assignedUnits: ReadonlySet<string>;
  /** Unit id -> child unit ids (loaded only when a unit holds a right). */
  readonly children: ReadonlyMap<string, string[]>;
}

export { chunks };

/** The permissions that are rights, and the roles that give one (transitively). */
export interface RightsCore {
  rightOf: Map<string, Right>;
  roles: Map<string, { permissionIds: string[]; includedRoleIds: string[] }>;
}

/** Change-feed entities whose change can alter a {@link RightsCore}. */
const CORE_ENTITIES: readonly string[] = ['application', 'permission', 'role'];

/**
 * The core as read inside a write, by the write's transaction: read again only once the write
 * changed an application, permission or role (a batch of scheduled jobs guards each job's
 * effect, before and after, in one write: the core is read once, not twice per job).
 */
const coreOfWrite = new WeakMap<object, RightsCore>();

const isWrite = (scope: TenantDb): scope is WriteTx => typeof (scope as Partial<WriteTx>).hasChanged === 'function';

export async function loadRightsCore(scope: TenantDb): Promise<RightsCore> {
  if (!isWrite(scope)) return readRightsCore(scope);
  if (scope.hasChanged(CORE_ENTITIES)) {
    coreOfWrite.delete(scope.db);
    return readRightsCore(scope);
  }
  const known = coreOfWrite.get(scope.db);
  if (known) return known;
  const core = await readRightsCore(scope);
  coreOfWrite.set(scope.db, core);
  return core;
}

async function readRightsCore(scope: TenantDb): Promise<RightsCore> {
  const { db } = scope;
  // The application first, then its permissions: both by unique keys, whatever the catalog's size.
  const app = await db
    .selectFrom('applications')
    .select('id')
    .where('name', '=', GRANTORY_APPLICATION)
    .where('builtin', '=', 1)
    .executeTakeFirst();
  const permissions = app
    ? await db.selectFrom('permissions').select(['id', 'name']).where('application_id', '=', app.id).execute()
    : [];
  const rightOf = new Map<string, Right>();
  for (const p of permissions) if (isRight(p.name)) rightOf.set(p.id, p.name);

  // The roles that give a right: those holding one, and those including such a role.
  const roles: RoleContents = new Map();
  const roleOf = (id: string) => roleEntry(roles, id);
  for (const ids of chunks([...rightOf.keys()])) {
    const rows = await db.selectFrom('role_permissions').select(['role_id', 'permission_id']).where('permission_id', 'in', ids).execute();
    for (const r of rows) roleOf(r.role_id).permissionIds.push(r.permission_id);
  }
  await addIncludingRoles(scope, roles);
  return { rightOf, roles };
}

/** Whether an assignment's resource gives a right. */
export function givesRight(core: RightsCore, resource: { resource_type: string; resource_id: string }): boolean {
  return resource.resource_type === 'role' ? core.roles.has(resource.resource_id) : core.rightOf.has(resource.resource_id);
}

export async function loadRightsState(scope: TenantDb, nowIso: string): Promise<RightsState> {
  const { db } = scope;
  const { rightOf, roles } = await loadRightsCore(scope);
  const rows: Database['assignments'][] = [];
  const resources: [string, string[]][] = [['permission', [...rightOf.keys()]], ['role', [...roles.keys()]]];
  for (const [type, all] of resources) {
    for (const ids of chunks(all)) {
      rows.push(
        ...(await db
          .selectFrom('assignments')
          .selectAll()
          .where('resource_type', '=', type)
          .where('resource_id', 'in', ids)
          .where('state', '=', 'active')
          .where('context_type', '=', 'all')
          .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', nowIso)]))
          .execute()),
      );
    }
  }
  // A delegation counts while its source does (rule 2): load sources made in other contexts too.
  const loaded = new Set(rows.map((r) => r.id));
  const sources = [...new Set(rows.map((r) => r.delegated_from_id).filter((id): id is string => !!id && !loaded.has(id)))];
  for (const ids of idChunks(db, sources)) {
    rows.push(...(await db.selectFrom('assignments').selectAll().where('id', 'in', ids).execute()));
  }

  const facts = rows.map(toFact);
  const directIdentities = new Set<string>();
  const assignedUnits = new Set<string>();
  for (const a of facts) {
    if (a.assigneeType === 'identity') directIdentities.add(a.assigneeId);
    else assignedUnits.add(a.assigneeId);
    if (a.delegatorId) directIdentities.add(a.delegatorId);
  }

  const units = new Map<string, { parentId: string | null }>();
  const children = new Map<string, string[]>();
  if (assignedUnits.size) {
    const all = await db.selectFrom('org_units').select(['id', 'parent_id']).execute();
    for (const u of all) {
      units.set(u.id, { parentId: u.parent_id });
      if (u.parent_id) (children.get(u.parent_id) ?? children.set(u.parent_id, []).get(u.parent_id)!).push(u.id);
    }
  }
  const permissionsModel = new Map([...rightOf.keys()].map((id) => [id, { applicationId: '' }]));
  const model = (assignments: AssignmentFact[]): MutableModel => ({ identities: new Map(), units, permissions: permissionsModel, roles, assignments });
  const state: RightsState = {
    scope,
    now: Date.parse(nowIso),
    rightOf,
    models: { current: model(facts), potential: model(facts.map((a) => ({ ...a, validFrom: null }))) },
    directIdentities,
    assignedUnits,
    children,
  };
  await loadIdentities(state, [...directIdentities]);
  return state;
}

/** Loads the status and unit of identities (those not found hold nothing). */
export async function loadIdentities(state: RightsState, ids: readonly string[]): Promise<void> {
  const missing = ids.filter((id) => !state.models.current.identities.has(id));
  for (const r of await selectByIds(state.scope.db, state.scope.tenantId, 'identities', ['id', 'status', 'org_unit_id'], missing)) {
    for (const m of Object.values(state.models)) m.identities.set(r.id, { status: r.status, unitId: r.org_unit_id });
  }
}

function rightsOfGrants(state: RightsState, model: ReferenceModel, identityId: string): Set<Right> {
  const rights = new Set<Right>();
  for (const g of effectiveGrants(model, identityId, state.now)) {
    const right = state.rightOf.get(g.permissionId);
    if (right) rights.add(right);
  }
  return rights;
}

/** The rights of a loaded identity (rules 1-4 and 6, context `All`). */
export function identityRights(state: RightsState, identityId: string, view: RightsView): Set<Right> {
  return rightsOfGrants(state, state.models[view], identityId);
}

/** The rights every active member of the unit inherits from the unit and its ancestors. */
export function unitRights(state: RightsState, unitId: string, view: RightsView): Set<Right> {
  if (!state.models[view].units.has(unitId)) return new Set();
  // An active stand-in member: the same rules then answer for the unit.
  const member = `\u0000member-of:${unitId}`;
  const model = state.models[view];
  model.identities.set(member, { status: 'active', unitId });
  try {
    return rightsOfGrants(state, model, member);
  } finally {
    model.identities.delete(member);
  }
}

/** The units assigned a right and every unit below them: the only units whose members inherit one. */
export function unitsWithRights(state: RightsState): string[] {
  const out = new Set<string>();
  const stack = [...state.assignedUnits].filter((u) => state.models.current.units.has(u));
  while (stack.length) {
    const u = stack.pop()!;
    if (out.has(u)) continue;
    out.add(u);
    stack.push(...(state.children.get(u) ?? []));
  }
  return [...out];
}

/** Up to `limit` active identities in the units, other than `except`. */
export async function activeMembers(state: RightsState, unitIds: readonly string[], except: ReadonlySet<string>, limit: number): Promise<{ id: string; unitId: string }[]> {
  const found: { id: string; unitId: string }[] = [];
  for (const part of chunks(unitIds)) {
    if (found.length >= limit) break;
    // `except` is left out here rather than in SQL: it can be longer than a parameter list.
    const rows = await state.scope.db
      .selectFrom('identities')
      .select(['id', 'org_unit_id'])
      .where('status', '=', 'active')
      .where('org_unit_id', 'in', part)
      .orderBy('id')
      .limit(limit - found.length + except.size)
      .execute();
    for (const r of rows) if (!except.has(r.id) && found.length < limit) found.push({ id: r.id, unitId: r.org_unit_id! });
  }
  return found;
}

function toFact(r: Database['assignments']): AssignmentFact {
  return {
    id: r.id,
    assigneeType: r.assignee_type === 'orgUnit' ? 'orgUnit' : 'identity',
    assigneeId: r.assignee_id,
    resourceType: r.resource_type === 'role' ? 'role' : 'permission',
    resourceId: r.resource_id,
    context: { type: r.context_type as AssignmentFact['context']['type'], id: r.context_id },
    state: r.state as AssignmentFact['state'],
    validFrom: timeOf(r.valid_from),
    validTo: timeOf(r.valid_to),
    delegatedFromId: r.delegated_from_id,
    delegatorId: r.delegator_id ?? null,
  };
}
