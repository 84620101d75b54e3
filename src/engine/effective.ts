/**
 * Compact effective-access sets: what an identity (or everyone in a unit) holds now, as one
 * `Int32Array` instead of maps and sets, so that 100k identities' sets fit in memory and a
 * check is a binary search.
 *
 * Layout of `data` (n permissions, c of them held in context `all`, m assignment slots, and
 * f = ceil(c / 16) fence entries):
 *
 * ```
 * [0] n   [1] c   [2] f   [3 .. 3+f) fence: every 16th permission slot of the context-`all` list
 * [P = 3+f .. P+n) permission slots, ascending
 * [P+n .. P+2n+1) start of each permission's assignments in `data` (n + 1 offsets)
 * [P+2n+1 .. P+2n+1+c) permission slots held in context `all`, ascending
 * [P+2n+1+c .. P+2n+1+c+m) assignment slots, grouped by permission
 * ```
 *
 * The context-`all` check (the common one) reads the header and the fence, which share the
 * first cache lines, then one block of at most 16 slots: two or three memory lines where a
 * binary search over the whole list touches five or more (what dominates at L, where the
 * sets do not fit in the processor's caches).
 *
 * Within a permission the assignments are ordered by slot, an identity's own before its
 * units'.
 */

/** An effective set with the interval of time around `now` (lo <= t < hi) it holds for. */
export interface EffectiveSet {
  /** The index `epoch` it was computed at (stale once the index moves on). */
  epoch: number;
  lo: number;
  hi: number;
  data: Int32Array;
}

/** The set holding nothing. */
export const EMPTY_DATA: Int32Array = Int32Array.of(0, 0, 0, 4);

/** Slots of the context-`all` list per fence entry (16 int32 = one 64-byte cache line). */
const FENCE_BLOCK = 16;

/** Approximate bytes an effective set takes (typed array + object headers). */
export function effectiveBytes(set: EffectiveSet): number {
  return set.data.byteLength + 160;
}

/** Where the permission slots start. */
function permsAt(data: Int32Array): number {
  return 3 + data[2]!;
}

/** How many permissions the set holds. */
export function permCount(data: Int32Array): number {
  return data[0]!;
}

/** The k-th permission slot (ascending). */
export function permAt(data: Int32Array, k: number): number {
  return data[3 + data[2]! + k]!;
}

/** The position of permission `p` in the set, or -1. */
export function findPerm(data: Int32Array, p: number): number {
  const from = permsAt(data);
  return search(data, from, from + data[0]!, p);
}

/** Whether `p` is held in context `all`: the fence names the one block of the list to search. */
export function holdsEverywhere(data: Int32Array, p: number): boolean {
  const f = data[2]!;
  // The last fence entry not above p (the fence is short: a linear scan stays in one line).
  let j = 0;
  while (j < f && data[3 + j]! <= p) j += 1;
  if (j === 0) return false;
  const n = data[0]!;
  const start = 3 + f + 2 * n + 1 + (j - 1) * FENCE_BLOCK;
  const end = Math.min(start + FENCE_BLOCK, 3 + f + 2 * n + 1 + data[1]!);
  for (let i = start; i < end; i += 1) {
    const v = data[i]!;
    if (v >= p) return v === p;
  }
  return false;
}

/** The assignment slots behind the k-th permission: `data[from .. to)`. */
export function viaRange(data: Int32Array, k: number): { from: number; to: number } {
  const at = permsAt(data) + data[0]! + k;
  return { from: data[at]!, to: data[at + 1]! };
}

/** Permission slots held in context `all`. */
export function everywherePerms(data: Int32Array): Int32Array {
  const start = permsAt(data) + 2 * data[0]! + 1;
  return data.subarray(start, start + data[1]!);
}

function search(data: Int32Array, from: number, to: number, p: number): number {
  let lo = from;
  let hi = to - 1;
  while (lo <= hi) {
    const mid = (lo + hi) >>> 1;
    const v = data[mid]!;
    if (v < p) lo = mid + 1;
    else if (v > p) hi = mid - 1;
    else return mid - from;
  }
  return -1;
}

/**
 * Collects (permission, assignment) pairs and builds a set from them merged with a base set
 * (an identity's unit's), whose assignments come after the collected ones for equal
 * permissions. One builder is reused for every computation: its scratch space grows as
 * needed and the only allocation per set is the result.
 */
