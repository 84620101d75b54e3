/**
 * The real server process (`grantory serve`), on free ports and data directories of its
 * own: first-start bootstrap, crash safety under kill -9, graceful shutdown, health and
 * metrics, and the `migrate` command.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, afterEach, describe, expect, it } from 'vitest';
import { RIGHTS } from '../../src/domain/rights.ts';
import { openStore } from '../../src/store/open.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { CONSOLE_DIR } from '../../src/domain/install-dir.ts';
import { consoleInstalled } from '../../src/api/routes/front-door.ts';
import { join, resolve } from 'node:path';
import { killAllServers, PROCESS_TIMEOUT, runCli, startServer, tempDir, type ServerProcess } from '../support/cli.ts';
import { createThrowawayDatabase, TEST_BACKEND, TEST_SECRET_KEY, type Backend } from '../support/harness.ts';

const ALL_MIGRATIONS = Object.keys(MIGRATIONS).sort().join(', ');

const CHOSEN_KEY = 'ops-chosen-admin-key-0123456789abcdefghij';
const GENERATED_KEY = /gty_[0-9A-Za-z]{38}/g;

/** Where the start message sends a new user: the console when its files are built, else the API reference. */
const nextStep = (url: string) =>
  consoleInstalled(CONSOLE_DIR)
    ? `grantory: next: open ${url}/console (the console) or ${url}/docs (the API reference)`
    : `grantory: next: open ${url}/docs (the API reference; ${url}/ lists the starting points)`;

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  await killAllServers();
  for (const cleanup of cleanups.splice(0).reverse()) await cleanup();
});
afterAll(killAllServers);

function dataDir(label: string): string {
  const dir = tempDir(label);
  cleanups.push(() => dir.remove());
  return dir.path;
}

async function get(server: ServerProcess, path: string, key?: string): Promise<{ status: number; body: string; type: string }> {
  const res = await fetch(`${server.url}${path}`, key ? { headers: { authorization: `Bearer ${key}` } } : {});
  return { status: res.status, body: await res.text(), type: res.headers.get('content-type') ?? '' };
}

/** SIGTERM, then the exit status once the process has ended (all its output read). */
async function stop(server: ServerProcess): Promise<{ code: number | null; signal: NodeJS.Signals | null }> {
  server.child.kill('SIGTERM');
  return server.exited;
}

describe('first start', PROCESS_TIMEOUT, () => {
  it('prints a generated administrator key once; it works; a second start prints none', async () => {
    const dir = dataDir('first-start');
    const first = await startServer({ GRANTORY_DATA_DIR: dir });
    await first.waitForStderr(GENERATED_KEY);
    const [key] = first.stderr().match(GENERATED_KEY)!;
    const me = await get(first, '/api/v1/me', key);
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ kind: 'api_key', name: 'API Token - bootstrap', rights: [...RIGHTS].sort(), scopes: null });
    expect((await get(first, '/api/v1/me')).status).toBe(401);
    expect(await stop(first)).toEqual({ code: 0, signal: null });
    expect(first.stderr().match(GENERATED_KEY)).toEqual([key]);
    expect(first.stderr()).toBe(
      [
        `grantory: applied migrations ${ALL_MIGRATIONS}`,
        `grantory: generated the server secret key into ${join(resolve(dir), 'secret.key')} (back it up with the database)`,
        'grantory: generated the administrator API key (shown once; store it now):',
        `  ${key}`,
        `  use it as: Authorization: Bearer <key>, e.g. curl -H "Authorization: Bearer <key>" ${first.url}/api/v1/me`,
        nextStep(first.url),
        'grantory: SIGTERM received, finishing in-flight requests',
        '',
      ].join('\n'),
    );

    const second = await startServer({ GRANTORY_DATA_DIR: dir });
    expect((await get(second, '/api/v1/me', key)).status).toBe(200);
    expect(await stop(second)).toEqual({ code: 0, signal: null });
    expect(second.stderr()).toBe(`${nextStep(second.url)}\ngrantory: SIGTERM received, finishing in-flight requests\n`);
    expect(second.stdout()).toBe(`Grantory listening on ${second.url} (store: SQLite in ${dir})\n`);
  });

  it('generates no key in a first start that cannot bind its port; the next start does', async () => {
    const dir = dataDir('port-taken');
    const blocker = await startServer({ GRANTORY_DATA_DIR: dataDir('blocker'), GRANTORY_BOOTSTRAP_ADMIN_KEY: CHOSEN_KEY });
    const port = new URL(blocker.url).port;
    const failed = await runCli(['serve'], { GRANTORY_DATA_DIR: dir, GRANTORY_PORT: port, GRANTORY_HOST: '127.0.0.1' });
    expect(failed).toEqual({ code: 2, signal: null, stdout: '', stderr: `grantory: GRANTORY_PORT: port ${port} is already in use\n` });
    const next = await startServer({ GRANTORY_DATA_DIR: dir });
    await next.waitForStderr(GENERATED_KEY);
    const [key] = next.stderr().match(GENERATED_KEY)!;
    expect((await get(next, '/api/v1/me', key)).status).toBe(200);
  });

  it('honours GRANTORY_BOOTSTRAP_ADMIN_KEY and generates nothing', async () => {
    const server = await startServer({ GRANTORY_DATA_DIR: dataDir('chosen-key'), GRANTORY_BOOTSTRAP_ADMIN_KEY: CHOSEN_KEY });
    const me = await get(server, '/api/v1/me', CHOSEN_KEY);
    expect(me.status).toBe(200);
    expect(JSON.parse(me.body)).toMatchObject({ kind: 'api_key', name: 'API Token - bootstrap', rights: [...RIGHTS].sort() });
    expect(await stop(server)).toEqual({ code: 0, signal: null });
    expect(server.stderr()).not.toMatch(/gty_|generated the administrator/);
  });
});

