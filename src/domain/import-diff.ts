/**
 * The per-account difference between what an application's accounts are now and what an
 * import observed. Grants are interned as small integers ({@link GrantCodes}) so a million
 * of them fit in sets of numbers instead of strings.
 *
 * ```ts
 * const codes = new GrantCodes();
 * const observed = { name: 'ann', status: 'active', keys: {}, grants: [codes.intern('read', null)] };
 * diffAccount(undefined, observed, { state: 'orphan' }, codes); // { op: 'add', grantsAdded: [0], ... }
 * ```
 */
import type { MatchKey } from './connector.ts';

export interface GrantRef {
  permission: string;
  context: string | null;
}

/** Interns (permission, context) pairs as integers. */
export class GrantCodes {
  private readonly byKey = new Map<string, number>();
  private readonly refs: GrantRef[] = [];

  intern(permission: string, context: string | null): number {
    const key = context === null ? permission : `${permission}\u0000${context}`;
    let code = this.byKey.get(key);
    if (code === undefined) {
      code = this.refs.length;
      this.refs.push({ permission, context });
      this.byKey.set(key, code);
    }
    return code;
  }

  decode(code: number): GrantRef {
    const ref = this.refs[code];
    if (!ref) throw new Error(`unknown grant code ${code}`);
    return ref;
  }

  get size(): number {
    return this.refs.length;
  }
}

export type AccountStatus = 'active' | 'disabled';

export interface ObservedAccount {
  name: string;
  status: AccountStatus;
  keys: Partial<Record<MatchKey, string>>;
  /** Grant codes, each once (an array, not a set: a hundred thousand accounts of ten grants take half the memory). */
  grants: number[];
}

export interface CurrentAccount {
  id: string;
  name: string;
  identityId: string | null;
  status: string;
  /** grant code → grant row id */
  grants: Map<number, string>;
}

export type AccountMatch =
  | { state: 'matched'; identityId: string; rule: MatchKey }
  | { state: 'linked'; identityId: string }
  | { state: 'service' }
  | { state: 'ignored' }
  | { state: 'orphan' }
  | { state: 'ambiguous'; candidates: string[] };

export const identityOfMatch = (m: AccountMatch): string | null => (m.state === 'matched' || m.state === 'linked' ? m.identityId : null);

export interface AccountChange {
  accountName: string;
  op: 'add' | 'remove' | 'update';
  match: AccountMatch | null;
  identityBefore: string | null;
  identityAfter: string | null;
  statusBefore: string | null;
  statusAfter: string | null;
  grantsAdded: number[];
  grantsRemoved: number[];
}

/** The change for one account name, or null when nothing changes. */
export function diffAccount(current: CurrentAccount | undefined, observed: ObservedAccount | undefined, match: AccountMatch | null): AccountChange | null {
  if (!current && !observed) return null;
  if (!observed) {
    return {
      accountName: current!.name,
      op: 'remove',
      match: null,
      identityBefore: current!.identityId,
      identityAfter: null,
      statusBefore: current!.status,
      statusAfter: null,
      grantsAdded: [],
      grantsRemoved: [...current!.grants.keys()],
    };
  }
  const identityAfter = match ? identityOfMatch(match) : null;
  if (!current) {
    return {
      accountName: observed.name,
      op: 'add',
      match,
      identityBefore: null,
      identityAfter,
      statusBefore: null,
      statusAfter: observed.status,
      grantsAdded: [...observed.grants],
      grantsRemoved: [],
    };
  }
  const grantsAdded: number[] = [];
  for (const g of observed.grants) if (!current.grants.has(g)) grantsAdded.push(g);
  const grantsRemoved: number[] = [];
  // Every observed grant is current and there are as many: the same set, nothing removed.
  if (grantsAdded.length || current.grants.size !== observed.grants.length) {
    const seen = new Set(observed.grants);
    for (const g of current.grants.keys()) if (!seen.has(g)) grantsRemoved.push(g);
  }
  if (!grantsAdded.length && !grantsRemoved.length && current.identityId === identityAfter && current.status === observed.status) return null;
  return {
    accountName: observed.name,
    op: 'update',
    match,
    identityBefore: current.identityId,
    identityAfter,
    statusBefore: current.status,
    statusAfter: observed.status,
    grantsAdded,
    grantsRemoved,
  };
}

export interface ImportMetrics {
  rowsRead: number;
  badRows: number;
  accountsObserved: number;
  accountsMatched: number;
  accountsOrphaned: number;
  accountsAmbiguous: number;
  accountsAdded: number;
  accountsRemoved: number;
  accountsDisabled: number;
  accountsUpdated: number;
  grantsAdded: number;
  grantsRemoved: number;
  permissionsCreated: number;
  permissionsUnknown: number;
}

export function emptyMetrics(): ImportMetrics {
  return {
    rowsRead: 0,
    badRows: 0,
    accountsObserved: 0,
    accountsMatched: 0,
    accountsOrphaned: 0,
    accountsAmbiguous: 0,
    accountsAdded: 0,
    accountsRemoved: 0,
    accountsDisabled: 0,
    accountsUpdated: 0,
    grantsAdded: 0,
    grantsRemoved: 0,
    permissionsCreated: 0,
    permissionsUnknown: 0,
  };
}

/** Adds one change to the metrics (matching counts are taken over observed accounts elsewhere). */
export function countChange(metrics: ImportMetrics, change: AccountChange): void {
  if (change.op === 'add') metrics.accountsAdded += 1;
  if (change.op === 'remove') metrics.accountsRemoved += 1;
  if (change.op === 'update') metrics.accountsUpdated += 1;
  if (change.statusAfter === 'disabled' && change.statusBefore !== 'disabled') metrics.accountsDisabled += 1;
  metrics.grantsAdded += change.grantsAdded.length;
  metrics.grantsRemoved += change.grantsRemoved.length;
}

export interface Thresholds {
  maxRemoved: number | null;
  maxRemovedPercent: number | null;
}

/** Why an import must be held for a person, or null when it may apply. */
export function thresholdBreach(
  thresholds: Thresholds,
  removed: { accounts: number; grants: number },
  current: { accounts: number; grants: number },
): string | null {
  const { maxRemoved, maxRemovedPercent } = thresholds;
  for (const what of ['accounts', 'grants'] as const) {
    const n = removed[what];
    if (maxRemoved !== null && n > maxRemoved) return `it would remove ${n} ${what}, more than the limit of ${maxRemoved}`;
    if (maxRemovedPercent !== null && current[what] > 0) {
      const pct = (n / current[what]) * 100;
      if (pct > maxRemovedPercent) return `it would remove ${n} of ${current[what]} ${what} (${pct.toFixed(1)}%), more than the limit of ${maxRemovedPercent}%`;
    }
  }
  return null;
}
