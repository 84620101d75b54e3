import { spawn } from 'node:child_process';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterEach, describe, expect, it } from 'vitest';
import { hashAuditEvent } from '../../src/domain/audit-chain.ts';
import { generateCheckpointKey, signCheckpoint } from '../../src/domain/checkpoint.ts';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { verifyAuditTrail, type CheckpointFile } from '../../src/services/audit/trail.ts';
import { checkpointIfChanged, createCheckpoint, listCheckpoints } from '../../src/services/audit/checkpoints.ts';
import { startJobs } from '../../src/jobs/index.ts';
import { until } from '../support/receivers.ts';
import { fromAuditRow } from '../../src/store/write-protocol.ts';
import { createTestApp, ADMIN_KEY, TEST_SECRET_KEY, type TestApp } from '../support/harness.ts';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function setup(keys = 4): Promise<TestApp> {
  t = await createTestApp();
  for (let i = 0; i < keys; i += 1) {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name: `k${i}` } });
    expect(res.statusCode).toBe(201);
  }
  return t;
}

const db = (app: TestApp) => app.store.read(app.tenantId).db;

async function exportCheckpoints(app: TestApp): Promise<CheckpointFile> {
  const res = await app.app.inject({ method: 'GET', url: '/api/v1/audit-checkpoints', headers: app.auth });
  expect(res.statusCode).toBe(200);
  return res.json() as CheckpointFile;
}

async function problemOf(app: TestApp, files: CheckpointFile[] = []) {
  const [result] = await verifyAuditTrail(app.store, { checkpointFiles: files });
  return result!.problem;
}

async function headSeq(app: TestApp): Promise<number> {
  const row = await db(app).selectFrom('tenants').select('audit_seq').where('id', '=', app.tenantId).executeTakeFirstOrThrow();
  return Number(row.audit_seq);
}

/** Re-hashes the whole chain from `seq` 1 (what an attacker with database access can do) and moves the tenant's head. */
async function rehashChain(app: TestApp): Promise<void> {
  const rows = await db(app).selectFrom('audit_events').selectAll().where('tenant_id', '=', app.tenantId).orderBy('seq').execute();
  let prev = '0'.repeat(64);
  let seq = 0;
  for (const row of rows) {
    seq += 1;
    const { hash: _old, ...event } = fromAuditRow(row);
    const fixed = { ...event, seq, prevHash: prev };
    const hash = hashAuditEvent(fixed);
    await db(app).updateTable('audit_events').set({ seq, prev_hash: prev, hash }).where('tenant_id', '=', app.tenantId).where('id', '=', row.id).execute();
    prev = hash;
  }
  await db(app).updateTable('tenants').set({ audit_seq: seq, audit_head_hash: prev }).where('id', '=', app.tenantId).execute();
}

