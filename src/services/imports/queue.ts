/**
 * The import queue as the background worker (src/jobs/import-worker.ts) works it: imports left
 * Running by a process that died, Scheduled imports that are due, claiming the next Pending
 * import of an application, and the heartbeat of running ones. The worker decides when and how
 * many; these functions are the reads and writes.
 */
import { randomUUID } from 'node:crypto';
import { parseCron } from '../../domain/cron.ts';
import { storedConnector } from '../../domain/connector.ts';
import { AppError } from '../../domain/errors.ts';
import type { Database } from '../../store/schema.ts';
import { isUniqueViolation } from '../../store/store.ts';
import { systemActor, writeMeta } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { newImportRow, stagedFiles, updateImport } from './imports.ts';
import { importMeta } from './run.ts';
import { appendLog } from './views.ts';

export type ImportRow = Database['imports'];

/** Thrown inside a write to roll it back when another node got there first (nothing to audit). */
class Raced extends Error {}

/** The ids of every tenant (the worker serves them all). */
export async function tenantIds(deps: ServiceDeps): Promise<string[]> {
  return (await deps.store.listTenants()).map((t) => t.id);
}

/**
 * Ends the imports of a tenant that no process is running: a Running import whose heartbeat
 * is older than `staleBefore` (or every one, with `failAll`) is Failed as interrupted; a
 * Canceling import that never started is Canceled. Imports in `skip` run on this node.
 */
export async function endAbandonedImports(deps: ServiceDeps, tenantId: string, options: { staleBefore: string; failAll: boolean; skip: ReadonlySet<string> }): Promise<void> {
  const { db } = deps.store.read(tenantId);
  const candidates = await db
    .selectFrom('imports')
    .selectAll()
    .where('status', 'in', ['Running', 'Canceling'])
    .execute();
  for (const row of candidates) {
    if (options.skip.has(row.id)) continue;
    const started = row.build_start !== null;
    const stale = options.failAll || (row.heartbeat_at ?? row.updated_at) < options.staleBefore;
    if (started && !stale) continue;
    await deps.store.write(tenantId, importMeta(row), async (tx) => {
      const current = await tx.db.selectFrom('imports').selectAll().where('id', '=', row.id).executeTakeFirst();
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

/** Creates the Scheduled import of every application whose connector's cron schedule is due (once, even with several nodes). */
export async function scheduleDueImports(deps: ServiceDeps, tenantId: string, now: Date): Promise<void> {
  const { db } = deps.store.read(tenantId);
  const apps = await db
    .selectFrom('applications')
    .selectAll()
    .where('archived', '=', 0)
    .where('connector', 'is not', null)
    .execute();
  for (const app of apps) {
    const connector = storedConnector(app.connector);
    if (!connector?.schedule) continue;
    const last = await db
      .selectFrom('imports')
      .select((eb) => eb.fn.max('scheduled_for').as('at'))
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
        const row = newImportRow(tx, await tx.nextNumber('imports'), {
          id,
          application_id: app.id,
          type: 'Scheduled',
          source: 'stage',
          status: failure ? 'Failed' : 'Pending',
          dry_run: 0,
          created_by: 'scheduler',
          created_by_id: null,
          scheduled_for: due.toISOString(),
          build_end: failure ? tx.now : null,
          files: JSON.stringify(files),
          log: JSON.stringify([
            { time: tx.now, level: 'info', message: `scheduled by "${connector.schedule}" for ${due.toISOString()}` },
            ...(failure ? [{ time: tx.now, level: 'error', message: failure }] : []),
          ]),
          bytes_total: files.reduce((n, f) => n + f.size, 0),
          error: failure,
        });
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

/** Pending imports of a tenant in number order. */
export async function pendingImports(deps: ServiceDeps, tenantId: string, limit: number): Promise<ImportRow[]> {
  const { db } = deps.store.read(tenantId);
  return db.selectFrom('imports').selectAll().where('status', '=', 'Pending').orderBy('number').limit(limit).execute();
}

/** Claims the application's next Pending import if nothing of it is active; false when another node got it or it is not next. */
export async function claimImport(deps: ServiceDeps, tenantId: string, candidate: ImportRow): Promise<boolean> {
  const busyNow = await deps.store
    .read(tenantId)
    .db.selectFrom('imports')
    .select('id')
    .where('application_id', '=', candidate.application_id)
    .where((eb) => eb.or([eb('status', 'in', ['Running', 'Held']), eb.and([eb('status', '=', 'Canceling'), eb('build_start', 'is not', null)])]))
    .executeTakeFirst();
  if (busyNow) return false;
  const claimed = deps.store.write(tenantId, importMeta(candidate), async (tx) => {
    const busy = await tx.db
      .selectFrom('imports')
      .select('id')
      .where('application_id', '=', candidate.application_id)
      .where((eb) => eb.or([eb('status', 'in', ['Running', 'Held']), eb.and([eb('status', '=', 'Canceling'), eb('build_start', 'is not', null)])]))
      .executeTakeFirst();
    const first = await tx.db
      .selectFrom('imports')
      .selectAll()
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

/** Records that this node still runs the imports `ids` (operational liveness, not a change of state: not audited). */
export async function recordImportHeartbeat(deps: ServiceDeps, tenantId: string, ids: readonly string[], at: string): Promise<void> {
  const { db } = deps.store.read(tenantId);
  await db.updateTable('imports').set({ heartbeat_at: at }).where('id', 'in', ids).execute();
}
