/**
 * The durable scheduler: due jobs run once, in the write that marks them done; failures retry
 * and then fail; two runners (two nodes) never run a job twice; a node that died holding a
 * job's lease leaves it to another node once the lease ends.
 */
import { afterEach, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.ts';
import type { JobHandler, ServiceDeps } from '../../src/services/deps.ts';
import { cancelJobs, jobsOf, MAX_ATTEMPTS, runDueJobs, scheduleJob, systemActor, writeMeta } from '../../src/services/kernel/index.ts';
import { openStore } from '../../src/store/open.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

const T0 = Date.parse('2026-03-15T00:00:00.000Z');
const at = (minutes: number) => new Date(T0 + minutes * 60_000);

/** A handler that counts its runs in a table-free way: it records an audit event per run. */
function counting(): { handler: JobHandler; runs: string[] } {
  const runs: string[] = [];
  return {
    runs,
    handler: async (_deps, tx, job) => {
      tx.audit({ action: 'test.job', targetType: 'scheduledJob', targetId: job.id, after: { key: job.key, dueAt: job.dueAt } });
      runs.push(job.key);
    },
  };
}

async function schedule(app: TestApp, jobs: { key: string; dueAt: Date; kind?: string; subjectId?: string }[]): Promise<void> {
  await app.store.write(app.tenantId, writeMeta(systemActor(app.tenantId)), async (tx) => {
    for (const j of jobs) await scheduleJob(tx, { kind: j.kind ?? 'test.kind', subjectId: j.subjectId ?? 'subject-1', key: j.key, dueAt: j.dueAt.toISOString() });
    tx.audit({ action: 'test.schedule', targetType: 'test', targetId: null });
  });
}

function depsWith(app: TestApp, handlers: Record<string, JobHandler>, failed?: ServiceDeps['jobFailureHandlers']): ServiceDeps {
  return { ...app.services.deps, jobHandlers: { ...app.services.deps.jobHandlers, ...handlers }, jobFailureHandlers: failed ?? {} };
}

async function auditActions(app: TestApp, action: string): Promise<number> {
  const rows = await app.store.read(app.tenantId).db.selectFrom('audit_events').select('id').where('action', '=', action).execute();
  return rows.length;
}

describe('scheduler', () => {
  it('runs a job when it is due, once, and records its effect in the same write', async () => {
    t = await createTestApp();
    const c = counting();
    const deps = depsWith(t, { 'test.kind': c.handler });
    await schedule(t, [
      { key: 'a', dueAt: at(10) },
      { key: 'b', dueAt: at(5) },
    ]);
    expect(await runDueJobs(deps, { node: 'n1', now: at(4) })).toEqual({ done: 0, failed: 0, retried: 0, skipped: 0 });
    expect((await runDueJobs(deps, { node: 'n1', now: at(7) })).done).toBe(1);
    expect(c.runs).toEqual(['b']);
    // Downtime: everything overdue is caught up on the next pass, oldest due first.
    await schedule(t, [{ key: 'c', dueAt: at(8) }]);
    expect((await runDueJobs(deps, { node: 'n1', now: at(60) })).done).toBe(2);
    expect(c.runs).toEqual(['b', 'c', 'a']);
    expect((await runDueJobs(deps, { node: 'n1', now: at(120) })).done).toBe(0);
    const jobs = await jobsOf(t.store.read(t.tenantId), 'subject-1');
    expect(jobs.map((j) => [j.key, j.status, j.attempts])).toEqual([
      ['b', 'done', 1],
      ['c', 'done', 1],
      ['a', 'done', 1],
    ]);
    expect(await auditActions(t, 'test.job')).toBe(3);
  });

  it('scheduling the same kind, subject and key again re-dates the job instead of adding one; cancel ends pending jobs', async () => {
    t = await createTestApp();
    const c = counting();
    const deps = depsWith(t, { 'test.kind': c.handler });
    await schedule(t, [{ key: 'a', dueAt: at(10) }]);
    await schedule(t, [{ key: 'a', dueAt: at(30) }]);
    await runDueJobs(deps, { node: 'n1', now: at(20) });
    expect(c.runs).toEqual([]);
    const jobs = await jobsOf(t.store.read(t.tenantId), 'subject-1');
    expect(jobs).toHaveLength(1);
    expect(jobs[0]!.dueAt).toBe(at(30).toISOString());
    await t.store.write(t.tenantId, writeMeta(systemActor(t.tenantId)), async (tx) => {
      expect(await cancelJobs(tx, { subjectId: 'subject-1' })).toBe(1);
      tx.audit({ action: 'test.cancel', targetType: 'test', targetId: null });
    });
    await runDueJobs(deps, { node: 'n1', now: at(40) });
    expect(c.runs).toEqual([]);
    expect((await jobsOf(t.store.read(t.tenantId), 'subject-1'))[0]!.status).toBe('canceled');
  });

  it('a job without its own audit event is recorded as scheduledJob.run', async () => {
    t = await createTestApp();
    const deps = depsWith(t, { 'test.kind': async () => {} });
    await schedule(t, [{ key: 'a', dueAt: at(1) }]);
    expect((await runDueJobs(deps, { node: 'n1', now: at(2) })).done).toBe(1);
    expect(await auditActions(t, 'scheduledJob.run')).toBe(1);
  });

  it('runs due jobs in batches, one write each, never two jobs of one subject in a batch; a job failing in a batch leaves the others committed once', async () => {
    t = await createTestApp();
    const revisions = new Map<string, number>();
    const batchedFlags: boolean[] = [];
    const deps = depsWith(t, {
      'test.kind': async (_deps, tx, job) => {
        batchedFlags.push(job.batched === true);
        if (job.key === 'bad') throw new Error('this one fails');
        tx.audit({ action: 'test.job', targetType: 'scheduledJob', targetId: job.id, after: { key: job.key } });
        revisions.set(`${job.subjectId}/${job.key}`, tx.revision);
      },
    });
    await schedule(t, [
      ...Array.from({ length: 6 }, (_, i) => ({ key: `k${i}`, dueAt: at(1), subjectId: `s${i}` })),
      { key: 'second', dueAt: at(1), subjectId: 's0' },
    ]);
    expect(await runDueJobs(deps, { node: 'n1', now: at(2), batchSize: 4 })).toEqual({ done: 7, failed: 0, retried: 0, skipped: 0 });
    // s0's second job does not share a write with its first.
    const byRevision = new Map<number, string[]>();
    for (const [k, rev] of revisions) byRevision.set(rev, [...(byRevision.get(rev) ?? []), k]);
    // (Jobs due at the same moment run in id order, so how the seven split depends on their ids.)
    const sizes = [...byRevision.values()].map((keys) => keys.length);
    expect(sizes.reduce((a, b) => a + b, 0)).toBe(7);
    expect(sizes.length).toBeGreaterThanOrEqual(2);
    expect(Math.max(...sizes)).toBeLessThanOrEqual(4);
    for (const keys of byRevision.values()) expect(new Set(keys.map((k) => k.split('/')[0])).size).toBe(keys.length);
    // The first job of each write judges against the last commit; the others are marked batched.
    expect(batchedFlags.filter((b) => !b)).toHaveLength(sizes.length);
    expect(await auditActions(t, 'test.job')).toBe(7);

    // A failure in a batch: the batch rolls back and each job runs alone; only the bad one retries.
    batchedFlags.length = 0;
    await schedule(t, [
      { key: 'ok1', dueAt: at(3), subjectId: 'x1' },
      { key: 'bad', dueAt: at(3), subjectId: 'x2' },
      { key: 'ok2', dueAt: at(3), subjectId: 'x3' },
    ]);
    expect(await runDueJobs(deps, { node: 'n1', now: at(4) })).toEqual({ done: 2, failed: 0, retried: 1, skipped: 0 });
    expect(await auditActions(t, 'test.job')).toBe(9);
    const jobs = [...(await jobsOf(t.store.read(t.tenantId), 'x1')), ...(await jobsOf(t.store.read(t.tenantId), 'x2')), ...(await jobsOf(t.store.read(t.tenantId), 'x3'))];
    expect(jobs.map((j) => [j.key, j.status, j.attempts])).toEqual([
      ['ok1', 'done', 1],
      ['bad', 'pending', 1],
      ['ok2', 'done', 1],
    ]);
  }, 120_000);

  it('a failing job rolls its effect back, is retried after a backoff, and fails for good after the last attempt', async () => {
    t = await createTestApp();
    let calls = 0;
    const failures: string[] = [];
    const deps = depsWith(
      t,
      {
        'test.kind': async (_d, tx) => {
          calls += 1;
          tx.audit({ action: 'test.effect', targetType: 'test', targetId: null });
          throw new Error(`boom ${calls}`);
        },
      },
      {
        'test.kind': async (_d, tx, job, error) => {
          failures.push(`${job.key}: ${error} after ${job.attempts}`);
          tx.audit({ action: 'test.failed', targetType: 'test', targetId: job.id });
        },
      },
    );
    await schedule(t, [{ key: 'a', dueAt: at(1) }]);
    expect(await runDueJobs(deps, { node: 'n1', now: at(2) })).toMatchObject({ retried: 1 });
    // The retry waits its backoff (30 s after the failure, on the store's clock).
    const [job] = await jobsOf(t.store.read(t.tenantId), 'subject-1');
    expect(job).toMatchObject({ status: 'pending', attempts: 1, lastError: 'boom 1', dueAt: at(1).toISOString() });
    const later = new Date(Date.now() + 24 * 3_600_000);
    for (let i = 2; i < MAX_ATTEMPTS; i += 1) expect(await runDueJobs(deps, { node: 'n1', now: later })).toMatchObject({ retried: 1 });
    expect(await runDueJobs(deps, { node: 'n1', now: later })).toMatchObject({ failed: 1 });
    expect(calls).toBe(MAX_ATTEMPTS);
    expect(await auditActions(t, 'test.effect')).toBe(0);
    expect(await auditActions(t, 'scheduledJob.retry')).toBe(MAX_ATTEMPTS - 1);
    expect(await auditActions(t, 'scheduledJob.fail')).toBe(1);
    expect(failures).toEqual([`a: boom ${MAX_ATTEMPTS} after ${MAX_ATTEMPTS}`]);
    expect((await jobsOf(t.store.read(t.tenantId), 'subject-1'))[0]).toMatchObject({ status: 'failed', attempts: MAX_ATTEMPTS });
    expect(await runDueJobs(deps, { node: 'n1', now: later })).toEqual({ done: 0, failed: 0, retried: 0, skipped: 0 });
  });

  it('a refusal (the state no longer allows the job) fails it at once', async () => {
    t = await createTestApp();
    const deps = depsWith(t, {
      'test.kind': async () => {
        throw new AppError('conflict', 'the identity is already terminated');
      },
    });
    await schedule(t, [{ key: 'a', dueAt: at(1) }]);
    expect(await runDueJobs(deps, { node: 'n1', now: at(2) })).toMatchObject({ failed: 1 });
    expect((await jobsOf(t.store.read(t.tenantId), 'subject-1'))[0]).toMatchObject({ status: 'failed', lastError: 'the identity is already terminated' });
  });

  it('two runners working the same due jobs at once run each exactly once', async () => {
    t = await createTestApp();
    const c = counting();
    const deps = depsWith(t, { 'test.kind': c.handler });
    const jobs = Array.from({ length: 150 }, (_, i) => ({ key: `k${i}`, dueAt: at(1), subjectId: `s${i % 7}` }));
    await schedule(t, jobs);
    // A second node: its own store connection(s) on the same database.
    const other = await openSecondNode(t);
    try {
      const deps2 = { ...deps, store: other.store };
      const [r1, r2] = await Promise.all([runDueJobs(deps, { node: 'n1', now: at(2) }), runDueJobs(deps2, { node: 'n2', now: at(2) })]);
      expect(r1.done + r2.done).toBe(150);
      expect(r1.failed + r2.failed + r1.retried + r2.retried).toBe(0);
    } finally {
      await other.close();
    }
    expect(c.runs.length).toBe(150);
    expect(new Set(c.runs).size).toBe(150);
    expect(await auditActions(t, 'test.job')).toBe(150);
  });

  it('a job claimed by a node that died runs on another node once the lease ends, and only once', async () => {
    t = await createTestApp();
    const c = counting();
    const deps = depsWith(t, { 'test.kind': c.handler });
    await schedule(t, [{ key: 'a', dueAt: at(1) }]);
    // The dead node's claim: leased, never run.
    await t.store.read(t.tenantId).db.updateTable('scheduled_jobs').set({ lease_owner: 'dead', lease_until: at(3).toISOString() }).execute();
    expect((await runDueJobs(deps, { node: 'n2', now: at(2) })).done).toBe(0);
    expect((await runDueJobs(deps, { node: 'n2', now: at(4) })).done).toBe(1);
    expect(c.runs).toEqual(['a']);
    // The dead node comes back and tries to run what it had claimed: the job is no longer pending.
    expect((await runDueJobs(deps, { node: 'dead', now: at(10) })).done).toBe(0);
    expect(c.runs).toEqual(['a']);
  });

  it('a job re-planned after a node claimed it is not run at its old time, but at its new one, once', async () => {
    t = await createTestApp();
    const c = counting();
    // Job `b` (claimed with `a`, run first) moves `a` to a later moment — as moving a leave's
    // return date does while a node holds the old claim.
    const replan: JobHandler = async (deps, tx, job) => {
      await c.handler(deps, tx, job);
      await scheduleJob(tx, { kind: 'test.kind', subjectId: 'subject-a', key: 'a', dueAt: at(10).toISOString() });
    };
    const deps = depsWith(t, { 'test.kind': c.handler, 'test.replan': replan });
    await schedule(t, [
      { key: 'b', dueAt: at(1), kind: 'test.replan', subjectId: 'subject-b' },
      { key: 'a', dueAt: at(2), subjectId: 'subject-a' },
    ]);
    const first = await runDueJobs(deps, { node: 'n1', now: at(3) });
    expect(first).toMatchObject({ done: 1, skipped: 1 });
    expect(c.runs).toEqual(['b']);
    expect((await runDueJobs(deps, { node: 'n1', now: at(5) })).done).toBe(0);
    expect((await runDueJobs(deps, { node: 'n1', now: at(11) })).done).toBe(1);
    expect(c.runs).toEqual(['b', 'a']);
  });
});

/**
 * A second node: on PostgreSQL a second store (its own connection pool) on the same schema,
 * as another server process has; SQLite is one process's embedded database, so there the
 * second runner shares the store (two passes of the worker overlapping).
 */
async function openSecondNode(app: TestApp): Promise<{ store: TestApp['store']; close(): Promise<void> }> {
  if (app.backend !== 'postgres') return { store: app.store, close: async () => {} };
  const store = await openStore({ databaseUrl: app.databaseUrl!, pgSchema: app.pgSchema!, dataDir: '' });
  return { store, close: () => store.close() };
}


