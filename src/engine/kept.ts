/**
 * Tenant-wide answers that are kept per access index and brought up to date from what
 * changed, instead of being computed again on every read: the separation-of-duties
 * violations and the drift summary of the console's overview.
 *
 * An answer is one value per identity (null: nothing to report). A full pass computes it for
 * every candidate and watches the index (`TenantIndex.watch`): every change the index applies
 * records the identities it touches, or "all" (a unit, role, permission or application
 * changed). A later read re-evaluates only the touched identities. After an "all", a
 * different `key` (e.g. the policies changed: they are not in the index), or once `now`
 * leaves the interval in which every kept value holds (a validity window starting or ending),
 * a full pass is needed again.
 *
 * A full pass never runs inside one turn of the event loop: {@link KeptPerIdentity.prepare}
 * runs it in slices of about {@link passTuning}.sliceMs of work, yielding (setImmediate) in
 * between, so checks keep being answered. One pass at a time per index and key: readers (and
 * the background start after an index is built or invalidated) await the same pass. A pass
 * someone awaits goes first: a background pass (started by a warmer, awaited by no reader)
 * pauses between its slices while any awaited pass runs, so that a reader — the first
 * overview after a start, `GET /sod-violations` after a policy change — does not share the
 * CPU with warm-ups nobody is waiting for (they resume when it is done). The index
 * changes while the pass runs; the pass watches it from its first slice, so an identity a
 * change touches is evaluated again at the read (on the index as it is then), and a change
 * that reaches everyone starts the pass over. {@link KeptPerIdentity.current} is synchronous:
 * called at a quiet point (no sync half-applied), its answer is exactly the index's.
 *
 * ```ts
 * const kept = new KeptPerIdentity<string[]>();
 * await kept.prepare(index, policiesKey, () => engine.now(), (now) => ({ bounds, candidates, evaluate }));
 * // then, synchronously, at a quiet point:
 * if (kept.ready(index, policiesKey, now)) use(kept.current(index, policiesKey, now, begin));
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
  /**
   * A full pass done faster than `evaluate` on every candidate (the same values), filling
   * `out`; it yields after each small step (a point where the pass may pause). Optional.
   */
  all?(out: Map<number, T>): Iterable<unknown>;
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

/**
 * How a full pass is sliced: about `sliceMs` of work, then a turn of the event loop (0: one
 * step a slice). `afterSlice`, when set (tests), is awaited after every slice, e.g. to hold a
 * pass half done.
 */
export const passTuning: { sliceMs: number; afterSlice: (() => Promise<void>) | null } = { sliceMs: 4, afterSlice: null };

/** Statistics of the full passes run (for benchmarks): passes finished, restarts, slices, longest slice. */
export const passStats = { passes: 0, restarts: 0, slices: 0, longestSliceMs: 0 };

const nextTurn = () => new Promise<void>((resolve) => setImmediate(resolve));

/** A running full pass and how many readers await it (0: a background warm-up). */
interface Running {
  key: string;
  done: Promise<void>;
  readers: number;
}

/**
 * The passes some reader awaits, across every kept answer of the process: while there is
 * one, background passes wait for `idle()` between slices.
 */
const foreground = {
  awaited: 0,
  waiters: [] as (() => void)[],
  join(run: Running): void {
    if ((run.readers += 1) === 1) this.awaited += 1;
    // A paused pass that a reader now awaits must go on: every waiter looks again.
    this.wake();
  },
  leave(run: Running): void {
    if ((run.readers -= 1) === 0 && (this.awaited -= 1) === 0) this.wake();
  },
  wake(): void {
    for (const resume of this.waiters.splice(0)) resume();
  },
  idle(): Promise<void> {
    return new Promise((resolve) => this.waiters.push(resolve));
  },
};

export class KeptPerIdentity<T> {
  private readonly kept = new WeakMap<TenantIndex, Kept<T>>();
  private readonly running = new WeakMap<TenantIndex, Running>();
  private versions = 0;

  /** Whether a read at `now` needs no full pass (only the touched identities, if any). */
  ready(index: TenantIndex, key: string, now: number): boolean {
    const k = this.kept.get(index);
    return k !== undefined && k.key === key && !k.changes.all && now >= k.lo && now < k.hi;
  }

  /** Whether the kept values are gone for every key (never computed, or a change reached everyone, or time moved on). */
  stale(index: TenantIndex, now: number): boolean {
    const k = this.kept.get(index);
    return k === undefined || k.changes.all || now < k.lo || now >= k.hi;
  }

