/**
 * Access benchmarks. Usage:
 *
 *   node --expose-gc --import tsx bench/run.ts S|M|L [sqlite|postgres] [--no-http] [--no-casbin]
 *
 * Loads a seeded dataset (bench/dataset.ts) through the store, builds the access index, and
 * measures: build time and RSS; in-process check p50/p99 (cold and warm cache) and
 * throughput; list-of-identity p50/p99; holders-of-permission; the naive SQL check; casbin
 * (RBAC with role hierarchy) on the same assignments; HTTP POST /check with autocannon next to
 * a bare Fastify JSON route in the same run. Prints a JSON summary (bench/results/).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { AccessEngine } from '../src/engine/engine.ts';
import { askContext, checkSlots, holders, listAccess } from '../src/engine/queries.ts';
import { type Store } from '../src/store/store.ts';
import { openStore } from '../src/store/open.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import { createServerSecrets, generateSecretKey } from '../src/domain/server-secrets.ts';

/** One server secret per bench run: bootstrap and the services must hash API keys alike. */
const BENCH_SECRETS = createServerSecrets(generateSecretKey());
import { generate, idOf, load, rng, SIZES, type Dataset } from './dataset.ts';

const ADMIN_KEY = 'bench-admin-key-0123456789abcdefghijklmnopqrstu';

function percentile(sorted: Float64Array | number[], p: number): number {
  if (sorted.length === 0) return NaN;
  return sorted[Math.min(sorted.length - 1, Math.floor((p / 100) * sorted.length))]!;
}
function stats(samples: number[]): { p50: number; p99: number; mean: number } {
  const s = Float64Array.from(samples).sort();
  return { p50: percentile(s, 50), p99: percentile(s, 99), mean: samples.reduce((a, b) => a + b, 0) / Math.max(1, samples.length) };
}
const ns = () => Number(process.hrtime.bigint());
const gc = (globalThis as { gc?: () => void }).gc;
const mb = (bytes: number) => Math.round(bytes / 1048576);
/** CPU seconds this process used (user + system): robust against other processes on the machine. */
const cpuSeconds = () => {
  const u = process.cpuUsage();
  return (u.user + u.system) / 1e6;
};

interface BenchStore {
  store: Store;
  /** Opens another store (connection pool) on the same database: a second node. */
  openSecond: () => Promise<Store>;
  dispose: () => Promise<void>;
}

