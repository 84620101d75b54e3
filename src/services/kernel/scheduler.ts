/**
 * The durable scheduler: work that must happen at a given time (a personnel event's stage on
 * its effective date, an approval step's escalation at its due date) is a row of
 * `scheduled_jobs`, written in the same transaction as what asked for it — not a timer in
 * memory, so it survives restarts and is shared by every node.
 *
 * Exactly once: `runDueJobs` claims due jobs with a lease (so nodes do not work the same job
 * at once), then runs them in batches (up to {@link DEFAULT_BATCH_SIZE} jobs, never two of one
 * subject, in one write) that re-read each job and run it only if it is still `pending`. The
 * handlers' effects and the jobs' `done` commit together or not at all (a handler that throws
 * rolls its batch back, and the batch's jobs then run one write each); a tenant's writes are serialized, so two nodes (or a node and itself after a crash)
 * cannot both commit a run. A job whose node died mid-run keeps its lease until
 * `lease_until` and is then claimed again; overdue jobs are caught up on the next poll.
 *
 * A handler that throws is retried with backoff (30 s, 1 min, 2 min, ... after the failure) up to
 * {@link MAX_ATTEMPTS} runs; a refusal (an {@link AppError} below 500: the state no longer
 * allows it) fails the job at once. A failed job calls its kind's failure handler.
 *
 * ```ts
 * await store.write(tenantId, meta, async (tx) => { await scheduleJob(tx, { kind: 'personnel_event.stage', subjectId: id, key: 'suspend', dueAt }); ... });
 * await runDueJobs(deps, { node: 'node-1' });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../../domain/errors.ts';
import type { Database } from '../../store/schema.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import type { ScheduledJob, ServiceDeps } from '../deps.ts';
import { systemActor, writeMeta } from './actor.ts';

type JobRow = Database['scheduled_jobs'];

/** Runs of a job before it is failed (the first and four retries). */
export const MAX_ATTEMPTS = 5;
export const DEFAULT_LEASE_MS = 60_000;
/** Jobs one call of {@link runDueJobs} runs at most per tenant (the worker calls again on its next poll). */
export const DEFAULT_RUN_LIMIT = 1000;
const CLAIM_BATCH = 100;
/**
 * Due jobs run this many to a write (as many as one claim leases): a burst (10,000
 * offboardings due the same minute) then costs a commit, a revision and an audit-chain append
 * per batch rather than per job. On SQLite with `synchronous=FULL` the commit (the WAL's sync,
 * and its checkpoints) is the largest single cost of a batch: about 90 ms for 25 offboardings
 * and 150 ms for 100 on the development machine under load (BENCHMARKS.md, "Workflows"). A
 * batch holds the tenant's write lock while it runs, a few milliseconds per job.
 */
export const DEFAULT_BATCH_SIZE = 100;

/** The wait before retry `attempts` (1-based): 30 s doubled each time, at most an hour. */
export function retryDelayMs(attempts: number): number {
  return Math.min(30_000 * 2 ** Math.max(0, attempts - 1), 3_600_000);
}

export interface NewJob {
  kind: string;
  subjectId: string;
  /** Distinguishes several jobs of one kind for one subject (a stage name, a step number); default ''. */
  key?: string;
  dueAt: string;
  payload?: unknown;
}

/**
 * Inside a write: schedules a job. Idempotent on kind + subject + key: an existing job is
 * re-dated (and re-opened if it had ended), not doubled. Returns the job's id.
 */
export async function scheduleJob(tx: WriteTx, job: NewJob): Promise<string> {
  const key = job.key ?? '';
  const payload = job.payload === undefined ? null : JSON.stringify(job.payload);
  const existing = await tx.db
    .selectFrom('scheduled_jobs')
    .select('id')
    .where('kind', '=', job.kind)
    .where('subject_id', '=', job.subjectId)
    .where('job_key', '=', key)
    .executeTakeFirst();
  if (existing) {
    await tx.db
      .updateTable('scheduled_jobs')
      .set({ due_at: job.dueAt, payload, status: 'pending', attempts: 0, last_error: null, lease_owner: null, lease_until: null, done_at: null })
      .where('id', '=', existing.id)
      .execute();
    return existing.id;
  }
  const id = randomUUID();
  await tx.db
    .insertInto('scheduled_jobs')
    .values({
      id,
      tenant_id: tx.tenantId,
      kind: job.kind,
      subject_id: job.subjectId,
      job_key: key,
      due_at: job.dueAt,
      status: 'pending',
      attempts: 0,
      lease_owner: null,
      lease_until: null,
      last_error: null,
      payload,
      created_at: tx.now,
      done_at: null,
    })
    .execute();
  return id;
}