describe('signed checkpoints and tamper detection', () => {
  it('an intact trail verifies against its checkpoints; POST and GET show them with the public key', async () => {
    const app = await setup();
    const before = await headSeq(app);
    const res = await app.app.inject({ method: 'POST', url: '/api/v1/audit-checkpoints', headers: app.auth });
    expect(res.statusCode).toBe(201);
    const created = res.json() as { seq: number; hash: string; signature: string };
    // The checkpoint key is created on first use (one event), then the head is signed.
    expect(created.seq).toBeGreaterThanOrEqual(before);
    const file = await exportCheckpoints(app);
    expect(file.publicKeys[0]!.publicKey).toMatch(/BEGIN PUBLIC KEY/);
    expect(file.items[0]).toMatchObject({ seq: created.seq, hash: created.hash, signature: created.signature });
    const [result] = await verifyAuditTrail(app.store, { checkpointFiles: [file] });
    expect(result!.problem).toBeNull();
    expect(result!.checkpoints).toBe(2);
    // A page before a sequence number no store can hold is a 400 naming it, not a database error.
    for (const beforeSeq of ['1e%2B308', '9007199254740992']) {
      const huge = await app.app.inject({ method: 'GET', url: `/api/v1/audit-checkpoints?beforeSeq=${beforeSeq}`, headers: app.auth });
      expect(huge.statusCode, huge.body).toBe(400);
      expect(huge.body).toContain('beforeSeq');
    }
    expect((await app.app.inject({ method: 'GET', url: `/api/v1/audit-checkpoints?beforeSeq=${Number.MAX_SAFE_INTEGER}`, headers: app.auth })).statusCode).toBe(200);
  });

  it('detects an edited event', async () => {
    const app = await setup();
    await db(app).updateTable('audit_events').set({ after: '{"name":"innocent"}' }).where('tenant_id', '=', app.tenantId).where('seq', '=', 3).execute();
    expect(await problemOf(app)).toMatchObject({ kind: 'hash_mismatch', seq: 3 });
  });

  it('detects a deleted event', async () => {
    const app = await setup();
    await db(app).deleteFrom('audit_events').where('tenant_id', '=', app.tenantId).where('seq', '=', 2).execute();
    // Reported at the missing event's number.
    expect(await problemOf(app)).toMatchObject({ kind: 'gap', seq: 2 });
  });

  it('detects reordered events', async () => {
    const app = await setup();
    const rows = await db(app).selectFrom('audit_events').select(['id', 'seq']).where('tenant_id', '=', app.tenantId).where('seq', 'in', [2, 3]).orderBy('seq').execute();
    await db(app).updateTable('audit_events').set({ seq: -1 }).where('id', '=', rows[0]!.id).execute();
    await db(app).updateTable('audit_events').set({ seq: 2 }).where('id', '=', rows[1]!.id).execute();
    await db(app).updateTable('audit_events').set({ seq: 3 }).where('id', '=', rows[0]!.id).execute();
    expect(await problemOf(app)).toMatchObject({ kind: 'broken_link', seq: 2 });
  });

  it('detects the newest events deleted after a checkpoint even when the head is moved back', async () => {
    const app = await setup();
    const { checkpoint } = await createCheckpoint(app.services.deps, systemActor(app.tenantId));
    const keep = checkpoint.seq - 2;
    await db(app).deleteFrom('audit_events').where('tenant_id', '=', app.tenantId).where('seq', '>', keep).execute();
    const last = await db(app).selectFrom('audit_events').select('hash').where('tenant_id', '=', app.tenantId).where('seq', '=', keep).executeTakeFirstOrThrow();
    await db(app).updateTable('tenants').set({ audit_seq: keep, audit_head_hash: last.hash }).where('id', '=', app.tenantId).execute();
    expect(await problemOf(app)).toMatchObject({ kind: 'truncated', seq: keep + 1 });
  });

  it('detects a rewritten chain through the stored checkpoints', async () => {
    const app = await setup();
    await createCheckpoint(app.services.deps, systemActor(app.tenantId));
    await db(app).updateTable('audit_events').set({ after: '{"name":"innocent"}' }).where('tenant_id', '=', app.tenantId).where('seq', '=', 3).execute();
    await rehashChain(app);
    expect(await problemOf(app)).toMatchObject({ kind: 'checkpoint_mismatch', seq: expect.any(Number) });
  });

  it('detects a rewrite of the chain, the key and the checkpoints against an exported checkpoint file', async () => {
    const app = await setup();
    await createCheckpoint(app.services.deps, systemActor(app.tenantId));
    const exported = await exportCheckpoints(app);

    // The attacker edits an event, re-hashes the chain, replaces the key and re-signs every checkpoint.
    await db(app).updateTable('audit_events').set({ after: '{"name":"innocent"}' }).where('tenant_id', '=', app.tenantId).where('seq', '=', 3).execute();
    await rehashChain(app);
    const forged = generateCheckpointKey();
    await db(app).updateTable('audit_keys').set({ id: forged.keyId, public_key: forged.publicKeyPem, secret: forged.privateKeyPem }).where('tenant_id', '=', app.tenantId).where('purpose', '=', 'checkpoint').execute();
    for (const row of await db(app).selectFrom('audit_checkpoints').selectAll().where('tenant_id', '=', app.tenantId).execute()) {
      const event = await db(app).selectFrom('audit_events').select('hash').where('tenant_id', '=', app.tenantId).where('seq', '=', row.seq).executeTakeFirstOrThrow();
      const signed = signCheckpoint(forged.privateKeyPem, forged.keyId, { tenant: app.tenantId, seq: Number(row.seq), hash: event.hash, time: row.time });
      await db(app).updateTable('audit_checkpoints').set({ hash: signed.hash, key_id: signed.keyId, signature: signed.signature }).where('tenant_id', '=', app.tenantId).where('seq', '=', row.seq).execute();
    }

    expect(await problemOf(app)).toBeNull();
    const [result] = await verifyAuditTrail(app.store, { checkpointFiles: [exported] });
    expect(result!.problem).toMatchObject({ kind: 'checkpoint_mismatch' });
    expect(result!.notes.join(' ')).toMatch(/not in the database/);

    // A forged export (signed by another key under the exported key id) is refused.
    const tampered: CheckpointFile = { ...exported, items: exported.items.map((c) => ({ ...c, hash: 'f'.repeat(64) })) };
    expect((await verifyAuditTrail(app.store, { checkpointFiles: [tampered] }))[0]!.problem).toMatchObject({ kind: 'bad_checkpoint' });
  });

  it('the scheduled job signs a changed head once, and a quiet tenant gets no new checkpoint', async () => {
    const app = await setup(1);
    expect(await checkpointIfChanged(app.services.deps, app.tenantId)).not.toBeNull();
    expect(await checkpointIfChanged(app.services.deps, app.tenantId)).toBeNull();
    const jobs = startJobs(app.services.deps, { checkpointIntervalMs: 20, deliveryIntervalMs: 0 });
    try {
      await app.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: app.auth, payload: { name: 'later' } });
      const head = await headSeq(app);
      await until(async () => (await listCheckpoints(app.services.deps, systemActor(app.tenantId), { limit: 1 })).items[0]!.seq >= head, 'the job signs the new head');
    } finally {
      await jobs.stop();
    }
    expect((await verifyAuditTrail(app.store))[0]!.problem).toBeNull();
  });

  it('lists newest first, bounded', async () => {
    const app = await setup(1);
    for (let i = 0; i < 3; i += 1) await createCheckpoint(app.services.deps, systemActor(app.tenantId));
    const list = await listCheckpoints(app.services.deps, systemActor(app.tenantId), { limit: 2 });
    expect(list.items).toHaveLength(2);
    expect(list.items[0]!.seq).toBeGreaterThan(list.items[1]!.seq);
  });
});

