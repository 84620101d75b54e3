/**
 * An identity provider's first SCIM push, over HTTP with 10 parallel connections. Usage:
 *
 *   node --import tsx bench/scim-first-push.ts [users=100000] [groups=5000] [sqlite|postgres]
 *
 * Starts the app on a free port (SQLite in a temporary directory, `synchronous=FULL` as the
 * server's default; or a PostgreSQL schema of its own at BENCH_DATABASE_URL), with an API key
 * of the `scim` scope, then does what Okta and Entra do on a first push: for each user
 * `GET /Users?filter=userName eq "…"` (none found) and `POST /Users`; for each group
 * `GET /Groups?filter=displayName eq "…"`, `POST /Groups` and `PATCH` adding its members
 * (users split evenly over the groups). 10 workers share a keep-alive agent of 10 sockets.
 * Prints a JSON summary (phases, requests per second, latency p50/p99, load average at start
 * and end) and writes it to bench/results/.
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { Agent, request } from 'node:http';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { buildApp } from '../src/api/app.ts';
import { createServerSecrets, generateSecretKey } from '../src/domain/server-secrets.ts';
import { AccessEngine } from '../src/engine/engine.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import { createApiKey } from '../src/services/credentials/index.ts';
import { createServices } from '../src/services/index.ts';
import { systemActor } from '../src/services/kernel/index.ts';
import { openStore } from '../src/store/open.ts';

const USERS = Number(process.argv[2] ?? 100_000);
const GROUPS = Number(process.argv[3] ?? 5_000);
const backend = process.argv[4] === 'postgres' ? 'postgres' : 'sqlite';
const CONNECTIONS = 10;

const load1 = () => loadavg().map((x) => Math.round(x * 100) / 100);

async function main(): Promise<void> {
  const loadAtStart = load1();
  const dir = mkdtempSync(join(tmpdir(), 'grantory-scim-bench-'));
  const store =
    backend === 'postgres'
      ? await openStore({ databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', pgSchema: `bench_${randomBytes(4).toString('hex')}`, dataDir: '' })
      : await openStore({ dataDir: dir });
  await store.migrate();
  const secrets = createServerSecrets(generateSecretKey());
  const { tenantId } = await bootstrap(store, { adminKey: `bench-${randomBytes(16).toString('hex')}`, secrets });
  const access = new AccessEngine(store, { pollIntervalMs: 0 });
  await access.start();
  const services = createServices({ store, now: () => new Date(), secrets, access });
  const admin = await store.read(tenantId).db.selectFrom('identities').select('id').where('tenant_id', '=', tenantId).where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow();
  const { key } = await createApiKey(services.deps, systemActor(tenantId), { name: 'bench SCIM', identityId: admin.id, scopes: ['scim'] });
  const app = await buildApp({ services, store, logLevel: 'silent', rateLimits: { windowSeconds: 60, perCredential: 0, decisionPerCredential: 0, tokenPerClient: 60, authFailuresPerIp: 30 } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const { port } = app.server.address() as { port: number };
  const agent = new Agent({ keepAlive: true, maxSockets: CONNECTIONS });

  const latencies: number[] = [];
  const send = (method: string, path: string, body?: unknown): Promise<{ status: number; json: Record<string, unknown> }> =>
    new Promise((resolve, reject) => {
      const payload = body === undefined ? undefined : Buffer.from(JSON.stringify(body));
      const started = performance.now();
      const req = request(
        { agent, host: '127.0.0.1', port, method, path: `/scim/v2${path}`, headers: { authorization: `Bearer ${key.secret}`, accept: 'application/scim+json', ...(payload ? { 'content-type': 'application/scim+json', 'content-length': payload.length } : {}) } },
        (res) => {
          const chunks: Buffer[] = [];
          res.on('data', (c: Buffer) => chunks.push(c));
          res.on('end', () => {
            latencies.push(performance.now() - started);
            const text = Buffer.concat(chunks).toString('utf8');
            resolve({ status: res.statusCode ?? 0, json: text ? (JSON.parse(text) as Record<string, unknown>) : {} });
          });
        },
      );
      req.on('error', reject);
      if (payload) req.write(payload);
      req.end();
    });
  const expectStatus = (res: { status: number; json: unknown }, status: number, what: string) => {
    if (res.status !== status) throw new Error(`${what}: ${res.status} ${JSON.stringify(res.json)}`);
  };

  /** Runs `work(i)` for i in [0, n) on CONNECTIONS workers. */
  async function parallel(n: number, work: (i: number) => Promise<void>): Promise<number> {
    let next = 0;
    const t0 = performance.now();
    await Promise.all(
      Array.from({ length: CONNECTIONS }, async () => {
        for (let i = next++; i < n; i = next++) await work(i);
      }),
    );
    return (performance.now() - t0) / 1000;
  }

  const userIds: string[] = new Array<string>(USERS);
  const userSeconds = await parallel(USERS, async (i) => {
    const userName = `user${i}@bench.example.com`;
    const found = await send('GET', `/Users?filter=${encodeURIComponent(`userName eq "${userName}"`)}`);
    expectStatus(found, 200, 'GET /Users');
    const created = await send('POST', '/Users', {
      schemas: ['urn:ietf:params:scim:schemas:core:2.0:User', 'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User'],
      userName,
      externalId: `ext-${i}`,
      name: { givenName: `Given${i}`, familyName: `Family${i}` },
      emails: [{ value: userName, type: 'work', primary: true }],
      active: true,
      'urn:ietf:params:scim:schemas:extension:enterprise:2.0:User': { employeeNumber: `E${i}`, department: `Dept ${i % 50}` },
    });
    expectStatus(created, 201, 'POST /Users');
    userIds[i] = created.json.id as string;
    if ((i + 1) % 10_000 === 0) console.error(`${i + 1} users`);
  });
  const userLatencies = latencies.splice(0);

  const perGroup = Math.ceil(USERS / Math.max(1, GROUPS));
  const groupSeconds = await parallel(GROUPS, async (g) => {
    const displayName = `Group ${g}`;
    expectStatus(await send('GET', `/Groups?filter=${encodeURIComponent(`displayName eq "${displayName}"`)}&excludedAttributes=members`), 200, 'GET /Groups');
    const created = await send('POST', '/Groups', { schemas: ['urn:ietf:params:scim:schemas:core:2.0:Group'], displayName, externalId: `grp-${g}`, members: [] });
    expectStatus(created, 201, 'POST /Groups');
    const members = userIds.slice(g * perGroup, (g + 1) * perGroup).map((value) => ({ value }));
    if (members.length) {
      const patched = await send('PATCH', `/Groups/${created.json.id as string}`, {
        schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'],
        Operations: [{ op: 'add', path: 'members', value: members }],
      });
      expectStatus(patched, 200, 'PATCH /Groups');
    }
  });
  const groupLatencies = latencies.splice(0);

  const pct = (xs: number[], p: number) => {
    const sorted = [...xs].sort((a, b) => a - b);
    return Math.round((sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))] ?? 0) * 10) / 10;
  };
  const summary = {
    bench: 'scim-first-push',
    backend,
    users: USERS,
    groups: GROUPS,
    membersPerGroup: perGroup,
    connections: CONNECTIONS,
    cpus: cpus().length,
    usersSeconds: Math.round(userSeconds * 10) / 10,
    usersPerSecond: Math.round(USERS / userSeconds),
    userRequestMs: { p50: pct(userLatencies, 50), p99: pct(userLatencies, 99) },
    groupsSeconds: Math.round(groupSeconds * 10) / 10,
    groupRequestMs: { p50: pct(groupLatencies, 50), p99: pct(groupLatencies, 99) },
    totalSeconds: Math.round((userSeconds + groupSeconds) * 10) / 10,
    loadAverageAtStart: loadAtStart,
    loadAverageAtEnd: load1(),
  };
  console.log(JSON.stringify(summary, null, 2));
  mkdirSync(join(import.meta.dirname, 'results'), { recursive: true });
  writeFileSync(join(import.meta.dirname, 'results', `scim-first-push-${USERS}-${GROUPS}-${backend}.json`), `${JSON.stringify(summary, null, 2)}\n`);
  agent.destroy();
  await app.close();
  access.stop();
  await store.close();
  rmSync(dir, { recursive: true, force: true });
}

await main();
