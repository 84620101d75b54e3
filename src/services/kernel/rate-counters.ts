/**
 * Rate-limit counters shared by several server processes (the nodes of a deployment, the
 * workers of one node). Counting on the request path never waits for the others: each
 * process counts locally and, every `syncMs` while a key is in use, adds what it counted to
 * the shared total in one batch and reads the totals back (a transport: the database on
 * PostgreSQL, the cluster's primary process on SQLite). A process therefore sees its own
 * requests at once and the others' within one sync interval: a limit can be overrun by at
 * most what the other processes admit in one interval (100 ms by default) — and a key a
 * process meets first in a window starts from its own count until its first sync — never by
 * a factor of the process count.
 *
 * Windows are fixed and aligned to the epoch (`floor(now / windowMs)`), so every process
 * agrees on where a window starts without talking to the others.
 *
 * ```ts
 * const counter = createSharedRateCounter(storeRateTransport(store));
 * counter.count('tenant\u0000api_key\u0000id', 60_000, 1); // { current: 1, ttl: ... }
 * await counter.stop();
 * ```
 */
import { createHash } from 'node:crypto';
import type { RateLimitCount, Store } from '../../store/store.ts';

/** Adds counts to the shared totals and returns the totals (one row per key sent). */
export interface RateTransport {
  add(rows: readonly RateLimitCount[]): Promise<RateLimitCount[]>;
  /** Drops the counters of ended windows (called about once a minute); optional. */
  sweep?(now: number): Promise<void>;
}

export interface SharedRateCounter {
  /** Counts `cost` (1 for a request, 0 to read) for `key` in its current window. */
  count(key: string, windowMs: number, cost: 0 | 1): { current: number; ttl: number };
  /** Sends what was counted since the last sync and reads the totals back. */
  sync(): Promise<void>;
  stop(): Promise<void>;
}

export interface SharedRateCounterOptions {
  syncMs?: number;
  /** Keys kept in memory; beyond it the entries of ended windows, then the oldest, are dropped. */
  maxKeys?: number;
  /** How long after its last use here a key's total is still fetched by every sync (1000 ms). */
  refreshMs?: number;
  clock?: () => number;
  onError?: (e: unknown) => void;
}

interface Entry {
  windowStart: number;
  windowMs: number;
  /** The total across processes as last read (this process's synced counts included). */
  shared: number;
  /** Counted here since the last sync. */
  pending: number;
  /** Read or counted since the last sync: its total is fetched by the next sync. */
  touched: boolean;
  /** When it was last read or counted here: for `refreshMs` after, syncs keep fetching its total. */
  lastUsed: number;
}

const SWEEP_MS = 60_000;

export function createSharedRateCounter(transport: RateTransport, options: SharedRateCounterOptions = {}): SharedRateCounter {
  const syncMs = options.syncMs ?? 100;
  const maxKeys = options.maxKeys ?? 100_000;
  const refreshMs = options.refreshMs ?? 1000;
  const clock = options.clock ?? Date.now;
  const entries = new Map<string, Entry>();
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  let lastSweep = clock();
  let stopped = false;

  const schedule = () => {
    if (timer || stopped) return;
    timer = setTimeout(() => {
      timer = null;
      void sync();
    }, syncMs);
    timer.unref();
  };

  const makeRoom = (now: number) => {
    if (entries.size < maxKeys) return;
    for (const [k, e] of entries) if (e.windowStart + e.windowMs <= now && e.pending === 0) entries.delete(k);
    for (const [k] of entries) {
      if (entries.size < maxKeys) break;
      entries.delete(k);
    }
  };

  const sync = async (): Promise<void> => {
    while (running) await running;
    const batch: RateLimitCount[] = [];
    const now = clock();
    let recent = false;
    for (const [key, e] of entries) {
      // A key in use here stays current with the others' counts, not only when counted here.
      const inUse = now - e.lastUsed < refreshMs && now < e.windowStart + e.windowMs;
      recent ||= inUse;
      if (!e.touched && !inUse) continue;
      batch.push({ key, windowStart: e.windowStart, windowMs: e.windowMs, count: e.pending });
      e.touched = false;
      e.pending = 0;
    }
    const sweep = transport.sweep && now - lastSweep >= SWEEP_MS ? transport.sweep.bind(transport) : null;
    if (!batch.length && !sweep) return;
    running = (async () => {
      try {
        if (batch.length) {
          const totals = await transport.add(batch);
          for (const t of totals) {
            const e = entries.get(t.key);
            // The window may have moved on while the batch was out: its total is then moot.
            if (e && e.windowStart === t.windowStart) e.shared = t.count;
          }
        }
        if (sweep) {
          lastSweep = now;
          await sweep(now);
        }
      } catch (e) {
        // Counts not delivered are counted again in the next sync.
        for (const row of batch) {
          const entry = entries.get(row.key);
          if (entry && entry.windowStart === row.windowStart) {
            entry.pending += row.count;
            entry.touched = true;
          }
        }
        options.onError?.(e);
        schedule();
      } finally {
        running = null;
        if (recent) schedule();
      }
    })();
    await running;
  };

  return {
    count(key, windowMs, cost) {
      const now = clock();
      const windowStart = Math.floor(now / windowMs) * windowMs;
      let e = entries.get(key);
      if (!e || e.windowStart !== windowStart || e.windowMs !== windowMs) {
        if (!e) makeRoom(now);
        e = { windowStart, windowMs, shared: 0, pending: 0, touched: false, lastUsed: now };
        entries.set(key, e);
      }
      e.pending += cost;
      e.touched = true;
      e.lastUsed = now;
      schedule();
      return { current: e.shared + e.pending, ttl: windowStart + windowMs - now };
    },
    sync,
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      timer = null;
      await sync();
    },
  };
}

/**
 * The shared totals kept in the database (the `rate_limit_counters` table), by a hash of the
 * key: a key may hold any text a caller sent (a username on a token request), and no NUL or
 * megabyte of it reaches the database.
 */
export function storeRateTransport(store: Store): RateTransport {
  return {
    async add(rows) {
      const keys = new Map<string, string>();
      const hashed = rows.map((r) => {
        const digest = createHash('sha256').update(r.key).digest('base64url');
        keys.set(digest, r.key);
        return { ...r, key: digest };
      });
      const totals = await store.addRateLimitCounts(hashed);
      return totals.flatMap((t) => {
        const key = keys.get(t.key);
        return key === undefined ? [] : [{ ...t, key }];
      });
    },
    sweep: (now) => store.deleteEndedRateLimitCounts(now),
  };
}

/**
 * The shared totals kept in memory by one process for others (the cluster's primary on
 * SQLite): the same arithmetic as the database's.
 */
export function createRateTotals(clock: () => number = Date.now): { add(rows: readonly RateLimitCount[]): RateLimitCount[] } {
  const totals = new Map<string, { windowStart: number; windowMs: number; count: number }>();
  let lastSweep = clock();
  return {
    add(rows) {
      const now = clock();
      if (now - lastSweep >= SWEEP_MS) {
        lastSweep = now;
        for (const [k, t] of totals) if (t.windowStart + t.windowMs < now) totals.delete(k);
      }
      return rows.map((r) => {
        let t = totals.get(r.key);
        if (!t || r.windowStart > t.windowStart) {
          t = { windowStart: r.windowStart, windowMs: r.windowMs, count: 0 };
          totals.set(r.key, t);
        }
        if (r.windowStart === t.windowStart) t.count += r.count;
        return { key: r.key, windowStart: t.windowStart, windowMs: t.windowMs, count: t.count };
      });
    },
  };
}
