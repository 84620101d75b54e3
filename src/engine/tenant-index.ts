/**
 * One tenant's in-memory access index: the directory, catalog, assignments and accounts as
 * integer-slotted nodes, kept current by `apply*` calls (from the bulk load and from the
 * change feed). Effective access is computed per identity on first use and cached as a
 * compact set (`effective.ts`); what a unit's members inherit from it and its ancestors is
 * computed once per unit and shared. A cache entry is valid while nothing it depends on has
 * changed (per-identity invalidation, or the global `epoch` for unit-tree, unit-assignment
 * and role edits) and while `now` stays inside the validity bounds it was computed for, so a
 * validity window crossing "now" is honoured without a write. The identity cache is bounded
 * by memory (`cacheBytes`): beyond it the entries cached first are dropped.
 *
 * Queries are in `queries.ts`; this file holds the state and its maintenance.
 */
import type { ContextType } from '../domain/access.ts';
import { timeOf } from '../domain/access.ts';
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
  type GrantEntry,
} from './nodes.ts';
import { EffectiveBuilder, EMPTY_DATA, effectiveBytes, type EffectiveSet } from './effective.ts';

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

const MAX_DEPTH = 256;
/** Default memory for cached identity sets: L (100k identities, ~230 permissions each) fits. */
export const DEFAULT_CACHE_BYTES = 512 * 1024 * 1024;

function asContextType(t: string): ContextType {
  return t === 'orgUnit' || t === 'identity' || t === 'object' ? t : 'all';
}

export function contextMapKey(type: ContextType, id: string | null): string {
  return type === 'all' ? 'all' : `${type}\u0000${id ?? ''}`;
}

export class TenantIndex {
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

  /** Identities whose effective access is cached, oldest first (bounded by `cacheBytes`). */
  private readonly cachedQueue: number[] = [];
  private cachedQueueStart = 0;
  /** Bytes taken by the cached identity sets. */
  cachedBytes = 0;
  private readonly builder = new EffectiveBuilder();
  /** Display rank of each permission slot; null once a catalog name changes. */
  private permRank: Int32Array | null = null;
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

  // ---- maintenance -------------------------------------------------------------------

  applyUnit(row: UnitRow): void {
    const idx = this.units.intern(row.id);
    const node = this.units.get(idx);
    if (node.exists && this.unitByNumber.get(node.number) === idx) this.unitByNumber.delete(node.number);
    if (node.externalId !== null && this.unitByExternalId.get(node.externalId) === idx) this.unitByExternalId.delete(node.externalId);
    node.exists = true;
    node.number = Number(row.number);
    node.name = row.name;
    node.externalId = row.external_id;
    this.unitByNumber.set(node.number, idx);
    if (row.external_id !== null) this.unitByExternalId.set(row.external_id, idx);
    const parent = row.parent_id === null ? NONE : this.units.intern(row.parent_id);
    if (parent !== node.parent) {
      this.setUnitParent(node, parent);
      this.epoch += 1;
    }
  }

  removeUnit(id: string): void {
    const idx = this.units.find(id);
    if (idx === NONE) return;
    const node = this.units.get(idx);
    if (this.unitByNumber.get(node.number) === idx) this.unitByNumber.delete(node.number);
    if (node.externalId !== null && this.unitByExternalId.get(node.externalId) === idx) this.unitByExternalId.delete(node.externalId);
    node.exists = false;
    this.setUnitParent(node, NONE);
    this.epoch += 1;
  }

  private setUnitParent(node: UnitNode, parent: number): void {
    if (node.parent !== NONE) this.units.get(node.parent).children.delete(node.idx);
    node.parent = parent;
    if (parent !== NONE) this.units.get(parent).children.add(node.idx);
  }

  /** `initial`: while the index is first filled (nothing is cached yet, nothing to invalidate). */
  applyIdentity(row: IdentityRow, initial = false): void {
    const idx = this.identities.intern(row.id);
    const node = this.identities.get(idx);
    this.unindexIdentity(node);
    node.exists = true;
    node.status = row.status;
    node.active = row.status === 'active';
    node.number = Number(row.number);
    node.subject = row.subject;
    node.username = row.username;
    node.email = row.email;
    node.displayName = row.display_name;
    this.identityBySubject.set(node.subject, idx);
    this.identityByNumber.set(node.number, idx);
    if (node.username !== null) this.identityByUsername.set(node.username, idx);
    const unit = row.org_unit_id === null ? NONE : this.units.intern(row.org_unit_id);
    this.setIdentityUnit(node, unit);
    if (!initial) this.invalidateIdentity(idx, new Set());
  }

