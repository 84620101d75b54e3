/**
 * The tables of one tenant's access index and the rules of effective access evaluated over
 * them (the shared design's rules 1-6). Effective access is computed per identity on first
 * use and cached as a compact set (`effective.ts`); what a unit's members inherit from it and
 * its ancestors is computed once per unit and shared. A cache entry is valid while nothing it
 * depends on has changed (per-identity invalidation, or the global `epoch` for unit-tree,
 * unit-assignment and role edits) and while `now` stays inside the validity bounds it was
 * computed for, so a validity window crossing "now" is honoured without a write. The identity
 * cache is bounded by memory (`cacheBytes`): beyond it the entries cached first are dropped.
 *
 * Keeping the tables current is `tenant-index.ts`; the queries are in `queries.ts`.
 */
import type { ContextType } from '../domain/access.ts';
import {
  AccountNode,
  ApplicationNode,
  AssignmentNode,
  IdentityNode,
  NONE,
  PermissionNode,
  RoleNode,
  Table,
  UnitNode,
} from './nodes.ts';
import { EffectiveBuilder, EMPTY_DATA, effectiveBytes, holdsEverywhere, type EffectiveSet } from './effective.ts';

const MAX_DEPTH = 256;

/**
 * How {@link IndexGraph.counts} reads the rules. The default follows them as they are; the
 * separation-of-duties check of a write (src/services/sod) counts what will count:
 */
export interface CountingView {
  /** An assignment valid only from a future date counts (it will). */
  readonly potential?: boolean;
  /** Identities judged active whatever their status, as delegators (an identity on leave gets its access back). */
  readonly active?: ReadonlySet<number>;
}
const RULES_VIEW: CountingView = {};

/** Default memory for cached identity sets: L (100k identities, ~230 permissions each) fits. */
export const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;

export class IndexGraph {
  /** Bumped by edits that may change many identities' access (unit tree, roles, catalog). */
  epoch = 0;
  /** Bumped by edits that change role closures (roles, permissions existing). */
  roleEpoch = 0;

  readonly units = new Table((i, id) => new UnitNode(i, id));
  readonly identities = new Table((i, id) => new IdentityNode(i, id));
  readonly apps = new Table((i, id) => new ApplicationNode(i, id));
  readonly perms = new Table((i, id) => new PermissionNode(i, id));
  readonly roles = new Table((i, id) => new RoleNode(i, id));
  readonly assignments = new Table((i, id) => new AssignmentNode(i, id));
  readonly accounts = new Table((i, id) => new AccountNode(i, id));

  readonly unitByNumber = new Map<number, number>();
  readonly unitByExternalId = new Map<string, number>();
  readonly identityBySubject = new Map<string, number>();
  readonly identityByNumber = new Map<number, number>();
  readonly identityByUsername = new Map<string, number>();
  readonly appByName = new Map<string, number>();
  /** `${appSlot}\0${name}` -> permission slot */
  readonly permByAppName = new Map<string, number>();
  readonly assignmentsByContext = new Map<string, Set<number>>();
  readonly accountsByContext = new Map<string, Set<number>>();
  readonly delegationsBySource = new Map<number, Set<number>>();
  readonly delegationsByDelegator = new Map<number, Set<number>>();

  /**
   * The cached sets again, by identity slot, for the check's hot path: `cacheTimes[4i ..
   * 4i+3)` is the set's epoch (-1: none), lo and hi, `cacheData[i]` its data. Typed arrays
   * and one array of sets instead of identity node -> set object -> boxed bounds: a check
   * at L, where nothing stays in the processor's caches, is a few memory reads.
   */
  private cacheTimes: Float64Array = new Float64Array(0);
  private cacheData: Int32Array[] = [];
  /** Identities whose effective access is cached, oldest first (bounded by `cacheBytes`). */
  private readonly cachedQueue: number[] = [];
  private cachedQueueStart = 0;
  /** Bytes taken by the cached identity sets. */
  cachedBytes = 0;
  private readonly builder = new EffectiveBuilder();
  /** Display rank of each permission slot; null once a catalog name changes. */
  protected permRank: Int32Array | null = null;
  private readonly everywhere = (a: number): boolean => this.assignments.get(a).contextType === 'all';

