/**
 * Rule 7: every answer can be explained. `explain` lists the chains of assignments behind a
 * grant (assignment → unit it reached through → roles down to the permission, and the
 * delegation sources it depends on), or, when the answer is no, why each candidate does not
 * count. `drift` compares the assigned and provisioned spaces of connected applications.
 */
import type { AccessSpace } from '../domain/access.ts';
import { findPerm } from './effective.ts';
import { NONE, type AssignmentNode } from './nodes.ts';
import { checkSlots, heldSlots, holderCandidates, type AskedContext, type HeldVia } from './queries.ts';
import type { TenantIndex } from './tenant-index.ts';

export interface ExplainChain {
  via: HeldVia;
  /** Units from the identity's unit up to the assignee unit, when assigned to a unit. */
  unitPath: string[];
  /** Roles from the assigned role down to the one that lists the permission. */
  rolePath: string[];
  /** Delegation sources, nearest first: the assignment delegated from and its delegator. */
  delegatedFrom: { assignmentId: string; delegatorId: string | null }[];
}

export interface Explanation {
  allowed: boolean;
  chains: ExplainChain[];
  /** Why candidates do not count (empty when allowed for every candidate). */
  notCounting: { assignmentId: string | null; reason: string }[];
}

export function explain(index: TenantIndex, identity: number, permission: number, asked: AskedContext, now: number, space: AccessSpace): Explanation {
  const notCounting: Explanation['notCounting'] = [];
  if (identity === NONE || !index.identities.get(identity).exists) return { allowed: false, chains: [], notCounting: [{ assignmentId: null, reason: 'the identity does not exist' }] };
  if (permission === NONE || !index.perms.get(permission).exists) return { allowed: false, chains: [], notCounting: [{ assignmentId: null, reason: 'the permission does not exist' }] };
  const node = index.identities.get(identity);
  const allowed = checkSlots(index, identity, permission, asked, now, space);
  const perm = index.perms.get(permission);
  const via = heldSlots(index, identity, now, space, perm.app).get(permission) ?? [];
  const chains: ExplainChain[] = [];
  for (const v of via) {
    const covering = index.covers(v.context.type, v.context.id, asked.type, asked.id, asked.unit);
    if (!covering) {
      notCounting.push({ assignmentId: v.kind === 'assignment' ? v.assignmentId : null, reason: `held in context ${v.context.type}${v.context.id ? ` ${v.context.id}` : ''}, which does not cover the asked context` });
      continue;
    }
    if (v.kind === 'account') {
      chains.push({ via: v, unitPath: [], rolePath: [], delegatedFrom: [] });
      continue;
    }
    const a = index.assignments.get(index.assignments.find(v.assignmentId));
    chains.push({ via: v, unitPath: unitPath(index, identity, a), rolePath: rolePath(index, a, permission), delegatedFrom: delegationChain(index, a) });
  }
  if (!node.active) notCounting.push({ assignmentId: null, reason: `the identity is ${node.status}: it has no effective access (its assignments stay recorded)` });
  // Candidates that would give the permission but do not count now.
  const candidates = new Set<number>(node.assignments);
  for (let u = node.unit, d = 0; u !== NONE && d < 256; u = index.units.get(u).parent, d += 1) {
    if (index.units.get(u).exists) for (const a of index.units.get(u).assignments) candidates.add(a);
  }
  for (const aIdx of candidates) {
    const a = index.assignments.get(aIdx);
    if (!a.exists || via.some((v) => v.kind === 'assignment' && v.assignmentId === a.id)) continue;
    if (![...index.assignmentPermissions(a)].includes(permission)) continue;
    notCounting.push({ assignmentId: a.id, reason: whyNot(index, a, now) });
  }
  return { allowed, chains, notCounting };
}

function whyNot(index: TenantIndex, a: AssignmentNode, now: number): string {
  if (!a.active) return `the assignment is ${a.state}`;
  if (a.validFrom > now) return `the assignment is valid from ${new Date(a.validFrom).toISOString()}`;
  if (a.validTo <= now) return `the assignment expired at ${new Date(a.validTo).toISOString()}`;
  if (a.delegatedFrom !== NONE) {
    const delegator = a.delegator === NONE ? null : index.identities.get(a.delegator);
    if (!delegator?.active) return `the delegator is ${delegator?.status ?? 'unknown'}: a delegation counts only while the delegator's own access counts`;
    return "the delegation's source no longer counts for the delegator";
  }
  return 'the identity is not active';
}

