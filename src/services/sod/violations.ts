/**
 * Current violations, answered by the access index: for each enabled policy, the holder
 * candidates of every set are intersected (the index knows who is reached by an assignment
 * of a resource, of a role giving it, or of a unit above them), and only the identities in
 * every set are evaluated — never a scan of all assignments per call. Each violation
 * carries its explanation (per set: what is held and the assignments behind it) and the
 * exception that mitigates it, if any.
 *
 * {@link sodConflicts} answers the same question for given identities, optionally with
 * access that is only proposed (a preview: "what would this request run into?").
 *
 * Rights: the readers of policies (`manage-roles`, `read-permissions-any-application` or
 * `approve-requests`).
 */
import { AppError, notFound } from '../../domain/errors.ts';
import { breaksPolicy, contextsMeet, explainConflict, findConflicts, resourceKey, type SodFinding, type SodHeldItem, type SodPolicyRule } from '../../domain/sod.ts';
import type { AccessEngine } from '../../engine/engine.ts';
import { KeptPerIdentity, readKept, type KeptAnswer, type KeptPass } from '../../engine/kept.ts';
import { NONE } from '../../engine/nodes.ts';
import type { TenantIndex } from '../../engine/tenant-index.ts';
import type { TenantDb } from '../../store/store.ts';
import { openPager, requireRight, type Actor, type Page } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { activeExceptions, type SodAdd, type SodConflict, type SodExceptionView, type SodHeldView } from './checks.ts';
import { IndexHoldings } from './held-in-index.ts';
import { SOD_READ_RIGHTS, enabledPolicies, toPolicyRule } from './policies.ts';

export interface SodViolation {
  policy: SodConflict['policy'];
  identity: { id: string; subject: string; username: string | null; displayName: string | null; status: string };
  conflicting: { set: number; held: SodHeldView[] }[];
  /** The unexpired exception that mitigates the violation, or null. */
  exception: SodExceptionView | null;
}

export interface ViolationQuery {
  policyId?: string | undefined;
  identityId?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
  minRevision?: number | undefined;
}

function engineOf(deps: ServiceDeps) {
  if (!deps.access) throw new AppError('not_ready', 'the access index is not running on this node');
  return deps.access;
}

function render(h: IndexHoldings, found: SodFinding): SodConflict['conflicting'] {
  return found.sets.map((s) => ({ set: s.set, held: s.held.map((x) => ({ resource: { ...x.resource, name: h.nameOf(x.resource) }, via: x.via })) }));
}

/** The identities that hold something of every set of the policy, smallest set first. */
function candidatesOf(h: IndexHoldings, policy: SodPolicyRule): number[] {
  const perSet = policy.conflicting.map((set) => {
    const union = new Set<number>();
    for (const r of set) for (const i of h.candidatesOf(r)) union.add(i);
    return union;
  });
  perSet.sort((a, b) => a.size - b.size);
  const [first, ...rest] = perSet;
  return [...(first ?? [])].filter((i) => rest.every((s) => s.has(i)));
}

/** The tenant's violations, kept per access index (src/engine/kept.ts): the policies each identity breaks. */
const keptViolations = new KeptPerIdentity<SodPolicyRule[]>();

interface Found {
  key: string;
  policy: SodPolicyRule;
  identity: number;
}

/**
 * Every (policy, identity) that breaks an enabled policy now, ordered by policy id then
 * identity id: from the kept answer (synchronous: called inside {@link readViolations}).
 */
function orderedViolations(index: TenantIndex, answer: KeptAnswer<SodPolicyRule[]>): Found[] {
  const ordered = sortedViolations.get(index);
  if (ordered && ordered.version === answer.version) return ordered.found;
  const found: Found[] = [];
  for (const [i, broken] of answer.values) {
    const id = index.identities.get(i).id;
    for (const policy of broken) found.push({ key: `${policy.id}\u0000${id}`, policy, identity: i });
  }
  found.sort((a, b) => cmp(a.key, b.key));
  sortedViolations.set(index, { version: answer.version, found });
  return found;
}
const sortedViolations = new WeakMap<TenantIndex, { version: number; found: Found[] }>();

