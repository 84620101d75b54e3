/**
 * Tenant-wide answers that are kept per access index and brought up to date from what
 * changed, instead of being computed again on every read: the separation-of-duties
 * violations and the drift summary of the console's overview.
 *
 * An answer is one value per identity (null: nothing to report). The first read computes it
 * for every candidate and starts watching the index (`TenantIndex.watch`): every change the
 * index applies records the identities it touches, or "all" (a unit, role, permission or
 * application changed). A later read re-evaluates only the touched identities; after an "all",
 * a different `key` (e.g. the policies changed: they are not in the index), or once `now`
 * leaves the interval in which every kept value holds (a validity window starting or ending),
 * it computes everything again. So a read never sees an answer older than the index it reads.
 *
 * ```ts
 * const kept = new KeptPerIdentity<string[]>();
 * const perIdentity = kept.current(index, policiesKey, now, () => ({ bounds, candidates, evaluate }));
 * ```
 */
import type { IndexChanges, TenantIndex } from './tenant-index.ts';

/** One evaluation pass: the identities to look at on a full pass, and each one's value. */
export interface KeptPass<T> {
  /** Narrowed by `evaluate` to the interval around `now` in which its values hold. */
  readonly bounds: { lo: number; hi: number };
  /** Every identity that may have a value (a superset); only used on a full pass. */
  candidates(): Iterable<number>;
  evaluate(identity: number): T | null;
  /** A full pass done faster than `evaluate` on every candidate (the same values); optional. */
  all?(): Map<number, T>;
}

interface Kept<T> {
  key: string;
  changes: IndexChanges;
  lo: number;
  hi: number;
  values: Map<number, T>;
  /** Bumped whenever `values` changes (readers keep derived orderings against it). */
  version: number;
}

export interface KeptAnswer<T> {
  values: ReadonlyMap<number, T>;
  version: number;
  /** What this read computed: everything, the touched identities, or nothing. */
  computed: 'all' | 'touched' | 'none';
}

export class KeptPerIdentity<T> {
  private readonly kept = new WeakMap<TenantIndex, Kept<T>>();
  private versions = 0;

  /**
   * The values for the index as it is now (synchronous: no change is applied in between).
   * `begin` makes a pass when something has to be evaluated.
   */
  current(index: TenantIndex, key: string, now: number, begin: () => KeptPass<T>): KeptAnswer<T> {
    let k = this.kept.get(index);
    if (k && (k.key !== key || k.changes.all || now < k.lo || now >= k.hi)) {
      index.unwatch(k.changes);
      this.kept.delete(index);
      k = undefined;
    }
    if (!k) {
      const changes = index.watch();
      const pass = begin();
      let values: Map<number, T>;
      if (pass.all) values = pass.all();
      else {
        values = new Map<number, T>();
        for (const i of pass.candidates()) {
          const v = pass.evaluate(i);
          if (v !== null) values.set(i, v);
        }
      }
      k = { key, changes, lo: pass.bounds.lo, hi: pass.bounds.hi, values, version: (this.versions += 1) };
      this.kept.set(index, k);
      return { values, version: k.version, computed: 'all' };
    }
    if (k.changes.identities.size === 0) return { values: k.values, version: k.version, computed: 'none' };
    const pass = begin();
    for (const i of k.changes.identities) {
      const v = pass.evaluate(i);
      if (v === null) k.values.delete(i);
      else k.values.set(i, v);
    }
    k.changes.identities.clear();
    k.lo = Math.max(k.lo, pass.bounds.lo);
    k.hi = Math.min(k.hi, pass.bounds.hi);
    k.version = this.versions += 1;
    return { values: k.values, version: k.version, computed: 'touched' };
  }
}