  /**
   * @param cacheBytes how much memory the cached identity sets may take; beyond it the
   * entries cached first are dropped (and recomputed on their next use).
   */
  constructor(
    readonly tenantId: string,
    readonly cacheBytes = DEFAULT_CACHE_BYTES,
  ) {}

  /** An existing identity by subject, else by username; NONE when neither matches. */
  identitySlotByKey(key: string): number {
    return this.identityBySubject.get(key) ?? this.identityByUsername.get(key) ?? NONE;
  }

  /**
   * The display rank of every permission slot: ordered by application name, then permission
   * name (as lists are shown). Recomputed after a catalog change, on first use.
   */
  permissionOrder(): Int32Array {
    if (this.permRank !== null && this.permRank.length === this.perms.nodes.length) return this.permRank;
    const nodes = this.perms.nodes;
    const appName = (p: number) => (nodes[p]!.app === NONE ? '' : this.apps.get(nodes[p]!.app).name);
    const order = Array.from({ length: nodes.length }, (_, p) => p).sort((x, y) => {
      const ax = appName(x);
      const ay = appName(y);
      if (ax !== ay) return ax < ay ? -1 : 1;
      const nx = nodes[x]!.name;
      const ny = nodes[y]!.name;
      return nx < ny ? -1 : nx > ny ? 1 : x - y;
    });
    const rank = new Int32Array(nodes.length);
    order.forEach((p, i) => (rank[p] = i));
    this.permRank = rank;
    return rank;
  }

  // ---- evaluation --------------------------------------------------------------------

  /** Rule 4: the permissions a role gives, transitively (cached per role until a catalog edit). */
  rolePermissions(role: number): Set<number> {
    this.closeRole(role);
    return this.roles.get(role).closurePermissions;
  }

  /** The role and the roles it includes, transitively. */
  roleClosure(role: number): Set<number> {
    this.closeRole(role);
    return this.roles.get(role).closureRoles;
  }

  private closeRole(role: number): void {
    const node = this.roles.get(role);
    if (node.closureEpoch === this.roleEpoch) return;
    const permissions = new Set<number>();
    const roles = new Set<number>();
    const stack = [role];
    while (stack.length) {
      const r = stack.pop()!;
      const rn = this.roles.get(r);
      if (!rn.exists || roles.has(r)) continue;
      roles.add(r);
      for (const p of rn.permissions) if (this.perms.get(p).exists) permissions.add(p);
      for (const inc of rn.includes) stack.push(inc);
    }
    node.closurePermissions = permissions;
    node.closurePermList = Int32Array.from(permissions) as Int32Array;
    node.closureRoles = roles;
    node.closureEpoch = this.roleEpoch;
  }

  /** The permissions an assignment's resource gives now. */
  assignmentPermissions(a: AssignmentNode): Iterable<number> {
    if (a.resourceIsRole) return this.rolePermissions(a.resource);
    return this.perms.get(a.resource).exists ? [a.resource] : [];
  }

  /** Whether unit `ancestor` is `unit` or one of its ancestors. */
  unitWithin(unit: number, ancestor: number): boolean {
    let u = unit;
    for (let depth = 0; u !== NONE && depth < MAX_DEPTH; depth += 1) {
      if (u === ancestor) return true;
      u = this.units.get(u).parent;
    }
    return false;
  }

  /** Rule 3: whether the assignment's assignee is the identity or one of its units. */
  reaches(a: AssignmentNode, identity: number): boolean {
    if (!a.assigneeIsUnit) return a.assignee === identity;
    if (!this.units.get(a.assignee).exists) return false;
    const unit = this.identities.get(identity).unit;
    return unit !== NONE && this.unitWithin(unit, a.assignee);
  }

