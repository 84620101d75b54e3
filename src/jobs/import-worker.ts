/**
 * The background import worker. Each tick, per tenant:
 * 1. an import left Running by a process that died is marked Failed (interrupted): on start
 *    with SQLite (one process owns the file), otherwise once its heartbeat is older than the lease;
 * 2. a Canceling import that never started becomes Canceled;
 * 3. connectors with a cron schedule get their due Scheduled import (once, even with several nodes);
 * 4. Pending imports are claimed and run — one at a time per application, in number order; a
 *    Held import keeps its application's queue waiting until a person approves or rejects it.
 *
 * ```ts
 * const worker = createImportWorker({ deps, leaseMs: 30_000, failRunningOnStart: true });
 * worker.start();            // polls; worker.kick() runs a tick now
 * await worker.stop();       // waits for running imports to reach a safe point
 * ```
 */
import type { ServiceDeps } from '../services/deps.ts';
import { claimImport, endAbandonedImports, pendingImports, processImport, recordImportHeartbeat, scheduleDueImports, tenantIds } from '../services/imports/index.ts';

export interface ImportWorkerOptions {
  deps: ServiceDeps;
  /** How often to look for work (ms); kick() looks at once. */
  pollMs?: number;
  /** A Running import whose heartbeat is older than this is considered interrupted. */
  leaseMs: number;
  /** Fail every Running import at the first tick (single-process stores). */
  failRunningOnStart: boolean;
  /** Imports of different applications run side by side up to this many. */
  concurrency?: number;
  onError?: (e: unknown) => void;
}

export interface ImportWorker {
  start(): void;
  stop(): Promise<void>;
  /** Looks for work now (after a stage or upload on this node). */
  kick(): void;
  /** One pass; resolves when the pass has claimed what it could (not when imports end). */
  tick(now?: Date): Promise<void>;
  /** Resolves when no import is running on this node. */
  idle(): Promise<void>;
}

export function createImportWorker(options: ImportWorkerOptions): ImportWorker {
  const { deps } = options;
  const pollMs = options.pollMs ?? 1000;
  const concurrency = options.concurrency ?? 2;
  const running = new Map<string, Promise<void>>();
  const runningApps = new Set<string>();
  let timer: NodeJS.Timeout | null = null;
  let heartbeat: NodeJS.Timeout | null = null;
  let ticking: Promise<void> | null = null;
  let again = false;
  let stopped = false;
  let firstTick = true;
  const report = (e: unknown) => options.onError?.(e);

  async function pass(now: Date): Promise<void> {
    const staleBefore = new Date(now.getTime() - options.leaseMs).toISOString();
    for (const tenantId of await tenantIds(deps)) {
      await endAbandonedImports(deps, tenantId, { staleBefore, failAll: firstTick && options.failRunningOnStart, skip: new Set(running.keys()) });
      await scheduleDueImports(deps, tenantId, now);
      const pending = await pendingImports(deps, tenantId, 200);
      const seenApps = new Set<string>();
      for (const row of pending) {
        if (stopped || running.size >= concurrency) break;
        if (seenApps.has(row.application_id) || runningApps.has(row.application_id)) continue;
        seenApps.add(row.application_id);
        if (!(await claimImport(deps, tenantId, row))) continue;
        runningApps.add(row.application_id);
        const job = processImport(deps, tenantId, row.id)
          .then(() => undefined, report)
          .finally(() => {
            running.delete(row.id);
            runningApps.delete(row.application_id);
            if (!stopped) kick();
          });
        running.set(row.id, job);
      }
    }
    firstTick = false;
  }

  function tick(now?: Date): Promise<void> {
    if (ticking) {
      again = true;
      return ticking;
    }
    ticking = (async () => {
      try {
        do {
          again = false;
          await pass(now ?? deps.now());
        } while (again && !stopped);
      } catch (e) {
        report(e);
      } finally {
        ticking = null;
      }
    })();
    return ticking;
  }

  function kick(): void {
    if (!stopped) void tick();
  }

  async function beat(): Promise<void> {
    const at = deps.now().toISOString();
    const ids = [...running.keys()];
    if (!ids.length) return;
    for (const tenantId of await tenantIds(deps)) await recordImportHeartbeat(deps, tenantId, ids, at);
  }

  return {
    start() {
      stopped = false;
      timer = setInterval(kick, pollMs);
      heartbeat = setInterval(() => void beat().catch(report), Math.max(250, Math.floor(options.leaseMs / 3)));
      kick();
    },
    async stop() {
      stopped = true;
      if (timer) clearInterval(timer);
      if (heartbeat) clearInterval(heartbeat);
      timer = heartbeat = null;
      await ticking;
      await Promise.allSettled([...running.values()]);
    },
    kick,
    tick,
    async idle() {
      while (running.size || ticking) {
        await ticking;
        await Promise.allSettled([...running.values()]);
      }
    },
  };
}