  removeIdentity(id: string): void {
    const idx = this.identities.find(id);
    if (idx === NONE) return;
    const node = this.identities.get(idx);
    this.unindexIdentity(node);
    node.exists = false;
    node.active = false;
    this.setIdentityUnit(node, NONE);
    this.invalidateIdentity(idx, new Set());
  }

  private unindexIdentity(node: IdentityNode): void {
    if (!node.exists) return;
    if (this.identityBySubject.get(node.subject) === node.idx) this.identityBySubject.delete(node.subject);
    if (this.identityByNumber.get(node.number) === node.idx) this.identityByNumber.delete(node.number);
    if (node.username !== null && this.identityByUsername.get(node.username) === node.idx) this.identityByUsername.delete(node.username);
  }

  private setIdentityUnit(node: IdentityNode, unit: number): void {
    if (node.unit === unit) return;
    if (node.unit !== NONE) this.units.get(node.unit).members.delete(node.idx);
    node.unit = unit;
    if (unit !== NONE) this.units.get(unit).members.add(node.idx);
  }

  applyApplication(row: ApplicationRow): void {
    this.permRank = null;
    const idx = this.apps.intern(row.id);
    const node = this.apps.get(idx);
    if (node.exists && this.appByName.get(node.name) === idx) this.appByName.delete(node.name);
    const wasManaged = node.managed;
    node.exists = true;
    node.name = row.name;
    node.number = Number(row.number);
    node.managed = row.kind !== 'connected';
    node.builtin = Number(row.builtin ?? 0) === 1;
    this.appByName.set(node.name, idx);
    for (const p of node.permissions) {
      const perm = this.perms.get(p);
      this.permByAppName.set(`${idx}\u0000${perm.name}`, p);
    }
    if (wasManaged !== node.managed) this.epoch += 1;
  }

  removeApplication(id: string): void {
    this.permRank = null;
    const idx = this.apps.find(id);
    if (idx === NONE) return;
    const node = this.apps.get(idx);
    if (this.appByName.get(node.name) === idx) this.appByName.delete(node.name);
    node.exists = false;
  }

  applyPermission(row: PermissionRow): void {
    this.permRank = null;
    const idx = this.perms.intern(row.id);
    const node = this.perms.get(idx);
    const wasExisting = node.exists;
    this.unindexPermission(node);
    node.exists = true;
    node.name = row.name;
    node.number = Number(row.number);
    node.delegable = Number(row.delegable) === 1;
    node.app = this.apps.intern(row.application_id);
    this.apps.get(node.app).permissions.add(idx);
    this.permByAppName.set(`${node.app}\u0000${node.name}`, idx);
    if (!wasExisting) this.catalogChanged();
  }

  removePermission(id: string): void {
    this.permRank = null;
    const idx = this.perms.find(id);
    if (idx === NONE) return;
    const node = this.perms.get(idx);
    this.unindexPermission(node);
    node.exists = false;
    this.catalogChanged();
  }

  private unindexPermission(node: PermissionNode): void {
    if (node.app === NONE) return;
    const key = `${node.app}\u0000${node.name}`;
    if (this.permByAppName.get(key) === node.idx) this.permByAppName.delete(key);
    this.apps.get(node.app).permissions.delete(node.idx);
  }

  applyRole(row: RoleRow): void {
    const idx = this.roles.intern(row.id);
    const node = this.roles.get(idx);
    this.detachRole(node);
    node.exists = true;
    node.name = row.name;
    for (const pid of row.permissionIds) {
      const p = this.perms.intern(pid);
      node.permissions.add(p);
      this.perms.get(p).roles.add(idx);
    }
    for (const rid of row.includedRoleIds) {
      const r = this.roles.intern(rid);
      node.includes.add(r);
      this.roles.get(r).includedBy.add(idx);
    }
    this.catalogChanged();
  }

