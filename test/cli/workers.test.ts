/**
 * `grantory serve` with GRANTORY_WORKERS=2: two server processes on one port, on the
 * database GRANTORY_TEST_DATABASE picks. Every request here opens its own connection, so the
 * primary spreads them over both workers (the access log's pid shows which answered).
 *
 * - freshness: a removed right, a deleted API key and a revoked token are refused on the
 *   next request by whichever worker answers it, though both workers have just accepted
 *   (and cached) the credential;
 * - rate limits are counted across the workers (GRANTORY_RATE_LIMIT=12 here);
 * - /metrics shows the whole node (every worker's counts summed), whichever worker answers;
 * - the node serves once the first worker listens; the second joins when ready, and then both answer;
 * - SIGTERM stops the primary and both workers with exit code 0.
 */
import { request as httpRequest } from 'node:http';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createThrowawayDatabase, TEST_BACKEND, TEST_SECRET_KEY, type ThrowawayDatabase } from '../support/harness.ts';
import { killAllServers, PROCESS_TIMEOUT, startServer, tempDir, type ServerProcess } from '../support/cli.ts';

const ADMIN = 'workers-admin-key-0123456789abcdefghijklmn';

interface Answer {
  status: number;
  body: unknown;
}

/** One request on a connection of its own (no keep-alive: the next may reach the other worker). */
function send(base: string, method: string, path: string, authorization: string | null, body?: unknown): Promise<Answer> {
  const url = new URL(path, base);
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((resolve, reject) => {
    const req = httpRequest(
      url,
      {
        method,
        agent: false,
        headers: { ...(authorization ? { authorization } : {}), ...(payload ? { 'content-type': 'application/json' } : {}) },
      },
      (res) => {
        let text = '';
        res.on('data', (d: Buffer) => (text += d.toString()));
        res.on('end', () => resolve({ status: res.statusCode ?? 0, body: text ? JSON.parse(text) : null }));
      },
    );
    req.on('error', reject);
    req.end(payload);
  });
}

/** A GET on a connection of its own, its body as text. */
function text(base: string, path: string): Promise<{ status: number; body: string }> {
  return new Promise((resolve, reject) => {
    const req = httpRequest(new URL(path, base), { method: 'GET', agent: false }, (res) => {
      let body = '';
      res.on('data', (d: Buffer) => (body += d.toString()));
      res.on('end', () => resolve({ status: res.statusCode ?? 0, body }));
    });
    req.on('error', reject);
    req.end();
  });
}

/** The pids of the access-log lines of requests to `path` (GRANTORY_ACCESS_LOG=all, json). */
/** The workers that answered `path` with `status` (in the log written after `since` characters). */
function pidsOf(server: ServerProcess, path: string, status: number, since = 0): Set<number> {
  const pids = new Set<number>();
  for (const line of server.stdout().slice(since).split('\n')) {
    if (!line.startsWith('{')) continue;
    const entry = JSON.parse(line) as { pid?: number; url?: string; statusCode?: number };
    if (entry.url === path && entry.statusCode === status && entry.pid) pids.add(entry.pid);
  }
  return pids;
}

/** pidsOf once the log lines of the requests just answered have arrived (a worker writes its line after answering). */
async function answeredBy(proc: ServerProcess, path: string, status: number, since = 0): Promise<number> {
  for (let i = 0; i < 50 && pidsOf(proc, path, status, since).size < 2; i += 1) await new Promise((r) => setTimeout(r, 100));
  return pidsOf(proc, path, status, since).size;
}

let server: ServerProcess;
let pg: ThrowawayDatabase | null = null;
const dir = tempDir('workers');
const admin = `Bearer ${ADMIN}`;

beforeAll(async () => {
  pg = TEST_BACKEND === 'postgres' ? await createThrowawayDatabase() : null;
  server = await startServer({
    GRANTORY_WORKERS: '2',
    GRANTORY_DATA_DIR: dir.path,
    ...(pg ? { DATABASE_URL: pg.url, GRANTORY_SECRET_KEY: TEST_SECRET_KEY } : {}),
    GRANTORY_BOOTSTRAP_ADMIN_KEY: ADMIN,
    GRANTORY_LOG_LEVEL: 'info',
    GRANTORY_LOG_FORMAT: 'json',
    GRANTORY_ACCESS_LOG: 'all',
    GRANTORY_RATE_LIMIT: '12',
    // An hour's window (aligned to the epoch): no window ends while the test runs, but in its last seconds.
    GRANTORY_RATE_LIMIT_WINDOW: '3600',
  });
  // The node serves once the first worker listens; the second joins the port when it is ready.
  expect(server.stdout()).toMatch(/\(2 workers\)/);
  for (let i = 0; i < 1200 && !/2 of 2 workers serving/.test(server.stderr()); i += 1) await new Promise((r) => setTimeout(r, 100));
  expect(server.stderr()).toMatch(/2 of 2 workers serving/);
  // Both workers ready: several ready answers in a row, each on a new connection (a joining
  // worker listens only once its index is built, so none of them is a 503).
  const ready: number[] = [];
  for (let i = 0; i < 6; i += 1) ready.push((await send(server.url, 'GET', '/readyz', null)).status);
  expect(ready).toEqual([200, 200, 200, 200, 200, 200]);
}, 180_000);

afterAll(async () => {
  await killAllServers();
  await pg?.drop();
  dir.remove();
}, 60_000);

/** `n` requests, each on a new connection: their statuses. */
async function statuses(n: number, method: string, path: string, authorization: string): Promise<number[]> {
  const out: number[] = [];
  for (let i = 0; i < n; i += 1) out.push((await send(server.url, method, path, authorization)).status);
  return out;
}