/** Inside a write: cancels a subject's pending jobs (optionally of one kind, or one key of it). Returns how many. */
export async function cancelJobs(tx: WriteTx, filter: { subjectId: string; kind?: string; key?: string }): Promise<number> {
  let q = tx.db
    .updateTable('scheduled_jobs')
    .set({ status: 'canceled', done_at: tx.now, lease_owner: null, lease_until: null })
    .where('subject_id', '=', filter.subjectId)
    .where('status', '=', 'pending');
  if (filter.kind !== undefined) q = q.where('kind', '=', filter.kind);
  if (filter.key !== undefined) q = q.where('job_key', '=', filter.key);
  const result = await q.executeTakeFirst();
  return Number(result.numUpdatedRows);
}

export interface JobStatusView {
  id: string;
  kind: string;
  key: string;
  dueAt: string;
  status: JobRow['status'];
  attempts: number;
  lastError: string | null;
  doneAt: string | null;
}

/** A subject's jobs, soonest first: for showing when its next steps run and what failed. */
export async function jobsOf(scope: TenantDb, subjectId: string): Promise<JobStatusView[]> {
  const rows = await scope.db.selectFrom('scheduled_jobs').selectAll().where('subject_id', '=', subjectId).orderBy('due_at').orderBy('id').execute();
  return rows.map((r) => ({
    id: r.id,
    kind: r.kind,
    key: r.job_key,
    dueAt: r.due_at,
    status: r.status,
    attempts: Number(r.attempts),
    lastError: r.last_error,
    doneAt: r.done_at,
  }));
}

export interface RunOptions {
  /** This node's name, recorded as the lease owner. */
  node: string;
  /** Jobs due at or before this time run (default: `deps.now()`). */
  now?: Date;
  /** At most this many jobs per tenant in this call (default {@link DEFAULT_RUN_LIMIT}). */
  limit?: number;
  /** How long a claim keeps other nodes off a job (default {@link DEFAULT_LEASE_MS}). */
  leaseMs?: number;
  /** Jobs run in one write at most (default {@link DEFAULT_BATCH_SIZE}; 1: a write per job). */
  batchSize?: number;
}

export interface RunReport {
  /** Jobs whose handler committed. */
  done: number;
  /** Jobs that failed for good in this call. */
  failed: number;
  /** Jobs that failed and will be retried. */
  retried: number;
  /** Jobs another node (or an earlier run) had already ended. */
  skipped: number;
}

/** Runs every due job of every tenant (up to `limit` per tenant), each once. */
export async function runDueJobs(deps: ServiceDeps, options: RunOptions): Promise<RunReport> {
  const report: RunReport = { done: 0, failed: 0, retried: 0, skipped: 0 };
  for (const tenant of await deps.store.listTenants()) {
    await runTenantJobs(deps, tenant.id, options, report);
  }
  return report;
}

async function runTenantJobs(deps: ServiceDeps, tenantId: string, options: RunOptions, report: RunReport): Promise<void> {
  const limit = options.limit ?? DEFAULT_RUN_LIMIT;
  const batchSize = Math.max(1, options.batchSize ?? DEFAULT_BATCH_SIZE);
  let started = 0;
  while (started < limit) {
    const claimed = await claimDueJobs(deps, tenantId, options, Math.min(CLAIM_BATCH, limit - started));
    for (const batch of inBatches(claimed, batchSize)) {
      const ran = await runBatch(deps, batch);
      for (const k of Object.keys(ran) as (keyof RunReport)[]) report[k] += ran[k];
    }
    started += claimed.length;
    if (claimed.length < CLAIM_BATCH) return;
  }
}

