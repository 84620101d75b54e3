/**
 * `kill -9` of a real server process during imports, then a restart: the application's
 * accounts and grants are the old snapshot or the complete new one (never a mix), an
 * interrupted import ends Failed (interrupted), and `grantory audit verify` exits 0.
 * Runs on the run's backend; on PostgreSQL in a throwaway database created and dropped here.
 */
import { spawn, spawnSync, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import pg from 'pg';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportView } from '../../src/services/imports/views.ts';
import { openStore } from '../../src/store/open.ts';
import { ADMIN_KEY, TEST_BACKEND, TEST_PG_URL, TEST_SECRET_KEY } from '../support/harness.ts';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';
import { createApplication, createIdentity } from '../support/imports.ts';

const ROOT = resolve(import.meta.dirname, '../..');
const dir = mkdtempSync(join(tmpdir(), 'grantory-crash-'));
const dataDir = join(dir, 'data');
const importDir = join(dir, 'imports');
let databaseUrl: string | undefined;
let dbName: string | null = null;
let appId = '';

function env(): NodeJS.ProcessEnv {
  return {
    ...process.env,
    GRANTORY_PORT: '0',
    GRANTORY_HOST: '127.0.0.1',
    GRANTORY_DATA_DIR: dataDir,
    GRANTORY_IMPORT_DIR: importDir,
    GRANTORY_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
    GRANTORY_SECRET_KEY: TEST_SECRET_KEY,
    GRANTORY_IMPORT_LEASE_SECONDS: '1',
    GRANTORY_LOG_LEVEL: 'silent',
    ...(databaseUrl ? { DATABASE_URL: databaseUrl } : { DATABASE_URL: '' }),
  };
}

interface Server {
  child: ChildProcess;
  url: string;
}

function startServer(): Promise<Server> {
  const child = spawn(process.execPath, [join(ROOT, 'bin/grantory.js'), 'serve'], { env: env(), stdio: ['ignore', 'pipe', 'pipe'] });
  return new Promise((resolveStart, reject) => {
    let out = '';
    let err = '';
    child.stdout!.on('data', (d: Buffer) => {
      out += d.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) resolveStart({ child, url: m[1]! });
    });
    child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
    child.on('exit', (code) => reject(new Error(`server exited (${code}) before listening: ${err}`)));
  });
}

function kill9(server: Server): Promise<void> {
  return new Promise((done) => {
    server.child.once('exit', () => done());
    server.child.kill('SIGKILL');
  });
}

function stop(server: Server): Promise<void> {
  return new Promise((done) => {
    server.child.once('exit', () => done());
    server.child.kill('SIGTERM');
  });
}

async function call(server: Server, method: string, path: string, body?: unknown): Promise<{ status: number; json: unknown }> {
  const res = await fetch(`${server.url}${path}`, {
    method,
    headers: { authorization: `Bearer ${ADMIN_KEY}`, ...(body ? { 'content-type': 'application/json' } : {}) },
    body: body ? JSON.stringify(body) : undefined,
  });
  return { status: res.status, json: await res.json() };
}

async function importOf(server: Server, id: string): Promise<ImportView> {
  return (await call(server, 'GET', `/api/v1/imports/${id}`)).json as ImportView;
}

/** Polls (no timing assertion: only a bound on how long to keep looking). */
async function until<T>(what: string, probe: () => Promise<T | null>, tries = 20000): Promise<T> {
  for (let i = 0; i < tries; i += 1) {
    const v = await probe();
    if (v !== null) return v;
    await new Promise((r) => setTimeout(r, 10));
  }
  throw new Error(`gave up waiting for ${what}`);
}

async function snapshot(): Promise<{ accounts: number; grants: number }> {
  const store = await openStore({ dataDir, databaseUrl });
  try {
    const tenant = (await store.listTenants())[0]!;
    const { db } = store.read(tenant.id);
    const accounts = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).where('application_id', '=', appId).executeTakeFirstOrThrow();
    const grants = await db
      .selectFrom('grants')
      .innerJoin('accounts', 'accounts.id', 'grants.account_id')
      .select((eb) => eb.fn.countAll<number>().as('n'))
      .where('accounts.application_id', '=', appId)
      .executeTakeFirstOrThrow();
    return { accounts: Number(accounts.n), grants: Number(grants.n) };
  } finally {
    await store.close();
  }
}

function csv(accounts: number, grantsEach: number, tag: string): string {
  const lines = ['login,emp,entitlement'];
  for (let a = 0; a < accounts; a += 1) for (let g = 0; g < grantsEach; g += 1) lines.push(`u${a},E${a},${tag}-perm-${g}`);
  return `${lines.join('\n')}\n`;
}

const SMALL = { accounts: 50, grants: 100 };
const BIG = { accounts: 12000, grants: 60000 };