describe('two workers on one port', () => {
  it('refuses a removed right, a deleted key and a revoked token on the next request, on both workers', PROCESS_TIMEOUT, async () => {
    const identity = await send(server.url, 'POST', '/api/v1/identities', admin, { subject: 'svc:workers', username: 'workers' });
    expect(identity.status).toBe(201);
    const identityId = (identity.body as { id: string }).id;
    const key = await send(server.url, 'POST', '/api/v1/api-keys', admin, { name: 'workers', identityId });
    expect(key.status).toBe(201);
    const { id: keyId, secret } = key.body as { id: string; secret: string };
    const permissions = await send(server.url, 'GET', '/api/v1/permissions?limit=500', admin);
    const readAudit = (permissions.body as { items: { id: string; name: string }[] }).items.find((p) => p.name === 'read-audit')!.id;
    const assignment = await send(server.url, 'POST', '/api/v1/assignments', admin, { assignee: { type: 'identity', id: identityId }, resource: { type: 'permission', id: readAudit } });
    expect(assignment.status).toBe(201);
    const assignmentId = (assignment.body as { id: string }).id;

    const keyAuth = `Bearer ${secret}`;
    const audit = '/api/v1/audit-events?limit=1';
    expect(await statuses(4, 'GET', audit, keyAuth)).toEqual([200, 200, 200, 200]);
    // The right removed through one worker: the very next requests, on either worker, are refused.
    expect((await send(server.url, 'POST', `/api/v1/assignments/${assignmentId}/revoke`, admin, {})).status).toBe(200);
    expect(await statuses(4, 'GET', audit, keyAuth)).toEqual([403, 403, 403, 403]);
    expect(await answeredBy(server, audit, 403)).toBe(2);

    // The key deleted: refused at once everywhere, though both workers hold it in their
    // credential caches (each has just accepted it).
    expect(await statuses(4, 'GET', '/api/v1/me', keyAuth)).toEqual([200, 200, 200, 200]);
    expect(await answeredBy(server, '/api/v1/me', 200)).toBe(2);
    expect((await send(server.url, 'DELETE', `/api/v1/api-keys/${keyId}`, admin)).status).toBe(200);
    expect(await statuses(4, 'GET', '/api/v1/me', keyAuth)).toEqual([401, 401, 401, 401]);
    expect(await answeredBy(server, '/api/v1/me', 401)).toBe(2);

    // An OAuth client's token, revoked: refused at once everywhere.
    const client = await send(server.url, 'POST', '/api/v1/clients', admin, { name: 'workers-client', scopes: ['grantory:*'] });
    expect(client.status).toBe(201);
    const { clientId, clientSecret } = client.body as { clientId: string; clientSecret: string };
    const token = await send(server.url, 'POST', '/oauth/token', null, { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
    expect(token.status).toBe(200);
    const accessToken = (token.body as { access_token: string }).access_token;
    const beforeToken = server.stdout().length;
    expect(await statuses(4, 'GET', '/api/v1/me', `Bearer ${accessToken}`)).toEqual([200, 200, 200, 200]);
    expect(await answeredBy(server, '/api/v1/me', 200, beforeToken)).toBe(2);
    const revoked = await send(server.url, 'POST', '/oauth/revoke', null, { token: accessToken, client_id: clientId, client_secret: clientSecret });
    expect(revoked.status).toBe(200);
    expect(await statuses(4, 'GET', '/api/v1/me', `Bearer ${accessToken}`)).toEqual([401, 401, 401, 401]);
  });

  it('counts a credential\'s rate limit across both workers', PROCESS_TIMEOUT, async () => {
    const identity = await send(server.url, 'POST', '/api/v1/identities', admin, { subject: 'svc:limited', username: 'limited' });
    const key = await send(server.url, 'POST', '/api/v1/api-keys', admin, { name: 'limited', identityId: (identity.body as { id: string }).id });
    const auth = `Bearer ${(key.body as { secret: string }).secret}`;
    // Twelve requests spread over two workers: each worker saw about six of them.
    expect(await statuses(12, 'GET', '/api/v1/me', auth)).toEqual(Array(12).fill(200));
    // After a sync interval both know the twelve: without sharing, each could admit six more.
    await new Promise((r) => setTimeout(r, 500));
    expect(await statuses(4, 'GET', '/api/v1/me', auth)).toEqual([429, 429, 429, 429]);
    expect(await answeredBy(server, '/api/v1/me', 429)).toBe(2);
  });

  it('answers /metrics for the whole node, whichever worker answers the scrape', PROCESS_TIMEOUT, async () => {
    expect(await statuses(6, 'GET', '/livez', admin)).toEqual(Array(6).fill(200));
    const counted = /^grantory_http_requests_total\{method="GET",route="\/livez",status="200"\} (\d+)$/m;
    // The primary spreads connections round-robin: each worker answered three of them, and
    // one scrape of the next two goes to each worker. Both show all six.
    for (let i = 0; i < 2; i += 1) {
      const scrape = await text(server.url, '/metrics');
      expect(scrape.status).toBe(200);
      expect(Number(counted.exec(scrape.body)?.[1])).toBe(6);
    }
  });

  it('stops the primary and both workers on SIGTERM', PROCESS_TIMEOUT, async () => {
    server.child.kill('SIGTERM');
    const { code } = await server.exited;
    expect(code).toBe(0);
    expect(server.stderr()).toMatch(/SIGTERM received/);
  });
});