/** A pass over the policies (kept.ts): each identity's broken policies, in policy order. */
function violationPass(policies: SodPolicyRule[], index: TenantIndex, now: number): KeptPass<SodPolicyRule[]> {
  const h = new IndexHoldings(index, new Set(policies.flatMap((p) => p.conflicting.flat().map(resourceKey))), now);
  const meet = (a: Parameters<typeof contextsMeet>[0], b: Parameters<typeof contextsMeet>[1]) => contextsMeet(a, b, (u) => h.ancestors(u));
  return {
    bounds: h.bounds,
    candidates: () => new Set(policies.flatMap((p) => candidatesOf(h, p))),
    evaluate: (i) => {
      const broken = policies.filter((p) => breaksPolicy(p, h.heldByKey(i), meet, h.everywhere(i)));
      return broken.length ? broken : null;
    },
    // Each policy only over its own candidates (in policy order, as `evaluate` lists them).
    *all(out) {
      for (const p of policies) {
        for (const i of candidatesOf(h, p)) {
          yield;
          if (!breaksPolicy(p, h.heldByKey(i), meet, h.everywhere(i))) continue;
          const broken = out.get(i);
          if (broken) broken.push(p);
          else out.set(i, [p]);
        }
      }
    },
  };
}

/**
 * Reads the kept violations without ever making the full pass in one go (kept.ts
 * `readKept`): `use` runs synchronously on the index at the revision it is given.
 */
function readViolations<R>(
  engine: AccessEngine,
  tenantId: string,
  policies: SodPolicyRule[],
  use: (answer: KeptAnswer<SodPolicyRule[]>, index: TenantIndex, revision: number, now: number) => R,
): Promise<R> {
  return readKept(keptViolations, (fn) => engine.settled(tenantId, fn), JSON.stringify(policies), () => engine.now(), (index, now) => violationPass(policies, index, now), use);
}

/**
 * Starts the full pass of the kept violations in the background when an index is built or a
 * change invalidated the kept answer, so that the first read finds it ready (or nearly).
 */
export function warmSodViolations(deps: ServiceDeps): void {
  const engine = deps.access;
  if (!engine) return;
  const warming = new WeakSet<TenantIndex>();
  engine.addWarmer((tenantId, index) => {
    if (warming.has(index) || !keptViolations.stale(index, engine.now())) return;
    warming.add(index);
    void (async () => {
      const policies = (await enabledPolicies(deps.store.read(tenantId))).map(toPolicyRule);
      await keptViolations.prepare(index, JSON.stringify(policies), () => engine.now(), (now) => violationPass(policies, index, now), { background: true });
    })()
      .catch(() => undefined)
      .finally(() => warming.delete(index));
  });
}

