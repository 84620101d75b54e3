/**
 * Matching accounts to identities. Values are compared exactly after normalisation (Unicode
 * NFC, trim, case-fold). Rules are tried in the connector's order; the first rule that
 * yields exactly one identity wins. A rule that yields several makes the account
 * ambiguous unless a later rule yields exactly one; no candidates at all is an orphan.
 *
 * ```ts
 * const index = buildIdentityIndex([{ id: 'i1', employeeNumber: 'E-7', email: 'Ann@x.org', username: 'ann', subject: 's:1' }]);
 * matchAccount(index, ['email'], { email: ' ann@X.ORG ' }); // { state: 'matched', identityId: 'i1', rule: 'email' }
 * ```
 */
import type { MatchKey } from './connector.ts';

export function normalizeKey(value: string): string {
  return value.normalize('NFC').trim().toLowerCase().normalize('NFC');
}

export interface IdentityKeys {
  id: string;
  employeeNumber: string | null;
  email: string | null;
  username: string | null;
  subject: string | null;
}

export type IdentityIndex = Record<MatchKey, Map<string, string[]>>;

export function buildIdentityIndex(identities: Iterable<IdentityKeys>): IdentityIndex {
  const index: IdentityIndex = { employeeNumber: new Map(), email: new Map(), username: new Map(), subject: new Map() };
  for (const identity of identities) {
    for (const key of Object.keys(index) as MatchKey[]) {
      const raw = identity[key];
      if (raw === null || raw === '') continue;
      const k = normalizeKey(raw);
      if (k === '') continue;
      const ids = index[key].get(k);
      if (ids) {
        if (!ids.includes(identity.id)) ids.push(identity.id);
      } else {
        index[key].set(k, [identity.id]);
      }
    }
  }
  return index;
}

export type MatchResult =
  | { state: 'matched'; identityId: string; rule: MatchKey }
  | { state: 'ambiguous'; candidates: string[]; rule: MatchKey }
  | { state: 'orphan' };

export function matchAccount(index: IdentityIndex, rules: readonly MatchKey[], values: Partial<Record<MatchKey, string>>): MatchResult {
  let ambiguous: MatchResult | null = null;
  for (const rule of rules) {
    const raw = values[rule];
    if (raw === undefined) continue;
    const k = normalizeKey(raw);
    if (k === '') continue;
    const ids = index[rule].get(k);
    if (!ids || ids.length === 0) continue;
    if (ids.length === 1) return { state: 'matched', identityId: ids[0]!, rule };
    ambiguous ??= { state: 'ambiguous', candidates: [...ids].sort(), rule };
  }
  return ambiguous ?? { state: 'orphan' };
}
