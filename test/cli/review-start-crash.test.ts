/**
 * `kill -9` of a real server process while it starts an access-review campaign, then a
 * restart (on the run's backend; on PostgreSQL a throwaway database). Starting snapshots
 * every item in one write (src/services/reviews/snapshot.ts), so the kill leaves the
 * campaign either a draft with no items, no reminder or deadline job and no start event, or
 * wholly started — never half. The kill is sent once the snapshot is seen in progress from
 * outside (PostgreSQL: the server's insert of review items is running; SQLite: the write
 * has begun spilling pages into the WAL). After the restart the same campaign starts whole,
 * and `grantory audit verify` exits 0.
 */
import { statSync } from 'node:fs';
import { join } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { openStore } from '../../src/store/open.ts';
import type { Store, TenantDb } from '../../src/store/store.ts';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { killAllServers, PROCESS_TIMEOUT, runCli, startServer, tempDir, type ServerProcess } from '../support/cli.ts';
import { ADMIN_KEY, createThrowawayDatabase, TEST_BACKEND, TEST_SECRET_KEY, type ThrowawayDatabase } from '../support/harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are read loosely

const PEOPLE = 1500;
const PERMS = 12;
const dir = tempDir('review-start-crash');
let database: ThrowawayDatabase | null = null;
let env: Record<string, string>;

