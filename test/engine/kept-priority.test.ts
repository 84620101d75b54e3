/**
 * Kept answers' full passes (src/engine/kept.ts): a pass a reader awaits goes first — a
 * background warm-up pauses between its slices while an awaited pass runs, resumes after
 * it, and goes on at once when a reader comes to await it too (no deadlock).
 */
import { afterEach, describe, expect, it } from 'vitest';
import { KeptPerIdentity, passTuning, type KeptPass } from '../../src/engine/kept.ts';
import type { TenantIndex } from '../../src/engine/tenant-index.ts';

/** The part of an index a pass uses: watching changes (none happen here). */
const fakeIndex = () => ({ watch: () => ({ all: false, identities: new Set<number>() }), unwatch: () => undefined }) as unknown as TenantIndex;

/** A pass over `n` identities that logs each evaluation under `name`. */
function pass(name: string, n: number, log: string[]): () => KeptPass<number> {
  return () => ({
    bounds: { lo: -Infinity, hi: Infinity },
    candidates: () => Array.from({ length: n }, (_, i) => i),
    evaluate: (i) => {
      log.push(name);
      return i;
    },
  });
}

const now = () => 0;

describe('kept passes: awaited first', () => {
  afterEach(() => {
    passTuning.sliceMs = 4;
  });

  it('a background pass pauses while an awaited one runs, and finishes after it', async () => {
    passTuning.sliceMs = 0; // one evaluation a slice: the order of slices is visible
    const log: string[] = [];
    const warm = new KeptPerIdentity<number>();
    const read = new KeptPerIdentity<number>();
    const [a, b] = [fakeIndex(), fakeIndex()];
    const background = warm.prepare(a, 'k', now, pass('bg', 50, log), { background: true });
    // Let the warm-up make a few slices alone.
    for (let k = 0; k < 5; k += 1) await new Promise((resolve) => setImmediate(resolve));
    const before = log.filter((x) => x === 'bg').length;
    expect(before).toBeGreaterThan(0);
    expect(before).toBeLessThan(50);
    await read.prepare(b, 'k', now, pass('fg', 50, log));
    // While the awaited pass ran, the warm-up made at most the slice it was in.
    const fgAt = log.indexOf('fg');
    const lastFg = log.lastIndexOf('fg');
    expect(log.slice(fgAt, lastFg + 1).filter((x) => x === 'bg').length).toBeLessThanOrEqual(1);
    await background;
    expect(log.filter((x) => x === 'bg')).toHaveLength(50);
    expect(warm.ready(a, 'k', 0)).toBe(true);
    expect(read.ready(b, 'k', 0)).toBe(true);
  });

  it('a reader awaiting a paused background pass makes it go on', async () => {
    passTuning.sliceMs = 0;
    const log: string[] = [];
    const warm = new KeptPerIdentity<number>();
    const read = new KeptPerIdentity<number>();
    const [a, b] = [fakeIndex(), fakeIndex()];
    const background = warm.prepare(a, 'k', now, pass('bg', 30, log), { background: true });
    await new Promise((resolve) => setImmediate(resolve));
    const long = read.prepare(b, 'k', now, pass('fg', 2_000, log));
    await new Promise((resolve) => setImmediate(resolve));
    // The warm-up is paused behind the long awaited pass; a reader now awaits it as well.
    await warm.prepare(a, 'k', now, pass('bg', 30, log));
    expect(warm.ready(a, 'k', 0)).toBe(true);
    expect(read.ready(b, 'k', 0)).toBe(false);
    await Promise.all([long, background]);
    expect(read.ready(b, 'k', 0)).toBe(true);
  });
});