  /**
   * Rules 1, 2 and 6 for an assignment that reaches an active identity: whether it counts
   * at `now`. Narrows `bounds` to the interval around `now` in which the answer holds.
   * `view` (default: the rules as they are) is for the separation-of-duties check a write
   * makes, which counts what will count (see {@link CountingView}).
   */
  counts(a: AssignmentNode, now: number, bounds: { lo: number; hi: number }, view: CountingView = RULES_VIEW, depth = 0): boolean {
    if (!a.exists || !a.active || depth > 32) return false;
    if (!view.potential) {
      if (a.validFrom > now) {
        if (a.validFrom < bounds.hi) bounds.hi = a.validFrom;
        return false;
      }
      if (a.validFrom > bounds.lo) bounds.lo = a.validFrom;
    }
    if (a.validTo <= now) {
      if (a.validTo > bounds.lo) bounds.lo = a.validTo;
      return false;
    }
    if (a.validTo < bounds.hi) bounds.hi = a.validTo;
    if (a.delegatedFrom === NONE) return true;
    const source = this.assignments.get(a.delegatedFrom);
    if (!source.exists || a.delegator === NONE) return false;
    const delegator = this.identities.get(a.delegator);
    if (!(delegator.active || view.active?.has(a.delegator)) || !this.reaches(source, a.delegator) || !this.sourceGives(source, a)) return false;
    return this.counts(source, now, bounds, view, depth + 1);
  }

  private sourceGives(source: AssignmentNode, delegated: AssignmentNode): boolean {
    if (!delegated.resourceIsRole) {
      if (!source.resourceIsRole) return source.resource === delegated.resource && this.perms.get(delegated.resource).exists;
      return this.rolePermissions(source.resource).has(delegated.resource);
    }
    return source.resourceIsRole && this.roleClosure(source.resource).has(delegated.resource);
  }

  /** The identity's effective assigned access at `now` (cached). */
  effective(identity: number, now: number): EffectiveSet {
    const node = this.identities.get(identity);
    const cached = node.cache;
    if (cached !== null && cached.epoch === this.epoch && now >= cached.lo && now < cached.hi) return cached;
    const fresh = this.computeEffective(node, now);
    this.dropCache(node);
    node.cache = fresh;
    this.remember(identity, fresh);
    this.cachedBytes += effectiveBytes(fresh);
    if (!node.queued) {
      node.queued = true;
      this.cachedQueue.push(identity);
    }
    if (this.cachedBytes > this.cacheBytes) this.evict(identity);
    return fresh;
  }

  /**
   * Whether the identity holds the permission in context `all` at `now` (assigned space):
   * the hot path of a check. A set holds only permissions that exist (a permission's removal
   * moves the `epoch`), so the permission's node is not read.
   */
  holdsEverywhereAt(identity: number, permission: number, now: number): boolean {
    const times = this.cacheTimes;
    const at = identity * 4;
    if (at < times.length && times[at] === this.epoch && now >= times[at + 1]! && now < times[at + 2]!) return holdsEverywhere(this.cacheData[identity]!, permission);
    return holdsEverywhere(this.effective(identity, now).data, permission);
  }

  /** Mirrors a cached set into the by-slot arrays. */
  private remember(identity: number, set: EffectiveSet): void {
    if (identity * 4 >= this.cacheTimes.length) {
      const size = Math.max(1024, this.identities.nodes.length, identity + 1) * 2;
      const times = new Float64Array(size * 4).fill(-1);
      times.set(this.cacheTimes);
      this.cacheTimes = times;
      while (this.cacheData.length < size) this.cacheData.push(EMPTY_DATA);
    }
    const at = identity * 4;
    this.cacheTimes[at] = set.epoch;
    this.cacheTimes[at + 1] = set.lo;
    this.cacheTimes[at + 2] = set.hi;
    this.cacheData[identity] = set.data;
  }

  protected dropCache(node: IdentityNode): void {
    if (node.cache === null) return;
    this.cachedBytes -= effectiveBytes(node.cache);
    node.cache = null;
    const at = node.idx * 4;
    this.cacheTimes[at] = -1;
    this.cacheData[node.idx] = EMPTY_DATA;
  }

  /** Drops the entries cached first until the cache fits its memory (keeping `keep`'s). */
  private evict(keep: number): void {
    const queue = this.cachedQueue;
    while (this.cachedBytes > this.cacheBytes && queue.length - this.cachedQueueStart > 1) {
      const oldest = queue[this.cachedQueueStart]!;
      this.cachedQueueStart += 1;
      if (oldest === keep) {
        queue.push(oldest);
        continue;
      }
      const node = this.identities.get(oldest);
      node.queued = false;
      this.dropCache(node);
    }
    if (this.cachedQueueStart > 4096 && this.cachedQueueStart * 2 > queue.length) {
      queue.splice(0, this.cachedQueueStart);
      this.cachedQueueStart = 0;
    }
  }