/** Sends writes from several workers until the process dies; returns the ids acknowledged with 201. */
async function writeUntilKilled(server: ServerProcess, killAfter: number): Promise<{ acknowledged: string[]; attempted: number }> {
  const acknowledged: string[] = [];
  let attempted = 0;
  let killed = false;
  const worker = async (w: number) => {
    for (let i = 0; ; i += 1) {
      attempted += 1;
      let res: Response;
      try {
        res = await fetch(`${server.url}/api/v1/api-keys`, {
          method: 'POST',
          headers: { authorization: `Bearer ${CHOSEN_KEY}`, 'content-type': 'application/json' },
          body: JSON.stringify({ name: `crash ${w}-${i}` }),
        });
      } catch {
        // The connection failed: the process is gone. Unacknowledged writes may or may not have committed.
        if (!killed) throw new Error('a write failed before the process was killed');
        return;
      }
      if (res.status !== 201) {
        throw new Error(`unexpected status ${res.status}: ${await res.text()}`);
      }
      const body = (await res.json()) as { id: string };
      acknowledged.push(body.id);
      if (acknowledged.length >= killAfter && !killed) {
        killed = true;
        server.child.kill('SIGKILL');
      }
    }
  };
  await Promise.all(Array.from({ length: 8 }, (_, w) => worker(w)));
  return { acknowledged, attempted };
}

const crashBackends: Backend[] = TEST_BACKEND === 'postgres' ? ['sqlite', 'postgres'] : ['sqlite'];

describe.each(crashBackends)('crash safety on %s', PROCESS_TIMEOUT, (backend) => {
  it('keeps every acknowledged write and an intact audit trail after kill -9', async () => {
    let env: Record<string, string>;
    if (backend === 'postgres') {
      const database = await createThrowawayDatabase();
      cleanups.push(() => database.drop());
      // PostgreSQL needs the server secret set (every node shares it).
      env = { DATABASE_URL: database.url, GRANTORY_SECRET_KEY: TEST_SECRET_KEY };
    } else {
      env = { GRANTORY_DATA_DIR: dataDir('crash') };
    }
    const server = await startServer({ ...env, GRANTORY_BOOTSTRAP_ADMIN_KEY: CHOSEN_KEY });
    const { acknowledged, attempted } = await writeUntilKilled(server, 60);
    expect(await server.exited).toEqual({ code: null, signal: 'SIGKILL' });
    expect(acknowledged.length).toBeGreaterThanOrEqual(60);

    const restarted = await startServer(env);
    const list = await get(restarted, '/api/v1/api-keys', CHOSEN_KEY);
    expect(list.status).toBe(200);
    const stored = (JSON.parse(list.body) as { items: { id: string; name: string }[] }).items.filter((k) => k.name !== 'bootstrap');
    const storedIds = new Set(stored.map((k) => k.id));
    expect(acknowledged.filter((id) => !storedIds.has(id))).toEqual([]);
    expect(stored.length).toBeLessThanOrEqual(attempted);
    expect(await stop(restarted)).toEqual({ code: 0, signal: null });

    // Every stored key has exactly its one audit event, and the chain verifies.
    const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: env.GRANTORY_DATA_DIR ?? '' });
    try {
      const [tenant] = await store.listTenants();
      const { db } = store.read(tenant!.id);
      const created = await db
        .selectFrom('audit_events')
        .select('target_id')
        .where('tenant_id', '=', tenant!.id)
        .where('action', '=', 'api_key.create')
        .where('actor_type', '=', 'api_key')
        .execute();
      expect(created.map((e) => e.target_id).sort()).toEqual([...storedIds].sort());
    } finally {
      await store.close();
    }
    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.stdout).toMatch(/^tenant default: ok, \d+ events, \d+ checkpoints matched, head [0-9a-f]{64}\n$/);
    expect(verify.stderr).toBe('');
    expect(verify.code).toBe(0);
  });
});

