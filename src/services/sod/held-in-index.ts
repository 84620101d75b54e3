/**
 * What identities hold of the policies' resources, answered by the access index (committed
 * state): who may hold a resource (the holder candidates: assignees of it or of a role
 * giving it, and the members of assigned units), and, for one identity, each policy
 * resource it holds now with the assignment behind it (rules 1-6 through the index's
 * `counts`, role contents through its cached closures).
 */
import type { AccessContext } from '../../domain/access.ts';
import { heldByKey, resourceKey, type SodHeldItem, type SodResource, type SodVia } from '../../domain/sod.ts';
import type { CountingView } from '../../engine/index-graph.ts';
import { NONE, type AssignmentNode } from '../../engine/nodes.ts';
import { addMembersOfUnit, cmp, holderCandidates } from '../../engine/queries.ts';
import type { TenantIndex } from '../../engine/tenant-index.ts';

const MAX_DEPTH = 256;

/** What counts for a write's check: what will count, delegators checked judged active (see `loadSodModel`). */
export function writeCheckView(index: TenantIndex, checked: readonly string[]): CountingView {
  const active = new Set<number>();
  for (const id of checked) {
    const slot = index.identities.find(id);
    if (slot !== NONE) active.add(slot);
  }
  return { potential: true, active };
}

/**
 * For the separation-of-duties check of a write whose own state the index holds (checks.ts):
 * the assignments that count for the identity as that check counts them from the write
 * (model.ts `loadSodModel`, `countingAssignments`) — the identity judged active whatever its
 * status, `view` from {@link writeCheckView} — and whose resource `gives` a policy resource.
 * Its own first, then its units' nearest first, each assignee's by id. Null when the identity
 * does not exist.
 */
export function countingForCheck(index: TenantIndex, identityId: string, gives: (r: SodResource) => boolean, now: number, view: CountingView): SodVia[] | null {
  const identity = index.identities.find(identityId);
  if (identity === NONE || !index.identities.get(identity).exists) return null;
  const node = index.identities.get(identity);
  const out: SodVia[] = [];
  const bounds = { lo: -Infinity, hi: Infinity };
  const take = (assignee: SodVia['assignee'], slots: Iterable<number>) => {
    const counted: SodVia[] = [];
    for (const aIdx of slots) {
      const a = index.assignments.get(aIdx);
      if (!a.exists || !a.active) continue;
      const assigned: SodResource = a.resourceIsRole ? { type: 'role', id: index.roles.get(a.resource).id } : { type: 'permission', id: index.perms.get(a.resource).id };
      if (!gives(assigned) || !index.counts(a, now, bounds, view)) continue;
      counted.push({ assignmentId: a.id, proposed: false, source: a.source, assignee, assigned, context: { type: a.contextType, id: a.contextId } as AccessContext });
    }
    out.push(...counted.sort((x, y) => cmp(x.assignmentId!, y.assignmentId!)));
  };
  take({ type: 'identity', id: identityId }, node.assignments);
  const seen = new Set<number>();
  for (let u = node.unit, d = 0; u !== NONE && d < MAX_DEPTH && !seen.has(u); u = index.units.get(u).parent, d += 1) {
    seen.add(u);
    const unit = index.units.get(u);
    // A unit that does not exist ends the chain (as loadUnitChains reads it).
    if (!unit.exists) break;
    take({ type: 'orgUnit', id: unit.id }, unit.assignments);
  }
  return out;
}

export class IndexHoldings {
  private readonly gives = new Map<string, SodResource[]>();
  private readonly candidates = new Map<string, Set<number>>();
  private readonly held = new Map<number, SodHeldItem[]>();
  private readonly keyed = new Map<number, Map<string, SodHeldItem[]>>();
  private readonly everywhereKeys = new Map<number, Set<string>>();
  private readonly chains = new Map<string, string[]>();
  private readonly policyPerms: number[];
  /** Narrowed to the interval around `now` in which every answer given so far holds. */
  readonly bounds = { lo: -Infinity, hi: Infinity };

  constructor(
    private readonly index: TenantIndex,
    private readonly keys: ReadonlySet<string>,
    private readonly now: number,
  ) {
    this.policyPerms = [...keys].filter((k) => k.startsWith('permission:')).map((k) => index.perms.find(k.slice('permission:'.length))).filter((p) => p !== NONE);
  }