function runCli(args: string[], env: Record<string, string>): Promise<{ code: number; stdout: string; stderr: string }> {
  return new Promise((resolveRun, reject) => {
    const child = spawn(process.execPath, ['bin/grantory.js', ...args], { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let stdout = '';
    let stderr = '';
    child.stdout.on('data', (d: Buffer) => (stdout += d.toString()));
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => resolveRun({ code: code ?? -1, stdout, stderr }));
  });
}

describe('grantory audit verify --checkpoints FILE', () => {
  it('exits 0 on an intact trail and 1 once the newest events are deleted', async () => {
    const dir = mkdtempSync(join(tmpdir(), 'grantory-verify-'));
    try {
      const env = { GRANTORY_DATA_DIR: dir, DATABASE_URL: '', GRANTORY_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY, GRANTORY_SECRET_KEY: TEST_SECRET_KEY };
      const { openStore } = await import('../../src/store/open.ts');
      const { bootstrap } = await import('../../src/services/bootstrap.ts');
      const store = await openStore({ dataDir: dir });
      await store.migrate();
      await bootstrap(store, { adminKey: ADMIN_KEY, secrets: createServerSecrets(TEST_SECRET_KEY) });
      const [tenant] = await store.listTenants();
      await createCheckpoint({ store, now: () => new Date(), secrets: createServerSecrets(TEST_SECRET_KEY) }, systemActor(tenant!.id));
      const file = await listCheckpoints({ store, now: () => new Date() }, systemActor(tenant!.id), { limit: 100 });
      const path = join(dir, 'checkpoints.json');
      writeFileSync(path, JSON.stringify(file));

      const ok = await runCli(['audit', 'verify', '--checkpoints', path], env);
      expect(ok.stdout).toMatch(/ok, \d+ events, 2 checkpoints matched/);
      expect(ok.code).toBe(0);

      // Delete the newest events, their checkpoint too, and move the head back.
      const db = store.read(tenant!.id).db;
      await db.deleteFrom('audit_checkpoints').execute();
      await db.deleteFrom('audit_events').where('seq', '>', 1).execute();
      const first = await db.selectFrom('audit_events').select('hash').where('seq', '=', 1).executeTakeFirstOrThrow();
      await db.updateTable('tenants').set({ audit_seq: 1, audit_head_hash: first.hash }).execute();
      await store.close();

      const broken = await runCli(['audit', 'verify', '--checkpoints', path], env);
      expect(broken.code).toBe(1);
      expect(broken.stdout).toMatch(/BROKEN at event #2: .*newest events were deleted/);
    } finally {
      rmSync(dir, { recursive: true, force: true });
    }
  }, 120_000);
});
