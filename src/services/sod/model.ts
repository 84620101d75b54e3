/**
 * The small part of a tenant that decides separation of duties for a few identities, read
 * inside a write's transaction so that it is the write's own state (what the write has
 * done so far, on top of the last commit): the permissions and roles the enabled policies
 * name, the roles that give one of them (transitively), and — for the identities asked
 * about — their unit chains and the active, unexpired assignments of those resources that
 * reach them (with the delegation sources they depend on). The pure rules of
 * `src/domain/access-rules.ts` then answer on it.
 *
 * Read from the transaction rather than from the access index on purpose: the index
 * follows commits, so it lags behind the write (and behind other nodes' writes until it
 * syncs); the transaction is exactly the state the write would commit. check-holdings.ts
 * asks the index instead only when it holds that state exactly.
 */
import { assignmentCounts, roleAndIncluded, unitAndAncestors, type ReferenceModel } from '../../domain/access-rules.ts';
import { timeOf, type AccessContext, type AssignmentFact } from '../../domain/access.ts';
import { cmp } from '../../engine/queries.ts';
import { resourceKey, type SodResource } from '../../domain/sod.ts';
import type { Database } from '../../store/schema.ts';
import type { TenantDb } from '../../store/store.ts';
import { addIncludingRoles, chunks, roleEntry, type RoleContents } from '../kernel/index.ts';

export const chunked = chunks;

type Roles = RoleContents;

/** The policy resources and the roles that give one (a role graph cut down to what matters). */
export interface SodGraph {
  keys: ReadonlySet<string>;
  /** Policy permissions that exist. */
  permissions: ReadonlySet<string>;
  roles: Roles;
}

export async function loadSodGraph(scope: TenantDb, keys: ReadonlySet<string>): Promise<SodGraph> {
  const { db, tenantId } = scope;
  const of = (type: string) => [...keys].filter((k) => k.startsWith(`${type}:`)).map((k) => k.slice(type.length + 1));
  const permissions = new Set<string>();
  const roles: Roles = new Map();
  const roleOf = (id: string) => roleEntry(roles, id);
  for (const ids of chunked(of('permission'))) {
    for (const r of await db.selectFrom('permissions').select('id').where('id', 'in', ids).execute()) permissions.add(r.id);
    const rows = await db.selectFrom('role_permissions').select(['role_id', 'permission_id']).where('permission_id', 'in', ids).execute();
    for (const r of rows) roleOf(r.role_id).permissionIds.push(r.permission_id);
  }
  for (const ids of chunked(of('role'))) {
    for (const r of await db.selectFrom('roles').select('id').where('id', 'in', ids).execute()) roleOf(r.id);
  }
  await addIncludingRoles({ db, tenantId }, roles);
  return { keys, permissions, roles };
}

/** The policy resources a permission or role gives (a role's through its contents, transitively). */
export function policyResourcesGiven(graph: SodGraph, resource: SodResource): SodResource[] {
  if (resource.type === 'permission') return graph.permissions.has(resource.id) && graph.keys.has(resourceKey(resource)) ? [{ type: 'permission', id: resource.id }] : [];
  if (!graph.roles.has(resource.id)) return [];
  const out: SodResource[] = [];
  const model = { roles: graph.roles } as unknown as ReferenceModel;
  for (const r of roleAndIncluded(model, resource.id)) {
    if (graph.keys.has(`role:${r}`)) out.push({ type: 'role', id: r });
    for (const p of graph.roles.get(r)!.permissionIds) if (graph.permissions.has(p)) out.push({ type: 'permission', id: p });
  }
  return out;
}

export interface LoadedAssignment {
  fact: AssignmentFact;
  source: string;
}

/** The identities asked about, their units, and the assignments that can give them a policy resource. */
export interface SodModel {
  model: ReferenceModel & { identities: Map<string, { status: string; unitId: string | null }>; units: Map<string, { parentId: string | null }> };
  rows: Map<string, LoadedAssignment>;
  /** Assignment ids by assignee (identity id or unit id). */
  byAssignee: Map<string, string[]>;
}

/**
 * Adds the given units and their ancestors to `units`: one query per chunk of units, the
 * chains walked up by a recursive common table expression (`union` ends a cycle).
 */
export async function loadUnitChains(scope: TenantDb, units: Map<string, { parentId: string | null }>, unitIds: Iterable<string>): Promise<void> {
  const pending = [...new Set(unitIds)].filter((u) => !units.has(u));
  for (const ids of chunked(pending)) {
    const rows = await scope.db
      .withRecursive('chain(id, parent_id)', (db) =>
        db
          .selectFrom('org_units')
          .select(['org_units.id', 'org_units.parent_id'])
          .where('org_units.id', 'in', ids)
          .union(db.selectFrom('org_units').innerJoin('chain', 'chain.parent_id', 'org_units.id').select(['org_units.id', 'org_units.parent_id'])),
      )
      .selectFrom('chain')
      .select(['id', 'parent_id'])
      .execute();
    for (const r of rows) units.set(r.id, { parentId: r.parent_id });
    // A unit that does not exist stops its chain.
    for (const id of [...ids, ...rows.map((r) => r.parent_id)]) if (id !== null && !units.has(id)) units.set(id, { parentId: null });
  }
}

