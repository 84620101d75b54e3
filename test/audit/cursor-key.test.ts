/**
 * One cursor key per tenant, encrypted at rest: the lists (applications here) and the audit
 * trail seal their cursors with the same key, stored once in `audit_keys` (purpose `cursor`)
 * encrypted with the server secret; no raw row holds it in plaintext. Migration 0025 moves a
 * key stored in plaintext in `tenant_secrets` there, encrypted, so its cursors stay valid,
 * and drops that table.
 */
import { sql, type Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';
import { listApplications } from '../../src/services/catalog/applications.ts';
import { createServices } from '../../src/services/index.ts';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { createTestApp, TEST_SECRET_KEY, type TestApp } from '../support/harness.ts';

const SEALED = /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
  // A second application: the list of applications has two pages of one.
  const made = await t.app.inject({ method: 'POST', url: '/api/v1/applications', headers: t.auth, payload: { name: 'ledger' } });
  expect(made.statusCode, made.body).toBe(201);
});
afterAll(async () => {
  await t.close();
});

const raw = () => t.store.read(t.tenantId).db as unknown as Kysely<unknown>;

async function cursorRows(): Promise<{ id: string; secret: string }[]> {
  return t.store.read(t.tenantId).db.selectFrom('audit_keys').select(['id', 'secret']).where('purpose', '=', 'cursor').execute();
}

/** Every text the tenant's rows of a table hold, for a search for the plaintext key. */
async function textOf(table: string): Promise<string> {
  const { rows } = await sql<Record<string, unknown>>`select * from ${sql.table(table)}`.execute(raw());
  return JSON.stringify(rows);
}

/** A fresh server over the same database (nothing cached). */
const restarted = () => createServices({ store: t.store, now: () => new Date(), secrets: createServerSecrets(TEST_SECRET_KEY) }).deps;

describe('the cursor key', () => {
  it('is one key for every list, stored encrypted; no raw row holds it in plaintext', async () => {
    const apps = await t.app.inject({ method: 'GET', url: '/api/v1/applications?limit=1', headers: t.auth });
    const cursor = (apps.json() as { nextCursor: string }).nextCursor;
    expect(cursor).toEqual(expect.any(String));
    const events = await t.app.inject({ method: 'GET', url: '/api/v1/audit-events?limit=1', headers: t.auth });
    expect((events.json() as { nextCursor: string }).nextCursor).toEqual(expect.any(String));

    const rows = await cursorRows();
    expect(rows).toHaveLength(1);
    expect(rows[0]!.secret).toMatch(SEALED);
    const key = Buffer.from(createServerSecrets(TEST_SECRET_KEY).decrypt(rows[0]!.secret), 'base64');
    expect(key).toHaveLength(32);
    for (const table of ['audit_keys', 'audit_events', 'tenants']) {
      const text = await textOf(table);
      for (const form of [key.toString('base64'), key.toString('base64url'), key.toString('hex')]) expect(text).not.toContain(form);
    }
    await expect(sql`select * from tenant_secrets`.execute(raw())).rejects.toThrow();

    // A restarted server (another process) reads the same key: the cursor goes on.
    const next = await listApplications(restarted(), systemActor(t.tenantId), {}, { limit: 1, cursor });
    expect(next.items).toHaveLength(1);
  });

  it('migration 0025 moves a plaintext key into audit_keys, encrypted, and its cursors stay valid', async () => {
    const deps = restarted();
    const page = await listApplications(deps, systemActor(t.tenantId), {}, { limit: 1 });
    const [row] = await cursorRows();
    const key = Buffer.from(createServerSecrets(TEST_SECRET_KEY).decrypt(row!.secret), 'base64');
    // As stored before the migration: the lists' key in plaintext in tenant_secrets, no encrypted one.
    await sql`create table tenant_secrets (tenant_id text not null, name text not null, value text not null, created_at text not null, primary key (tenant_id, name))`.execute(raw());
    await sql`insert into tenant_secrets values (${t.tenantId}, 'cursor', ${key.toString('base64url')}, ${new Date().toISOString()})`.execute(raw());
    await sql`delete from audit_keys where purpose = 'cursor'`.execute(raw());

    const previous = process.env.GRANTORY_SECRET_KEY;
    process.env.GRANTORY_SECRET_KEY = TEST_SECRET_KEY;
    try {
      await MIGRATIONS['0025-one-cursor-key']!.up(raw());
    } finally {
      if (previous === undefined) delete process.env.GRANTORY_SECRET_KEY;
      else process.env.GRANTORY_SECRET_KEY = previous;
    }
    await expect(sql`select * from tenant_secrets`.execute(raw())).rejects.toThrow();
    const moved = await cursorRows();
    expect(moved).toHaveLength(1);
    expect(moved[0]!.secret).toMatch(SEALED);
    expect(await textOf('audit_keys')).not.toContain(key.toString('base64'));
    expect(Buffer.from(createServerSecrets(TEST_SECRET_KEY).decrypt(moved[0]!.secret), 'base64').equals(key)).toBe(true);
    const next = await listApplications(restarted(), systemActor(t.tenantId), {}, { limit: 1, cursor: page.nextCursor! });
    expect(next.items).toHaveLength(1);
  });
});
