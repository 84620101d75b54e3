/**
 * Drift counted per connected application, for the console's overview: the numbers the full
 * `drift` answer (explain.ts) would list, without its rows. Each identity's counts are kept
 * per access index and re-evaluated only when the index touches that identity (kept.ts);
 * orphan accounts (no identity) are counted on every read (one pass over the accounts).
 *
 * Counted like `drift`: a pair (identity, permission) assigned but not held by an active
 * account of the identity is one "assigned, not provisioned"; an active account holding a
 * permission its identity is not assigned (or that has no identity) is one "provisioned, not
 * assigned" per account and permission. Contexts are not compared.
 */
import { permAt, permCount, findPerm } from './effective.ts';
import type { ApplicationDrift } from './explain.ts';
import type { AccessEngine } from './engine.ts';
import { KeptPerIdentity, readKept, type KeptAnswer, type KeptPass } from './kept.ts';
import { NONE } from './nodes.ts';
import type { TenantIndex } from './tenant-index.ts';

export interface ApplicationDriftCounts {
  applicationId: string;
  applicationName: string;
  assignedNotProvisioned: number;
  provisionedNotAssigned: number;
  /** Of `provisionedNotAssigned`: grants of accounts that belong to no identity. */
  orphanGrants: number;
}

/** Per identity: [application, assigned not provisioned, provisioned not assigned] triples. */
const kept = new KeptPerIdentity<number[]>();
const sums = new WeakMap<TenantIndex, { version: number; perApp: Map<number, [number, number]> }>();

/** The connected application of a permission, or NONE (managed, removed, unknown). */
function connectedApp(index: TenantIndex, p: number): number {
  const perm = index.perms.get(p);
  if (!perm.exists || perm.app === NONE) return NONE;
  const app = index.apps.get(perm.app);
  return app.exists && !app.managed && app.permissions.has(p) ? perm.app : NONE;
}

function identityDrift(index: TenantIndex, i: number, now: number, bounds: { lo: number; hi: number }): number[] | null {
  const node = index.identities.get(i);
  const effective = index.effective(i, now);
  if (effective.lo > bounds.lo) bounds.lo = effective.lo;
  if (effective.hi < bounds.hi) bounds.hi = effective.hi;
  const perApp = new Map<number, [number, number]>();
  const bump = (app: number, k: 0 | 1) => {
    let c = perApp.get(app);
    if (!c) perApp.set(app, (c = [0, 0]));
    c[k] += 1;
  };
  const provisioned = new Set<number>();
  for (const accIdx of node.accounts) {
    const acc = index.accounts.get(accIdx);
    if (!acc.exists || !acc.active || acc.identity !== i) continue;
    const perms = new Set(acc.grants.map((g) => g.permission));
    for (const p of perms) {
      const app = connectedApp(index, p);
      if (app === NONE) continue;
      provisioned.add(p);
      if (findPerm(effective.data, p) < 0) bump(app, 1);
    }
  }
  for (let k = 0, n = permCount(effective.data); k < n; k += 1) {
    const p = permAt(effective.data, k);
    const app = connectedApp(index, p);
    if (app !== NONE && !provisioned.has(p)) bump(app, 0);
  }
  if (perApp.size === 0) return null;
  return [...perApp].flatMap(([app, [anp, pna]]) => [app, anp, pna]);
}

function driftPass(index: TenantIndex, now: number): KeptPass<number[]> {
  const bounds = { lo: -Infinity, hi: Infinity };
  return {
    bounds,
    candidates: () => index.identities.nodes.filter((n) => n.exists || n.accounts.size > 0).map((n) => n.idx),
    evaluate: (i) => identityDrift(index, i, now, bounds),
  };
}

/**
 * Starts the full pass of the kept drift counts in the background when an index is built or
 * a change invalidated them, so that the first read finds them ready (or nearly).
 */
export function warmDriftSummary(engine: AccessEngine): void {
  engine.addWarmer((_tenantId, index) => {
    if (kept.stale(index, engine.now())) void kept.prepare(index, 'drift', () => engine.now(), (now) => driftPass(index, now), { background: true }).catch(() => undefined);
  });
}

/**
 * Drift counts of every connected application of the tenant, in application name order, at
 * the revision returned; the kept counts' full pass is never made in one go (kept.ts).
 */
export function driftSummary(engine: AccessEngine, tenantId: string): Promise<{ items: ApplicationDriftCounts[]; revision: number }> {
  return readKept(kept, (fn) => engine.settled(tenantId, fn), 'drift', () => engine.now(), driftPass, (answer, index, revision) => ({ items: countsOf(index, answer), revision }));
}

function countsOf(index: TenantIndex, answer: KeptAnswer<number[]>): ApplicationDriftCounts[] {
  let summed = sums.get(index);
  if (!summed || summed.version !== answer.version) {
    const perApp = new Map<number, [number, number]>();
    for (const triples of answer.values.values()) {
      for (let k = 0; k < triples.length; k += 3) {
        const app = triples[k]!;
        let c = perApp.get(app);
        if (!c) perApp.set(app, (c = [0, 0]));
        c[0] += triples[k + 1]!;
        c[1] += triples[k + 2]!;
      }
    }
    sums.set(index, (summed = { version: answer.version, perApp }));
  }
  const orphans = new Map<number, number>();
  for (const acc of index.accounts.nodes) {
    if (!acc.exists || !acc.active || acc.identity !== NONE) continue;
    for (const p of new Set(acc.grants.map((g) => g.permission))) {
      const app = connectedApp(index, p);
      if (app !== NONE) orphans.set(app, (orphans.get(app) ?? 0) + 1);
    }
  }
  return index.apps.nodes
    .filter((a) => a.exists && !a.managed)
    .map((a) => {
      const [anp, pna] = summed.perApp.get(a.idx) ?? [0, 0];
      const orphanGrants = orphans.get(a.idx) ?? 0;
      return { applicationId: a.id, applicationName: a.name, assignedNotProvisioned: anp, provisionedNotAssigned: pna + orphanGrants, orphanGrants };
    })
    .sort((x, y) => (x.applicationName < y.applicationName ? -1 : x.applicationName > y.applicationName ? 1 : 0));
}