/** Every identity in the units and the units below them. */
export async function membersOfUnits(scope: TenantDb, unitIds: readonly string[]): Promise<string[]> {
  const all = new Set(unitIds);
  let frontier = [...all];
  while (frontier.length) {
    const next: string[] = [];
    for (const ids of chunked(frontier)) {
      for (const r of await scope.db.selectFrom('org_units').select('id').where('parent_id', 'in', ids).execute()) {
        if (!all.has(r.id)) {
          all.add(r.id);
          next.push(r.id);
        }
      }
    }
    frontier = next;
  }
  const members: string[] = [];
  for (const ids of chunked([...all])) {
    members.push(...(await scope.db.selectFrom('identities').select('id').where('org_unit_id', 'in', ids).execute()).map((r) => r.id));
  }
  return members;
}

function toFact(r: Database['assignments']): AssignmentFact {
  return {
    id: r.id,
    assigneeType: r.assignee_type === 'orgUnit' ? 'orgUnit' : 'identity',
    assigneeId: r.assignee_id,
    resourceType: r.resource_type === 'role' ? 'role' : 'permission',
    resourceId: r.resource_id,
    context: { type: r.context_type as AccessContext['type'], id: r.context_id },
    state: r.state as AssignmentFact['state'],
    // Potential view: an assignment valid only from a future date counts (it will).
    validFrom: null,
    validTo: timeOf(r.valid_to),
    delegatedFromId: r.delegated_from_id,
    delegatorId: r.delegator_id ?? null,
  };
}

/**
 * Loads the model for `identityIds`. They are evaluated as active whatever their status: an
 * identity on leave keeps its assignments, and its return restores them, so a conflict
 * given during the leave would come back with it.
 */
export async function loadSodModel(scope: TenantDb, graph: SodGraph, identityIds: readonly string[], nowIso: string): Promise<SodModel> {
  const identities = new Map<string, { status: string; unitId: string | null }>();
  const units = new Map<string, { parentId: string | null }>();
  const rows = new Map<string, LoadedAssignment>();
  const byAssignee = new Map<string, string[]>();
  const model = { identities, units, permissions: new Map([...graph.permissions].map((p) => [p, { applicationId: '' }])), roles: graph.roles, assignments: [] as AssignmentFact[] };

  const loadIdentities = async (ids: readonly string[], forceActive: boolean) => {
    for (const part of chunked(ids.filter((id) => !identities.has(id)))) {
      const found = await scope.db.selectFrom('identities').select(['id', 'status', 'org_unit_id']).where('id', 'in', part).execute();
      for (const r of found) identities.set(r.id, { status: forceActive ? 'active' : r.status, unitId: r.org_unit_id });
    }
    await loadUnitChains(scope, units, ids.map((id) => identities.get(id)?.unitId).filter((u): u is string => !!u));
  };
  const add = (r: Database['assignments']) => {
    if (rows.has(r.id)) return;
    rows.set(r.id, { fact: toFact(r), source: r.source });
    model.assignments.push(rows.get(r.id)!.fact);
    (byAssignee.get(r.assignee_id) ?? byAssignee.set(r.assignee_id, []).get(r.assignee_id)!).push(r.id);
  };
  // By assignee only (its index), the resources filtered here: a filter on the resources
  // too would let the planner scan every assignment of the policies' roles instead.
  const gives = (r: { resource_type: string; resource_id: string }) => (r.resource_type === 'role' ? graph.roles.has(r.resource_id) : graph.permissions.has(r.resource_id));
  const loadAssigned = async (assigneeType: 'identity' | 'orgUnit', assignees: readonly string[]) => {
    for (const who of chunked(assignees)) {
      const found = await scope.db
        .selectFrom('assignments')
        .selectAll()
        .where('assignee_type', '=', assigneeType)
        .where('assignee_id', 'in', who)
        .where('state', '=', 'active')
        .where((eb) => eb.or([eb('valid_to', 'is', null), eb('valid_to', '>', nowIso)]))
        .execute();
      found.filter(gives).forEach(add);
    }
  };

  await loadIdentities(identityIds, true);
  await loadAssigned('identity', identityIds);
  await loadAssigned('orgUnit', [...units.keys()]);
  // Rule 2: a delegation counts while its source counts for the delegator.
  for (let round = 0; round < 8; round += 1) {
    const sources = [...new Set([...rows.values()].map((r) => r.fact.delegatedFromId).filter((id): id is string => !!id && !rows.has(id)))];
    if (!sources.length) break;
    for (const ids of chunked(sources)) (await scope.db.selectFrom('assignments').selectAll().where('id', 'in', ids).execute()).forEach(add);
    await loadIdentities([...new Set([...rows.values()].map((r) => r.fact.delegatorId).filter((id): id is string => !!id))], false);
  }
  return { model, rows, byAssignee };
}

/**
 * The assignments that count for the identity now: its own, then its units' nearest first,
 * each assignee's by id (the order the access index gives them in too: held-in-index.ts).
 */
export function countingAssignments(m: SodModel, identityId: string, now: number): LoadedAssignment[] {
  const identity = m.model.identities.get(identityId);
  if (!identity) return [];
  const assignees = [identityId, ...(identity.unitId !== null ? unitAndAncestors(m.model, identity.unitId) : [])];
  const candidates = assignees.flatMap((who) => [...(m.byAssignee.get(who) ?? [])].sort(cmp));
  return candidates.map((id) => m.rows.get(id)!).filter((a) => assignmentCounts(m.model, a.fact, identityId, now));
}
