/**
 * What the tenant scope (src/store/tenant-scope.ts) costs a query. Usage:
 *
 *   node --import tsx bench/tenant-scope.ts [rounds]
 *
 * 1. Counts the plugin's transforms during 1,000 warm `POST /api/v1/check` requests (SQLite,
 *    bootstrapped tenant, access engine): how often the check path builds a scoped query.
 * 2. Times building and compiling typical queries of the write and read paths — a lookup by
 *    id, a join, an update, an insert, a write's revision bump — through a Kysely handle with
 *    the plugin and one without, alternating blocks of 500 in the same process (so machine
 *    load hits both alike), and the cost of making a scoped handle (`store.read(tenantId)`).
 *    Each query with the plugin is timed twice: with the hand-written `tenant_id` filter
 *    services used to add, and without it (as services are written now).
 * Prints the median CPU ns per query for each (CPU time, so that other processes on a shared
 * machine disturb it less than wall time), and the difference.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import Database from 'better-sqlite3';
import { Kysely, SqliteDialect } from 'kysely';
import { AccessEngine } from '../src/engine/engine.ts';
import { buildApp } from '../src/api/app.ts';
import { createServerSecrets, generateSecretKey } from '../src/domain/server-secrets.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import { createServices } from '../src/services/index.ts';
import { openStore } from '../src/store/open.ts';
import type { Database as Schema } from '../src/store/schema.ts';
import { TenantScopePlugin } from '../src/store/tenant-scope.ts';

const ROUNDS = Number(process.argv[2] ?? 40);
const BLOCK = 500;
const KEY = 'tenant-scope-bench-admin-key-0123456789abcdefgh';

async function checkPathTransforms(): Promise<{ requests: number; ok: number; transforms: number }> {
  let transforms = 0;
  const original = TenantScopePlugin.prototype.transformQuery;
  TenantScopePlugin.prototype.transformQuery = function (args) {
    transforms += 1;
    return original.call(this, args);
  };
  const dir = mkdtempSync(join(tmpdir(), 'grantory-scope-bench-'));
  const store = await openStore({ dataDir: dir });
  try {
    await store.migrate();
    const secrets = createServerSecrets(generateSecretKey());
    const { tenantId } = await bootstrap(store, { adminKey: KEY, secrets });
    const services = createServices({ store, now: () => new Date(), secrets, access: new AccessEngine(store, { pollIntervalMs: 0 }) });
    const app = await buildApp({ services, store, logLevel: 'silent', rateLimits: { windowSeconds: 60, perCredential: 0, decisionPerCredential: 0, tokenPerClient: 0, authFailuresPerIp: 0 } });
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    const identity = (JSON.parse((await app.inject({ method: 'GET', url: '/api/v1/me', headers })).body) as { identityId: string }).identityId;
    const permissions = await store.read(tenantId).db.selectFrom('permissions').select('id').execute();
    const check = (i: number) => app.inject({ method: 'POST', url: '/api/v1/check', headers, payload: { identity, permission: permissions[i % permissions.length]!.id } });
    for (let i = 0; i < 50; i += 1) await check(i); // warm-up: index built, credential touched
    transforms = 0;
    let ok = 0;
    for (let i = 0; i < 1000; i += 1) if ((await check(i)).statusCode === 200) ok += 1;
    await app.close();
    return { requests: 1000, ok, transforms };
  } finally {
    TenantScopePlugin.prototype.transformQuery = original;
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

const TENANT = '00000000-0000-4000-8000-000000000001';
type Db = Kysely<Schema>;
/**
 * Each query with (`filtered`) or without its hand-written `tenant_id` filter: services wrote
 * it by hand before the scope applied it, and no longer do.
 */
const QUERIES: Record<string, (db: Db, filtered: boolean) => unknown> = {
  'select identity by id': (db, filtered) =>
    db
      .selectFrom('identities')
      .selectAll()
      .$if(filtered, (q) => q.where('tenant_id', '=', TENANT))
      .where('id', '=', 'x')
      .compile(),
  'select with a join': (db, filtered) =>
    db
      .selectFrom('assignments as a')
      .innerJoin('roles as r', 'r.id', 'a.resource_id')
      .select(['a.id', 'r.name'])
      .$if(filtered, (q) => q.where('a.tenant_id', '=', TENANT))
      .where('a.assignee_id', '=', 'x')
      .compile(),
  'update identity': (db, filtered) =>
    db
      .updateTable('identities')
      .set({ display_name: 'x', updated_at: 'now', version: 2 })
      .$if(filtered, (q) => q.where('tenant_id', '=', TENANT))
      .where('id', '=', 'x')
      .compile(),
  'insert change row': (db) => db.insertInto('changes').values({ tenant_id: TENANT, revision: 1, entity: 'identity', entity_id: 'x', op: 'update' }).compile(),
};

function median(xs: number[]): number {
  const s = [...xs].sort((a, b) => a - b);
  return s[Math.floor(s.length / 2)]!;
}

/** CPU time (user + system) per call over a block, in ns: less disturbed by other processes than wall time. */
function timeBlock(fn: () => unknown): number {
  const start = process.cpuUsage();
  for (let i = 0; i < BLOCK; i += 1) fn();
  const used = process.cpuUsage(start);
  return ((used.user + used.system) * 1000) / BLOCK;
}

async function main(): Promise<void> {
  const check = await checkPathTransforms();
  console.log(`check path: ${JSON.stringify(check)}`);
  const sqlite = new Database(':memory:');
  const bare: Db = new Kysely<Schema>({ dialect: new SqliteDialect({ database: sqlite }) });
  // bareNs: hand-written filter, no plugin; scopedNs: hand-written filter and the plugin;
  // scopedUnfilteredNs: the plugin alone (services today); extraNs: that against bareNs.
  const results: Record<string, { bareNs: number; scopedNs: number; scopedUnfilteredNs: number; extraNs: number }> = {};
  for (const [name, build] of Object.entries(QUERIES)) {
    const scoped = bare.withPlugin(new TenantScopePlugin(TENANT));
    const a: number[] = [];
    const b: number[] = [];
    const c: number[] = [];
    for (let r = 0; r < ROUNDS; r += 1) {
      a.push(timeBlock(() => build(bare, true)));
      b.push(timeBlock(() => build(scoped, true)));
      c.push(timeBlock(() => build(scoped, false)));
    }
    results[name] = { bareNs: Math.round(median(a)), scopedNs: Math.round(median(b)), scopedUnfilteredNs: Math.round(median(c)), extraNs: Math.round(median(c) - median(a)) };
  }
  const handles: number[] = [];
  for (let r = 0; r < ROUNDS; r += 1) handles.push(timeBlock(() => bare.withPlugin(new TenantScopePlugin(TENANT))));
  const handleNs = Math.round(median(handles));
  results['a scoped handle (store.read)'] = { bareNs: 0, scopedNs: handleNs, scopedUnfilteredNs: handleNs, extraNs: handleNs };
  console.log(JSON.stringify({ node: process.version, date: new Date().toISOString(), rounds: ROUNDS, block: BLOCK, results }, null, 2));
  await bare.destroy();
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
