/**
 * The console overview's API reads, each timed on its own. Usage:
 *
 *   node --import tsx bench/overview.ts [S|M|L] [--policies 50] [--keep DIR] [--slice-ms 4|inf]
 *
 * Loads the seeded dataset (bench/dataset.ts) into a SQLite store (kept in DIR with --keep, and
 * reused from there on the next run), adds the separation-of-duties policies of
 * bench/sod-violations.ts, builds the access index, and times every read the overview makes —
 * cold (the first call after the index is built) and warm (p50 of 5) — and then once more after
 * a write (an assignment), as the first read at a new revision. Before those: the start —
 * from the index built to both summaries answered (their full passes start in the background
 * as the services are created), with the event loop's delay (perf_hooks, max = the longest
 * block) and the latency of `POST /check` calls made every 5 ms meanwhile. `--slice-ms inf`
 * runs each pass in one slice (as before passes were sliced). Prints a JSON summary with the
 * load average at start and end.
 */
import { existsSync, mkdirSync } from 'node:fs';
import { join } from 'node:path';
import { monitorEventLoopDelay } from 'node:perf_hooks';
import { buildApp } from '../src/api/app.ts';
import { createServerSecrets, generateSecretKey } from '../src/domain/server-secrets.ts';
import { AccessEngine } from '../src/engine/engine.ts';
import { passStats, passTuning } from '../src/engine/kept.ts';
import { createAssignment } from '../src/services/access/index.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import { createServices } from '../src/services/index.ts';
import { systemActor } from '../src/services/kernel/index.ts';
import { openStore } from '../src/store/open.ts';
import { loadAverage, machine, percentiles, seedSodPolicies } from './common.ts';
import { generate, idOf, load, SIZES } from './dataset.ts';

const size = (process.argv.slice(2).find((a) => /^[SML]$/.test(a)) ?? 'M') as keyof typeof SIZES;
const arg = (name: string) => {
  const at = process.argv.indexOf(name);
  return at > 0 ? process.argv[at + 1] : undefined;
};
const POLICIES = Number(arg('--policies') ?? 50);
const KEEP = arg('--keep');
const SLICE_MS = arg('--slice-ms') === 'inf' ? Infinity : Number(arg('--slice-ms') ?? passTuning.sliceMs);
const ADMIN_KEY = 'bench-overview-admin-key-0123456789abcdefghijkl';

/** What the overview reads (in the order it asks), then the two lists the summaries replaced. */
const READS = [
  '/api/v1/me',
  '/api/v1/approvals?limit=100',
  '/api/v1/imports?status=Held&limit=50',
  '/api/v1/imports?status=Failed&limit=50',
  '/api/v1/access/drift/summary',
  '/api/v1/sod-violations/summary',
  '/api/v1/audit-verification/last',
  '/api/v1/audit-events?limit=8&order=desc',
  '/api/v1/access/drift?limit=20',
  '/api/v1/sod-violations?limit=100',
];