  removeRole(id: string): void {
    const idx = this.roles.find(id);
    if (idx === NONE) return;
    const node = this.roles.get(idx);
    this.detachRole(node);
    node.exists = false;
    this.catalogChanged();
  }

  private detachRole(node: RoleNode): void {
    for (const p of node.permissions) this.perms.get(p).roles.delete(node.idx);
    for (const r of node.includes) this.roles.get(r).includedBy.delete(node.idx);
    node.permissions.clear();
    node.includes.clear();
  }

  private catalogChanged(): void {
    this.roleEpoch += 1;
    this.epoch += 1;
  }

  /** `initial`: while the index is first filled (nothing is cached yet, nothing to invalidate). */
  applyAssignment(row: AssignmentRow, initial = false): void {
    const idx = this.assignments.intern(row.id);
    const node = this.assignments.get(idx);
    if (node.exists) {
      this.invalidateAssignment(idx, new Set());
      this.detachAssignment(node);
    }
    node.exists = true;
    node.assigneeIsUnit = row.assignee_type === 'orgUnit';
    node.assignee = node.assigneeIsUnit ? this.units.intern(row.assignee_id) : this.identities.intern(row.assignee_id);
    node.resourceIsRole = row.resource_type === 'role';
    node.resource = node.resourceIsRole ? this.roles.intern(row.resource_id) : this.perms.intern(row.resource_id);
    node.contextType = asContextType(row.context_type);
    node.contextId = node.contextType === 'all' ? null : row.context_id;
    node.source = row.source;
    node.state = row.state;
    node.active = row.state === 'active';
    node.validFrom = timeOf(row.valid_from) ?? -Infinity;
    node.validTo = timeOf(row.valid_to) ?? Infinity;
    node.delegatedFrom = row.delegated_from_id ? this.assignments.intern(row.delegated_from_id) : NONE;
    node.delegator = row.delegator_id ? this.identities.intern(row.delegator_id) : NONE;
    node.ruleId = row.rule_id;
    node.view = null;
    this.attachAssignment(node);
    // Nothing is cached while the index is first filled: only later changes invalidate.
    if (!initial) this.invalidateAssignment(idx, new Set());
  }

  removeAssignment(id: string): void {
    const idx = this.assignments.find(id);
    if (idx === NONE) return;
    const node = this.assignments.get(idx);
    if (!node.exists) return;
    this.invalidateAssignment(idx, new Set());
    this.detachAssignment(node);
    node.exists = false;
  }

  private attachAssignment(node: AssignmentNode): void {
    const idx = node.idx;
    (node.assigneeIsUnit ? this.units.get(node.assignee) : this.identities.get(node.assignee)).assignments.add(idx);
    (node.resourceIsRole ? this.roles.get(node.resource) : this.perms.get(node.resource)).assignments.add(idx);
    if (node.contextType !== 'all') addTo(this.assignmentsByContext, contextMapKey(node.contextType, node.contextId), idx);
    if (node.delegatedFrom !== NONE) addTo(this.delegationsBySource, node.delegatedFrom, idx);
    if (node.delegator !== NONE) addTo(this.delegationsByDelegator, node.delegator, idx);
  }

  private detachAssignment(node: AssignmentNode): void {
    const idx = node.idx;
    (node.assigneeIsUnit ? this.units.get(node.assignee) : this.identities.get(node.assignee)).assignments.delete(idx);
    (node.resourceIsRole ? this.roles.get(node.resource) : this.perms.get(node.resource)).assignments.delete(idx);
    if (node.contextType !== 'all') removeFrom(this.assignmentsByContext, contextMapKey(node.contextType, node.contextId), idx);
    if (node.delegatedFrom !== NONE) removeFrom(this.delegationsBySource, node.delegatedFrom, idx);
    if (node.delegator !== NONE) removeFrom(this.delegationsByDelegator, node.delegator, idx);
  }