function unitPath(index: TenantIndex, identity: number, a: AssignmentNode): string[] {
  if (!a.assigneeIsUnit) return [];
  const path: string[] = [];
  for (let u = index.identities.get(identity).unit, d = 0; u !== NONE && d < 256; u = index.units.get(u).parent, d += 1) {
    path.push(index.units.get(u).id);
    if (u === a.assignee) break;
  }
  return path;
}

/** Shortest path of roles from the assigned role to one listing the permission (BFS). */
function rolePath(index: TenantIndex, a: AssignmentNode, permission: number): string[] {
  if (!a.resourceIsRole) return [];
  const prev = new Map<number, number>([[a.resource, NONE]]);
  const queue = [a.resource];
  while (queue.length) {
    const r = queue.shift()!;
    const role = index.roles.get(r);
    if (!role.exists) continue;
    if (role.permissions.has(permission)) {
      const path: string[] = [];
      for (let x = r; x !== NONE; x = prev.get(x)!) path.unshift(index.roles.get(x).id);
      return path;
    }
    for (const inc of role.includes) {
      if (!prev.has(inc)) {
        prev.set(inc, r);
        queue.push(inc);
      }
    }
  }
  return [];
}

function delegationChain(index: TenantIndex, a: AssignmentNode): ExplainChain['delegatedFrom'] {
  const out: ExplainChain['delegatedFrom'] = [];
  let current = a;
  for (let d = 0; current.delegatedFrom !== NONE && d < 32; d += 1) {
    const delegator = current.delegator === NONE ? null : index.identities.get(current.delegator).id;
    const source = index.assignments.get(current.delegatedFrom);
    out.push({ assignmentId: source.id, delegatorId: delegator });
    current = source;
  }
  return out;
}

export interface DriftEntry {
  identityId: string | null;
  permissionId: string;
  accountName?: string;
}

export interface ApplicationDrift {
  applicationId: string;
  applicationName: string;
  assignedNotProvisioned: DriftEntry[];
  provisionedNotAssigned: DriftEntry[];
  truncated: boolean;
}

/**
 * Drift of connected applications: (identity, permission) pairs assigned but not held by an
 * active account, and pairs held by an account (or an orphan account) but not assigned.
 * Managed applications provision what is assigned, so they have no drift. Contexts are not
 * compared (a pair is in sync when both spaces hold the permission in some context).
 */
export function drift(index: TenantIndex, now: number, app: number, limit: number): ApplicationDrift[] {
  const out: ApplicationDrift[] = [];
  const apps = app === NONE ? index.apps.nodes.filter((n) => n.exists && !n.managed) : [index.apps.get(app)].filter((n) => n.exists && !n.managed);
  for (const application of apps) {
    const entry: ApplicationDrift = { applicationId: application.id, applicationName: application.name, assignedNotProvisioned: [], provisionedNotAssigned: [], truncated: false };
    const full = () => entry.assignedNotProvisioned.length + entry.provisionedNotAssigned.length >= limit;
    for (const p of [...application.permissions].sort((x, y) => index.perms.get(x).number - index.perms.get(y).number)) {
      const perm = index.perms.get(p);
      if (!perm.exists) continue;
      const assigned = new Set<number>();
      for (const i of holderCandidates(index, p, 'assigned')) if (findPerm(index.effective(i, now).data, p) >= 0) assigned.add(i);
      const provisioned = new Set<number>();
      for (const accIdx of perm.accounts) {
        const acc = index.accounts.get(accIdx);
        if (!acc.exists || !acc.active) continue;
        if (acc.identity === NONE) {
          if (!full()) entry.provisionedNotAssigned.push({ identityId: null, permissionId: perm.id, accountName: acc.name });
          else entry.truncated = true;
          continue;
        }
        provisioned.add(acc.identity);
        if (!assigned.has(acc.identity)) {
          if (!full()) entry.provisionedNotAssigned.push({ identityId: index.identities.get(acc.identity).id, permissionId: perm.id, accountName: acc.name });
          else entry.truncated = true;
        }
      }
      for (const i of assigned) {
        if (provisioned.has(i)) continue;
        if (!full()) entry.assignedNotProvisioned.push({ identityId: index.identities.get(i).id, permissionId: perm.id });
        else entry.truncated = true;
      }
    }
    out.push(entry);
  }
  return out;
}
