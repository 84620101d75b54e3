/**
 * Queries over a {@link TenantIndex}: check, list of an identity's access, holders of a
 * permission, explain and drift, in the assigned (IAM) or provisioned (IdP) space.
 *
 * Provisioned space: for a `managed` application what counts as assigned is provisioned at
 * once (a paused assignment is not); for a `connected` application it is what the
 * identity's active accounts hold (grants), whatever the identity's status — that is the
 * observed truth, and drift shows where it differs from what is assigned.
 */
import type { AccessContext, AccessSpace, ContextType } from '../domain/access.ts';
import { findPerm, holdsEverywhere, permAt, permCount, viaRange } from './effective.ts';
import { NONE, type AccountNode, type AssignmentNode } from './nodes.ts';
import { contextMapKey, type TenantIndex } from './tenant-index.ts';

/** A context asked about, resolved against the index once. */
export interface AskedContext {
  type: ContextType;
  id: string | null;
  unit: number;
}

/** The context `all` as asked (shared: most checks name no context). */
const ASKED_ALL: Readonly<AskedContext> = Object.freeze({ type: 'all', id: null, unit: NONE });

export function askContext(index: TenantIndex, c: AccessContext | undefined): Readonly<AskedContext> {
  if (!c || c.type === 'all') return ASKED_ALL;
  return { type: c.type, id: c.id, unit: c.type === 'orgUnit' && c.id !== null ? index.units.find(c.id) : NONE };
}

/** Whether the identity holds the permission in the context (hot path: no allocation when cached). */
export function checkSlots(index: TenantIndex, identity: number, permission: number, asked: Readonly<AskedContext>, now: number, space: AccessSpace): boolean {
  if (identity === NONE || permission === NONE) return false;
  if (asked.type === 'all' && space === 'assigned') return index.holdsEverywhereAt(identity, permission, now);
  const perm = index.perms.get(permission);
  if (!perm.exists) return false;
  if (space === 'provisioned' && perm.app !== NONE && !index.apps.get(perm.app).managed) {
    for (const accIdx of index.identities.get(identity).accounts) {
      const acc = index.accounts.get(accIdx);
      if (!acc.exists || !acc.active || acc.app !== perm.app) continue;
      for (const g of acc.grants) {
        if (g.permission === permission && index.covers(g.contextType, g.contextId, asked.type, asked.id, asked.unit)) return true;
      }
    }
    return false;
  }
  const data = index.effective(identity, now).data;
  if (asked.type === 'all') return holdsEverywhere(data, permission);
  const k = findPerm(data, permission);
  if (k < 0) return false;
  for (let { from: i, to } = viaRange(data, k); i < to; i += 1) {
    const a = index.assignments.get(data[i]!);
    if (index.covers(a.contextType, a.contextId, asked.type, asked.id, asked.unit)) return true;
  }
  return false;
}

/** Why an identity holds a permission: one assignment or one account grant. */
export type HeldVia =
  | {
      kind: 'assignment';
      assignmentId: string;
      source: string;
      assignee: { type: 'identity' | 'orgUnit'; id: string };
      resource: { type: 'permission' | 'role'; id: string };
      context: AccessContext;
      delegatedFromId: string | null;
      ruleId: string | null;
    }
  | { kind: 'account'; accountId: string; accountName: string; context: AccessContext; observedAt: string; importId: string | null };

export interface HeldPermission {
  permissionId: string;
  permissionName: string;
  applicationId: string;
  applicationName: string;
  via: HeldVia[];
}

/**
 * The rendered assignment (built once per version of the assignment and shared by every
 * answer that names it, hence frozen).
 */
export function viaAssignment(index: TenantIndex, a: AssignmentNode): HeldVia {
  if (a.view !== null) return a.view as HeldVia;
  const view: HeldVia = Object.freeze({
    kind: 'assignment',
    assignmentId: a.id,
    source: a.source,
    assignee: Object.freeze(a.assigneeIsUnit ? { type: 'orgUnit', id: index.units.get(a.assignee).id } : { type: 'identity', id: index.identities.get(a.assignee).id }),
    resource: Object.freeze(a.resourceIsRole ? { type: 'role', id: index.roles.get(a.resource).id } : { type: 'permission', id: index.perms.get(a.resource).id }),
    context: Object.freeze({ type: a.contextType, id: a.contextId }),
    delegatedFromId: a.delegatedFrom === NONE ? null : index.assignments.get(a.delegatedFrom).id,
    ruleId: a.ruleId,
  } as const);
  a.view = view;
  return view;
}

