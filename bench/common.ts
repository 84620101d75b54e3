/**
 * What the benchmarks share: a throwaway store on either backend, percentiles of timings,
 * and the load average at a moment (every result file records it: the machine is shared).
 */
import { copyFileSync, existsSync, mkdirSync, mkdtempSync, readdirSync, readFileSync, renameSync, rmSync, writeFileSync } from 'node:fs';
import { createHash } from 'node:crypto';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/store.ts';
import { createServerSecrets, type ServerSecrets } from '../src/domain/server-secrets.ts';
import { AccessEngine } from '../src/engine/engine.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import type { ServiceDeps } from '../src/services/deps.ts';
import type { Actor } from '../src/services/kernel/index.ts';
import { createSodPolicy } from '../src/services/sod/index.ts';
import { generate, idOf, load, rng, SIZES, type Dataset, type DatasetSize } from './dataset.ts';

export type BenchBackend = 'sqlite' | 'postgres';

/**
 * Loaded datasets kept between runs (SQLite only): loading L through the write protocol takes
 * many minutes (1M assignments, each with its change-feed entry and access-history version),
 * and what a benchmark measures starts after it. After a fresh load the database file is
 * copied to `bench/out/datasets/` under a key of the dataset's dimensions, whatever else the
 * caller names (an admin key) and the code that shapes the database (the migrations and
 * bench/dataset.ts); a later run that loads the same copies it back instead of loading.
 * `BENCH_DATASET_CACHE=0` turns it off.
 */
/** The admin key and server secret every benchmark's tenant is bootstrapped with, so that one kept copy of a size serves them all. */
export const BENCH_ADMIN_KEY = 'bench-admin-key-0123456789abcdefghijklmnop';
export const BENCH_SECRET_KEY = 'bench-secret-key-0123456789abcdefghijklmno';

export interface KeptDataset {
  tenantId: string;
  secretKey: string;
}

const KEPT_ROOT = join(import.meta.dirname, 'out', 'datasets');
const DB_FILES = ['grantory.db', 'grantory.db-wal'];

/** The key of a dataset: its label, a hash of `parts` (dimensions, keys) and of the code that shapes the database. */
export function datasetKey(label: string, parts: unknown): string {
  const hash = createHash('sha256');
  const migrations = join(import.meta.dirname, '..', 'src', 'store', 'migrations');
  for (const f of readdirSync(migrations).sort()) hash.update(f).update(readFileSync(join(migrations, f)));
  hash.update(readFileSync(join(import.meta.dirname, 'dataset.ts')));
  hash.update(JSON.stringify(parts));
  return `${label}-${hash.digest('hex').slice(0, 16)}`;
}

/** Before the store opens: copies the kept dataset `key` into `dataDir` and says what it holds, or null. */
export function restoreDataset(dataDir: string, key: string): KeptDataset | null {
  if (process.env.BENCH_DATASET_CACHE === '0') return null;
  const kept = join(KEPT_ROOT, key);
  const meta = join(kept, 'tenant.json');
  if (!existsSync(meta)) return null;
  for (const f of DB_FILES) if (existsSync(join(kept, f))) copyFileSync(join(kept, f), join(dataDir, f));
  console.error(`dataset ${key}: copied from ${kept}`);
  return JSON.parse(readFileSync(meta, 'utf8')) as KeptDataset;
}

/** After a fresh load, while nothing writes (the file and its WAL are one consistent state): keeps it as `key`. */
export function keepDataset(dataDir: string, key: string, meta: KeptDataset): void {
  if (process.env.BENCH_DATASET_CACHE === '0') return;
  const kept = join(KEPT_ROOT, key);
  const partial = `${kept}.partial-${process.pid}`;
  mkdirSync(partial, { recursive: true });
  for (const f of DB_FILES) if (existsSync(join(dataDir, f))) copyFileSync(join(dataDir, f), join(partial, f));
  writeFileSync(join(partial, 'tenant.json'), JSON.stringify(meta));
  rmSync(kept, { recursive: true, force: true });
  renameSync(partial, kept);
}

interface DatasetCache {
  hit: KeptDataset | null;
  save(meta: KeptDataset): void;
}

/**
 * A fresh store: SQLite in a temporary directory (`synchronous=NORMAL`), or a schema of its
 * own on PostgreSQL (`BENCH_DATABASE_URL`). With `dataset` (SQLite), a kept copy of that
 * size's loaded dataset is used when there is one (see {@link restoreDataset}); pass the
 * result's `cache` to {@link loadBenchTenant}.
 */
