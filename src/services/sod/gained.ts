/**
 * Separation of duties on the paths that add access without writing an assignment: a role's
 * contents change (every holder of the role gains what was added), an identity moves into a
 * unit or a unit moves under another (the members inherit the new units' assignments), and
 * an import observes grants in a connected application.
 *
 * Each evaluates the affected identities inside the write, on the write's own state, and
 * counts as "proposed" only the access the change gives — so a conflict that existed before
 * is not the change's fault, as on the assignment paths ({@link checkSod}).
 *
 * - {@link checkRoleContentsSod}: the holders of the role (its assignees, those of the roles
 *   including it, and the members of assigned units and of the units below them).
 * - {@link checkUnitMoveSod}: the identities that moved, with the units newly above them.
 * - {@link checkObservedSod}: each identity's newly observed grants, as proposed access.
 *
 * {@link refuseOrReport} then refuses the write (409, as {@link enforceSod}: `block`, and
 * `require_exception` without an unexpired exception — one can be recorded ahead with
 * `POST /sod-exceptions`) or, where reality cannot be refused (an approved HR move run by the
 * scheduler, an import), lets it through and records the audit event `sod.detected` per
 * conflict, so the violation is on record and listed by `GET /sod-violations`.
 */
import { unitAndAncestors } from '../../domain/access-rules.ts';
import type { AccessContext } from '../../domain/access.ts';
import { contextsMeet, findConflicts, resourceKey, type SodHeldItem, type SodResource, type SodVia } from '../../domain/sod.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import type { Actor } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { sodCatalog } from './catalog.ts';
import { checkSod, enforceSod, explainFindings, type SodAdd, type SodConflict } from './checks.ts';
import { chunked, countingAssignments, loadSodModel, loadUnitChains, membersOfUnits, policyResourcesGiven, type LoadedAssignment, type SodGraph } from './model.ts';
import { toPolicyRule } from './policies.ts';

/** Identities evaluated per round (their models are loaded together). */
const ROUND = 500;
/** How a refused path without an exception field can still pass a `require_exception` policy. */
const AHEAD_HINT = '; record an exception for the identity first (POST /api/v1/sod-exceptions, needs approve-requests)';
/** `sod.detected` events recorded per write; the last one counts the rest. */
const REPORTED = 100;

type Gained = (a: LoadedAssignment, resource: SodResource) => boolean;

/**
 * The conflicts of `identityIds` on the write's state in which some held item is gained
 * (`gained` says which): one per (policy, identity), explained as {@link checkSod}'s.
 */
async function gainedConflicts(tx: TenantDb, deps: Pick<ServiceDeps, 'now'>, identityIds: readonly string[], gained: Gained, extraUnits: readonly string[] = []): Promise<SodConflict[]> {
  const { policies, graph } = await sodCatalog(tx);
  if (!graph || !identityIds.length) return [];
  const now = deps.now().getTime();
  const nowIso = new Date(now).toISOString();
  const rules = policies.map(toPolicyRule);
  const out: { identityId: string; found: ReturnType<typeof findConflicts> }[] = [];
  for (let i = 0; i < identityIds.length; i += ROUND) {
    const ids = identityIds.slice(i, i + ROUND);
    const m = await loadSodModel(tx, graph, ids, nowIso);
    await loadUnitChains(tx, m.model.units, extraUnits);
    for (const identityId of ids) {
      if (!m.model.identities.has(identityId)) continue;
      const held: SodHeldItem[] = [];
      for (const a of countingAssignments(m, identityId, now)) {
        const assigned: SodResource = { type: a.fact.resourceType, id: a.fact.resourceId };
        for (const resource of policyResourcesGiven(graph, assigned)) {
          const via: SodVia = { assignmentId: a.fact.id, proposed: gained(a, resource), source: a.source, assignee: { type: a.fact.assigneeType, id: a.fact.assigneeId }, assigned, context: a.fact.context };
          held.push({ resource, via });
        }
      }
      if (!held.some((h) => h.via.proposed)) continue;
      await loadUnitChains(tx, m.model.units, held.filter((h) => h.via.context.type === 'orgUnit' && h.via.context.id).map((h) => h.via.context.id!));
      const found = findConflicts(rules, held, (a, b) => contextsMeet(a, b, (u) => unitAndAncestors(m.model, u)), { needProposed: true });
      if (found.length) out.push({ identityId, found });
    }
  }
  return explainFindings(tx, out, nowIso);
}

/** The policy-relevant part of the catalog before a role change, to compare against after it. */
export async function sodGraphBefore(tx: WriteTx): Promise<SodGraph | null> {
  return (await sodCatalog(tx)).graph;
}

