/**
 * What the benchmarks share: a throwaway store on either backend, percentiles of timings,
 * and the load average at a moment (every result file records it: the machine is shared).
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import { openStore } from '../src/store/open.ts';
import type { Store } from '../src/store/store.ts';
import { createServerSecrets, generateSecretKey, type ServerSecrets } from '../src/domain/server-secrets.ts';
import { AccessEngine } from '../src/engine/engine.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import type { ServiceDeps } from '../src/services/deps.ts';
import type { Actor } from '../src/services/kernel/index.ts';
import { createSodPolicy } from '../src/services/sod/index.ts';
import { generate, idOf, load, rng, SIZES, type Dataset, type DatasetSize } from './dataset.ts';

export type BenchBackend = 'sqlite' | 'postgres';

/** A fresh store: SQLite in a temporary directory (`synchronous=NORMAL`), or a schema of its own on PostgreSQL (`BENCH_DATABASE_URL`). */
export async function openBenchStore(backend: BenchBackend, label: string): Promise<{ store: Store; dispose: () => Promise<void>; databaseUrl?: string; pgSchema?: string; dataDir: string }> {
  if (backend === 'postgres') {
    const databaseUrl = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';
    const pgSchema = `bench_${randomBytes(4).toString('hex')}`;
    const store = await openStore({ databaseUrl, pgSchema, dataDir: '' });
    return { store, dispose: () => store.close(), databaseUrl, pgSchema, dataDir: '' };
  }
  const dir = mkdtempSync(join(tmpdir(), `grantory-${label}-bench-`));
  const store = await openStore({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
  return { store, dispose: async () => (await store.close(), rmSync(dir, { recursive: true, force: true })), dataDir: dir };
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

/** Migrates, bootstraps a tenant, loads the seeded dataset of `size` into it and builds the access index. */
export async function loadBenchTenant(store: Store, size: keyof typeof SIZES): Promise<{ tenantId: string; secrets: ServerSecrets; d: Dataset; access: AccessEngine; loadSeconds: number; indexSeconds: number }> {
  await store.migrate();
  const secrets = createServerSecrets(generateSecretKey());
  const { tenantId } = await bootstrap(store, { adminKey: `bench-${randomBytes(16).toString('hex')}`, secrets });
  const d = generate(SIZES[size]);
  let t0 = performance.now();
  await load(store, tenantId, d);
  const loadSeconds = (performance.now() - t0) / 1000;
  console.error(`loaded ${size} in ${loadSeconds.toFixed(1)} s`);
  const access = new AccessEngine(store, { pollIntervalMs: 0 });
  t0 = performance.now();
  await access.start();
  return { tenantId, secrets, d, access, loadSeconds, indexSeconds: (performance.now() - t0) / 1000 };
}