  applyAccount(row: AccountRow): void {
    const idx = this.accounts.intern(row.id);
    const node = this.accounts.get(idx);
    this.detachAccount(node);
    node.exists = true;
    node.app = this.apps.intern(row.application_id);
    node.name = row.name;
    node.identity = row.identity_id === null ? NONE : this.identities.intern(row.identity_id);
    node.status = row.status;
    node.active = row.status === 'active';
    node.observedAt = row.observed_at;
    node.importId = row.import_id;
    node.grants = row.grants.map(
      (g): GrantEntry => {
        const contextType = asContextType(g.context_type);
        return { permission: this.perms.intern(g.permission_id), contextType, contextId: contextType === 'all' ? null : g.context_id };
      },
    );
    if (node.identity !== NONE) this.identities.get(node.identity).accounts.add(idx);
    for (const g of node.grants) {
      this.perms.get(g.permission).accounts.add(idx);
      if (g.contextType !== 'all') addTo(this.accountsByContext, contextMapKey(g.contextType, g.contextId), idx);
    }
  }

  removeAccount(id: string): void {
    const idx = this.accounts.find(id);
    if (idx === NONE) return;
    const node = this.accounts.get(idx);
    this.detachAccount(node);
    node.exists = false;
  }

  private detachAccount(node: AccountNode): void {
    if (!node.exists) return;
    if (node.identity !== NONE) this.identities.get(node.identity).accounts.delete(node.idx);
    for (const g of node.grants) {
      this.perms.get(g.permission).accounts.delete(node.idx);
      if (g.contextType !== 'all') removeFrom(this.accountsByContext, contextMapKey(g.contextType, g.contextId), node.idx);
    }
    node.grants = [];
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

  // ---- invalidation ------------------------------------------------------------------

  private invalidateIdentity(idx: number, seen: Set<number>): void {
    this.dropCache(this.identities.get(idx));
    const delegations = this.delegationsByDelegator.get(idx);
    if (delegations) for (const d of delegations) this.invalidateAssignment(d, seen);
  }

  /** Drops the caches an assignment feeds: its assignee's, and those of delegations made from it. */
  private invalidateAssignment(idx: number, seen: Set<number>): void {
    if (seen.has(idx)) return;
    seen.add(idx);
    const node = this.assignments.get(idx);
    if (node.assigneeIsUnit) this.epoch += 1;
    else if (node.assignee !== NONE) this.invalidateIdentity(node.assignee, seen);
    const delegations = this.delegationsBySource.get(idx);
    if (delegations) for (const d of delegations) this.invalidateAssignment(d, seen);
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
   */
  counts(a: AssignmentNode, now: number, bounds: { lo: number; hi: number }, depth = 0): boolean {
    if (!a.exists || !a.active || depth > 32) return false;
    if (a.validFrom > now) {
      if (a.validFrom < bounds.hi) bounds.hi = a.validFrom;
      return false;
    }
    if (a.validFrom > bounds.lo) bounds.lo = a.validFrom;
    if (a.validTo <= now) {
      if (a.validTo > bounds.lo) bounds.lo = a.validTo;
      return false;
    }
    if (a.validTo < bounds.hi) bounds.hi = a.validTo;
    if (a.delegatedFrom === NONE) return true;
    const source = this.assignments.get(a.delegatedFrom);
    if (!source.exists || a.delegator === NONE) return false;
    const delegator = this.identities.get(a.delegator);
    if (!delegator.active || !this.reaches(source, a.delegator) || !this.sourceGives(source, a)) return false;
    return this.counts(source, now, bounds, depth + 1);
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
    this.cachedBytes += effectiveBytes(fresh);
    if (!node.queued) {
      node.queued = true;
      this.cachedQueue.push(identity);
    }
    if (this.cachedBytes > this.cacheBytes) this.evict(identity);
    return fresh;
  }

  private dropCache(node: IdentityNode): void {
    if (node.cache === null) return;
    this.cachedBytes -= effectiveBytes(node.cache);
    node.cache = null;
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

function addTo<K>(map: Map<K, Set<number>>, key: K, value: number): void {
  let set = map.get(key);
  if (set === undefined) {
    set = new Set();
    map.set(key, set);
  }
  set.add(value);
}

function removeFrom<K>(map: Map<K, Set<number>>, key: K, value: number): void {
  const set = map.get(key);
  if (set === undefined) return;
  set.delete(value);
  if (set.size === 0) map.delete(key);
}