/** Claimed jobs in due order, cut into batches of at most `size` with no subject twice in one. */
function inBatches(rows: readonly JobRow[], size: number): JobRow[][] {
  const out: JobRow[][] = [];
  let current: JobRow[] = [];
  let subjects = new Set<string>();
  for (const row of rows) {
    if (current.length >= size || subjects.has(row.subject_id)) {
      out.push(current);
      current = [];
      subjects = new Set();
    }
    current.push(row);
    subjects.add(row.subject_id);
  }
  if (current.length) out.push(current);
  return out;
}

/**
 * Leases up to `n` due, unleased (or lease-expired) jobs to this node, oldest due first. The
 * lease conditions are repeated on the update itself, so when two nodes pick the same rows
 * the second finds them leased (PostgreSQL re-checks them after waiting for the row lock).
 */
async function claimDueJobs(deps: ServiceDeps, tenantId: string, options: RunOptions, n: number): Promise<JobRow[]> {
  const now = options.now ?? deps.now();
  const nowIso = now.toISOString();
  const until = new Date(now.getTime() + (options.leaseMs ?? DEFAULT_LEASE_MS)).toISOString();
  const { db } = deps.store.read(tenantId);
  const ids = db
    .selectFrom('scheduled_jobs')
    .select('id')
    .where('status', '=', 'pending')
    .where('due_at', '<=', nowIso)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowIso)]))
    .orderBy('due_at')
    .orderBy('id')
    .limit(n);
  const rows = await db
    .updateTable('scheduled_jobs')
    .set({ lease_owner: options.node, lease_until: until })
    .where('id', 'in', ids)
    .where('status', '=', 'pending')
    .where('due_at', '<=', nowIso)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', nowIso)]))
    .returningAll()
    .execute();
  return rows.sort((a, b) => (a.due_at < b.due_at ? -1 : a.due_at > b.due_at ? 1 : a.id < b.id ? -1 : 1));
}

/** Thrown inside a write to roll it back when the job is no longer pending (nothing to audit). */
class AlreadyEnded extends Error {}

const toJob = (row: JobRow): ScheduledJob => ({
  id: row.id,
  tenantId: row.tenant_id,
  kind: row.kind,
  subjectId: row.subject_id,
  key: row.job_key,
  dueAt: row.due_at,
  attempts: Number(row.attempts),
  payload: row.payload === null ? null : (JSON.parse(row.payload) as unknown),
});

/**
 * The claimed job, if it is still pending for the moment it was claimed for: a job re-planned
 * since (`scheduleJob` with a new `dueAt`, e.g. a leave's return date moved) is not run now —
 * it is claimed again when its new moment comes.
 */
async function stillDue(tx: WriteTx, claimed: JobRow): Promise<JobRow | undefined> {
  return tx.db.selectFrom('scheduled_jobs').selectAll().where('id', '=', claimed.id).where('status', '=', 'pending').where('due_at', '=', claimed.due_at).executeTakeFirst();
}

async function pendingRow(tx: WriteTx, claimed: JobRow): Promise<JobRow> {
  const row = await stillDue(tx, claimed);
  if (!row) throw new AlreadyEnded();
  return row;
}

/** Inside a write: runs a pending job's handler and marks it done (audited as `scheduledJob.run` when the handler records nothing). */
async function runHandler(deps: ServiceDeps, tx: WriteTx, row: JobRow, batched: boolean): Promise<void> {
  const handler = deps.jobHandlers?.[row.kind];
  if (!handler) throw new Error(`no handler for scheduled jobs of kind ${row.kind} on this node`);
  let audited = false;
  const watched: WriteTx = {
    ...tx,
    audit: (event) => {
      audited = true;
      tx.audit(event);
    },
  };
  await handler(deps, watched, { ...toJob(row), batched });
  await tx.db
    .updateTable('scheduled_jobs')
    .set({ status: 'done', done_at: tx.now, attempts: Number(row.attempts) + 1, last_error: null, lease_owner: null, lease_until: null })
    .where('id', '=', row.id)
    .execute();
  if (!audited) {
    tx.audit({ action: 'scheduledJob.run', targetType: 'scheduledJob', targetId: row.id, after: { kind: row.kind, subjectId: row.subject_id, key: row.job_key, dueAt: row.due_at } });
  }
}