export class EffectiveBuilder {
  private pairs: Float64Array = new Float64Array(1024);
  private length = 0;
  private perms: Int32Array = new Int32Array(1024);
  private starts: Int32Array = new Int32Array(1024);
  private via: Int32Array = new Int32Array(1024);
  private everywhere: Int32Array = new Int32Array(1024);

  reset(): void {
    this.length = 0;
  }

  add(permission: number, assignment: number): void {
    if (this.length === this.pairs.length) {
      const pairs = new Float64Array(this.pairs.length * 2);
      pairs.set(this.pairs);
      this.pairs = pairs;
    }
    // `p * 2^31 + a` is an exact double (below 2^53) for permission slots below 2^22 and
    // assignment slots below 2^31, and a numeric sort of these keys is the pair order.
    if (permission >= MAX_PERMISSION_SLOT || assignment >= PAIR) throw new RangeError(`slot out of range: permission ${permission}, assignment ${assignment}`);
    this.pairs[this.length] = permission * PAIR + assignment;
    this.length += 1;
  }

  /**
   * The set of the collected pairs plus `base`'s. `everywhere(a)` says whether assignment
   * slot `a` is held in context `all`.
   */
  build(base: Int32Array, everywhere: (assignment: number) => boolean): Int32Array {
    const len = this.length;
    const pairs = this.pairs.subarray(0, len);
    pairs.sort();
    const bn = base[0]!;
    const bp = permsAt(base);
    const bm = base[bp + bn + bn]! - base[bp + bn]!;
    this.ensure(len + bn, len + bm);
    const { perms, starts, via } = this;
    let n = 0;
    let m = 0;
    let i = 0;
    let k = 0;
    while (i < len || k < bn) {
      const pi = i < len ? Math.floor(pairs[i]! / PAIR) : NO_SLOT;
      const pk = k < bn ? base[bp + k]! : NO_SLOT;
      const p = pi <= pk ? pi : pk;
      if (n === 0 || perms[n - 1] !== p) {
        perms[n] = p;
        starts[n] = m;
        n += 1;
      }
      if (pi === p) {
        const a = pairs[i]! - pi * PAIR;
        // A pair reached twice (a unit met twice on a broken chain) counts once.
        if (m === starts[n - 1] || via[m - 1] !== a) via[m++] = a;
        i += 1;
      } else {
        for (let j = base[bp + bn + k]!, to = base[bp + bn + k + 1]!; j < to; j += 1) via[m++] = base[j]!;
        k += 1;
      }
    }
    let c = 0;
    for (let q = 0; q < n; q += 1) {
      const to = q + 1 < n ? starts[q + 1]! : m;
      for (let j = starts[q]!; j < to; j += 1) {
        if (everywhere(via[j]!)) {
          this.everywhere[c++] = perms[q]!;
          break;
        }
      }
    }
    const f = Math.ceil(c / FENCE_BLOCK);
    const p0 = 3 + f;
    const everywhereAt = p0 + 2 * n + 1;
    const viaBase = everywhereAt + c;
    const data = new Int32Array(viaBase + m);
    data[0] = n;
    data[1] = c;
    data[2] = f;
    for (let j = 0; j < f; j += 1) data[3 + j] = this.everywhere[j * FENCE_BLOCK]!;
    data.set(perms.subarray(0, n), p0);
    for (let q = 0; q < n; q += 1) data[p0 + n + q] = viaBase + starts[q]!;
    data[p0 + n + n] = viaBase + m;
    data.set(this.everywhere.subarray(0, c), everywhereAt);
    data.set(via.subarray(0, m), viaBase);
    return data;
  }

  private ensure(maxPerms: number, maxVia: number): void {
    if (this.perms.length < maxPerms) {
      this.perms = new Int32Array(capacity(maxPerms));
      this.starts = new Int32Array(capacity(maxPerms));
      this.everywhere = new Int32Array(capacity(maxPerms));
    }
    if (this.via.length < maxVia) this.via = new Int32Array(capacity(maxVia));
  }
}

const PAIR = 2147483648;
/** 4,194,304 permission slots per tenant: far above any catalog, and keeps pair keys exact. */
export const MAX_PERMISSION_SLOT = 4194304;
const NO_SLOT = 2147483647;

/** Scratch sizes grow by powers of two. */
function capacity(atLeast: number): number {
  let size = 1024;
  while (size < atLeast) size *= 2;
  return size;
}