  /** The policy resources an assignment's resource gives (cached per resource). */
  givenBy(isRole: boolean, slot: number): SodResource[] {
    const cacheKey = `${isRole ? 'r' : 'p'}${slot}`;
    const known = this.gives.get(cacheKey);
    if (known) return known;
    const out: SodResource[] = [];
    const { index } = this;
    if (!isRole) {
      const perm = index.perms.get(slot);
      if (perm.exists && this.keys.has(`permission:${perm.id}`)) out.push({ type: 'permission', id: perm.id });
    } else if (index.roles.get(slot).exists) {
      for (const r of index.roleClosure(slot)) {
        const id = index.roles.get(r).id;
        if (this.keys.has(`role:${id}`)) out.push({ type: 'role', id });
      }
      const perms = index.rolePermissions(slot);
      for (const p of this.policyPerms) if (perms.has(p)) out.push({ type: 'permission', id: index.perms.get(p).id });
    }
    this.gives.set(cacheKey, out);
    return out;
  }

  /** Identities that may hold the resource (a superset; {@link heldBy} decides). */
  candidatesOf(resource: SodResource): Set<number> {
    const k = resourceKey(resource);
    let found = this.candidates.get(k);
    if (found) return found;
    const { index } = this;
    if (resource.type === 'permission') {
      const p = index.perms.find(resource.id);
      found = p === NONE ? new Set() : holderCandidates(index, p, 'assigned');
    } else {
      found = new Set();
      const start = index.roles.find(resource.id);
      const roles = new Set<number>();
      const stack = start === NONE ? [] : [start];
      while (stack.length) {
        const r = stack.pop()!;
        if (roles.has(r) || !index.roles.get(r).exists) continue;
        roles.add(r);
        for (const parent of index.roles.get(r).includedBy) stack.push(parent);
      }
      for (const r of roles) {
        for (const aIdx of index.roles.get(r).assignments) {
          const a = index.assignments.get(aIdx);
          if (!a.exists || !a.active) continue;
          if (a.assigneeIsUnit) addMembersOfUnit(this.index, a.assignee, found);
          else found.add(a.assignee);
        }
      }
    }
    this.candidates.set(k, found);
    return found;
  }

  /** Each policy resource the identity holds now, once per assignment behind it (cached). */
  heldBy(identity: number): SodHeldItem[] {
    const known = this.held.get(identity);
    if (known) return known;
    const { index } = this;
    const out: SodHeldItem[] = [];
    const node = index.identities.get(identity);
    if (node.exists && node.active) {
      const visit = (aIdx: number) => {
        const a = index.assignments.get(aIdx);
        if (!a.exists || !a.active) return;
        const given = this.givenBy(a.resourceIsRole, a.resource);
        if (!given.length || !index.counts(a, this.now, this.bounds)) return;
        const via = this.viaOf(a);
        for (const resource of given) out.push({ resource, via });
      };
      node.assignments.forEach(visit);
      for (let u = node.unit, d = 0; u !== NONE && d < MAX_DEPTH; u = index.units.get(u).parent, d += 1) {
        if (index.units.get(u).exists) index.units.get(u).assignments.forEach(visit);
      }
    }
    this.held.set(identity, out);
    return out;
  }

  /** The keys of the policy resources the identity holds in context All (cached). */
  everywhere(identity: number): Set<string> {
    let known = this.everywhereKeys.get(identity);
    if (!known) {
      known = new Set();
      for (const item of this.heldBy(identity)) if (item.via.context.type === 'all') known.add(resourceKey(item.resource));
      this.everywhereKeys.set(identity, known);
    }
    return known;
  }

  /** {@link heldBy} grouped by resource key (cached). */
  heldByKey(identity: number): Map<string, SodHeldItem[]> {
    let known = this.keyed.get(identity);
    if (!known) this.keyed.set(identity, (known = heldByKey(this.heldBy(identity))));
    return known;
  }

  private viaOf(a: AssignmentNode): SodVia {
    const { index } = this;
    return {
      assignmentId: a.id,
      proposed: false,
      source: a.source,
      assignee: a.assigneeIsUnit ? { type: 'orgUnit', id: index.units.get(a.assignee).id } : { type: 'identity', id: index.identities.get(a.assignee).id },
      assigned: a.resourceIsRole ? { type: 'role', id: index.roles.get(a.resource).id } : { type: 'permission', id: index.perms.get(a.resource).id },
      context: { type: a.contextType, id: a.contextId } as AccessContext,
    };
  }

  /** The unit and its ancestors, nearest first (for contexts that meet). */
  ancestors(unitId: string): string[] {
    const known = this.chains.get(unitId);
    if (known) return known;
    const out: string[] = [];
    for (let u = this.index.units.find(unitId), d = 0; u !== NONE && d < MAX_DEPTH; u = this.index.units.get(u).parent, d += 1) out.push(this.index.units.get(u).id);
    const chain = out.length ? out : [unitId];
    this.chains.set(unitId, chain);
    return chain;
  }

  /** A resource's name, for explanations. */
  nameOf(resource: SodResource): string | null {
    const table = resource.type === 'role' ? this.index.roles : this.index.perms;
    const slot = table.find(resource.id);
    return slot === NONE ? null : table.get(slot).name;
  }
}