  /**
   * Resolves once a full pass for `key` has been made on the index (sliced, see above);
   * at once when none is needed. A pass already running for the key is shared.
   * `background`: a warm-up nobody awaits yet — it gives way to awaited passes (see above).
   */
  async prepare(index: TenantIndex, key: string, now: () => number, begin: (now: number) => KeptPass<T>, options: { background?: boolean } = {}): Promise<void> {
    while (!this.ready(index, key, now())) {
      let run = this.running.get(index);
      if (!run) {
        const started: Running = { key, done: Promise.resolve(), readers: 0 };
        started.done = this.fullPass(index, key, now, begin, started).finally(() => {
          if (this.running.get(index) === started) this.running.delete(index);
        });
        this.running.set(index, (run = started));
      }
      // Shared; a pass for another key (policies just changed) is let finish first.
      if (options.background) await run.done;
      else {
        foreground.join(run);
        try {
          await run.done;
        } finally {
          foreground.leave(run);
        }
      }
    }
  }

  private async fullPass(index: TenantIndex, key: string, now: () => number, begin: (now: number) => KeptPass<T>, run: Running): Promise<void> {
    for (;;) {
      const changes = index.watch();
      const at = now();
      const pass = begin(at);
      const values = new Map<number, T>();
      const steps = pass.all ? pass.all(values) : evaluateEach(pass, values);
      let restart = false;
      const it = steps[Symbol.iterator]();
      for (let finished = false; !finished; ) {
        const start = performance.now();
        for (let n = 0; ; n += 1) {
          if (it.next().done) {
            finished = true;
            break;
          }
          if (passTuning.sliceMs <= 0 || ((n & 15) === 15 && performance.now() - start >= passTuning.sliceMs)) break;
        }
        const elapsed = performance.now() - start;
        passStats.slices += 1;
        if (elapsed > passStats.longestSliceMs) passStats.longestSliceMs = elapsed;
        if (finished) break;
        await nextTurn();
        while (run.readers === 0 && foreground.awaited > 0) await foreground.idle();
        if (passTuning.afterSlice) await passTuning.afterSlice();
        if (changes.all) {
          restart = true;
          break;
        }
      }
      if (restart || changes.all) {
        index.unwatch(changes);
        passStats.restarts += 1;
        continue;
      }
      const old = this.kept.get(index);
      if (old) index.unwatch(old.changes);
      this.kept.set(index, { key, changes, lo: pass.bounds.lo, hi: pass.bounds.hi, values, version: (this.versions += 1) });
      passStats.passes += 1;
      return;
    }
  }

  /**
   * The values for the index as it is now (synchronous: no change is applied in between).
   * `begin` makes a pass when something has to be evaluated. When no full pass is ready
   * (see {@link ready}), it makes one here, in one go — readers call {@link prepare} first.
   */
  current(index: TenantIndex, key: string, now: number, begin: (now: number) => KeptPass<T>): KeptAnswer<T> {
    let k = this.kept.get(index);
    if (k && !this.ready(index, key, now)) {
      index.unwatch(k.changes);
      this.kept.delete(index);
      k = undefined;
    }
    if (!k) {
      const changes = index.watch();
      const pass = begin(now);
      const values = new Map<number, T>();
      for (const _ of pass.all ? pass.all(values) : evaluateEach(pass, values));
      k = { key, changes, lo: pass.bounds.lo, hi: pass.bounds.hi, values, version: (this.versions += 1) };
      this.kept.set(index, k);
      return { values, version: k.version, computed: 'all' };
    }
    if (k.changes.identities.size === 0) return { values: k.values, version: k.version, computed: 'none' };
    const pass = begin(now);
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

function* evaluateEach<T>(pass: KeptPass<T>, out: Map<number, T>): Iterable<unknown> {
  for (const i of pass.candidates()) {
    const v = pass.evaluate(i);
    if (v !== null) out.set(i, v);
    yield;
  }
}

/**
 * A read of a kept answer that never makes a full pass in one go: waits for the pass
 * (`prepare`), then — at a quiet point of the index (`settled`: no sync half-applied),
 * synchronously — checks that it still holds and reads. Loops when a change invalidated
 * everything in between.
 */
export async function readKept<T, R>(
  kept: KeptPerIdentity<T>,
  settled: <S>(use: (index: TenantIndex, revision: number) => S) => Promise<S>,
  key: string,
  now: () => number,
  begin: (index: TenantIndex, now: number) => KeptPass<T>,
  use: (answer: KeptAnswer<T>, index: TenantIndex, revision: number, now: number) => R,
): Promise<R> {
  for (;;) {
    const got = await settled((index, revision) => {
      const at = now();
      if (!kept.ready(index, key, at)) return { index, done: false as const };
      return { done: true as const, value: use(kept.current(index, key, at, (n) => begin(index, n)), index, revision, at) };
    });
    if (got.done) return got.value;
    await kept.prepare(got.index, key, now, (n) => begin(got.index, n));
  }
}
