/**
 * Access reviews on a seeded dataset. Usage:
 *
 *   node --expose-gc --import tsx bench/access-reviews.ts S|M|L [sqlite|postgres] [--identities N] [--assignments N] ...
 *
 * Any field of the dataset's size (bench/dataset.ts: identities, units, depth, applications,
 * permissions, roles, assignments) can be set on the command line over the named size's, to
 * reach a number of items: e.g. M with `--assignments 150000` gives about 1M items (the
 * dataset's applications are managed, so every item is a provisioned grant).
 *
 * Loads the dataset (bench/dataset.ts), builds the access index, creates a campaign over
 * the whole tenant in the provisioned space (reviewer: a named identity) and times
 * `startReview` — the one-transaction snapshot `POST /access-reviews/{id}/start` runs — with
 * the process's peak RSS, its growth per item (to extrapolate from a smaller run); then a reviewer's first page of 100 items (`listReviewItems`, p50/p99
 * of 50). Prints a JSON summary with the load average at start and end (bench/results/).
 */
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { sql } from 'kysely';
import { createServerSecrets, generateSecretKey } from '../src/domain/server-secrets.ts';
import { AccessEngine } from '../src/engine/engine.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import { createServices } from '../src/services/index.ts';
import { systemActor, type Actor } from '../src/services/kernel/index.ts';
import { createReview, listReviewItems, startReview } from '../src/services/reviews/index.ts';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/store.ts';
import { generate, idOf, load, SIZES, type DatasetSize } from './dataset.ts';

const size = (process.argv[2] ?? 'S') as keyof typeof SIZES;
const backend = process.argv[3] === 'postgres' ? 'postgres' : 'sqlite';
const dimensions: DatasetSize = { ...SIZES[size] };
for (const field of Object.keys(dimensions) as (keyof DatasetSize)[]) {
  const i = process.argv.indexOf(`--${field}`);
  if (i > 0) dimensions[field] = Number(process.argv[i + 1]);
}
const custom = JSON.stringify(dimensions) !== JSON.stringify(SIZES[size]);

/** The store, the bytes of the review items (table and indexes), and how to clean up. */
async function open(): Promise<{ store: Store; itemBytes: () => Promise<number>; dispose: () => Promise<void> }> {
  if (backend === 'postgres') {
    const schema = `bench_${randomBytes(4).toString('hex')}`;
    const store = await openStore({ databaseUrl: process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test', pgSchema: schema, dataDir: '' });
    const db = store.read('').db;
    const itemBytes = async () => Number((await sql<{ n: string }>`select pg_total_relation_size(${`${schema}.review_items`})::text as n`.execute(db)).rows[0]!.n);
    return { store, itemBytes, dispose: async () => (await sql`drop schema ${sql.id(schema)} cascade`.execute(db), await store.close()) };
  }
  const dir = mkdtempSync(join(tmpdir(), 'grantory-review-bench-'));
  const store = await openStore({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
  const itemBytes = async () => Number((await sql<{ n: number }>`select sum(pgsize) as n from dbstat where name in (select name from sqlite_schema where tbl_name = 'review_items')`.execute(store.read('').db)).rows[0]!.n);
  return { store, itemBytes, dispose: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })) };
}

const load1 = () => loadavg().map((x) => Math.round(x * 100) / 100);
const mb = (n: number) => Math.round(n / 1048576);

async function main(): Promise<void> {
  const startedAt = new Date().toISOString();
  const loadAtStart = load1();
  const { store, itemBytes, dispose } = await open();
  try {
    await store.migrate();
    const secrets = createServerSecrets(generateSecretKey());
    const { tenantId } = await bootstrap(store, { adminKey: `bench-${randomBytes(16).toString('hex')}`, secrets });
    const d = generate(dimensions);
    let t0 = performance.now();
    await load(store, tenantId, d);
    const loadSeconds = (performance.now() - t0) / 1000;
    const access = new AccessEngine(store, { pollIntervalMs: 0 });
    await access.start();
    const services = createServices({ store, now: () => new Date(), secrets, access });
    const system = systemActor(tenantId);
    const reviewerId = idOf.identity(0);
    const review = await createReview(services.deps, system, { name: 'bench', reviewer: { type: 'identity', id: reviewerId }, fallbackReviewerId: idOf.identity(1) });
    globalThis.gc?.();
    const rssBefore = process.memoryUsage().rss;
    let peak = rssBefore;
    const sampler = setInterval(() => (peak = Math.max(peak, process.memoryUsage().rss)), 50);
    t0 = performance.now();
    const started = await startReview(services.deps, system, review.value.id);
    const startSeconds = (performance.now() - t0) / 1000;
    clearInterval(sampler);
    peak = Math.max(peak, process.memoryUsage().rss);

    const reviewer: Actor = { ...system, caller: { ...system.caller, kind: 'api_key', id: 'bench', identityId: reviewerId, rights: new Set() } };
    const samples: number[] = [];
    for (let k = 0; k < 50; k += 1) {
      const s = performance.now();
      const page = await listReviewItems(services.deps, reviewer, review.value.id, {}, { limit: 100 });
      samples.push(performance.now() - s);
      if (page.items.length === 0) throw new Error('the reviewer has no items');
    }
    samples.sort((a, b) => a - b);
    const result = {
      bench: 'access-reviews',
      size,
      dimensions,
      backend,
      startedAt,
      cpus: cpus().length,
      cpuModel: cpus()[0]?.model,
      loadAtStart,
      loadAtEnd: load1(),
      loadSeconds: Math.round(loadSeconds * 10) / 10,
      items: started.value.itemCount,
      startSeconds: Math.round(startSeconds * 10) / 10,
      rssBeforeStartMB: mb(rssBefore),
      peakRssMB: mb(peak),
      // The kernel's peak for the whole process (loading the dataset included): the sampler
      // above runs only when the event loop is free, which a SQLite write seldom leaves it.
      maxRssMB: Math.round(process.resourceUsage().maxRSS / 1024),
      rssGrowthPerItemBytes: Math.round((peak - rssBefore) / Math.max(1, started.value.itemCount)),
      itemsPerSecond: Math.round(started.value.itemCount / startSeconds),
      storedBytesPerItem: Math.round((await itemBytes()) / Math.max(1, started.value.itemCount)),
      firstPageMs: { p50: Math.round(samples[25]! * 100) / 100, p99: Math.round(samples[49]! * 100) / 100 },
    };
    console.log(JSON.stringify(result, null, 2));
    mkdirSync('bench/results', { recursive: true });
    writeFileSync(`bench/results/access-reviews-${custom ? `${size}-${dimensions.assignments}` : size}-${backend}.json`, `${JSON.stringify(result, null, 2)}\n`);
    access.stop();
  } finally {
    await dispose();
  }
}

await main();