function viaAccount(acc: AccountNode, g: { contextType: ContextType; contextId: string | null }): HeldVia {
  return { kind: 'account', accountId: acc.id, accountName: acc.name, context: { type: g.contextType, id: g.contextId }, observedAt: acc.observedAt, importId: acc.importId };
}

/**
 * Whether a permission of the identity's effective (assigned) set is listed: of `app` when
 * one is given, and in the provisioned space not of a connected application (there what
 * its accounts hold counts instead).
 */
function listedFromAssignments(index: TenantIndex, p: number, space: AccessSpace, app: number): boolean {
  if (app === NONE && space === 'assigned') return true;
  const perm = index.perms.get(p);
  if (app !== NONE && perm.app !== app) return false;
  return space !== 'provisioned' || perm.app === NONE || index.apps.get(perm.app).managed;
}

const viaKey = (v: HeldVia): string => (v.kind === 'assignment' ? v.assignmentId : v.accountId);

/**
 * A list of reasons in one order whatever order the index was built in (by assignment or
 * account id), so the live answer, a rebuilt index and the history agree.
 */
function inOrder(via: HeldVia[]): HeldVia[] {
  if (via.length > 1) via.sort((a, b) => (viaKey(a) < viaKey(b) ? -1 : viaKey(a) > viaKey(b) ? 1 : 0));
  return via;
}

/**
 * The assignments through which the permission at position `k` of an effective set is held,
 * by assignment id ({@link inOrder}'s order; an insertion sort: there are one to a few).
 */
function viasAt(index: TenantIndex, data: Int32Array, k: number): HeldVia[] {
  const { from, to } = viaRange(data, k);
  const via: HeldVia[] = new Array<HeldVia>(to - from);
  for (let i = from; i < to; i += 1) {
    const v = viaAssignment(index, index.assignments.get(data[i]!)) as HeldVia & { kind: 'assignment' };
    let j = i - from;
    while (j > 0 && (via[j - 1] as HeldVia & { kind: 'assignment' }).assignmentId > v.assignmentId) {
      via[j] = via[j - 1]!;
      j -= 1;
    }
    via[j] = v;
  }
  return via;
}

/**
 * Provisioned space: the grants of the identity's active accounts in connected applications,
 * by permission. Only permissions of connected applications (a grant's permission is of its
 * account's application), so never one {@link listedFromAssignments} lists.
 */
function accountHeld(index: TenantIndex, identity: number, app: number): Map<number, HeldVia[]> {
  const held = new Map<number, HeldVia[]>();
  for (const accIdx of index.identities.get(identity).accounts) {
    const acc = index.accounts.get(accIdx);
    if (!acc.exists || !acc.active || (app !== NONE && acc.app !== app)) continue;
    if (acc.app !== NONE && index.apps.get(acc.app).managed) continue;
    for (const g of acc.grants) {
      const perm = index.perms.get(g.permission);
      if (!perm.exists || perm.app === NONE || index.apps.get(perm.app).managed) continue;
      const list = held.get(g.permission);
      if (list === undefined) held.set(g.permission, [viaAccount(acc, g)]);
      else list.push(viaAccount(acc, g));
    }
  }
  for (const via of held.values()) inOrder(via);
  return held;
}

/**
 * Every (permission -> why) the identity holds now in the space, optionally for one
 * application. Internal slots; see {@link listAccess} for the rendered form.
 */
export function heldSlots(index: TenantIndex, identity: number, now: number, space: AccessSpace, app = NONE): Map<number, HeldVia[]> {
  const held = new Map<number, HeldVia[]>();
  if (identity === NONE) return held;
  const data = index.effective(identity, now).data;
  for (let k = 0, n = permCount(data); k < n; k += 1) {
    const p = permAt(data, k);
    if (listedFromAssignments(index, p, space, app)) held.set(p, viasAt(index, data, k));
  }
  if (space === 'provisioned') for (const [p, via] of accountHeld(index, identity, app)) held.set(p, via);
  return held;
}