  private computeEffective(node: IdentityNode, now: number): EffectiveSet {
    if (!node.exists || !node.active) return { epoch: this.epoch, lo: -Infinity, hi: Infinity, data: EMPTY_DATA };
    const bounds = { lo: -Infinity, hi: Infinity };
    let base = EMPTY_DATA;
    if (node.unit !== NONE) {
      const inherited = this.inherited(node.unit, now);
      base = inherited.data;
      bounds.lo = inherited.lo;
      bounds.hi = inherited.hi;
    }
    const builder = this.builder;
    builder.reset();
    this.collect(builder, node.assignments, now, bounds);
    return { epoch: this.epoch, lo: bounds.lo, hi: bounds.hi, data: builder.build(base, this.everywhere) };
  }

  /** Adds the pairs (permission, assignment) of the assignments that count at `now`. */
  private collect(builder: EffectiveBuilder, assignments: Set<number>, now: number, bounds: { lo: number; hi: number }): void {
    for (const aIdx of assignments) {
      const a = this.assignments.get(aIdx);
      if (!this.counts(a, now, bounds)) continue;
      if (a.resourceIsRole) {
        this.closeRole(a.resource);
        const list = this.roles.get(a.resource).closurePermList;
        for (let i = 0; i < list.length; i += 1) builder.add(list[i]!, aIdx);
      } else if (this.perms.get(a.resource).exists) {
        builder.add(a.resource, aIdx);
      }
    }
  }

  /**
   * What members of `unit` inherit at `now`: the assignments of the unit and its ancestors
   * that count. Computed once per unit (from its parent's) and shared by all its members.
   */
  inherited(unit: number, now: number): EffectiveSet {
    const chain: number[] = [];
    const seen = new Set<number>();
    for (let u = unit; u !== NONE && chain.length < MAX_DEPTH; u = this.units.get(u).parent) {
      if (seen.has(u)) return this.inheritedFlat(chain, now);
      seen.add(u);
      const cached = this.units.get(u).inherited;
      chain.push(u);
      if (cached !== null && cached.epoch === this.epoch && now >= cached.lo && now < cached.hi) break;
    }
    let parent = null as EffectiveSet | null;
    for (let i = chain.length - 1; i >= 0; i -= 1) {
      const node = this.units.get(chain[i]!);
      const cached = node.inherited;
      if (cached !== null && cached.epoch === this.epoch && now >= cached.lo && now < cached.hi) {
        parent = cached;
        continue;
      }
      const bounds: { lo: number; hi: number } = { lo: parent?.lo ?? -Infinity, hi: parent?.hi ?? Infinity };
      this.builder.reset();
      if (node.exists) this.collect(this.builder, node.assignments, now, bounds);
      parent = { epoch: this.epoch, lo: bounds.lo, hi: bounds.hi, data: this.builder.build(parent?.data ?? EMPTY_DATA, this.everywhere) };
      node.inherited = parent;
    }
    return parent ?? { epoch: this.epoch, lo: -Infinity, hi: Infinity, data: EMPTY_DATA };
  }

  /** A unit chain that loops (only while a move is half applied): every unit once, not cached. */
  private inheritedFlat(chain: number[], now: number): EffectiveSet {
    const bounds = { lo: -Infinity, hi: Infinity };
    this.builder.reset();
    for (const u of chain) {
      const node = this.units.get(u);
      if (node.exists) this.collect(this.builder, node.assignments, now, bounds);
    }
    return { epoch: this.epoch, lo: bounds.lo, hi: bounds.hi, data: this.builder.build(EMPTY_DATA, this.everywhere) };
  }

  /** Rule 5: whether an assignment or grant held in (type, id) covers the asked context. */
  covers(heldType: ContextType, heldId: string | null, askedType: ContextType, askedId: string | null, askedUnit: number): boolean {
    if (heldType === 'all') return true;
    if (heldType !== askedType || heldId === null || askedId === null) return false;
    if (heldId === askedId) return true;
    if (heldType !== 'orgUnit' || askedUnit === NONE) return false;
    let u = this.units.get(askedUnit).parent;
    for (let depth = 0; u !== NONE && depth < MAX_DEPTH; depth += 1) {
      const unit = this.units.get(u);
      if (unit.id === heldId) return true;
      u = unit.parent;
    }
    return false;
  }
}