/** The identities that hold the role: through it or a role including it, directly or through a unit. */
async function holdersOfRole(tx: TenantDb, roleId: string, graph: SodGraph): Promise<string[]> {
  // The graph holds every role that gives a policy resource, with its including roles: the
  // roles giving `roleId` are found by walking its inclusions upwards.
  const giving = new Set([roleId]);
  let grew = true;
  while (grew) {
    grew = false;
    for (const [id, entry] of graph.roles) {
      if (!giving.has(id) && entry.includedRoleIds.some((r) => giving.has(r))) {
        giving.add(id);
        grew = true;
      }
    }
  }
  const identities = new Set<string>();
  const units: string[] = [];
  for (const ids of chunked([...giving])) {
    const rows = await tx.db
      .selectFrom('assignments')
      .select(['assignee_type', 'assignee_id'])
      .where('tenant_id', '=', tx.tenantId)
      .where('resource_type', '=', 'role')
      .where('resource_id', 'in', ids)
      .where('state', '=', 'active')
      .execute();
    for (const r of rows) {
      if (r.assignee_type === 'orgUnit') units.push(r.assignee_id);
      else identities.add(r.assignee_id);
    }
  }
  if (units.length) for (const m of await membersOfUnits(tx, [...new Set(units)])) identities.add(m);
  return [...identities];
}

/**
 * After a role's contents changed (inside the same write, after `tx.change('role', ...)`):
 * the conflicts its holders now take part in through what the role gives newly.
 */
export async function checkRoleContentsSod(tx: WriteTx, deps: Pick<ServiceDeps, 'now'>, roleId: string, before: SodGraph | null): Promise<SodConflict[]> {
  const after = (await sodCatalog(tx)).graph;
  if (!after || !after.roles.has(roleId)) return [];
  const gavePreviously = (assigned: SodResource) => new Set(before ? policyResourcesGiven(before, assigned).map(resourceKey) : []);
  const memo = new Map<string, Set<string>>();
  const gained: Gained = (a, resource) => {
    if (a.fact.resourceType !== 'role') return false;
    const k = `role:${a.fact.resourceId}`;
    const old = memo.get(k) ?? memo.set(k, gavePreviously({ type: 'role', id: a.fact.resourceId })).get(k)!;
    return !old.has(resourceKey(resource));
  };
  // Nothing new to give: the role (and so every role including it) gives the same policy resources as before.
  const was = gavePreviously({ type: 'role', id: roleId });
  const holdersCouldGain = policyResourcesGiven(after, { type: 'role', id: roleId }).some((x) => !was.has(resourceKey(x)));
  if (!holdersCouldGain) return [];
  return gainedConflicts(tx, deps, await holdersOfRole(tx, roleId, after), gained);
}

/**
 * After identities changed unit, or a unit moved (inside the same write): the conflicts they
 * take part in through the assignments of units now above them that were not before.
 * `oldChain`: the units that were above them before the change (for an identity, its old
 * unit's chain; for a unit move, the moved unit's old chain and the units of its subtree).
 */
export async function checkUnitMoveSod(
  tx: WriteTx,
  deps: Pick<ServiceDeps, 'now'>,
  moves: { identityIds: readonly string[]; oldChain: readonly string[] },
): Promise<SodConflict[]> {
  const { graph } = await sodCatalog(tx);
  if (!graph || !moves.identityIds.length) return [];
  const old = new Set(moves.oldChain);
  const gained: Gained = (a) => a.fact.assigneeType === 'orgUnit' && !old.has(a.fact.assigneeId);
  return gainedConflicts(tx, deps, moves.identityIds, gained);
}

/** A unit and the units above it, on the write's state (`[]` for null). */
export async function unitChain(tx: TenantDb, unitId: string | null): Promise<string[]> {
  if (!unitId) return [];
  const units = new Map<string, { parentId: string | null }>();
  await loadUnitChains(tx, units, [unitId]);
  const chain: string[] = [];
  for (let at: string | null = unitId; at && !chain.includes(at); at = units.get(at)?.parentId ?? null) chain.push(at);
  return chain;
}

/** Every identity in the unit or below it. */
export async function unitMembers(tx: TenantDb, unitId: string): Promise<string[]> {
  return membersOfUnits(tx, [unitId]);
}

/**
 * Grants an import observed, per identity (the account's identity): the conflicts they take
 * part in with the identity's assigned access and with each other. Observed grants are not
 * assignments (the provisioned space reports what an application holds), so this is a
 * report: callers record it with {@link refuseOrReport} in `report` mode.
 */