async function openBenchStore(backend: string): Promise<BenchStore> {
  if (backend === 'postgres') {
    const url = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    const store = await openStore({ databaseUrl: url, pgSchema: schema, dataDir: '' });
    return {
      store,
      openSecond: () => openStore({ databaseUrl: url, pgSchema: schema, dataDir: '' }),
      dispose: async () => {
        await sql`drop schema if exists ${sql.id(schema)} cascade`.execute(store.read('').db).catch(() => undefined);
        await store.close();
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'grantory-bench-'));
  const store = await openStore({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
  return {
    store,
    openSecond: () => openStore({ dataDir: dir, sqliteSynchronous: 'NORMAL' }),
    dispose: async () => { await store.close(); rmSync(dir, { recursive: true, force: true }); },
  };
}

async function main(): Promise<void> {
  const sizeName = (process.argv[2] ?? 'S') as keyof typeof SIZES;
  const backend = process.argv[3] === 'postgres' ? 'postgres' : 'sqlite';
  const withHttp = !process.argv.includes('--no-http');
  const withCasbin = !process.argv.includes('--no-casbin');
  const size = SIZES[sizeName];
  if (!size) throw new Error(`unknown size ${sizeName}`);
  const out: Record<string, unknown> = { size: sizeName, backend, node: process.version, date: new Date().toISOString(), loadAverageAtStart: (await import('node:os')).loadavg() };
  const log = (s: string) => process.stderr.write(`${s}\n`);

  const { store, openSecond, dispose } = await openBenchStore(backend);
  try {
    await store.migrate();
    const boot = await bootstrap(store, { adminKey: ADMIN_KEY, secrets: BENCH_SECRETS });
    const tenantId = boot.tenantId;
    const d = generate(size, 42);
    let t0 = Date.now();
    let c0 = cpuSeconds();
    await load(store, tenantId, d, log);
    out.loadSeconds = (Date.now() - t0) / 1000;
    out.loadCpuSeconds = cpuSeconds() - c0;
    log(`loaded in ${out.loadSeconds} s`);

    gc?.();
    const rssBefore = process.memoryUsage().rss;
    const engine = new AccessEngine(store, { pollIntervalMs: 0 });
    t0 = Date.now();
    c0 = cpuSeconds();
    await engine.start();
    out.buildSeconds = (Date.now() - t0) / 1000;
    out.buildCpuSeconds = cpuSeconds() - c0;
    gc?.();
    out.rssAfterBuildMB = mb(process.memoryUsage().rss);
    out.rssIndexMB = mb(process.memoryUsage().rss - rssBefore);
    log(`index built in ${out.buildSeconds} s, RSS ${out.rssAfterBuildMB} MB`);
    const { index } = await engine.at(tenantId);
    const now = engine.now();
    const all = askContext(index, undefined);

    // Queries: half from real assignments (often true), half random.
    const r = rng(7);
    const Q = 200_000;
    const qi = new Int32Array(Q);
    const qp = new Int32Array(Q);
    for (let k = 0; k < Q; k += 1) {
      const a = d.assignments[Math.floor(r() * d.assignments.length)]!;
      const identity = !a.toUnit && r() < 0.5 ? a.assignee : Math.floor(r() * size.identities);
      const perm = !a.toRole && r() < 0.5 ? a.resource : a.toRole ? (d.rolePerms[a.resource]![0] ?? 0) : Math.floor(r() * size.permissions);
      qi[k] = index.identities.find(idOf.identity(identity));
      qp[k] = index.perms.find(idOf.perm(perm));
    }
    // Timer overhead of one measurement.
    const overhead: number[] = [];
    for (let k = 0; k < 100_000; k += 1) { const a = ns(); overhead.push(ns() - a); }
    const timerNs = stats(overhead).p50;

    const measureChecks = () => {
      const samples: number[] = new Array(Q);
      let allowed = 0;
      for (let k = 0; k < Q; k += 1) {
        const a = ns();
        if (checkSlots(index, qi[k]!, qp[k]!, all, now, 'assigned')) allowed += 1;
        samples[k] = ns() - a - timerNs;
      }
      return { ...stats(samples), allowed };
    };
    const cold = measureChecks();
    const warm = measureChecks();
    let loops = 0;
    t0 = ns();
    c0 = cpuSeconds();
    let sink = 0;
    while (cpuSeconds() - c0 < 2) {
      for (let k = 0; k < Q; k += 1) if (checkSlots(index, qi[k]!, qp[k]!, all, now, 'assigned')) sink += 1;
      loops += 1;
    }
    // Checks per CPU-second of this (single-threaded) process, and per wall-clock second.
    const throughput = (loops * Q) / (cpuSeconds() - c0);
    const wallThroughput = (loops * Q) / ((ns() - t0) / 1e9);
    out.check = { coldP50ns: cold.p50, coldP99ns: cold.p99, warmP50ns: warm.p50, warmP99ns: warm.p99, allowedShare: cold.allowed / Q, throughputPerCpuSec: Math.round(throughput), throughputPerWallSec: Math.round(wallThroughput), timerOverheadNs: timerNs, sink: sink > 0 };
    log(`check: ${JSON.stringify(out.check)}`);

    // list of an identity (cold = first computation for that identity in this pass).
    const listSamples: number[] = [];
    const listIds: number[] = [];
    for (let k = 0; k < 20_000; k += 1) listIds.push(index.identities.find(idOf.identity(Math.floor(r() * size.identities))));
    let listed = 0;
    for (const i of listIds) { const a = ns(); listed += listAccess(index, i, now, 'assigned').length; listSamples.push(ns() - a - timerNs); }
    const listWarm: number[] = [];
    for (const i of listIds) { const a = ns(); listAccess(index, i, now, 'assigned'); listWarm.push(ns() - a - timerNs); }
    out.list = { ...prefix('warm', stats(listWarm)), ...prefix('first', stats(listSamples)), meanPermissions: listed / listIds.length };
    log(`list: ${JSON.stringify(out.list)}`);

    // holders of a permission (first page of 100)
    const holderSamples: number[] = [];
    let holderCount = 0;
    for (let k = 0; k < 200; k += 1) {
      const p = index.perms.find(idOf.perm(Math.floor(r() * size.permissions)));
      const a = ns();
      holderCount += holders(index, p, now, 'assigned', null, 100).items.length;
      holderSamples.push(ns() - a);
    }
    out.holders = { ...stats(holderSamples), meanFirstPage: holderCount / 200 };
    log(`holders: ${JSON.stringify(out.holders)}`);

    // The naive SQL check (recursive CTEs over units and roles).
    const sqlSamples: number[] = [];
    const db = store.read(tenantId).db;
    const nowIso = new Date(now).toISOString();
    const sqlN = sizeName === 'S' ? 500 : sizeName === 'M' ? 100 : 30;
    for (let k = 0; k < sqlN; k += 1) {
      const a = ns();
      await naiveSqlCheck(db, tenantId, index.identities.get(qi[k]!).id, index.perms.get(qp[k]!).id, nowIso);
      sqlSamples.push(ns() - a);
    }
    const sqlStats = stats(sqlSamples);
    out.naiveSql = { ...sqlStats, checks: sqlN, throughputPerSec: Math.round(1e9 / sqlStats.mean), engineRatio: Math.round(throughput / (1e9 / sqlStats.mean)) };
    log(`naive SQL: ${JSON.stringify(out.naiveSql)}`);

    gc?.();
    out.rssAfterQueriesMB = mb(process.memoryUsage().rss);
    out.effectiveCacheMB = mb(index.cachedBytes);
    out.twoNodes = await twoNodesBench(store, openSecond, tenantId, d, log);
    if (withCasbin) out.casbin = await casbinBench(d, now, qi, qp, index, throughput, log);
    if (withHttp) out.http = await httpBench(store, engine, tenantId, index, qi, qp, log);
    engine.stop();
  } finally {
    await dispose();
  }
  out.loadAverageAtEnd = (await import('node:os')).loadavg();
  out.cpuSecondsTotal = cpuSeconds();
  mkdirSync('bench/results', { recursive: true });
  writeFileSync(`bench/results/${sizeName}-${backend}.json`, `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
  process.exit(0);
}

function prefix(p: string, s: { p50: number; p99: number; mean: number }) {
  return { [`${p}P50ns`]: Math.round(s.p50), [`${p}P99ns`]: Math.round(s.p99), [`${p}MeanNs`]: Math.round(s.mean) };
}

type Db = ReturnType<Store['read']>['db'];

/** What a straightforward SQL implementation does per check. */
async function naiveSqlCheck(db: Db, tenantId: string, identityId: string, permissionId: string, now: string): Promise<boolean> {
  const result = await sql<{ ok: number }>`
    with recursive units(id) as (
      select org_unit_id from identities where tenant_id = ${tenantId} and id = ${identityId} and status = 'active' and org_unit_id is not null
      union select u.parent_id from org_units u join units on u.id = units.id where u.tenant_id = ${tenantId} and u.parent_id is not null
    ),
    granted(resource_type, resource_id) as (
      select resource_type, resource_id from assignments a
       where a.tenant_id = ${tenantId} and a.state = 'active' and a.context_type = 'all'
         and (a.valid_from is null or a.valid_from <= ${now}) and (a.valid_to is null or a.valid_to > ${now})
         and ((a.assignee_type = 'identity' and a.assignee_id = ${identityId}) or (a.assignee_type = 'orgUnit' and a.assignee_id in (select id from units)))
         and exists (select 1 from identities i where i.tenant_id = ${tenantId} and i.id = ${identityId} and i.status = 'active')
    ),
    roles(id) as (
      select resource_id from granted where resource_type = 'role'
      union select ri.included_role_id from role_includes ri join roles on ri.role_id = roles.id where ri.tenant_id = ${tenantId}
    )
    select 1 as ok where exists (select 1 from granted where resource_type = 'permission' and resource_id = ${permissionId})
       or exists (select 1 from role_permissions rp join roles on rp.role_id = roles.id where rp.tenant_id = ${tenantId} and rp.permission_id = ${permissionId})
  `.execute(db);
  return result.rows.length > 0;
}

/**
 * Write-to-visible latency across two nodes on one database: node A writes (an assignment,
 * through the store's write protocol as the assignment service does), node B — its own
 * store connection and access engine — sees it. Two ways B learns of it: by itself (its
 * engine follows the change feed every 200 ms, the server default) and when a read names
 * the write's revision (`minRevision`: B syncs on demand). Time from A's commit.
 */
async function twoNodesBench(store: Store, openSecond: () => Promise<Store>, tenantId: string, d: Dataset, log: (s: string) => void): Promise<Record<string, unknown>> {
  const { insertAssignment } = await import('../src/services/access/assignments.ts');
  const storeB = await openSecond();
  const nodeB = new AccessEngine(storeB, { pollIntervalMs: 200 });
  try {
    const t0 = Date.now();
    await nodeB.start();
    const buildSeconds = (Date.now() - t0) / 1000;
    const meta = { actorType: 'system' as const, actorId: null, actorName: 'bench two nodes' };
    const r = rng(11);
    const writeMs: number[] = [];
    const byItselfMs: number[] = [];
    const minRevisionMs: number[] = [];
    const N = 100;
    for (let k = 0; k < 2 * N; k += 1) {
      // A permission the identity cannot hold yet: a new one per write (no role gives it).
      // An active identity (the dataset puts every 50th on leave).
      const identityId = idOf.identity(Math.floor(r() * (d.size.identities / 50)) * 50);
      const permissionId = `bench-visible-${k}`;
      await store.write(tenantId, meta, async (tx) => {
        await tx.db
          .insertInto('permissions')
          .values({ id: permissionId, tenant_id: tenantId, number: 9_000_000 + k, application_id: idOf.app(0), name: permissionId, category: null, description: null, risk: 'low', requestable: 1, delegable: 0, created_at: tx.now, updated_at: tx.now, version: 1 })
          .execute();
        tx.change('permission', permissionId, 'create');
        tx.audit({ action: 'permission.create', targetType: 'permission', targetId: permissionId });
      });
      // Writes at a random phase of node B's 200 ms follow timer, as they come in real use.
      await new Promise((res) => setTimeout(res, Math.floor(r() * 200)));
      const w0 = ns();
      const { revision } = await store.write(tenantId, meta, (tx) =>
        insertAssignment(tx, {
          assignee: { type: 'identity', id: identityId }, resource: { type: 'permission', id: permissionId }, context: { type: 'all', id: null },
          source: 'direct', validFrom: null, validTo: null, reason: 'bench two nodes', createdBy: null, delegatedFromId: null, delegatorId: null, ruleId: null,
        }),
      );
      const committed = ns();
      writeMs.push((committed - w0) / 1e6);
      const visible = async () => {
        const { index } = await nodeB.at(tenantId);
        return checkSlots(index, index.identities.find(identityId), index.perms.find(permissionId), askContext(index, undefined), nodeB.now(), 'assigned');
      };
      if (k % 2 === 0) {
        while (!(await visible())) {
          if (ns() - committed > 10e9) throw new Error(`node B did not see revision ${revision} within 10 s`);
          await new Promise((res) => setTimeout(res, 1));
        }
        byItselfMs.push((ns() - committed) / 1e6);
      } else {
        await nodeB.at(tenantId, revision);
        if (!(await visible())) throw new Error('node B applied the revision but does not see the write');
        minRevisionMs.push((ns() - committed) / 1e6);
      }
    }
    const ms = (s: number[]) => { const x = stats(s); return { p50: Math.round(x.p50 * 100) / 100, p99: Math.round(x.p99 * 100) / 100 }; };
    const res = { nodeBBuildSeconds: buildSeconds, writes: 2 * N, writeMs: ms(writeMs), visibleByItselfMs: ms(byItselfMs), visibleWithMinRevisionMs: ms(minRevisionMs), pollIntervalMs: 200 };
    log(`two nodes: ${JSON.stringify(res)}`);
    return res;
  } finally {
    nodeB.stop();
    await storeB.close();
  }
}

async function casbinBench(
  d: Dataset,
  now: number,
  qi: Int32Array,
  qp: Int32Array,
  index: import('../src/engine/tenant-index.ts').TenantIndex,
  engineThroughput: number,
  log: (s: string) => void,
): Promise<Record<string, unknown>> {
  const { newEnforcer, newModelFromString } = await import('casbin');
  const model = newModelFromString(`
[request_definition]
r = sub, obj
[policy_definition]
p = sub, obj
[role_definition]
g = _, _
[policy_effect]
e = some(where (p.eft == allow))
[matchers]
m = g(r.sub, p.sub) && r.obj == p.obj
`);
  const enforcer = await newEnforcer(model);
  const t0 = Date.now();
  // Same facts, flattened into casbin's terms: identity -> unit -> parent unit (g), identity or
  // unit -> role (g), role -> included role (g), role / identity / unit -> permission (p).
  // Only assignments that count now (state, validity); contexts and delegation chains are
  // beyond this model.
  const policies: string[][] = [];
  const groupings: string[][] = [];
  d.rolePerms.forEach((perms, role) => perms.forEach((p) => policies.push([idOf.role(role), idOf.perm(p)])));
  d.roleIncludes.forEach((incs, role) => incs.forEach((inc) => groupings.push([idOf.role(role), idOf.role(inc)])));
  d.unitParent.forEach((parent, u) => { if (parent >= 0) groupings.push([idOf.unit(u), idOf.unit(parent)]); });
  d.identityUnit.forEach((u, i) => groupings.push([idOf.identity(i), idOf.unit(u)]));
  for (const a of d.assignments) {
    if (a.state !== 'active' || a.contextUnit >= 0) continue;
    if ((a.validFrom && Date.parse(a.validFrom) > now) || (a.validTo && Date.parse(a.validTo) <= now)) continue;
    const sub = a.toUnit ? idOf.unit(a.assignee) : idOf.identity(a.assignee);
    if (a.toRole) groupings.push([sub, idOf.role(a.resource)]);
    else policies.push([sub, idOf.perm(a.resource)]);
  }
  await enforcer.addPolicies(policies);
  await enforcer.addGroupingPolicies(groupings);
  const loadSeconds = (Date.now() - t0) / 1000;
  log(`casbin loaded ${policies.length} policies, ${groupings.length} groupings in ${loadSeconds} s`);
  const samples: number[] = [];
  const start = Date.now();
  let k = 0;
  while (Date.now() - start < 10_000 && k < 2000) {
    const a = ns();
    await enforcer.enforce(index.identities.get(qi[k]!).id, index.perms.get(qp[k]!).id);
    samples.push(ns() - a);
    k += 1;
  }
  const s = stats(samples);
  const throughput = 1e9 / s.mean;
  return { loadSeconds, policies: policies.length, groupings: groupings.length, checks: k, p50ns: Math.round(s.p50), p99ns: Math.round(s.p99), throughputPerSec: Math.round(throughput), engineRatio: Math.round(engineThroughput / throughput) };
}

async function httpBench(
  store: Store,
  engine: AccessEngine,
  _tenantId: string,
  index: import('../src/engine/tenant-index.ts').TenantIndex,
  qi: Int32Array,
  qp: Int32Array,
  log: (s: string) => void,
): Promise<Record<string, unknown>> {
  const autocannon = (await import('autocannon')).default;
  const Fastify = (await import('fastify')).default;
  const { buildApp } = await import('../src/api/app.ts');
  const { createServices } = await import('../src/services/index.ts');
  const services = createServices({ store, now: () => new Date(), secrets: BENCH_SECRETS, access: engine });
  // What every request pays before the route runs: API key lookup, SQL rights resolution, usage touch.
  const authSamples: number[] = [];
  for (let k = 0; k < 300; k += 1) {
    const a = ns();
    await services.authenticate(`Bearer ${ADMIN_KEY}`);
    authSamples.push(ns() - a);
  }
  const auth = stats(authSamples);
  log(`authenticate: p50 ${Math.round(auth.p50 / 1000)} µs, p99 ${Math.round(auth.p99 / 1000)} µs`);
  // The per-credential rate limit (600 a minute by default) would answer most of the run with
  // 429: off for the benchmark, which measures the check route itself.
  const app = await buildApp({ services, store, logLevel: 'silent', rateLimits: { windowSeconds: 60, perCredential: 0, decisionPerCredential: 0, tokenPerClient: 0, authFailuresPerIp: 0 } });
  await app.listen({ port: 0, host: '127.0.0.1' });
  const bare = Fastify({ logger: false });
  bare.post('/check', async () => ({ allowed: true, revision: 1 }));
  await bare.listen({ port: 0, host: '127.0.0.1' });
  const portOf = (s: { server: { address(): unknown } }) => (s.server.address() as { port: number }).port;
  const bodies = Array.from({ length: 1000 }, (_, k) => JSON.stringify({ identity: index.identities.get(qi[k]!).id, permission: index.perms.get(qp[k]!).id }));
  const run = (url: string, headers: Record<string, string>) =>
    new Promise<{ requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number }>((resolve, reject) => {
      let i = 0;
      autocannon(
        {
          url,
          connections: 16,
          duration: 10,
          requests: [{ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length]! }) }],
        },
        (err: Error | null, result: { requests: { average: number }; latency: { p50: number; p99: number }; non2xx: number }) => (err ? reject(err) : resolve(result)),
      );
    });
  const bareResult = await run(`http://127.0.0.1:${portOf(bare)}/check`, {});
  const checkResult = await run(`http://127.0.0.1:${portOf(app)}/api/v1/check`, { authorization: `Bearer ${ADMIN_KEY}` });
  await app.close();
  await bare.close();
  const res = {
    bareRps: Math.round(bareResult.requests.average),
    bareP50ms: bareResult.latency.p50,
    bareP99ms: bareResult.latency.p99,
    checkRps: Math.round(checkResult.requests.average),
    checkP50ms: checkResult.latency.p50,
    checkP99ms: checkResult.latency.p99,
    checkNon2xx: checkResult.non2xx,
    ratio: Math.round((checkResult.requests.average / bareResult.requests.average) * 100) / 100,
    authenticateP50us: Math.round(auth.p50 / 1000),
    authenticateP99us: Math.round(auth.p99 / 1000),
  };
  log(`http: ${JSON.stringify(res)}`);
  return res;
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
