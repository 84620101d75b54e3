/**
 * The audit trail's keys (checkpoint signing, cursor sealing) and webhook secrets are stored
 * encrypted with the server secret: the raw rows hold no plaintext, a restarted server still
 * signs, verifies, pages and delivers, and migration 0008 encrypts rows written before it.
 */
import { randomBytes } from 'node:crypto';
import { rmSync, writeFileSync } from 'node:fs';
import { join } from 'node:path';
import type { Kysely } from 'kysely';
import { afterEach, describe, expect, it } from 'vitest';
import { generateCheckpointKey, verifyCheckpointSignature } from '../../src/domain/checkpoint.ts';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';
import { generateWebhookSecret, verifyWebhookSignature, type WebhookHeaders } from '../../src/domain/standard-webhooks.ts';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { listAuditEvents, verifyAuditTrail } from '../../src/services/audit/trail.ts';
import { createCheckpoint } from '../../src/services/audit/checkpoints.ts';
import { DEFAULT_DELIVERY_OPTIONS, deliverPending } from '../../src/services/audit/delivery.ts';
import { createServices } from '../../src/services/index.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import type { Store } from '../../src/store/store.ts';
import { createTestApp, TEST_BACKEND, TEST_SECRET_KEY, type TestApp } from '../support/harness.ts';
import { startWebhookReceiver, type WebhookReceiver } from '../support/receivers.ts';

const SEALED = /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;
const MIGRATION = '0008-encrypt-audit-secrets';
const OPTIONS = { ...DEFAULT_DELIVERY_OPTIONS, baseBackoffMs: 10, maxBackoffMs: 40, timeoutMs: 5000 };

const cleanups: (() => Promise<void> | void)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

/** Closes what the test opened once it ends. */
function owned<T extends { close(): Promise<void> }>(resource: T): T {
  cleanups.push(() => resource.close());
  return resource;
}

/** A second server over the same database and server secret (a restart). */
function restarted(store: Store, secretKey = TEST_SECRET_KEY) {
  return createServices({ store, now: () => new Date(), secrets: createServerSecrets(secretKey) }).deps;
}

async function rawSecrets(store: Store, tenantId: string) {
  const { db } = store.read(tenantId);
  const keys = await db.selectFrom('audit_keys').select(['tenant_id', 'purpose', 'id', 'secret']).execute();
  const sinks = await db.selectFrom('event_sinks').select(['id', 'secret']).execute();
  return { keys, sinks };
}

function deliveredIds(r: WebhookReceiver, secret: string): string[] {
  for (const m of r.accepted) expect(verifyWebhookSignature(secret, m.headers as unknown as WebhookHeaders, m.body)).toBe(true);
  return r.accepted.map((m) => m.headers['webhook-id']!);
}

