/**
 * `kill -9` of a real server process in the middle of workflow work, then a restart (on the
 * run's backend; on PostgreSQL a throwaway database):
 *
 * - Access requests: a burst of last approvals is cut off by the kill. The approval and the
 *   provisioning are one write, so every request is either approved *and* provisioned (status
 *   completed, its one `request` assignment written) or neither (pending, its task still
 *   open, no assignment). After the restart the rest are approved, each provisioned once.
 * - Personnel events: offboardings all due at one moment are being run by the scheduler when
 *   the server is killed. Every event is either wholly applied (Deprovision completed, the
 *   identity terminated, its assignment revoked, its job done) or not at all (stage pending,
 *   identity active, assignment active, job pending); after the restart each stage has run
 *   exactly once.
 *
 * Both end with `grantory audit verify` exiting 0.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.ts';
import type { TenantDb } from '../../src/store/store.ts';
import { killAllServers, PROCESS_TIMEOUT, runCli, startServer, tempDir, type ServerProcess } from '../support/cli.ts';
import { ADMIN_KEY, createThrowawayDatabase, TEST_BACKEND, TEST_SECRET_KEY, type ThrowawayDatabase } from '../support/harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are read loosely

const dir = tempDir('workflow-crash');
let database: ThrowawayDatabase | null = null;
let env: Record<string, string>;

async function call(node: ServerProcess, method: string, path: string, body?: unknown, key = ADMIN_KEY): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${node.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${key}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Json };
}
async function made(node: ServerProcess, path: string, body: unknown, key = ADMIN_KEY): Promise<Json> {
  const res = await call(node, 'POST', path, body, key);
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json;
}

/** Reads the database directly (the server may be dead). */
async function inStore<T>(fn: (scope: TenantDb) => Promise<T>): Promise<T> {
  const store = await openStore({ dataDir: dir.path, databaseUrl: database?.url });
  try {
    const tenant = (await store.listTenants())[0]!;
    return await fn(store.read(tenant.id));
  } finally {
    await store.close();
  }
}

/** Polls (only a bound on how long to keep looking, no timing assertion). */
async function until<T>(what: string, probe: () => Promise<T | null>, tries = 3000): Promise<T> {
  for (let i = 0; i < tries; i += 1) {
    const v = await probe();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 20));
  }
  throw new Error(`gave up waiting for ${what}`);
}

beforeAll(async () => {
  database = TEST_BACKEND === 'postgres' ? await createThrowawayDatabase() : null;
  env = {
    GRANTORY_DATA_DIR: dir.path,
    GRANTORY_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
    GRANTORY_SECRET_KEY: TEST_SECRET_KEY,
    GRANTORY_SCHEDULER_LEASE_SECONDS: '1',
    ...(database ? { DATABASE_URL: database.url } : {}),
  };
}, 120_000);
afterAll(async () => {
  await killAllServers();
  await database?.drop();
  dir.remove();
});

