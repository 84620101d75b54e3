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

export async function listSodViolations(deps: ServiceDeps, actor: Actor, query: ViolationQuery): Promise<Page<SodViolation> & { revision: number }> {
  requireRight(actor, ...SOD_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  const engine = engineOf(deps);
  const { index, revision } = await engine.at(scope.tenantId, query.minRevision);
  const filter = { policyId: query.policyId ?? null, identityId: query.identityId ?? null };
  const pager = await openPager<string>(deps, scope.tenantId, 'sod-violations', filter, query);
  let policies = (await enabledPolicies(scope)).map(toPolicyRule);
  if (query.policyId !== undefined) policies = policies.filter((p) => p.id === query.policyId);
  let only = NONE;
  if (query.identityId !== undefined) {
    only = index.identities.find(query.identityId);
    if (only === NONE || !index.identities.get(only).exists) return { items: [], nextCursor: null, revision };
  }
  const h = new IndexHoldings(index, new Set(policies.flatMap((p) => p.conflicting.flat().map(resourceKey))), engine.now());
  const ancestors = (u: string) => h.ancestors(u);
  const meet = (a: Parameters<typeof contextsMeet>[0], b: Parameters<typeof contextsMeet>[1]) => contextsMeet(a, b, ancestors);

  // First the fast question for every candidate (is the policy broken?), then the
  // explanation only for the rows of the page.
  const found: { key: string; policy: SodPolicyRule; identity: number }[] = [];
  for (const policy of policies) {
    const candidates = only === NONE ? candidatesOf(h, policy) : [only];
    for (const i of candidates) {
      const key = `${policy.id}\u0000${index.identities.get(i).id}`;
      if (pager.after !== null && key <= pager.after) continue;
      if (breaksPolicy(policy, h.heldByKey(i), meet, h.everywhere(i))) found.push({ key, policy, identity: i });
    }
  }
  found.sort((a, b) => cmp(a.key, b.key));
  const rows = found.slice(0, pager.limit + 1).map((r) => ({ ...r, finding: explainConflict(r.policy, h.heldByKey(r.identity), meet)! }));
  const exceptions = await activeExceptions(scope, rows.length > 200 ? null : rows.map((r) => index.identities.get(r.identity).id), new Date(engine.now()).toISOString());
  const page = pager.page(rows, (r) => r.key, (r): SodViolation => {
    const n = index.identities.get(r.identity);
    return {
      policy: { id: r.policy.id, name: r.policy.name, mode: r.policy.mode, severity: r.policy.severity },
      identity: { id: n.id, subject: n.subject, username: n.username, displayName: n.displayName, status: n.status },
      conflicting: render(h, r.finding),
      exception: exceptions.get(`${r.policy.id}|${n.id}`) ?? null,
    };
  });
  return { ...page, revision };
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