/**
 * What the identity holds now in the space, in the catalog's display order (application
 * name, permission name). The effective set is sorted in place of a map: keys are
 * `rank * RANK_SPAN + position`, positions below `n` in the effective set, the rest in the
 * account grants (provisioned space).
 */
export function listAccess(index: TenantIndex, identity: number, now: number, space: AccessSpace, app = NONE): HeldPermission[] {
  if (identity === NONE) return [];
  const rank = index.permissionOrder();
  const data = index.effective(identity, now).data;
  const n = permCount(data);
  const accounts = space === 'provisioned' ? [...accountHeld(index, identity, app)] : [];
  const keys = new Float64Array(n + accounts.length);
  let count = 0;
  for (let k = 0; k < n; k += 1) {
    const p = permAt(data, k);
    if (listedFromAssignments(index, p, space, app)) keys[count++] = rank[p]! * RANK_SPAN + k;
  }
  for (let j = 0; j < accounts.length; j += 1) keys[count++] = rank[accounts[j]![0]]! * RANK_SPAN + n + j;
  const sorted = keys.subarray(0, count).sort();
  const out: HeldPermission[] = new Array<HeldPermission>(count);
  for (let i = 0; i < count; i += 1) {
    const k = sorted[i]! % RANK_SPAN;
    if (k < n) {
      out[i] = heldPermission(index, permAt(data, k), viasAt(index, data, k));
    } else {
      const [p, via] = accounts[k - n]!;
      out[i] = heldPermission(index, p, via);
    }
  }
  return out;
}

function heldPermission(index: TenantIndex, p: number, via: HeldVia[]): HeldPermission {
  const perm = index.perms.get(p);
  const application = index.apps.get(perm.app);
  return { permissionId: perm.id, permissionName: perm.name, applicationId: application.id, applicationName: application.name, via };
}

/** Positions in a list are below this (keys are `rank * RANK_SPAN + position`, exact doubles). */
const RANK_SPAN = 2 ** 24;

/** Roles that give the permission (directly or through included roles). */
export function rolesGiving(index: TenantIndex, permission: number): Set<number> {
  const found = new Set<number>();
  const stack = [...index.perms.get(permission).roles];
  while (stack.length) {
    const r = stack.pop()!;
    if (found.has(r)) continue;
    const role = index.roles.get(r);
    if (!role.exists) continue;
    found.add(r);
    for (const parent of role.includedBy) stack.push(parent);
  }
  return found;
}

/** Identities that may hold the permission: reached by an assignment of it or a role giving it, or holding a grant. */
export function holderCandidates(index: TenantIndex, permission: number, space: AccessSpace): Set<number> {
  const candidates = new Set<number>();
  const perm = index.perms.get(permission);
  if (!perm.exists) return candidates;
  const connected = perm.app !== NONE && !index.apps.get(perm.app).managed;
  if (space === 'provisioned' && connected) {
    for (const accIdx of perm.accounts) {
      const acc = index.accounts.get(accIdx);
      if (acc.exists && acc.identity !== NONE) candidates.add(acc.identity);
    }
    return candidates;
  }
  const addAssignee = (aIdx: number) => {
    const a = index.assignments.get(aIdx);
    if (!a.exists || !a.active) return;
    if (a.assigneeIsUnit) addMembersOfUnit(index, a.assignee, candidates);
    else candidates.add(a.assignee);
  };
  for (const aIdx of perm.assignments) addAssignee(aIdx);
  for (const r of rolesGiving(index, permission)) for (const aIdx of index.roles.get(r).assignments) addAssignee(aIdx);
  return candidates;
}

export interface HoldersPage {
  items: { identity: number; via: HeldVia[] }[];
  /** The last identity id of the page when more may follow. */
  nextAfter: string | null;
}