beforeAll(async () => {
  if (TEST_BACKEND === 'postgres') {
    dbName = `grantory_crash_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    await admin.query(`create database ${dbName}`);
    await admin.end();
    const u = new URL(TEST_PG_URL);
    u.pathname = `/${dbName}`;
    databaseUrl = u.toString();
  }
  mkdirSync(join(importDir, 'crm'), { recursive: true });
  // Seed directly, then let servers do the rest.
  const store = await openStore({ dataDir, databaseUrl });
  await store.migrate();
  const { bootstrap } = await import('../../src/services/bootstrap.ts');
  const boot = await bootstrap(store, { adminKey: ADMIN_KEY, secrets: createServerSecrets(TEST_SECRET_KEY) });
  appId = await createApplication(store, boot.tenantId, { name: 'CRM' });
  await createIdentity(store, boot.tenantId, { subject: 's:0', employeeNumber: 'E0' });
  await store.close();
}, 60_000);

afterAll(async () => {
  rmSync(dir, { recursive: true, force: true });
  if (dbName) {
    const admin = new pg.Client({ connectionString: TEST_PG_URL });
    await admin.connect();
    await admin.query(`drop database if exists ${dbName} with (force)`);
    await admin.end();
  }
});

describe(`kill -9 during imports (${TEST_BACKEND})`, () => {
  it('keeps the old snapshot or the whole new one, marks interrupted imports Failed, and the audit trail verifies', async () => {
    let server = await startServer();
    try {
      const put = await call(server, 'PUT', `/api/v1/applications/${appId}/connector`, {
        type: 'file',
        directory: 'crm',
        fileGroups: [{ name: 'grants', pattern: 'grants.csv', columns: { accountName: 'login', employeeNumber: 'emp', permission: 'entitlement' } }],
        matching: ['employeeNumber'],
        unknownPermissions: 'create',
      });
      expect(put.status).toBe(200);
      writeFileSync(join(importDir, 'crm', 'grants.csv'), csv(SMALL.accounts, 2, 'old'));
      const first = (await call(server, 'POST', '/api/v1/imports/stage', { applicationId: appId })).json as ImportView;
      await until('the first import', async () => ((await importOf(server, first.id)).status === 'Finished' ? true : null));
      expect(await snapshot()).toEqual(SMALL);

      // 1. During parse.
      writeFileSync(join(importDir, 'crm', 'grants.csv'), csv(BIG.accounts, 5, 'new'));
      const during = (await call(server, 'POST', '/api/v1/imports/stage', { applicationId: appId })).json as ImportView;
      await until('parsing', async () => {
        const v = await importOf(server, during.id);
        return v.phase === 'parse' && v.progress.rowsRead > 0 ? v : null;
      });
      await kill9(server);
      expect(await snapshot()).toEqual(SMALL);
      server = await startServer();
      const failed = await until('the interrupted import', async () => {
        const v = await importOf(server, during.id);
        return v.status === 'Failed' ? v : null;
      });
      expect(failed.error).toBe('interrupted');
      expect(await snapshot()).toEqual(SMALL);

      // 2. During apply: the old snapshot and Failed, or (if the commit won) the new one and Finished.
      const applying = (await call(server, 'POST', '/api/v1/imports/stage', { applicationId: appId })).json as ImportView;
      // Watched from the database itself, not through the server: on SQLite the server's own
      // reads wait while its apply transaction holds its connection, another connection does not.
      const watcher = await openStore({ dataDir, databaseUrl });
      let seenApply = false;
      try {
        const tenant = (await watcher.listTenants())[0]!;
        await until('applying', async () => {
          const v = await watcher.read(tenant.id).db.selectFrom('imports').select(['phase', 'status']).where('id', '=', applying.id).executeTakeFirst();
          seenApply = v?.phase === 'apply';
          return seenApply || v?.status === 'Finished' ? true : null;
        });
        await kill9(server);
      } finally {
        await watcher.close();
      }
      const afterApply = await snapshot();
      server = await startServer();
      const ended = await until('the import killed during apply to end', async () => {
        const v = await importOf(server, applying.id);
        return v.status === 'Failed' || v.status === 'Finished' ? v : null;
      });
      if (ended.status === 'Failed') {
        expect(ended.error).toBe('interrupted');
        expect(afterApply).toEqual(SMALL);
      } else {
        expect(afterApply).toEqual(BIG);
      }
      expect(await snapshot()).toEqual(afterApply);

      // 3. Before it starts: killed right after it was queued; after restart it runs to its end.
      const queued = (await call(server, 'POST', '/api/v1/imports/stage', { applicationId: appId })).json as ImportView;
      await kill9(server);
      const beforeRestart = await snapshot();
      expect([SMALL, BIG]).toContainEqual(beforeRestart);
      server = await startServer();
      const last = await until('the queued import to end', async () => {
        const v = await importOf(server, queued.id);
        return ['Finished', 'Failed'].includes(v.status) ? v : null;
      });
      expect(await snapshot()).toEqual(last.status === 'Finished' ? BIG : beforeRestart);
    } finally {
      await stop(server).catch(() => undefined);
    }
    const verify = spawnSync(process.execPath, [join(ROOT, 'bin/grantory.js'), 'audit', 'verify'], { env: env(), encoding: 'utf8' });
    expect(verify.status, verify.stdout + verify.stderr).toBe(0);
    expect(verify.stdout).toMatch(/tenant default: ok/);
  }, 300_000);
});