async function runJob(deps: ServiceDeps, claimed: JobRow): Promise<keyof RunReport> {
  const meta = writeMeta(systemActor(claimed.tenant_id, 'scheduler'));
  try {
    await deps.store.write(claimed.tenant_id, meta, async (tx) => runHandler(deps, tx, await pendingRow(tx, claimed), false));
    return 'done';
  } catch (e) {
    if (e instanceof AlreadyEnded) return 'skipped';
    return recordFailure(deps, claimed, e);
  }
}

/**
 * Runs a batch of claimed jobs in one write: each still pending runs (one already ended is
 * skipped), and all of them commit as done together. If any handler throws, the whole write
 * rolls back and each job runs again in a write of its own, so only the failing one is
 * retried or failed and the others' effects are committed once.
 */
async function runBatch(deps: ServiceDeps, rows: readonly JobRow[]): Promise<RunReport> {
  const report: RunReport = { done: 0, failed: 0, retried: 0, skipped: 0 };
  if (rows.length === 1) {
    report[await runJob(deps, rows[0]!)]++;
    return report;
  }
  const meta = writeMeta(systemActor(rows[0]!.tenant_id, 'scheduler'));
  try {
    const { value } = await deps.store.write(rows[0]!.tenant_id, meta, async (tx) => {
      let done = 0;
      for (const claimed of rows) {
        const row = await stillDue(tx, claimed);
        if (!row) continue;
        await runHandler(deps, tx, row, done > 0);
        done += 1;
      }
      if (!done) throw new AlreadyEnded();
      return done;
    });
    report.done = value;
    report.skipped = rows.length - value;
  } catch (e) {
    if (e instanceof AlreadyEnded) {
      report.skipped = rows.length;
      return report;
    }
    for (const row of rows) report[await runJob(deps, row)]++;
  }
  return report;
}

/** Records a failed run: a retry later, or — after the last attempt or on a refusal — the job failed for good. */
async function recordFailure(deps: ServiceDeps, claimed: JobRow, error: unknown): Promise<keyof RunReport> {
  const message = error instanceof Error ? error.message : String(error);
  const refused = error instanceof AppError && error.status < 500;
  const meta = writeMeta(systemActor(claimed.tenant_id, 'scheduler'));
  try {
    const { value } = await deps.store.write(claimed.tenant_id, meta, async (tx) => {
      const row = await pendingRow(tx, claimed);
      const attempts = Number(row.attempts) + 1;
      const target = { targetType: 'scheduledJob', targetId: row.id } as const;
      const about = { kind: row.kind, subjectId: row.subject_id, key: row.job_key, dueAt: row.due_at, attempts, error: message };
      if (refused || attempts >= MAX_ATTEMPTS) {
        await tx.db
          .updateTable('scheduled_jobs')
          .set({ status: 'failed', attempts, last_error: message, done_at: tx.now, lease_owner: null, lease_until: null })
          .where('id', '=', row.id)
          .execute();
        tx.audit({ action: 'scheduledJob.fail', ...target, after: about });
        await deps.jobFailureHandlers?.[row.kind]?.(deps, tx, { ...toJob(row), attempts }, message);
        return 'failed' as const;
      }
      // The retry waits as a lease nobody holds: `due_at` stays the moment the job is for.
      const retryAt = new Date(Date.parse(tx.now) + retryDelayMs(attempts)).toISOString();
      await tx.db
        .updateTable('scheduled_jobs')
        .set({ attempts, last_error: message, lease_owner: null, lease_until: retryAt })
        .where('id', '=', row.id)
        .execute();
      tx.audit({ action: 'scheduledJob.retry', ...target, after: { ...about, retryAt } });
      return 'retried' as const;
    });
    return value;
  } catch (e) {
    if (e instanceof AlreadyEnded) return 'skipped';
    throw e;
  }
}
