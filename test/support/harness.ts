/**
 * Test harness: a Grantory app on the backend chosen for this run, with a known
 * administrator key. `GRANTORY_TEST_DATABASE=postgres` (with `GRANTORY_TEST_DATABASE_URL`,
 * default postgres://postgres@127.0.0.1:5432/test) runs on PostgreSQL, each app in a fresh schema;
 * otherwise SQLite in a fresh temporary directory.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { buildApp } from '../../src/api/app.ts';
import type { App } from '../../src/api/deps.ts';
import { bootstrap } from '../../src/services/bootstrap.ts';
import { createServices, type Services } from '../../src/services/index.ts';
import type { SecuritySettings } from '../../src/services/deps.ts';
import { AccessEngine } from '../../src/engine/engine.ts';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';
import type { RateLimitConfig } from '../../src/config.ts';
import type { SharedRateCounter } from '../../src/services/kernel/index.ts';
import { type Dialect, type Store } from '../../src/store/store.ts';
import { openStore } from '../../src/store/open.ts';

export type Backend = Dialect;

export const TEST_BACKEND: Backend = process.env.GRANTORY_TEST_DATABASE === 'postgres' ? 'postgres' : 'sqlite';
export const TEST_PG_URL = process.env.GRANTORY_TEST_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/test';

/** Backends a contract suite loops over: SQLite always, PostgreSQL on a PostgreSQL run. */
export const CONTRACT_BACKENDS: Backend[] = TEST_BACKEND === 'postgres' ? ['sqlite', 'postgres'] : ['sqlite'];

export const ADMIN_KEY = 'test-admin-key-0123456789abcdefghijklmnop';
export const TEST_SECRET_KEY = 'test-server-secret-0123456789abcdefghijklmnop';
export const TEST_ISSUER = 'http://grantory.test';

export interface TestStore {
  store: Store;
  backend: Backend;
  /** For SQLite: the data directory; for PostgreSQL: the URL and schema. */
  dataDir: string | null;
  pgSchema: string | null;
  databaseUrl: string | null;
  dispose(): Promise<void>;
}

/** A fresh migrated store on `backend` with a tenant per name, created at `now`: their ids, in order. */
export async function openTestTenants(backend: Backend, names: readonly string[], now: string): Promise<{ ts: TestStore; tenantIds: string[] }> {
  const ts = await openTestStore(backend);
  await ts.store.migrate();
  const tenantIds: string[] = [];
  for (const name of names) tenantIds.push(await ts.store.createTenant(name, now));
  return { ts, tenantIds };
}

/**
 * Opens a fresh store on `backend`. With `databaseUrl` (PostgreSQL), the store uses that
 * database's default schema instead of a schema of its own; the caller owns the database.
 */
export async function openTestStore(backend: Backend = TEST_BACKEND, options: { databaseUrl?: string } = {}): Promise<TestStore> {
  if (backend === 'postgres' && options.databaseUrl) {
    const store = await openStore({ databaseUrl: options.databaseUrl, dataDir: '' });
    return { store, backend, dataDir: null, pgSchema: null, databaseUrl: options.databaseUrl, dispose: () => store.close() };
  }
  if (backend === 'postgres') {
    const schema = `t_${randomBytes(6).toString('hex')}`;
    const store = await openStore({ databaseUrl: TEST_PG_URL, pgSchema: schema, dataDir: '' });
    return {
      store,
      backend,
      dataDir: null,
      pgSchema: schema,
      databaseUrl: TEST_PG_URL,
      async dispose() {
        await store.close();
        await dropSchema(schema);
      },
    };
  }
  const dir = mkdtempSync(join(tmpdir(), 'grantory-test-'));
  const store = await openStore({ dataDir: dir });
  return {
    store,
    backend,
    dataDir: dir,
    pgSchema: null,
    databaseUrl: null,
    async dispose() {
      await store.close();
      rmSync(dir, { recursive: true, force: true });
    },
  };
}

export async function dropSchema(schema: string): Promise<void> {
  const client = new pg.Client({ connectionString: TEST_PG_URL });
  await client.connect();
  try {
    await client.query(`drop schema if exists "${schema}" cascade`);
  } finally {
    await client.end();
  }
}

export interface TestApp extends TestStore {
  app: App;
  services: Services;
  tenantId: string;
  adminKey: string;
  /** The app's access index (follows the change feed). */
  access: AccessEngine;
  /** Authorization header for the administrator. */
  auth: { authorization: string };
  close(): Promise<void>;
}

export interface TestAppOptions {
  backend?: Backend;
  now?: () => Date;
  bodyLimit?: number;
  databaseUrl?: string;
  security?: Partial<SecuritySettings>;
  rateLimits?: RateLimitConfig;
  /** Counts the rate limits across apps (see src/services/kernel/rate-counters.ts); absent: in memory. */
  rateCounter?: (store: Store) => SharedRateCounter;
  /** Where the console's built files are (GET / leads there when it holds index.html). */
  consoleDir?: string;
}

export async function createTestApp(options: TestAppOptions = {}): Promise<TestApp> {
  const ts = await openTestStore(options.backend, options.databaseUrl ? { databaseUrl: options.databaseUrl } : {});
  await ts.store.migrate();
  const secrets = createServerSecrets(TEST_SECRET_KEY);
  const boot = await bootstrap(ts.store, { adminKey: ADMIN_KEY, secrets });
  const now = options.now ?? (() => new Date());
  const access = new AccessEngine(ts.store, { clock: () => now().getTime() });
  await access.start();
  const rateCounter = options.rateCounter?.(ts.store);
  const services = createServices({
    store: ts.store,
    now,
    secrets,
    security: { issuer: () => TEST_ISSUER, ...options.security },
    access,
  });
  const app = await buildApp({
    services,
    store: ts.store,
    logLevel: 'silent',
    bodyLimit: options.bodyLimit,
    rateLimits: options.rateLimits,
    rateCounter,
    consoleDir: options.consoleDir,
    readiness: async () => access.notReadyReason(),
  });
  return {
    ...ts,
    app,
    services,
    tenantId: boot.tenantId,
    adminKey: ADMIN_KEY,
    auth: { authorization: `Bearer ${ADMIN_KEY}` },
    access,
    async close() {
      access.stop();
      await app.close();
      await rateCounter?.stop();
      await ts.dispose();
    },
  };
}

/** A PostgreSQL database of its own (for processes such as the CLI that know no schema option). */
export interface ThrowawayDatabase {
  url: string;
  drop(): Promise<void>;
}

/** Creates an empty database on the test server; `drop()` removes it, closing its connections. */
export async function createThrowawayDatabase(): Promise<ThrowawayDatabase> {
  const name = `grantory_t_${randomBytes(6).toString('hex')}`;
  const admin = new pg.Client({ connectionString: TEST_PG_URL });
  await admin.connect();
  try {
    await admin.query(`create database "${name}"`);
  } finally {
    await admin.end();
  }
  const url = new URL(TEST_PG_URL);
  url.pathname = `/${name}`;
  return {
    url: url.toString(),
    async drop() {
      const client = new pg.Client({ connectionString: TEST_PG_URL });
      await client.connect();
      try {
        await client.query(`drop database if exists "${name}" with (force)`);
      } finally {
        await client.end();
      }
    },
  };
}