async function call(node: ServerProcess, method: string, path: string, body?: unknown): Promise<{ status: number; json: Json }> {
  const res = await fetch(`${node.url}/api/v1${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body === undefined ? {} : { 'content-type': 'application/json' }) },
    ...(body === undefined ? {} : { body: JSON.stringify(body) }),
  });
  return { status: res.status, json: (await res.json()) as Json };
}
async function made(node: ServerProcess, path: string, body: unknown): Promise<Json> {
  const res = await call(node, 'POST', path, body);
  expect(res.status, JSON.stringify(res.json)).toBe(201);
  return res.json;
}

async function withStore<T>(fn: (store: Store, tenantId: string) => Promise<T>): Promise<T> {
  const store = await openStore({ dataDir: dir.path, databaseUrl: database?.url });
  try {
    return await fn(store, (await store.listTenants())[0]!.id);
  } finally {
    await store.close();
  }
}
const inStore = <T>(fn: (scope: TenantDb) => Promise<T>) => withStore((store, tenantId) => fn(store.read(tenantId)));

/** Whether the start's write is seen under way from outside the server. */
async function snapshotUnderWay(walBefore: number): Promise<boolean> {
  if (database === null) return walSize() > walBefore;
  const client = new pg.Client({ connectionString: database.url });
  await client.connect();
  try {
    const r = await client.query(`select count(*)::int as n from pg_stat_activity where datname = current_database() and pid <> pg_backend_pid() and query ilike 'insert into "review_items"%'`);
    return (r.rows[0] as { n: number }).n > 0;
  } finally {
    await client.end();
  }
}
function walSize(): number {
  try {
    return statSync(join(dir.path, 'grantory.db-wal')).size;
  } catch {
    return 0;
  }
}

beforeAll(async () => {
  database = TEST_BACKEND === 'postgres' ? await createThrowawayDatabase() : null;
  env = {
    GRANTORY_DATA_DIR: dir.path,
    GRANTORY_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
    GRANTORY_SECRET_KEY: TEST_SECRET_KEY,
    GRANTORY_SCHEDULER_INTERVAL: '3600000',
    ...(database ? { DATABASE_URL: database.url } : {}),
  };
}, 120_000);
afterAll(async () => {
  await killAllServers();
  await database?.drop();
  dir.remove();
});

describe(`kill -9 while a campaign starts (${TEST_BACKEND})`, { timeout: 6 * PROCESS_TIMEOUT.timeout }, () => {
  it('leaves the campaign a draft with nothing of its start, or wholly started; after the restart it starts whole', async () => {
    let server = await startServer(env);
    const app = (await made(server, '/applications', { name: 'Ledger', kind: 'managed' })).id as string;
    const permissions: string[] = [];
    for (let p = 0; p < PERMS; p += 1) permissions.push((await made(server, `/applications/${app}/permissions`, { name: `ledger-${p}` })).id as string);
    const role = (await made(server, '/roles', { name: 'Bookkeeper', permissionIds: permissions })).id as string;
    const unit = (await made(server, '/org-units', { name: 'Accounts' })).id as string;
    const reviewer = (await made(server, '/identities', { username: 'rhea' })).id as string;
    await server.kill();
    // Many people at once, written directly (through the write protocol) while no server runs.
    await withStore(async (store, tenantId) => {
      const fx = new AccessFixtures(store, tenantId);
      await fx.batch(async (tx) => {
        for (let i = 0; i < PEOPLE; i += 1) await fx.identity({ subject: `crash:${i}`, username: `clerk${i}`, unitId: unit }, tx);
      });
    });

    server = await startServer(env);
    await made(server, '/assignments', { assignee: { type: 'orgUnit', id: unit }, resource: { type: 'role', id: role } });
    const review = await made(server, '/access-reviews', { name: 'Ledger Q3', space: 'assigned', reviewer: { type: 'identity', id: reviewer }, scope: { applicationIds: [app] } });
    const reviewId = review.id as string;

    const walBefore = walSize();
    let answered = false;
    const starting = call(server, 'POST', `/access-reviews/${reviewId}/start`, {}).then(
      () => void (answered = true),
      () => undefined,
    );
    for (let i = 0; i < 6000 && !answered && !(await snapshotUnderWay(walBefore)); i += 1) await new Promise((r) => setTimeout(r, 10));
    const killedBeforeAnswer = !answered;
    await server.kill();
    await starting;

    const state = () =>
      inStore(async ({ db }) => {
        const row = await db.selectFrom('access_reviews').select(['status', 'item_count', 'started_at']).where('id', '=', reviewId).executeTakeFirstOrThrow();
        const items = (await db.selectFrom('review_items').select('id').where('review_id', '=', reviewId).execute()).length;
        const jobs = (await db.selectFrom('scheduled_jobs').select('id').where('subject_id', '=', reviewId).execute()).length;
        const started = (await db.selectFrom('audit_events').select('seq').where('action', '=', 'accessReview.start').where('target_id', '=', reviewId).execute()).length;
        return { status: row.status, itemCount: row.item_count, startedAt: row.started_at, items, jobs, started };
      });
    const afterKill = await state();
    console.info(`review-start-crash: after the kill the campaign is ${afterKill.status} (${afterKill.items} items)`);
    if (afterKill.status === 'draft') {
      expect(afterKill).toEqual({ status: 'draft', itemCount: 0, startedAt: null, items: 0, jobs: 0, started: 0 });
    } else {
      // The commit came before the kill: everything is there.
      expect(afterKill).toMatchObject({ status: 'active', itemCount: PEOPLE * PERMS, items: PEOPLE * PERMS, started: 1 });
    }
    // The kill was meant to land mid-snapshot: it did when the start never answered and nothing is left of it.
    expect(killedBeforeAnswer || afterKill.status === 'active').toBe(true);

    server = await startServer(env);
    if (afterKill.status === 'draft') {
      const res = await call(server, 'POST', `/access-reviews/${reviewId}/start`, {});
      expect(res.status, JSON.stringify(res.json)).toBe(200);
      expect(res.json.itemCount).toBe(PEOPLE * PERMS);
    }
    const items = await call(server, 'GET', `/access-reviews/${reviewId}/items?limit=5`);
    expect(items.status).toBe(200);
    expect(items.json.items).toHaveLength(5);
    await server.kill();
    const final = await state();
    expect(final).toMatchObject({ status: 'active', itemCount: PEOPLE * PERMS, items: PEOPLE * PERMS, started: 1 });
    expect(final.jobs).toBeGreaterThan(0);

    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);
  });
});
