/**
 * Migration 0020 on a database written before it: the audit events gain `source_port` (and
 * sessions `client_id`), the events (and signed checkpoints) recorded before keep verifying,
 * events with a port chain after them, and an edited port is found.
 */
import type { Kysely } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditTrail } from '../../src/services/audit/trail.ts';
import { MIGRATIONS } from '../../src/store/migrations/index.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const db = () => t.store.read(t.tenantId).db;
const mine = async () => (await verifyAuditTrail(t.store)).find((v) => v.tenantId === t.tenantId)!;

describe('migration 0020', () => {
  it('adds the source port; events and checkpoints written before verify, new ports are chained', async () => {
    for (const name of ['before-0020-a', 'before-0020-b']) {
      expect((await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name } })).statusCode).toBe(201);
    }
    expect((await t.app.inject({ method: 'POST', url: '/api/v1/audit-checkpoints', headers: t.auth })).statusCode).toBe(201);
    const before = await mine();
    expect(before.problem).toBeNull();

    // The database as it was before 0020, then the migration as `grantory migrate` runs it.
    await db().schema.alterTable('audit_events').dropColumn('source_port').execute();
    await db().schema.alterTable('sessions').dropColumn('client_id').execute();
    await MIGRATIONS['0020-source-port-token-client']!.up(db() as unknown as Kysely<unknown>);
    const migrated = await mine();
    expect(migrated).toMatchObject({ problem: null, events: before.events, headHash: before.headHash });
    expect(migrated.checkpoints).toBeGreaterThanOrEqual(1);

    await t.store.write(t.tenantId, { actorType: 'system', actorId: null, actorName: 'port test', sourceIp: '10.0.0.7', sourcePort: 40022 }, async (tx) => {
      tx.audit({ action: 'test.port', targetType: 'test', targetId: null });
    });
    const withPort = await db().selectFrom('audit_events').select(['seq', 'source_port']).where('tenant_id', '=', t.tenantId).where('action', '=', 'test.port').executeTakeFirstOrThrow();
    expect(Number(withPort.source_port)).toBe(40022);
    expect((await mine()).problem).toBeNull();

    // An edited port, or a port added to an event recorded without one, breaks the chain there.
    await db().updateTable('audit_events').set({ source_port: 40023 }).where('tenant_id', '=', t.tenantId).where('seq', '=', withPort.seq).execute();
    expect((await mine()).problem).toMatchObject({ kind: 'hash_mismatch', seq: Number(withPort.seq) });
    await db().updateTable('audit_events').set({ source_port: 40022 }).where('tenant_id', '=', t.tenantId).where('seq', '=', withPort.seq).execute();
    expect((await mine()).problem).toBeNull();
    await db().updateTable('audit_events').set({ source_port: 1234 }).where('tenant_id', '=', t.tenantId).where('seq', '=', 2).execute();
    expect((await mine()).problem).toMatchObject({ kind: 'hash_mismatch', seq: 2 });
  });
});