async function main(): Promise<void> {
  const loadAtStart = loadAverage();
  const dataDir = KEEP ?? join('/tmp', `grantory-overview-${size}-${process.pid}`);
  const fresh = !existsSync(join(dataDir, 'ready'));
  mkdirSync(dataDir, { recursive: true });
  const store = await openStore({ dataDir, sqliteSynchronous: 'NORMAL' });
  await store.migrate();
  const secretsFile = join(dataDir, 'ready');
  const { readFileSync, writeFileSync } = await import('node:fs');
  let tenantId: string;
  let secretKey: string;
  if (fresh) {
    secretKey = generateSecretKey();
    const secrets = createServerSecrets(secretKey);
    ({ tenantId } = await bootstrap(store, { adminKey: ADMIN_KEY, secrets }));
    const t0 = performance.now();
    await load(store, tenantId, generate(SIZES[size]));
    console.error(`loaded ${size} in ${((performance.now() - t0) / 1000).toFixed(1)} s`);
  } else {
    ({ tenantId, secretKey } = JSON.parse(readFileSync(secretsFile, 'utf8')) as { tenantId: string; secretKey: string });
  }
  const secrets = createServerSecrets(secretKey);
  const access = new AccessEngine(store, { pollIntervalMs: 0 });
  const t0 = performance.now();
  await access.start();
  const indexSeconds = (performance.now() - t0) / 1000;
  passTuning.sliceMs = SLICE_MS;
  const loop = monitorEventLoopDelay({ resolution: 1 });
  loop.enable();
  const t1 = performance.now();
  // The kept answers' passes start here, in the background.
  const services = createServices({ store, now: () => new Date(), secrets, access });
  const system = systemActor(tenantId, 'overview benchmark');
  if (fresh) {
    await seedSodPolicies(services.deps, system, SIZES[size], POLICIES);
    writeFileSync(secretsFile, JSON.stringify({ tenantId, secretKey }));
  }
  await access.syncNow(tenantId);
  const app = await buildApp({ services, store, logLevel: 'silent' });
  const get = async (url: string) => {
    const start = performance.now();
    const r = await app.inject({ method: 'GET', url, headers: { authorization: `Bearer ${ADMIN_KEY}` } });
    const ms = Math.round((performance.now() - start) * 10) / 10;
    return { ms, status: r.statusCode, bytes: r.body.length };
  };
  // From the index built to both summaries answered, with checks every 5 ms meanwhile.
  let ready = false;
  const summaries = Promise.all([get('/api/v1/access/drift/summary'), get('/api/v1/sod-violations/summary')]).then((r) => {
    ready = true;
    return r;
  });
  const checkMs: number[] = [];
  while (!ready) {
    const s = performance.now();
    const r = await app.inject({ method: 'POST', url: '/api/v1/check', headers: { authorization: `Bearer ${ADMIN_KEY}` }, payload: { identity: idOf.identity(2), permission: idOf.perm(3) } });
    if (r.statusCode !== 200) throw new Error(`check: ${r.statusCode} ${r.body}`);
    checkMs.push(Math.round((performance.now() - s) * 10) / 10);
    await new Promise((resolve) => setTimeout(resolve, 5));
  }
  const readyMs = Math.round(performance.now() - t1);
  loop.disable();
  const start = {
    sliceMs: SLICE_MS === Infinity ? 'inf' : SLICE_MS,
    readyMs,
    summariesMs: (await summaries).map((r) => r.ms),
    eventLoopDelayMs: { max: Math.round(loop.max / 1e6), p99: Math.round(loop.percentile(99) / 1e6), mean: Math.round(loop.mean / 1e5) / 10 },
    checks: { ...percentiles(checkMs), max: Math.max(...checkMs, 0) },
    passes: { ...passStats, longestSliceMs: Math.round(passStats.longestSliceMs * 10) / 10 },
  };
  const out: Record<string, unknown> = {};
  for (const url of READS) {
    const cold = await get(url);
    const warm: number[] = [];
    for (let k = 0; k < 5; k += 1) warm.push((await get(url)).ms);
    out[url] = { status: cold.status, bytes: cold.bytes, coldMs: cold.ms, warm: percentiles(warm) };
  }
  // The first read after a write (a new revision).
  await createAssignment(services.deps, system, { assignee: { type: 'identity', id: idOf.identity(2) }, resource: { type: 'permission', id: idOf.perm(3) }, reason: 'overview benchmark' });
  await access.syncNow(tenantId);
  const afterWrite: Record<string, number> = {};
  for (const url of READS) afterWrite[url] = (await get(url)).ms;
  const summary = { bench: 'overview', size, backend: 'sqlite', policies: POLICIES, machine: machine(), loadAverage: { start: loadAtStart, end: loadAverage() }, indexSeconds: Math.round(indexSeconds * 10) / 10, start, reads: out, afterWriteMs: afterWrite };
  console.log(JSON.stringify(summary, null, 2));
  access.stop();
  await app.close();
  await store.close();
}

await main();
