/**
 * One tenant's in-memory access index: the directory, catalog, assignments and accounts as
 * integer-slotted nodes, kept current by `apply*` calls (from the bulk load and from the
 * change feed). Each change drops the cached sets it may affect (per identity, or the global
 * `epoch`).
 *
 * The tables and the rules of effective access are in `index-graph.ts`, the rows in
 * `index-rows.ts`, the queries in `queries.ts`; this file holds the maintenance.
 */
import type { ContextType } from '../domain/access.ts';
import { timeOf } from '../domain/access.ts';
import { NONE, type AccountNode, type AssignmentNode, type GrantEntry, type IdentityNode, type PermissionNode, type RoleNode, type UnitNode } from './nodes.ts';
import { IndexGraph } from './index-graph.ts';
import type { AccountRow, ApplicationRow, AssignmentRow, IdentityRow, PermissionRow, RoleRow, UnitRow } from './index-rows.ts';

function asContextType(t: string): ContextType {
  return t === 'orgUnit' || t === 'identity' || t === 'object' ? t : 'all';
}

export function contextMapKey(type: ContextType, id: string | null): string {
  return type === 'all' ? 'all' : `${type}\u0000${id ?? ''}`;
}

/**
 * What changed in an index since a reader began watching it (`TenantIndex.watch`): the
 * identities whose answers — or the names shown with them — may differ now, or `all` when
 * a change reaches every identity (units, the catalog, assignments to units). A reader that
 * needs the index as it was (an export at the revision it announced) reads an identity from
 * the index only while it is untouched, and the others as of that revision from the history.
 */
export class IndexChanges {
  readonly identities = new Set<number>();
  all = false;
}

/** Above this many touched identities a watcher treats every identity as touched. */
const MAX_TOUCHED = 100_000;

export class TenantIndex extends IndexGraph {
  private readonly watchers = new Set<IndexChanges>();

  /** Starts recording what changes from now on; `unwatch` when done. */
  watch(): IndexChanges {
    const changes = new IndexChanges();
    this.watchers.add(changes);
    return changes;
  }

  unwatch(changes: IndexChanges): void {
    this.watchers.delete(changes);
  }

  private touchIdentity(idx: number): void {
    if (idx === NONE) return;
    for (const w of this.watchers) {
      if (w.all) continue;
      w.identities.add(idx);
      if (w.identities.size > MAX_TOUCHED) {
        w.all = true;
        w.identities.clear();
      }
    }
  }

  private touchAll(): void {
    for (const w of this.watchers) {
      w.all = true;
      w.identities.clear();
    }
  }

  // ---- maintenance -------------------------------------------------------------------

  applyUnit(row: UnitRow): void {
    this.touchAll();
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
    this.touchAll();
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
    this.touchAll();
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
    this.touchAll();
    this.permRank = null;
    const idx = this.apps.find(id);
    if (idx === NONE) return;
    const node = this.apps.get(idx);
    if (this.appByName.get(node.name) === idx) this.appByName.delete(node.name);
    node.exists = false;
  }

  applyPermission(row: PermissionRow): void {
    this.touchAll();
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
    this.touchAll();
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
    this.touchAll();
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
    if (node.exists) this.touchIdentity(node.identity);
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
    this.touchIdentity(node.identity);
    for (const g of node.grants) {
      this.perms.get(g.permission).accounts.add(idx);
      if (g.contextType !== 'all') addTo(this.accountsByContext, contextMapKey(g.contextType, g.contextId), idx);
    }
  }

  removeAccount(id: string): void {
    const idx = this.accounts.find(id);
    if (idx === NONE) return;
    const node = this.accounts.get(idx);
    if (node.exists) this.touchIdentity(node.identity);
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

  // ---- invalidation ------------------------------------------------------------------

  private invalidateIdentity(idx: number, seen: Set<number>): void {
    this.touchIdentity(idx);
    this.dropCache(this.identities.get(idx));
    const delegations = this.delegationsByDelegator.get(idx);
    if (delegations) for (const d of delegations) this.invalidateAssignment(d, seen);
  }

  /** Drops the caches an assignment feeds: its assignee's, and those of delegations made from it. */
  private invalidateAssignment(idx: number, seen: Set<number>): void {
    if (seen.has(idx)) return;
    seen.add(idx);
    const node = this.assignments.get(idx);
    if (node.assigneeIsUnit) {
      this.epoch += 1;
      this.touchAll();
    }
    else if (node.assignee !== NONE) this.invalidateIdentity(node.assignee, seen);
    const delegations = this.delegationsBySource.get(idx);
    if (delegations) for (const d of delegations) this.invalidateAssignment(d, seen);
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