// Each test starts three servers and sets up its data through HTTP: far more than one start.
describe(`kill -9 during workflow work (${TEST_BACKEND})`, { timeout: 4 * PROCESS_TIMEOUT.timeout }, () => {
  it('a last approval and its provisioning are both there or neither; each request is provisioned once after the restart', async () => {
    const N = 40;
    let server = await startServer(env);
    const ann = (await made(server, '/identities', { username: 'ann' })).id as string;
    const annKey = (await made(server, '/api-keys', { name: 'ann', identityId: ann })).secret as string;
    const app = (await made(server, '/applications', { name: 'Payroll', kind: 'managed' })).id as string;
    const permission = (await made(server, `/applications/${app}/permissions`, { name: 'read' })).id as string;
    await made(server, '/approval-policies', { name: 'Payroll', appliesTo: { applicationIds: [app] }, steps: [{ name: 'Ann', approver: 'identity', id: ann }] });
    const requests: { id: string; target: string }[] = [];
    for (let i = 0; i < N; i += 1) {
      const target = (await made(server, '/identities', { username: `clerk${i}` })).id as string;
      const request = await made(server, '/access-requests', { action: 'add', targetIdentityId: target, resource: { type: 'permission', id: permission } });
      expect(request.status).toBe('pending');
      requests.push({ id: request.id as string, target });
    }

    // Every approval at once; the server dies as soon as the first ones have answered.
    let answered = 0;
    const killed = (async () => {
      await until('the first approvals', async () => (answered >= 3 ? true : null));
      await server.kill();
    })();
    await Promise.all(
      requests.map((r) =>
        call(server, 'POST', `/access-requests/${r.id}/approve`, {}, annKey)
          .then(() => void (answered += 1))
          .catch(() => undefined),
      ),
    );
    await killed;

    const state = () =>
      inStore(async ({ db }) => {
        const rows = await db.selectFrom('access_requests').select(['id', 'status', 'provisioning_assignment_id']).execute();
        const assignments = await db.selectFrom('assignments').select(['id', 'assignee_id', 'state']).where('source', '=', 'request').where('resource_id', '=', permission).execute();
        const tasks = await db.selectFrom('approval_tasks').select(['subject_id', 'status']).execute();
        return { rows, assignments, tasks };
      });
    const check = async () => {
      const { rows, assignments, tasks } = await state();
      const byTarget = new Map<string, string[]>();
      for (const a of assignments) byTarget.set(a.assignee_id, [...(byTarget.get(a.assignee_id) ?? []), a.id]);
      let completed = 0;
      for (const r of requests) {
        const row = rows.find((x) => x.id === r.id)!;
        const given = byTarget.get(r.target) ?? [];
        const task = tasks.find((t) => t.subject_id === r.id)!;
        if (row.status === 'completed') {
          completed += 1;
          expect(given).toEqual([row.provisioning_assignment_id]);
          expect(task.status).toBe('approved');
        } else {
          expect(row.status).toBe('pending');
          expect(given).toEqual([]);
          expect(task.status).toBe('open');
        }
      }
      return completed;
    };
    const afterKill = await check();
    // The kill came in the middle: some were decided, not all.
    expect(afterKill).toBeGreaterThan(0);
    expect(afterKill).toBeLessThan(N);

    server = await startServer(env);
    for (const r of requests) {
      const res = await call(server, 'POST', `/access-requests/${r.id}/approve`, {}, annKey);
      expect([200, 409]).toContain(res.status);
    }
    expect(await check()).toBe(N);
    await server.kill();
  });

  it('offboardings killed while their stages run are applied once each after the restart, none half-applied', async () => {
    const N = 60;
    let server = await startServer({ ...env, GRANTORY_SCHEDULER_INTERVAL: '3600000' });
    const role = (await made(server, '/roles', { name: 'Clerk' })).id as string;
    const people: string[] = [];
    for (let i = 0; i < N; i += 1) {
      const id = (await made(server, '/identities', { username: `leaver${i}` })).id as string;
      await made(server, '/assignments', { assignee: { type: 'identity', id }, resource: { type: 'role', id: role } });
      people.push(id);
    }
    const dueAt = new Date(Date.now() + 1000).toISOString();
    const events: string[] = [];
    for (const id of people) events.push((await made(server, '/personnel-events/offboard', { identityId: id, effectiveDate: dueAt })).id as string);
    await server.kill();

    // A node whose scheduler polls every 50 ms, killed as soon as some events completed.
    server = await startServer({ ...env, GRANTORY_SCHEDULER_INTERVAL: '50' });
    await until('the first applied offboarding', () =>
      inStore(async ({ db }) => ((await db.selectFrom('personnel_events').select('id').where('status', '=', 'completed').execute()).length > 0 ? true : null)),
    );
    await server.kill();

    const check = () =>
      inStore(async ({ db }) => {
        let applied = 0;
        for (const [i, eventId] of events.entries()) {
          const event = await db.selectFrom('personnel_events').select(['status', 'stages']).where('id', '=', eventId).executeTakeFirstOrThrow();
          const deprovision = (JSON.parse(event.stages) as { name: string; status: string }[]).find((s) => s.name === 'Deprovision')!;
          const identity = await db.selectFrom('identities').select('status').where('id', '=', people[i]!).executeTakeFirstOrThrow();
          const assignments = await db.selectFrom('assignments').select('state').where('assignee_id', '=', people[i]!).execute();
          const job = await db.selectFrom('scheduled_jobs').select('status').where('subject_id', '=', eventId).where('job_key', '=', 'Deprovision').executeTakeFirstOrThrow();
          const ran = await db.selectFrom('workflow_entries').select('id').where('subject_id', '=', eventId).where('text', '=', 'Deprovision completed').execute();
          const updates = await db.selectFrom('audit_events').select('seq').where('action', '=', 'identity.update').where('target_id', '=', people[i]!).execute();
          if (deprovision.status === 'completed') {
            applied += 1;
            expect(event.status).toBe('completed');
            expect(identity.status).toBe('terminated');
            expect(assignments.map((a) => a.state)).toEqual(['revoked']);
            expect(job.status).toBe('done');
            expect(ran).toHaveLength(1);
            expect(updates).toHaveLength(1);
          } else {
            expect(deprovision.status).toBe('pending');
            expect(event.status).toBe('scheduled');
            expect(identity.status).toBe('active');
            expect(assignments.map((a) => a.state)).toEqual(['active']);
            expect(job.status).toBe('pending');
            expect(ran).toHaveLength(0);
            expect(updates).toHaveLength(0);
          }
        }
        return applied;
      });
    const afterKill = await check();
    expect(afterKill).toBeGreaterThan(0);

    server = await startServer({ ...env, GRANTORY_SCHEDULER_INTERVAL: '50' });
    await until(
      'every offboarding applied',
      () => inStore(async ({ db }) => ((await db.selectFrom('personnel_events').select('id').where('status', '=', 'completed').execute()).length === N ? true : null)),
      6000,
    );
    await server.kill();
    expect(await check()).toBe(N);

    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
