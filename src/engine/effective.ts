/**
 * Compact effective-access sets: what an identity (or everyone in a unit) holds now, as one
 * `Int32Array` instead of maps and sets, so that 100k identities' sets fit in memory and a
 * check is a binary search.
 *
 * Layout of `data` (n permissions, c of them held in context `all`, m assignment slots):
 *
 * ```
 * [0] n   [1] c   [2 .. 2+n) permission slots, ascending
 * [2+n .. 3+2n) start of each permission's assignments in `data` (n + 1 offsets)
 * [3+2n .. 3+2n+c) permission slots held in context `all`, ascending
 * [3+2n+c .. 3+2n+c+m) assignment slots, grouped by permission
 * ```
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

export const EMPTY_DATA: Int32Array = new Int32Array(3);

/** Approximate bytes an effective set takes (typed array + object headers). */
export function effectiveBytes(set: EffectiveSet): number {
  return set.data.byteLength + 160;
}

/** How many permissions the set holds. */
export function permCount(data: Int32Array): number {
  return data[0]!;
}

/** The k-th permission slot (ascending). */
export function permAt(data: Int32Array, k: number): number {
  return data[2 + k]!;
}

/** The position of permission `p` in the set, or -1. */
export function findPerm(data: Int32Array, p: number): number {
  return search(data, 2, 2 + data[0]!, p);
}

/** Whether `p` is held in context `all`. */
export function holdsEverywhere(data: Int32Array, p: number): boolean {
  const n = data[0]!;
  const start = 3 + 2 * n;
  return search(data, start, start + data[1]!, p) >= 0;
}

/** The assignment slots behind the k-th permission: `data[from .. to)`. */
export function viaRange(data: Int32Array, k: number): { from: number; to: number } {
  const n = data[0]!;
  return { from: data[2 + n + k]!, to: data[3 + n + k]! };
}

/** Permission slots held in context `all`. */
export function everywherePerms(data: Int32Array): Int32Array {
  const n = data[0]!;
  const start = 3 + 2 * n;
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
    const bm = bn === 0 ? 0 : base[2 + bn + bn]! - base[2 + bn]!;
    this.ensure(len + bn, len + bm);
    const { perms, starts, via } = this;
    let n = 0;
    let m = 0;
    let i = 0;
    let k = 0;
    while (i < len || k < bn) {
      const pi = i < len ? Math.floor(pairs[i]! / PAIR) : NO_SLOT;
      const pk = k < bn ? base[2 + k]! : NO_SLOT;
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
        for (let j = base[2 + bn + k]!, to = base[3 + bn + k]!; j < to; j += 1) via[m++] = base[j]!;
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
    const viaBase = 3 + 2 * n + c;
    const data = new Int32Array(viaBase + m);
    data[0] = n;
    data[1] = c;
    data.set(perms.subarray(0, n), 2);
    for (let q = 0; q < n; q += 1) data[2 + n + q] = viaBase + starts[q]!;
    data[2 + n + n] = viaBase + m;
    data.set(this.everywhere.subarray(0, c), 3 + 2 * n);
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