export async function checkObservedSod(tx: WriteTx, deps: Pick<ServiceDeps, 'now'>, observed: ReadonlyMap<string, readonly { permissionId: string; context: AccessContext }[]>): Promise<SodConflict[]> {
  const adds = (list: readonly { permissionId: string; context: AccessContext }[]): SodAdd[] => list.map((g) => ({ type: 'permission', id: g.permissionId, context: g.context, source: 'import' }));
  const { keys, graph } = await sodCatalog(tx);
  if (!graph) return [];
  const out: SodConflict[] = [];
  for (const [identityId, list] of observed) {
    const named = list.filter((g) => keys.has(`permission:${g.permissionId}`));
    if (!named.length) continue;
    out.push(...(await checkSod(tx, deps, { identityIds: [identityId], adds: adds(named) })));
  }
  return out;
}

/**
 * `refuse`: as {@link enforceSod} without an exception in the write (409; a mitigated
 * conflict passes). `report`: the write goes through; each unmitigated conflict is recorded
 * as the audit event `sod.detected` (at most {@link REPORTED}, the last counting the rest).
 * Returns the conflicts reported.
 */
export async function refuseOrReport(
  tx: WriteTx,
  actor: Actor,
  conflicts: readonly SodConflict[],
  how: { mode: 'refuse' | 'report'; path: 'role' | 'unitMove' | 'import' | 'personnelEvent' | 'accountLink'; subject: { type: string; id: string } },
): Promise<SodConflict[]> {
  if (!conflicts.length) return [];
  if (how.mode === 'refuse') {
    await enforceSod(tx, actor, conflicts, { subject: { type: 'assignment', id: null }, exceptionAllowed: false, hint: AHEAD_HINT });
    return [];
  }
  const open = conflicts.filter((c) => c.policy.mode === 'block' || c.exception === null);
  for (const [at, c] of open.slice(0, REPORTED).entries()) {
    const rest = at === REPORTED - 1 ? open.length - REPORTED : 0;
    tx.audit({
      action: 'sod.detected',
      targetType: 'identity',
      targetId: c.identityId,
      after: { path: how.path, subject: how.subject, policy: c.policy, conflicting: c.conflicting, ...(rest > 0 ? { moreNotRecorded: rest } : {}) },
    });
  }
  return open;
}

/** The permissions an enabled policy names (empty without policies): a cheap filter before {@link checkObservedSod}. */
export async function sodNamedPermissions(tx: TenantDb): Promise<ReadonlySet<string>> {
  const { keys } = await sodCatalog(tx);
  return new Set([...keys].filter((k) => k.startsWith('permission:')).map((k) => k.slice('permission:'.length)));
}

/**
 * Accounts newly linked to an identity (an account resolution, an import that matched an
 * account to another identity): the grants they hold of permissions an enabled policy names,
 * per identity they now belong to — for {@link checkObservedSod}, since to the identity they
 * are new access even when the application reports the same grants as before. One query per
 * chunk of accounts, and none without such policies.
 */
export async function linkedAccountGrants(
  tx: TenantDb,
  links: readonly { accountId: string; identityId: string }[],
): Promise<Map<string, { permissionId: string; context: AccessContext }[]>> {
  const out = new Map<string, { permissionId: string; context: AccessContext }[]>();
  const named = [...(await sodNamedPermissions(tx))];
  if (!links.length || !named.length) return out;
  const identityOf = new Map(links.map((l) => [l.accountId, l.identityId]));
  for (const accounts of chunked([...identityOf.keys()])) {
    const rows = await tx.db.selectFrom('grants').select(['account_id', 'permission_id', 'context_type', 'context_id']).where('account_id', 'in', accounts).where('permission_id', 'in', named).execute();
    for (const r of rows) {
      const identityId = identityOf.get(r.account_id)!;
      const context = { type: r.context_type, id: r.context_id } as AccessContext;
      (out.get(identityId) ?? out.set(identityId, []).get(identityId)!).push({ permissionId: r.permission_id, context });
    }
  }
  return out;
}

/**
 * An account just linked to an identity (by hand or by an account resolution): its grants are
 * new access for that identity, so their conflicts are reported (`sod.detected`, path
 * `accountLink`) as an import's are — never refused, the application holds them already.
 */
export async function reportLinkedAccountSod(tx: WriteTx, deps: Pick<ServiceDeps, 'now'>, actor: Actor, link: { accountId: string; identityId: string }): Promise<void> {
  const conflicts = await checkObservedSod(tx, deps, await linkedAccountGrants(tx, [link]));
  await refuseOrReport(tx, actor, conflicts, { mode: 'report', path: 'accountLink', subject: { type: 'account', id: link.accountId } });
}