async function violationScope(deps: ServiceDeps, actor: Actor, minRevision: number | undefined) {
  requireRight(actor, ...SOD_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  const engine = engineOf(deps);
  // The policies first; the index is read at a quiet point after (readViolations).
  const policies = (await enabledPolicies(scope)).map(toPolicyRule);
  await engine.at(scope.tenantId, minRevision);
  return { scope, engine, policies };
}

export async function listSodViolations(deps: ServiceDeps, actor: Actor, query: ViolationQuery): Promise<Page<SodViolation> & { revision: number }> {
  requireRight(actor, ...SOD_READ_RIGHTS);
  const filter = { policyId: query.policyId ?? null, identityId: query.identityId ?? null };
  const pager = await openPager<string>(deps, actor.caller.tenantId, 'sod-violations', filter, query);
  const { scope, engine, policies: enabled } = await violationScope(deps, actor, query.minRevision);
  const policies = query.policyId === undefined ? enabled : enabled.filter((p) => p.id === query.policyId);

  /** The page's rows, explained and named on the index at `revision` (the exceptions are added after). */
  const pageOf = (index: TenantIndex, now: number, found: readonly Found[]) => {
    const h = new IndexHoldings(index, new Set(policies.flatMap((p) => p.conflicting.flat().map(resourceKey))), now);
    const meet = (a: Parameters<typeof contextsMeet>[0], b: Parameters<typeof contextsMeet>[1]) => contextsMeet(a, b, (u) => h.ancestors(u));
    const start = pager.after === null ? 0 : firstAfter(found, pager.after);
    return found.slice(start, start + pager.limit + 1).map((r) => {
      const n = index.identities.get(r.identity);
      const view: SodViolation = {
        policy: { id: r.policy.id, name: r.policy.name, mode: r.policy.mode, severity: r.policy.severity },
        identity: { id: n.id, subject: n.subject, username: n.username, displayName: n.displayName, status: n.status },
        conflicting: render(h, explainConflict(r.policy, h.heldByKey(r.identity), meet)!),
        exception: null,
      };
      return { key: r.key, view };
    });
  };

  let read: { rows: ReturnType<typeof pageOf>; revision: number; now: number };
  if (query.identityId !== undefined) {
    // One identity: evaluated directly.
    const identityId = query.identityId;
    read = await engine.settled(scope.tenantId, (index, revision) => {
      const now = engine.now();
      const only = index.identities.find(identityId);
      if (only === NONE || !index.identities.get(only).exists) return { rows: [], revision, now };
      const h = new IndexHoldings(index, new Set(policies.flatMap((p) => p.conflicting.flat().map(resourceKey))), now);
      const meet = (a: Parameters<typeof contextsMeet>[0], b: Parameters<typeof contextsMeet>[1]) => contextsMeet(a, b, (u) => h.ancestors(u));
      const found = policies.filter((p) => breaksPolicy(p, h.heldByKey(only), meet, h.everywhere(only))).map((policy) => ({ key: `${policy.id}\u0000${identityId}`, policy, identity: only }));
      return { rows: pageOf(index, now, found), revision, now };
    });
  } else {
    read = await readViolations(engine, scope.tenantId, enabled, (answer, index, revision, now) => {
      let found = orderedViolations(index, answer);
      if (query.policyId !== undefined) found = found.filter((f) => f.policy.id === query.policyId);
      return { rows: pageOf(index, now, found), revision, now };
    });
  }
  const { rows, revision, now } = read;
  const exceptions = await activeExceptions(scope, rows.length > 200 ? null : rows.map((r) => r.view.identity.id), new Date(now).toISOString());
  const page = pager.page(rows, (r) => r.key, (r): SodViolation => ({ ...r.view, exception: exceptions.get(`${r.view.policy.id}|${r.view.identity.id}`) ?? null }));
  return { ...page, revision };
}

/** The position of the first key after `after` (the keys are sorted). */
function firstAfter(found: readonly Found[], after: string): number {
  let lo = 0;
  let hi = found.length;
  while (lo < hi) {
    const mid = (lo + hi) >>> 1;
    if (found[mid]!.key <= after) lo = mid + 1;
    else hi = mid;
  }
  return lo;
}

const SEVERITIES = ['low', 'medium', 'high', 'critical'] as const;

export interface SodViolationSummary {
  total: number;
  /** Violations without an unexpired exception. */
  unmitigated: number;
  identities: number;
  bySeverity: Record<(typeof SEVERITIES)[number], { total: number; unmitigated: number }>;
  byPolicy: { policy: SodConflict['policy']; total: number; unmitigated: number }[];
  revision: number;
}

/**
 * The counts of `GET /sod-violations` without its rows: the same violations (every page of
 * it), counted per severity and per enabled policy (policies with none included), and how
 * many an unexpired exception mitigates.
 */
export async function summarizeSodViolations(deps: ServiceDeps, actor: Actor, query: { minRevision?: number | undefined }): Promise<SodViolationSummary> {
  const { scope, engine, policies } = await violationScope(deps, actor, query.minRevision);
  // Counted as they are kept, unordered (the list's order is not needed here).
  const { found, revision, now } = await readViolations(engine, scope.tenantId, policies, (answer, index, revision, now) => {
    const found: { policy: SodPolicyRule; identity: number; identityId: string }[] = [];
    for (const [identity, broken] of answer.values) for (const policy of broken) found.push({ policy, identity, identityId: index.identities.get(identity).id });
    return { found, revision, now };
  });
  const exceptions = found.length ? await activeExceptions(scope, null, new Date(now).toISOString()) : new Map();
  const bySeverity = Object.fromEntries(SEVERITIES.map((s) => [s, { total: 0, unmitigated: 0 }])) as SodViolationSummary['bySeverity'];
  const byPolicy = new Map(policies.map((p) => [p.id, { policy: { id: p.id, name: p.name, mode: p.mode, severity: p.severity }, total: 0, unmitigated: 0 }]));
  const identities = new Set<number>();
  let unmitigated = 0;
  for (const f of found) {
    const open = !exceptions.has(`${f.policy.id}|${f.identityId}`);
    identities.add(f.identity);
    const perPolicy = byPolicy.get(f.policy.id)!;
    perPolicy.total += 1;
    bySeverity[f.policy.severity].total += 1;
    if (open) {
      unmitigated += 1;
      perPolicy.unmitigated += 1;
      bySeverity[f.policy.severity].unmitigated += 1;
    }
  }
  return { total: found.length, unmitigated, identities: identities.size, bySeverity, byPolicy: [...byPolicy.values()], revision };
}

/**
 * The conflicts the identities have on their effective access now (committed state, from
 * the access index), with `proposed` additions counted as held. With `proposed`, every
 * conflict is returned (not only those the additions take part in): a preview of where the
 * identity would stand. Unknown identities have none.
 */
export async function sodConflicts(deps: ServiceDeps, db: TenantDb, identityIds: readonly string[], proposed: readonly SodAdd[] = []): Promise<SodConflict[]> {
  const engine = engineOf(deps);
  const { index } = await engine.at(db.tenantId);
  const policies = (await enabledPolicies(db)).map(toPolicyRule);
  if (!policies.length) return [];
  const h = new IndexHoldings(index, new Set(policies.flatMap((p) => p.conflicting.flat().map(resourceKey))), engine.now());
  const out: SodConflict[] = [];
  for (const id of identityIds) {
    const i = index.identities.find(id);
    if (i === NONE || !index.identities.get(i).exists) continue;
    const held: SodHeldItem[] = [...h.heldBy(i), ...proposedItems(index, h, id, proposed)];
    for (const finding of findConflicts(policies, held, (a, b) => contextsMeet(a, b, (u) => h.ancestors(u)))) {
      out.push({ policy: { id: finding.policy.id, name: finding.policy.name, mode: finding.policy.mode, severity: finding.policy.severity }, identityId: id, conflicting: render(h, finding), exception: null });
    }
  }
  if (!out.length) return out;
  const exceptions = await activeExceptions(db, [...new Set(out.map((c) => c.identityId))], new Date(engine.now()).toISOString());
  return out.map((c) => ({ ...c, exception: exceptions.get(`${c.policy.id}|${c.identityId}`) ?? null }));
}

function proposedItems(index: TenantIndex, h: IndexHoldings, identityId: string, proposed: readonly SodAdd[]): SodHeldItem[] {
  const items: SodHeldItem[] = [];
  for (const add of proposed) {
    const slot = add.type === 'role' ? index.roles.find(add.id) : index.perms.find(add.id);
    if (slot === NONE) throw notFound(add.type, add.id);
    const via = {
      assignmentId: null,
      proposed: true,
      source: add.source ?? 'direct',
      assignee: { type: 'identity' as const, id: identityId },
      assigned: { type: add.type, id: add.id },
      context: add.context ?? { type: 'all' as const, id: null },
    };
    for (const resource of h.givenBy(add.type === 'role', slot)) items.push({ resource, via });
  }
  return items;
}

function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}