describe('graceful shutdown', PROCESS_TIMEOUT, () => {
  it('finishes a request in flight on SIGTERM, refuses new ones, and exits 0', async () => {
    // Logging at debug shows on stdout when the request has arrived (its headers are parsed).
    const server = await startServer({ GRANTORY_DATA_DIR: dataDir('shutdown'), GRANTORY_BOOTSTRAP_ADMIN_KEY: CHOSEN_KEY, GRANTORY_LOG_LEVEL: 'debug', GRANTORY_LOG_FORMAT: 'json' });
    const body = JSON.stringify({ name: 'in flight during shutdown' });
    const response = new Promise<{ status: number; body: string }>((resolveResponse, reject) => {
      const req = httpRequest(`${server.url}/api/v1/api-keys`, {
        method: 'POST',
        headers: { authorization: `Bearer ${CHOSEN_KEY}`, 'content-type': 'application/json', 'content-length': Buffer.byteLength(body) },
      });
      req.on('response', (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolveResponse({ status: res.statusCode ?? 0, body: text }));
      });
      req.on('error', reject);
      // Half the body now; the rest only once the server is shutting down.
      req.write(body.slice(0, 10));
      void server
        .waitForStdout(/"msg":"incoming request"/)
        .then(() => {
          server.child.kill('SIGTERM');
          return server.waitForStderr(/SIGTERM received/);
        })
        .then(async () => {
          // A new connection is no longer served while the old request is still in flight.
          const refused = await fetch(`${server.url}/livez`).then(
            (res) => res.status,
            () => 'refused',
          );
          expect(refused === 'refused' || refused === 503).toBe(true);
          req.end(body.slice(10));
        })
        .catch(reject);
    });
    const res = await response;
    expect(res.status).toBe(201);
    expect(JSON.parse(res.body)).toMatchObject({ name: 'in flight during shutdown', revision: 3 });
    expect(await server.exited).toEqual({ code: 0, signal: null });
  });
});

describe('operations endpoints', PROCESS_TIMEOUT, () => {
  it('answers /livez and /readyz, and counts requests and store queries in /metrics', async () => {
    const server = await startServer({ GRANTORY_DATA_DIR: dataDir('operations'), GRANTORY_BOOTSTRAP_ADMIN_KEY: CHOSEN_KEY });
    const livez = await get(server, '/livez');
    expect(livez).toMatchObject({ status: 200 });
    expect(JSON.parse(livez.body)).toEqual({ status: 'ok' });
    const readyz = await get(server, '/readyz');
    expect(readyz.status).toBe(200);
    expect(JSON.parse(readyz.body)).toEqual({ status: 'ok', checks: { store: 'ok', migrations: 'ok' } });
    expect((await get(server, '/api/v1/me', CHOSEN_KEY)).status).toBe(200);
    expect((await get(server, '/api/v1/me')).status).toBe(401);

    const metrics = await get(server, '/metrics');
    expect(metrics.status).toBe(200);
    expect(metrics.type).toMatch(/^text\/plain/);
    const lines = metrics.body.split('\n');
    expect(lines).toContain('grantory_http_requests_total{method="GET",route="/livez",status="200"} 1');
    expect(lines).toContain('grantory_http_requests_total{method="GET",route="/readyz",status="200"} 1');
    expect(lines).toContain('grantory_http_requests_total{method="GET",route="/api/v1/me",status="200"} 1');
    expect(lines).toContain('grantory_http_requests_total{method="GET",route="/api/v1/me",status="401"} 1');
    expect(lines).toContain('# TYPE grantory_store_query_duration_seconds histogram');
    const queries = lines.find((l) => l.startsWith('grantory_store_query_duration_seconds_count{outcome="ok"}'));
    expect(Number(queries?.split(' ')[1])).toBeGreaterThan(0);
    expect(lines.some((l) => l.startsWith('grantory_process_cpu_seconds_total'))).toBe(true);
    expect(await stop(server)).toEqual({ code: 0, signal: null });
  });
});

describe('grantory migrate', PROCESS_TIMEOUT, () => {
  it('applies the migrations to a fresh data directory, then reports it up to date', async () => {
    const dir = dataDir('migrate');
    expect(await runCli(['migrate'], { GRANTORY_DATA_DIR: dir })).toEqual({ code: 0, signal: null, stdout: `applied: ${ALL_MIGRATIONS}\n`, stderr: '' });
    expect(await runCli(['migrate'], { GRANTORY_DATA_DIR: dir })).toEqual({ code: 0, signal: null, stdout: 'the database is up to date\n', stderr: '' });
    // A server on a migrated store has nothing left to apply.
    const server = await startServer({ GRANTORY_DATA_DIR: dir, GRANTORY_BOOTSTRAP_ADMIN_KEY: CHOSEN_KEY });
    expect(await stop(server)).toEqual({ code: 0, signal: null });
    expect(server.stderr()).not.toMatch(/applied migrations/);
  });
});