/** Holders of a permission (any context), ordered by identity id, after the cursor id. */
export function holders(index: TenantIndex, permission: number, now: number, space: AccessSpace, after: string | null, limit: number): HoldersPage {
  if (permission === NONE) return { items: [], nextAfter: null };
  const ids = [...holderCandidates(index, permission, space)]
    .map((i) => index.identities.get(i))
    .filter((n) => n.exists && (after === null || n.id > after))
    .sort((a, b) => cmp(a.id, b.id));
  const items: HoldersPage['items'] = [];
  for (const node of ids) {
    const via = heldVia(index, node.idx, permission, now, space);
    if (via.length === 0) continue;
    if (items.length === limit) return { items, nextAfter: index.identities.get(items[items.length - 1]!.identity).id };
    items.push({ identity: node.idx, via });
  }
  return { items, nextAfter: null };
}

/** Why the identity holds one permission now (empty when it does not). */
export function heldVia(index: TenantIndex, identity: number, permission: number, now: number, space: AccessSpace): HeldVia[] {
  const perm = index.perms.get(permission);
  if (space === 'provisioned' && perm.app !== NONE && !index.apps.get(perm.app).managed) {
    const out: HeldVia[] = [];
    for (const accIdx of index.identities.get(identity).accounts) {
      const acc = index.accounts.get(accIdx);
      if (!acc.exists || !acc.active || acc.app !== perm.app) continue;
      for (const g of acc.grants) if (g.permission === permission) out.push(viaAccount(acc, g));
    }
    return inOrder(out);
  }
  return inOrder(assignmentsGiving(index, identity, permission, now).map((a) => viaAssignment(index, index.assignments.get(a))));
}

/** The assignment slots through which the identity holds the permission now (assigned space). */
export function assignmentsGiving(index: TenantIndex, identity: number, permission: number, now: number): number[] {
  const data = index.effective(identity, now).data;
  const k = findPerm(data, permission);
  if (k < 0) return [];
  const { from, to } = viaRange(data, k);
  return Array.from(data.subarray(from, to));
}

/** Holders of a permission held in exactly the context `(type, id)` (CoreOne's context queries). */
export function holdersInContext(index: TenantIndex, type: ContextType, id: string, now: number, space: AccessSpace): { identity: number; permission: number; via: HeldVia }[] {
  const out: { identity: number; permission: number; via: HeldVia }[] = [];
  const key = contextMapKey(type, id);
  for (const aIdx of index.assignmentsByContext.get(key) ?? []) {
    const a = index.assignments.get(aIdx);
    if (!a.exists || !a.active) continue;
    const reached = a.assigneeIsUnit ? [...addMembersOfUnit(index, a.assignee, new Set())] : [a.assignee];
    for (const i of reached) {
      for (const p of index.assignmentPermissions(a)) {
        if (space === 'provisioned') {
          const perm = index.perms.get(p);
          if (perm.app !== NONE && !index.apps.get(perm.app).managed) continue;
        }
        if (assignmentsGiving(index, i, p, now).includes(aIdx)) out.push({ identity: i, permission: p, via: viaAssignment(index, a) });
      }
    }
  }
  if (space === 'provisioned') {
    for (const accIdx of index.accountsByContext.get(key) ?? []) {
      const acc = index.accounts.get(accIdx);
      if (!acc.exists || !acc.active || acc.identity === NONE) continue;
      if (acc.app !== NONE && index.apps.get(acc.app).managed) continue;
      for (const g of acc.grants) {
        if (g.contextType === type && g.contextId === id && index.perms.get(g.permission).exists) {
          out.push({ identity: acc.identity, permission: g.permission, via: viaAccount(acc, g) });
        }
      }
    }
  }
  return out;
}

/**
 * Adds the members of the unit and of the units below it (its whole subtree) to `out`, and
 * returns it. The one unit-subtree walk: holders, SoD candidates and role holders use it.
 */
export function addMembersOfUnit(index: TenantIndex, unit: number, out: Set<number>): Set<number> {
  const stack = [unit];
  const seen = new Set<number>();
  while (stack.length) {
    const u = stack.pop()!;
    if (seen.has(u)) continue;
    seen.add(u);
    const node = index.units.get(u);
    for (const m of node.members) out.add(m);
    for (const c of node.children) stack.push(c);
  }
  return out;
}

export function cmp(a: string, b: string): number {
  return a < b ? -1 : a > b ? 1 : 0;
}