export async function openBenchStore(
  backend: BenchBackend,
  label: string,
  options: { dataset?: keyof typeof SIZES } = {},
): Promise<{ store: Store; dispose: () => Promise<void>; databaseUrl?: string; pgSchema?: string; dataDir: string; cache?: DatasetCache }> {
  if (backend === 'postgres') {
    const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const pgSchema = `bench_${randomBytes(4).toString('hex')}`;
    const store = await openStore({ databaseUrl, pgSchema, dataDir: '' });
    return { store, dispose: () => store.close(), databaseUrl, pgSchema, dataDir: '' };
  }
  const dir = mkdtempSync(join(tmpdir(), `grantory-${label}-bench-`));
  let cache: DatasetCache | undefined;
  if (options.dataset) {
    const key = datasetKey(options.dataset, SIZES[options.dataset]);
    cache = { hit: restoreDataset(dir, key), save: (meta) => keepDataset(dir, key, meta) };
  }
  const store = await openStore({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
  return { store, dispose: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })), dataDir: dir, cache };
}

/** p50 and p99 of timings in milliseconds, to two decimals. */
export function percentiles(samples: readonly number[]): { p50: number; p99: number; n: number } {
  const s = [...samples].sort((a, b) => a - b);
  const pick = (p: number) => (s.length ? Math.round(s[Math.min(s.length - 1, Math.floor(p * s.length))]! * 100) / 100 : NaN);
  return { p50: pick(0.5), p99: pick(0.99), n: s.length };
}

/** The 1, 5 and 15 minute load averages. */
export const loadAverage = (): number[] => loadavg().map((x) => Math.round(x * 100) / 100);

export const machine = (): string => `${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}, Node ${process.version}`;

/** Times an async call in milliseconds. */
export async function timed<T>(fn: () => Promise<T>): Promise<{ ms: number; value: T }> {
  const start = performance.now();
  const value = await fn();
  return { ms: performance.now() - start, value };
}

/**
 * `n` separation-of-duties policies over the dataset (seeded, so every benchmark gets the
 * same ones): each two sets of two roles and one permission; every third `require_exception`.
 */
export async function seedSodPolicies(deps: ServiceDeps, actor: Actor, size: DatasetSize, n: number): Promise<void> {
  const r = rng(7);
  const int = (k: number) => Math.floor(r() * k);
  const side = () => [
    { type: 'role' as const, id: idOf.role(int(size.roles)) },
    { type: 'role' as const, id: idOf.role(int(size.roles)) },
    { type: 'permission' as const, id: idOf.perm(int(size.permissions)) },
  ];
  for (let k = 0; k < n; k += 1) {
    const a = side();
    const keysA = new Set(a.map((x) => `${x.type}:${x.id}`));
    const b = side().filter((x) => !keysA.has(`${x.type}:${x.id}`));
    await createSodPolicy(deps, actor, {
      name: `policy ${k}`,
      conflicting: [[...new Map(a.map((x) => [x.id, x])).values()], b],
      mode: k % 3 === 2 ? 'require_exception' : 'block',
      severity: 'high',
    });
  }
}

/**
 * Migrates, bootstraps a tenant, loads the seeded dataset of `size` into it and builds the
 * access index. With the `cache` of {@link openBenchStore}, a kept copy stands in for the load
 * (`loadSeconds` is then 0) and a fresh load is kept for the next run.
 */
export async function loadBenchTenant(store: Store, size: keyof typeof SIZES, cache?: DatasetCache): Promise<{ tenantId: string; secrets: ServerSecrets; d: Dataset; access: AccessEngine; loadSeconds: number; indexSeconds: number }> {
  await store.migrate();
  const d = generate(SIZES[size]);
  let t0 = performance.now();
  let tenantId: string;
  let secrets: ServerSecrets;
  if (cache?.hit) {
    tenantId = cache.hit.tenantId;
    secrets = createServerSecrets(cache.hit.secretKey);
  } else {
    secrets = createServerSecrets(BENCH_SECRET_KEY);
    tenantId = (await bootstrap(store, { adminKey: BENCH_ADMIN_KEY, secrets })).tenantId;
    await load(store, tenantId, d);
    cache?.save({ tenantId, secretKey: BENCH_SECRET_KEY });
  }
  const loadSeconds = (performance.now() - t0) / 1000;
  console.error(`loaded ${size} in ${loadSeconds.toFixed(1)} s${cache?.hit ? ' (kept copy)' : ''}`);
  const access = new AccessEngine(store, { pollIntervalMs: 0 });
  t0 = performance.now();
  await access.start();
  return { tenantId, secrets, d, access, loadSeconds, indexSeconds: (performance.now() - t0) / 1000 };
}
