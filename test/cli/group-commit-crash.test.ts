/**
 * Group commit under `kill -9`: a real server process takes a burst of concurrent identity
 * creates and is killed in the middle. Every create it answered (201) is in the database after
 * the kill — a caller is answered only once its group's commit is durable — with a gap-free
 * revision sequence and `grantory audit verify` exiting 0. Before the kill, `/metrics` counts
 * the writes and the commits that committed them.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { TenantDb } from '../../src/store/store.ts';
import { inFirstTenant, killAllServers, PROCESS_TIMEOUT, runCli, startServer, tempDir, type ServerProcess } from '../support/cli.ts';
import { ADMIN_KEY, createThrowawayDatabase, TEST_BACKEND, TEST_SECRET_KEY, type ThrowawayDatabase } from '../support/harness.ts';

const dir = tempDir('group-commit-crash');
let database: ThrowawayDatabase | null = null;
let env: Record<string, string>;

async function create(node: ServerProcess, username: string): Promise<number> {
  const res = await fetch(`${node.url}/api/v1/identities`, {
    method: 'POST',
    headers: { authorization: `Bearer ${ADMIN_KEY}`, 'content-type': 'application/json' },
    body: JSON.stringify({ username }),
  });
  await res.arrayBuffer();
  return res.status;
}

const inStore = <T>(fn: (scope: TenantDb) => Promise<T>): Promise<T> => inFirstTenant({ dataDir: dir.path, databaseUrl: database?.url }, fn);

/** The value of a counter in a Prometheus exposition. */
function counter(text: string, name: string): number {
  const line = text.split('\n').find((l) => l.startsWith(`${name} `));
  if (!line) throw new Error(`no ${name} in /metrics`);
  return Number(line.split(' ')[1]);
}

beforeAll(async () => {
  database = TEST_BACKEND === 'postgres' ? await createThrowawayDatabase() : null;
  env = {
    GRANTORY_DATA_DIR: dir.path,
    GRANTORY_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
    GRANTORY_SECRET_KEY: TEST_SECRET_KEY,
    ...(database ? { DATABASE_URL: database.url } : {}),
  };
}, 120_000);
afterAll(async () => {
  await killAllServers();
  await database?.drop();
  dir.remove();
});

describe(`kill -9 during a burst of grouped writes (${TEST_BACKEND})`, { timeout: 3 * PROCESS_TIMEOUT.timeout }, () => {
  it('loses no answered write, and the audit chain verifies', async () => {
    let server = await startServer(env);
    // A first burst, answered in full.
    const warm = await Promise.all(Array.from({ length: 40 }, (_, i) => create(server, `warm${i}`)));
    expect(warm.every((s) => s === 201)).toBe(true);
    const metrics = await (await fetch(`${server.url}/metrics`)).text();
    const writes = counter(metrics, 'grantory_store_writes_total');
    const commits = counter(metrics, 'grantory_store_commits_total');
    expect(writes).toBeGreaterThanOrEqual(40);
    // Never more commits than writes; how many requests overlap depends on the machine, so
    // that grouping happens is shown deterministically in test/store/group-commit.test.ts.
    if (TEST_BACKEND === 'sqlite') expect(commits).toBeLessThanOrEqual(writes);
    else expect(commits).toBe(writes);

    // The second burst is cut off by the kill as soon as some creates are answered.
    const N = 300;
    const answered: string[] = [];
    let killing: Promise<void> | null = null;
    await Promise.all(
      Array.from({ length: N }, (_, i) =>
        create(server, `burst${i}`)
          .then((status) => {
            if (status === 201) answered.push(`burst${i}`);
            if (answered.length >= 20) killing ??= server.kill();
          })
          .catch(() => undefined),
      ),
    );
    await killing;
    expect(answered.length).toBeGreaterThanOrEqual(20);

    const stored = await inStore(async ({ db }) => {
      const rows = await db.selectFrom('identities').select('username').where('username', 'like', 'burst%').execute();
      const revisions = await db.selectFrom('audit_events').select('revision').distinct().orderBy('revision').execute();
      return { usernames: new Set(rows.map((r) => r.username)), revisions: revisions.map((r) => Number(r.revision)) };
    });
    for (const username of answered) expect(stored.usernames.has(username), username).toBe(true);
    // The kill came in the middle: not everything was written.
    expect(stored.usernames.size).toBeLessThan(N);
    // No gap in the revisions of the committed writes (each records at least one audit event).
    expect(stored.revisions.at(-1)! - stored.revisions[0]!).toBe(stored.revisions.length - 1);

    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.code, verify.stdout + verify.stderr).toBe(0);

    // The restarted server goes on from there.
    server = await startServer(env);
    expect(await create(server, 'after-restart')).toBe(201);
    await server.kill();
  });
});