/** What takes part in an identity's unmitigated violations: the permissions named and the assignments behind them. */
export interface SodInvolvement {
  permissionIds: Set<string>;
  assignmentIds: Set<string>;
}

/**
 * Every identity that breaks an enabled policy now without an unexpired exception, with
 * the access that takes part (for flagging what an access review snapshots). One pass over
 * each policy's candidates, as {@link listSodViolations}.
 */
export async function sodInvolvement(deps: ServiceDeps, db: TenantDb): Promise<Map<string, SodInvolvement>> {
  const out = new Map<string, SodInvolvement>();
  const engine = engineOf(deps);
  const { index } = await engine.at(db.tenantId);
  const policies = (await enabledPolicies(db)).map(toPolicyRule);
  if (!policies.length) return out;
  const h = new IndexHoldings(index, new Set(policies.flatMap((p) => p.conflicting.flat().map(resourceKey))), engine.now());
  const meet = (a: Parameters<typeof contextsMeet>[0], b: Parameters<typeof contextsMeet>[1]) => contextsMeet(a, b, (u) => h.ancestors(u));
  const found: { policy: SodPolicyRule; identity: number }[] = [];
  for (const policy of policies) for (const i of candidatesOf(h, policy)) if (breaksPolicy(policy, h.heldByKey(i), meet, h.everywhere(i))) found.push({ policy, identity: i });
  if (!found.length) return out;
  const exceptions = await activeExceptions(db, found.length > 200 ? null : found.map((f) => index.identities.get(f.identity).id), new Date(engine.now()).toISOString());
  for (const f of found) {
    const id = index.identities.get(f.identity).id;
    if (exceptions.has(`${f.policy.id}|${id}`)) continue;
    const finding = explainConflict(f.policy, h.heldByKey(f.identity), meet);
    if (!finding) continue;
    const entry = out.get(id) ?? { permissionIds: new Set<string>(), assignmentIds: new Set<string>() };
    for (const s of finding.sets) {
      for (const x of s.held) {
        if (x.resource.type === 'permission') entry.permissionIds.add(x.resource.id);
        for (const v of x.via) if (v.assignmentId) entry.assignmentIds.add(v.assignmentId);
      }
    }
    out.set(id, entry);
  }
  return out;
}
