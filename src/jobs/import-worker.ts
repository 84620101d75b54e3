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
import { randomUUID } from 'node:crypto';
import { parseCron } from '../domain/cron.ts';
import { storedConnector } from '../domain/connector.ts';
import { AppError } from '../domain/errors.ts';
import type { Database } from '../store/schema.ts';
import { isUniqueViolation } from '../store/store.ts';
import { systemActor, writeMeta } from '../services/kernel/index.ts';
import type { ServiceDeps } from '../services/deps.ts';
import { stagedFiles, updateImport, importMeta, processImport, appendLog } from '../services/imports/index.ts';

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

type ImportRow = Database['imports'];

/** Thrown inside a write to roll it back when another node got there first (nothing to audit). */
class Raced extends Error {}

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

  async function sweep(tenantId: string, now: Date): Promise<void> {
    const { db } = deps.store.read(tenantId);
    const staleBefore = new Date(now.getTime() - options.leaseMs).toISOString();
    const candidates = await db
      .selectFrom('imports')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('status', 'in', ['Running', 'Canceling'])
      .execute();
    for (const row of candidates) {
      if (running.has(row.id)) continue;
      const started = row.build_start !== null;
      const stale = firstTick && options.failRunningOnStart ? true : (row.heartbeat_at ?? row.updated_at) < staleBefore;
      if (started && !stale) continue;
      await deps.store.write(tenantId, importMeta(row), async (tx) => {
        const current = await tx.db.selectFrom('imports').selectAll().where('tenant_id', '=', tenantId).where('id', '=', row.id).executeTakeFirst();
        if (!current || current.status !== row.status || current.heartbeat_at !== row.heartbeat_at) throw new Raced();
        const interrupted = current.build_start !== null;
        const status = interrupted ? 'Failed' : 'Canceled';
        const message = interrupted ? 'interrupted: the process running the import stopped before it ended; nothing of it was applied' : 'canceled before it started';
        await updateImport(tx, current, {
          status,
          phase: null,
          build_end: tx.now,
          error: interrupted ? 'interrupted' : null,
          log: appendLog(current.log, [{ time: tx.now, level: interrupted ? 'error' : 'warn', message }]),
        });
        tx.audit({ action: interrupted ? 'import.fail' : 'import.canceled', targetType: 'import', targetId: row.id, before: { status: current.status }, after: { status, reason: message } });
      }).catch((e: unknown) => {
        if (!(e instanceof Raced)) throw e;
      });
    }
  }

  async function schedule(tenantId: string, now: Date): Promise<void> {
    const { db } = deps.store.read(tenantId);
    const apps = await db
      .selectFrom('applications')
      .selectAll()
      .where('tenant_id', '=', tenantId)
      .where('archived', '=', 0)
      .where('connector', 'is not', null)
      .execute();
    for (const app of apps) {
      const connector = storedConnector(app.connector);
      if (!connector?.schedule) continue;
      const last = await db
        .selectFrom('imports')
        .select((eb) => eb.fn.max('scheduled_for').as('at'))
        .where('tenant_id', '=', tenantId)
        .where('application_id', '=', app.id)
        .executeTakeFirst();
      const cron = parseCron(connector.schedule);
      let due = cron.next(new Date(last?.at ?? app.updated_at));
      if (due > now) continue;
      for (let next = cron.next(due); next <= now; next = cron.next(next)) due = next;
      const actor = systemActor(tenantId, 'scheduler');
      let files: { id: string; fileGroupId: string; fileGroup: string; name: string; size: number }[] = [];
      let failure: string | null = null;
      try {
        files = (await stagedFiles(deps, actor, app, connector)).files;
      } catch (e) {
        if (!(e instanceof AppError)) throw e;
        failure = e.message;
      }
      try {
        await deps.store.write(tenantId, writeMeta(actor), async (tx) => {
          const id = randomUUID();
          const row: ImportRow = {
            id,
            tenant_id: tenantId,
            number: await tx.nextNumber('imports'),
            application_id: app.id,
            type: 'Scheduled',
            source: 'stage',
            status: failure ? 'Failed' : 'Pending',
            dry_run: 0,
            phase: null,
            created_by: 'scheduler',
            created_by_id: null,
            scheduled_for: due.toISOString(),
            build_start: null,
            build_end: failure ? tx.now : null,
            heartbeat_at: null,
            files: JSON.stringify(files),
            log: JSON.stringify([
              { time: tx.now, level: 'info', message: `scheduled by "${connector.schedule}" for ${due.toISOString()}` },
              ...(failure ? [{ time: tx.now, level: 'error', message: failure }] : []),
            ]),
            metrics: null,
            rows_read: 0,
            rows_total: null,
            bytes_read: 0,
            bytes_total: files.reduce((n, f) => n + f.size, 0),
            error: failure,
            held_reason: null,
            base_state: null,
            decided_by: null,
            decided_at: null,
            created_at: tx.now,
            updated_at: tx.now,
            version: 1,
          };
          await tx.db.insertInto('imports').values(row).execute();
          tx.audit({ action: 'import.schedule', targetType: 'import', targetId: id, after: { applicationId: app.id, scheduledFor: row.scheduled_for, status: row.status, files } });
          tx.change('import', id, 'create');
        });
      } catch (e) {
        if (!isUniqueViolation(e)) throw e;
        // Another node created this run first.
      }
    }
  }

  /** Claims the application's next Pending import if nothing of it is active. */
  async function claim(tenantId: string, candidate: ImportRow): Promise<boolean> {
    const busyNow = await deps.store
      .read(tenantId)
      .db.selectFrom('imports')
      .select('id')
      .where('tenant_id', '=', tenantId)
      .where('application_id', '=', candidate.application_id)
      .where((eb) => eb.or([eb('status', 'in', ['Running', 'Held']), eb.and([eb('status', '=', 'Canceling'), eb('build_start', 'is not', null)])]))
      .executeTakeFirst();
    if (busyNow) return false;
    const claimed = deps.store.write(tenantId, importMeta(candidate), async (tx) => {
      const busy = await tx.db
        .selectFrom('imports')
        .select('id')
        .where('tenant_id', '=', tenantId)
        .where('application_id', '=', candidate.application_id)
        .where((eb) => eb.or([eb('status', 'in', ['Running', 'Held']), eb.and([eb('status', '=', 'Canceling'), eb('build_start', 'is not', null)])]))
        .executeTakeFirst();
      const first = await tx.db
        .selectFrom('imports')
        .selectAll()
        .where('tenant_id', '=', tenantId)
        .where('application_id', '=', candidate.application_id)
        .where('status', '=', 'Pending')
        .orderBy('number')
        .limit(1)
        .executeTakeFirst();
      if (busy || !first || first.id !== candidate.id) throw new Raced();
      await updateImport(tx, first, {
        status: 'Running',
        phase: 'queued',
        build_start: tx.now,
        heartbeat_at: tx.now,
        log: appendLog(first.log, [{ time: tx.now, level: 'info', message: 'started' }]),
      });
      tx.audit({ action: 'import.start', targetType: 'import', targetId: first.id, before: { status: 'Pending' }, after: { status: 'Running' } });
      return true;
    });
    return claimed.then(
      ({ value }) => value,
      (e: unknown) => {
        if (e instanceof Raced) return false;
        throw e;
      },
    );
  }

  async function pass(now: Date): Promise<void> {
    for (const tenant of await deps.store.listTenants()) {
      await sweep(tenant.id, now);
      await schedule(tenant.id, now);
      const { db } = deps.store.read(tenant.id);
      const pending = await db.selectFrom('imports').selectAll().where('tenant_id', '=', tenant.id).where('status', '=', 'Pending').orderBy('number').limit(200).execute();
      const seenApps = new Set<string>();
      for (const row of pending) {
        if (stopped || running.size >= concurrency) break;
        if (seenApps.has(row.application_id) || runningApps.has(row.application_id)) continue;
        seenApps.add(row.application_id);
        if (!(await claim(tenant.id, row))) continue;
        runningApps.add(row.application_id);
        const job = processImport(deps, tenant.id, row.id)
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
    for (const tenant of await deps.store.listTenants()) {
      const ids = [...running.keys()];
      if (!ids.length) return;
      const { db } = deps.store.read(tenant.id);
      // Operational liveness, not a change of state: not audited.
      await db.updateTable('imports').set({ heartbeat_at: at }).where('tenant_id', '=', tenant.id).where('id', 'in', ids).execute();
    }
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