describe('secrets at rest', () => {
  it('stores checkpoint keys, cursor keys and webhook secrets encrypted; a restart still signs, verifies, pages and delivers', async () => {
    const t = owned(await createTestApp());
    const r = owned(await startWebhookReceiver());
    const created = await t.app.inject({ method: 'POST', url: '/api/v1/event-sinks', headers: t.auth, payload: { name: 'siem', type: 'webhook', webhook: { url: r.url }, startAt: 'beginning' } });
    expect(created.statusCode, created.body).toBe(201);
    const sink = created.json() as { id: string; secret: string };
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/audit-checkpoints', headers: t.auth })).statusCode).toBe(201);
    const first = (await t.app.inject({ method: 'GET', url: '/api/v1/audit-events?limit=1', headers: t.auth })).json() as { nextCursor: string };
    expect(first.nextCursor).toEqual(expect.any(String));

    const raw = await rawSecrets(t.store, t.tenantId);
    expect(raw.keys.map((k) => k.purpose).sort()).toEqual(['checkpoint', 'cursor']);
    for (const k of raw.keys) {
      expect(k.secret).toMatch(SEALED);
      expect(k.secret).not.toContain('PRIVATE KEY');
    }
    const stored = raw.sinks.find((s) => s.id === sink.id)!;
    expect(stored.secret).toMatch(SEALED);
    expect(stored.secret).not.toContain(sink.secret.slice('whsec_'.length, 20));

    // Restart: a new server over the same database.
    const deps = restarted(t.store);
    const { checkpoint } = await createCheckpoint(deps, systemActor(t.tenantId));
    const [verified] = await verifyAuditTrail(t.store);
    expect(verified).toMatchObject({ problem: null, checkpoints: 2 });
    expect(checkpoint.keyId).toBe(raw.keys.find((k) => k.purpose === 'checkpoint')!.id);
    const next = await listAuditEvents(deps, systemActor(t.tenantId), { filter: {}, limit: 1, cursor: first.nextCursor });
    expect(next.items).toHaveLength(1);
    await expect(deliverPending(deps, OPTIONS)).resolves.toBeGreaterThan(0);
    expect(deliveredIds(r, sink.secret).length).toBeGreaterThan(0);

    // Under another server secret the keys do not open: a clear error, nothing sent.
    const delivered = r.accepted.length;
    const wrong = restarted(t.store, `another-${TEST_SECRET_KEY}`);
    const errors: unknown[] = [];
    await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name: 'one more event' } });
    await deliverPending(wrong, OPTIONS, (e) => errors.push(e));
    expect(String(errors[0])).toMatch(/cannot be decrypted: GRANTORY_SECRET_KEY/);
    expect(r.accepted.length).toBe(delivered);
    await expect(createCheckpoint(wrong, systemActor(t.tenantId))).rejects.toThrow(/cannot be decrypted/);
  });

  it('migration 0008 encrypts the plaintext rows written before it, which keep working', async () => {
    const t = owned(await createTestApp());
    const r = owned(await startWebhookReceiver());
    // Rows as they were stored before the migration: in plaintext.
    const key = generateCheckpointKey();
    const cursorSecret = randomBytes(32).toString('base64');
    const webhookSecret = generateWebhookSecret();
    const sinkId = await plaintextRows(t, key, cursorSecret, webhookSecret, r.url);

    const previous = process.env.GRANTORY_SECRET_KEY;
    process.env.GRANTORY_SECRET_KEY = TEST_SECRET_KEY;
    try {
      await runMigration(t.store);
    } finally {
      if (previous === undefined) delete process.env.GRANTORY_SECRET_KEY;
      else process.env.GRANTORY_SECRET_KEY = previous;
    }
    const raw = await rawSecrets(t.store, t.tenantId);
    for (const k of raw.keys) expect(k.secret).toMatch(SEALED);
    expect(raw.sinks.find((s) => s.id === sinkId)!.secret).toMatch(SEALED);
    const secrets = createServerSecrets(TEST_SECRET_KEY);
    expect(secrets.decrypt(raw.keys.find((k) => k.purpose === 'checkpoint')!.secret)).toBe(key.privateKeyPem);
    expect(secrets.decrypt(raw.keys.find((k) => k.purpose === 'cursor')!.secret)).toBe(cursorSecret);

    // The same keys sign and deliver after the migration.
    const deps = restarted(t.store);
    const { checkpoint } = await createCheckpoint(deps, systemActor(t.tenantId));
    expect(checkpoint.keyId).toBe(key.keyId);
    expect(verifyCheckpointSignature(key.publicKeyPem, checkpoint)).toBe(true);
    await deliverPending(deps, OPTIONS);
    expect(deliveredIds(r, webhookSecret).length).toBeGreaterThan(0);

    // Running it again changes nothing (already encrypted rows are left alone).
    await runMigration(t.store);
    expect(await rawSecrets(t.store, t.tenantId)).toEqual(raw);
  });

  it('migration 0008 finds the server secret as the server does (secret.key beside an SQLite database, else GRANTORY_SECRET_KEY), and refuses to guess without one', async () => {
    const t = owned(await createTestApp());
    const webhookSecret = generateWebhookSecret();
    const sinkId = await plaintextRows(t, generateCheckpointKey(), randomBytes(32).toString('base64'), webhookSecret, 'http://127.0.0.1:9/');
    const previous = process.env.GRANTORY_SECRET_KEY;
    delete process.env.GRANTORY_SECRET_KEY;
    try {
      if (TEST_BACKEND === 'sqlite') {
        await expect(runMigration(t.store)).rejects.toThrow(/cannot read .*secret\.key/);
      } else {
        await expect(runMigration(t.store)).rejects.toThrow(/set GRANTORY_SECRET_KEY/);
      }
      expect((await rawSecrets(t.store, t.tenantId)).sinks.find((s) => s.id === sinkId)!.secret).toBe(webhookSecret);

      if (TEST_BACKEND === 'sqlite') {
        const file = join(t.dataDir!, 'secret.key');
        writeFileSync(file, `${TEST_SECRET_KEY}\n`, { mode: 0o600 });
        cleanups.push(() => rmSync(file, { force: true }));
      } else {
        process.env.GRANTORY_SECRET_KEY = TEST_SECRET_KEY;
      }
      await runMigration(t.store);
    } finally {
      if (previous === undefined) delete process.env.GRANTORY_SECRET_KEY;
      else process.env.GRANTORY_SECRET_KEY = previous;
    }
    const stored = (await rawSecrets(t.store, t.tenantId)).sinks.find((s) => s.id === sinkId)!.secret!;
    expect(createServerSecrets(TEST_SECRET_KEY).decrypt(stored)).toBe(webhookSecret);
  });
});

/**
 * Runs migration 0008 on the database as `grantory migrate` would on one written before it
 * (called directly: later migrations have run on the test's database, and the migrator
 * runs migrations in order only).
 */
async function runMigration(store: Store): Promise<void> {
  await MIGRATIONS[MIGRATION]!.up(store.read('').db as unknown as Kysely<unknown>);
}

/** Writes plaintext audit keys and a plaintext webhook sink, as stored before migration 0008. */
async function plaintextRows(t: TestApp, key: ReturnType<typeof generateCheckpointKey>, cursorSecret: string, webhookSecret: string, url: string): Promise<string> {
  const { db } = t.store.read(t.tenantId);
  const now = new Date().toISOString();
  await db.deleteFrom('audit_keys').where('tenant_id', '=', t.tenantId).execute();
  await db
    .insertInto('audit_keys')
    .values([
      { tenant_id: t.tenantId, purpose: 'checkpoint', id: key.keyId, public_key: key.publicKeyPem, secret: key.privateKeyPem, created_at: now },
      { tenant_id: t.tenantId, purpose: 'cursor', id: 'c0ffee', public_key: null, secret: cursorSecret, created_at: now },
    ])
    .execute();
  const head = await db.selectFrom('tenants').select('audit_seq').where('id', '=', t.tenantId).executeTakeFirstOrThrow();
  const sinkId = `sink-${randomBytes(4).toString('hex')}`;
  await db
    .insertInto('event_sinks')
    .values({
      id: sinkId,
      tenant_id: t.tenantId,
      name: 'legacy',
      kind: 'webhook',
      format: 'grantory',
      config: JSON.stringify({ url }),
      secret: webhookSecret,
      status: 'active',
      cursor_seq: Math.max(0, Number(head.audit_seq) - 2),
      attempts: 0,
      next_attempt_at: null,
      last_error: null,
      last_delivered_at: null,
      lease_owner: null,
      lease_until: null,
      created_at: now,
      updated_at: now,
      version: 1,
    })
    .execute();
  return sinkId;
}