/**
 * Per connected permission: the identities assigned it whose kept values show drift in its
 * application (ascending) — kept per answer version (within the kept bounds, effective access
 * does not change with `now`).
 */
const assignedInDrift = new WeakMap<TenantIndex, { version: number; perPerm: Map<number, number[]> }>();

function assignedInDriftOf(index: TenantIndex, now: number, answer: KeptAnswer<number[]>): Map<number, number[]> {
  const known = assignedInDrift.get(index);
  if (known && known.version === answer.version) return known.perPerm;
  const perPerm = new Map<number, number[]>();
  for (const i of [...answer.values.keys()].sort((a, b) => a - b)) {
    const triples = answer.values.get(i)!;
    const apps = new Set<number>();
    for (let k = 0; k < triples.length; k += 3) apps.add(triples[k]!);
    const data = index.effective(i, now).data;
    for (let k = 0, n = permCount(data); k < n; k += 1) {
      const p = permAt(data, k);
      if (!apps.has(connectedApp(index, p))) continue;
      const list = perPerm.get(p);
      if (list) list.push(i);
      else perPerm.set(p, [i]);
    }
  }
  assignedInDrift.set(index, { version: answer.version, perPerm });
  return perPerm;
}

/**
 * The drift list (explain.ts `drift`: the same entries) from the kept answer: only the
 * identities whose kept counts show drift in an application are looked at — every other
 * identity's accounts hold exactly what it is assigned there. Per application and permission
 * (in permission order): the accounts holding it unassigned (in account order), then the
 * identities assigned it without an account holding it (in identity order); at most `limit`
 * entries per application (`truncated` says when more).
 */
function driftFromKept(index: TenantIndex, now: number, only: number, limit: number, answer: KeptAnswer<number[]>): ApplicationDrift[] {
  const assignedBy = assignedInDriftOf(index, now, answer);
  const inDrift = (i: number, app: number) => {
    const triples = answer.values.get(i);
    if (!triples) return false;
    for (let k = 0; k < triples.length; k += 3) if (triples[k] === app) return true;
    return false;
  };
  const apps = only === NONE ? index.apps.nodes.filter((n) => n.exists && !n.managed) : [index.apps.get(only)].filter((n) => n.exists && !n.managed);
  return apps.map((application) => {
    const entry: ApplicationDrift = { applicationId: application.id, applicationName: application.name, assignedNotProvisioned: [], provisionedNotAssigned: [], truncated: false };
    /** False once the limit is passed (the rest need not be looked at). */
    const push = (list: ApplicationDrift['assignedNotProvisioned'], e: ApplicationDrift['assignedNotProvisioned'][number]) => {
      if (entry.assignedNotProvisioned.length + entry.provisionedNotAssigned.length >= limit) return !(entry.truncated = true);
      list.push(e);
      return true;
    };
    walk: for (const p of [...application.permissions].sort((x, y) => index.perms.get(x).number - index.perms.get(y).number)) {
      const perm = index.perms.get(p);
      if (!perm.exists) continue;
      const assigned = new Set(assignedBy.get(p));
      const provisioned = new Set<number>();
      for (const accIdx of perm.accounts) {
        const acc = index.accounts.get(accIdx);
        if (!acc.exists || !acc.active) continue;
        if (acc.identity === NONE) {
          if (!push(entry.provisionedNotAssigned, { identityId: null, permissionId: perm.id, accountName: acc.name })) break walk;
          continue;
        }
        provisioned.add(acc.identity);
        if (assigned.has(acc.identity) || !inDrift(acc.identity, application.idx)) continue;
        if (!push(entry.provisionedNotAssigned, { identityId: index.identities.get(acc.identity).id, permissionId: perm.id, accountName: acc.name })) break walk;
      }
      for (const i of assigned) {
        if (provisioned.has(i)) continue;
        if (!push(entry.assignedNotProvisioned, { identityId: index.identities.get(i).id, permissionId: perm.id })) break walk;
      }
    }
    return entry;
  });
}

/**
 * `GET /access/drift` from the kept answer (see {@link driftFromKept}), at the revision
 * returned; `app` names one application (its id or name; `find` resolves it on the index,
 * NONE when unknown, and `unknown` is thrown then).
 */
export function driftList(
  engine: AccessEngine,
  tenantId: string,
  find: ((index: TenantIndex) => number) | null,
  limit: number,
  unknown: () => Error,
): Promise<{ items: ApplicationDrift[]; revision: number }> {
  return readKept(kept, (fn) => engine.settled(tenantId, fn), 'drift', () => engine.now(), driftPass, (answer, index, revision, now) => {
    const app = find ? find(index) : NONE;
    if (find && app === NONE) throw unknown();
    return { items: driftFromKept(index, now, app, limit, answer), revision };
  });
}
