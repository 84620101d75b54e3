/**
 * The audit hash chain: canonical JSON and the chain verifier as pure functions, then the
 * trail of a real app tampered with directly in its database, checked both by
 * `verifyAuditTrail` and by the real `grantory audit verify` command.
 */
import { createHash } from 'node:crypto';
import { afterEach, beforeEach, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/canonical-json.ts';
import { ChainVerifier, GENESIS_HASH, hashAuditEvent, type ChainedAuditEvent } from '../../src/domain/audit-chain.ts';
import { verifyAuditTrail } from '../../src/services/audit/trail.ts';
import { fromAuditRow } from '../../src/store/write-protocol.ts';
import { PROCESS_TIMEOUT, runCli } from '../support/cli.ts';
import { createTestApp, createThrowawayDatabase, TEST_BACKEND, type TestApp, type ThrowawayDatabase } from '../support/harness.ts';

describe('canonicalJson', () => {
  it('sorts object keys at every depth and leaves out whitespace', () => {
    expect(canonicalJson({ b: 1, a: [true, null], c: { z: 'z', y: { x: 1, w: 2 } } })).toBe('{"a":[true,null],"b":1,"c":{"y":{"w":2,"x":1},"z":"z"}}');
  });

  it('gives equal values the same text whatever the key order', () => {
    expect(canonicalJson({ id: 'k', name: 'n', scopes: ['a'] })).toBe(canonicalJson({ scopes: ['a'], name: 'n', id: 'k' }));
  });

  it('drops undefined members, writes undefined array items and a bare undefined as null', () => {
    expect(canonicalJson({ a: undefined, b: 2 })).toBe('{"b":2}');
    expect(canonicalJson([1, undefined, 3])).toBe('[1,null,3]');
    expect(canonicalJson(undefined)).toBe('null');
  });

  it('escapes strings and keys as JSON does', () => {
    expect(canonicalJson({ 'quote"key': 'line\nbreak "and" \\ \u0001' })).toBe('{"quote\\"key":"line\\nbreak \\"and\\" \\\\ \\u0001"}');
    expect(canonicalJson('é€😀')).toBe('"é€😀"');
  });

  it('sorts keys by UTF-16 code units, as RFC 8785 does', () => {
    // U+FF5E sorts after the surrogate pair of U+1F600 in UTF-16 order, before it by code point.
    expect(canonicalJson({ '\uff5e': 1, '😀': 2, B: 3, a: 4 })).toBe('{"B":3,"a":4,"😀":2,"～":1}');
  });

  it('writes values with a toJSON (such as dates) as JSON.stringify does', () => {
    expect(canonicalJson({ at: new Date('2026-11-25T10:00:00.000Z') })).toBe('{"at":"2026-11-25T10:00:00.000Z"}');
  });

  it('refuses numbers JSON cannot hold', () => {
    expect(() => canonicalJson({ n: Number.NaN })).toThrow('non-finite number');
    expect(() => canonicalJson([Number.POSITIVE_INFINITY])).toThrow('non-finite number');
  });

  it('refuses values that have no JSON form instead of writing invalid text', () => {
    expect(() => canonicalJson({ f: () => 1 })).toThrow('cannot write a function');
    expect(() => canonicalJson([Symbol('s')])).toThrow('cannot write a symbol');
    expect(() => canonicalJson({ n: 10n })).toThrow('cannot write a bigint');
  });
});

/** A valid chain of `n` events, built the way the store builds them. */
function chain(n: number): (ChainedAuditEvent & { hash: string })[] {
  const events: (ChainedAuditEvent & { hash: string })[] = [];
  let prevHash = GENESIS_HASH;
  for (let seq = 1; seq <= n; seq += 1) {
    const event: ChainedAuditEvent = {
      tenantId: 'tenant-1',
      seq,
      id: `event-${seq}`,
      time: `2026-11-25T10:00:0${seq}.000Z`,
      revision: seq,
      actorType: 'system',
      actorId: null,
      actorName: 'unit test',
      onBehalfOfId: null,
      authorityId: null,
      action: 'role.create',
      targetType: 'role',
      targetId: `role-${seq}`,
      before: null,
      after: canonicalJson({ name: `role ${seq}` }),
      requestId: null,
      sourceIp: null,
      sourcePort: null,
      userAgent: null,
      origin: null,
      prevHash,
    };
    const hash = hashAuditEvent(event);
    events.push({ ...event, hash });
    prevHash = hash;
  }
  return events;
}

function firstProblem(events: (ChainedAuditEvent & { hash: string })[]) {
  const verifier = new ChainVerifier();
  for (const event of events) {
    const problem = verifier.push(event);
    if (problem) return { problem, verifier };
  }
  return { problem: null, verifier };
}

describe('hashAuditEvent and ChainVerifier', () => {
  it('hashes deterministically, as SHA-256 hex, and over every field', () => {
    const [event] = chain(1);
    const { hash, ...fields } = event!;
    expect(hash).toMatch(/^[0-9a-f]{64}$/);
    expect(hashAuditEvent({ ...fields })).toBe(hash);
    expect(hashAuditEvent({ ...fields, sourceIp: '10.0.0.1' })).not.toBe(hash);
    expect(hashAuditEvent({ ...fields, prevHash: 'f'.repeat(64) })).not.toBe(hash);
    expect(hashAuditEvent({ ...fields, authorityId: 'identity-1' })).not.toBe(hash);
    expect(hashAuditEvent({ ...fields, sourcePort: 51234 })).not.toBe(hash);
    expect(hashAuditEvent({ ...fields, sourcePort: 51234 })).not.toBe(hashAuditEvent({ ...fields, sourcePort: 51235 }));
  });

  it('hashes an event without an authority as events were hashed before the field existed', () => {
    const [event] = chain(1);
    const { hash, authorityId: _none, sourcePort: _noPort, ...before0009 } = event!;
    const legacy = createHash('sha256').update(before0009.prevHash).update('\n').update(canonicalJson(before0009)).digest('hex');
    expect(hash).toBe(legacy);
    const withAuthority = { ...before0009, authorityId: 'identity-1' };
    const expected = createHash('sha256').update(withAuthority.prevHash).update('\n').update(canonicalJson(withAuthority)).digest('hex');
    expect(hashAuditEvent({ ...withAuthority, sourcePort: null })).toBe(expected);
  });

  it('hashes an event without a source port as events were hashed before the field existed (0020)', () => {
    const [event] = chain(1);
    const { hash, authorityId: _none, sourcePort: _noPort, ...before0009 } = event!;
    const legacy = createHash('sha256').update(before0009.prevHash).update('\n').update(canonicalJson(before0009)).digest('hex');
    expect(hash).toBe(legacy);
    const withPort = { ...before0009, sourcePort: 40022 };
    const expected = createHash('sha256').update(withPort.prevHash).update('\n').update(canonicalJson(withPort)).digest('hex');
    expect(hashAuditEvent({ ...withPort, authorityId: null })).toBe(expected);
    // A chain mixing events without and with a port verifies; editing a port breaks it.
    const mixed = chain(3);
    const third = { ...mixed[2]!, sourcePort: 40022 };
    const { hash: _old, ...thirdFields } = third;
    mixed[2] = { ...thirdFields, hash: hashAuditEvent(thirdFields) };
    expect(firstProblem(mixed).problem).toBeNull();
    mixed[2] = { ...mixed[2]!, sourcePort: 40023 };
    expect(firstProblem(mixed).problem).toMatchObject({ kind: 'hash_mismatch', seq: 3 });
  });

  it('accepts an intact chain and reports its length and head', () => {
    const events = chain(5);
    const { problem, verifier } = firstProblem(events);
    expect(problem).toBeNull();
    expect(verifier.count).toBe(5);
    expect(verifier.lastSeq).toBe(5);
    expect(verifier.headHash).toBe(events[4]!.hash);
  });

  it('starts from the genesis hash', () => {
    const verifier = new ChainVerifier();
    expect(verifier.headHash).toBe(GENESIS_HASH);
    expect(verifier.lastSeq).toBe(0);
    const [first] = chain(1);
    expect(verifier.push({ ...first!, prevHash: 'a'.repeat(64) })).toMatchObject({ kind: 'broken_link', seq: 1 });
  });

  it('reports an edited event as altered', () => {
    const events = chain(5);
    events[2] = { ...events[2]!, actorName: 'someone else' };
    expect(firstProblem(events).problem).toEqual({ kind: 'hash_mismatch', seq: 3, message: 'event #3 was altered after it was written' });
  });

  it('reports an edited and re-hashed event at the next link', () => {
    const events = chain(5);
    const { hash: _old, ...fields } = events[2]!;
    const forged = { ...fields, after: canonicalJson({ name: 'forged' }) };
    events[2] = { ...forged, hash: hashAuditEvent(forged) };
    expect(firstProblem(events).problem).toEqual({ kind: 'broken_link', seq: 4, message: 'event #4 does not link to the hash of event #3' });
  });

  it('reports a deleted event by the number of the missing event', () => {
    const events = chain(5);
    events.splice(1, 1);
    expect(firstProblem(events).problem).toMatchObject({ kind: 'gap', seq: 2 });
  });

  it('reports two events swapped in order at the first of them', () => {
    const events = chain(5);
    const third = events[2]!;
    const fourth = events[3]!;
    events[2] = { ...fourth, seq: 3 };
    events[3] = { ...third, seq: 4 };
    expect(firstProblem(events).problem).toMatchObject({ kind: 'broken_link', seq: 3 });
  });
});

describe(`audit trail of a real app, tampered in its ${TEST_BACKEND} database`, PROCESS_TIMEOUT, () => {
  let t: TestApp;
  let database: ThrowawayDatabase | null = null;
  let storeEnv: Record<string, string>;
  /** Events bootstrap wrote before this test's own writes. */
  let bootstrapEvents: number;
  let total: number;

  beforeEach(async () => {
    if (TEST_BACKEND === 'postgres') {
      // The CLI knows no per-test schema, so the app gets a database of its own.
      database = await createThrowawayDatabase();
      t = await createTestApp({ databaseUrl: database.url });
      storeEnv = { DATABASE_URL: database.url };
    } else {
      t = await createTestApp();
      storeEnv = { GRANTORY_DATA_DIR: t.dataDir! };
    }
    bootstrapEvents = await countEvents();
    for (let i = 1; i <= 4; i += 1) {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name: `ci key ${i}` } });
      expect(res.statusCode).toBe(201);
    }
    total = bootstrapEvents + 4;
    expect(await countEvents()).toBe(total);
  });

  afterEach(async () => {
    await t.close();
    await database?.drop();
    database = null;
  });

  const events = () => t.store.read(t.tenantId).db;

  async function countEvents(): Promise<number> {
    const rows = await events().selectFrom('audit_events').select('seq').where('tenant_id', '=', t.tenantId).execute();
    return rows.length;
  }

  /** What the API's verification route (the console's Verify button) answers. */
  async function verifiedByApi(): Promise<{ ok: boolean; events: number; headSeq: number; headHash: string; problem: { kind: string; seq: number; message: string } | null }> {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/audit-verification', headers: t.auth });
    expect(res.statusCode).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    return res.json();
  }

  /** The newest recorded verification (GET /api/v1/audit-verification/last). */
  async function lastVerification(): Promise<unknown> {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/audit-verification/last', headers: t.auth });
    expect(res.statusCode).toBe(200);
    return (res.json() as { verification: unknown }).verification;
  }

  async function expectBroken(kind: string, seq: number): Promise<void> {
    const [result] = await verifyAuditTrail(t.store);
    expect(result).toMatchObject({ tenant: 'default', problem: { kind, seq } });
    expect(await verifiedByApi()).toMatchObject({ ok: false, problem: { kind, seq, message: result!.problem!.message }, headSeq: result!.headSeq });
    // The API's verification was recorded as an event after the (broken) head: the chain is still broken at the same event.
    const [again] = await verifyAuditTrail(t.store);
    expect(again).toMatchObject({ problem: { kind: expect.any(String), seq } });
    const cli = await runCli(['audit', 'verify'], storeEnv);
    expect(cli.stderr).toBe('');
    expect(cli.stdout).toBe(`tenant default: BROKEN at event #${seq}: ${again!.problem!.message}\n`);
    expect(cli.code).toBe(1);
    expect(await lastVerification()).toMatchObject({ ok: false, source: 'cli', problem: { seq }, actor: { type: 'system', name: 'grantory audit verify' } });
  }

  it('verifies an intact trail (exit 0)', async () => {
    const [result] = await verifyAuditTrail(t.store);
    const head = await events().selectFrom('tenants').select('audit_head_hash').where('id', '=', t.tenantId).executeTakeFirstOrThrow();
    expect(result).toMatchObject({ tenant: 'default', tenantId: t.tenantId, events: total, headSeq: total, headHash: head.audit_head_hash, problem: null, checkpoints: 0 });
    expect(await lastVerification()).toBeNull();
    expect(await verifiedByApi()).toMatchObject({ ok: true, events: total, headSeq: total, headHash: head.audit_head_hash, problem: null });
    // Each verification is recorded as an audit.verified event, and the newest is the last verification.
    expect(await lastVerification()).toMatchObject({ ok: true, source: 'api', events: total, headSeq: total, headHash: head.audit_head_hash, eventSeq: total + 1, actor: { type: 'api_key' } });
    const recorded = await events().selectFrom('tenants').select('audit_head_hash').where('id', '=', t.tenantId).executeTakeFirstOrThrow();
    const cli = await runCli(['audit', 'verify'], storeEnv);
    expect(cli).toEqual({ code: 0, signal: null, stdout: `tenant default: ok, ${total + 1} events, 0 checkpoints matched, head ${recorded.audit_head_hash}\n`, stderr: '' });
    expect(await lastVerification()).toMatchObject({ ok: true, source: 'cli', events: total + 1, eventSeq: total + 2, actor: { type: 'system', name: 'grantory audit verify' }, onBehalfOfId: null });
  });

  it('finds a field edited in a middle event', async () => {
    const middle = bootstrapEvents + 2;
    await events().updateTable('audit_events').set({ actor_name: 'someone else' }).where('tenant_id', '=', t.tenantId).where('seq', '=', middle).execute();
    await expectBroken('hash_mismatch', middle);
  });

  it('finds a middle event edited and re-hashed, at the next link', async () => {
    const middle = bootstrapEvents + 2;
    const row = await events().selectFrom('audit_events').selectAll().where('tenant_id', '=', t.tenantId).where('seq', '=', middle).executeTakeFirstOrThrow();
    const { hash: _old, ...fields } = fromAuditRow(row);
    const forged = { ...fields, after: canonicalJson({ name: 'forged' }) };
    await events()
      .updateTable('audit_events')
      .set({ after: forged.after, hash: hashAuditEvent(forged) })
      .where('tenant_id', '=', t.tenantId)
      .where('seq', '=', middle)
      .execute();
    await expectBroken('broken_link', middle + 1);
  });

  it('finds a deleted middle event', async () => {
    const middle = bootstrapEvents + 2;
    await events().deleteFrom('audit_events').where('tenant_id', '=', t.tenantId).where('seq', '=', middle).execute();
    await expectBroken('gap', middle);
  });

  it('finds two events whose seq were swapped', async () => {
    const a = bootstrapEvents + 2;
    const b = a + 1;
    // (tenant_id, seq) is the primary key, so the swap goes through a free number.
    const swap = async (from: number, to: number) =>
      events().updateTable('audit_events').set({ seq: to }).where('tenant_id', '=', t.tenantId).where('seq', '=', from).execute();
    await swap(a, -1);
    await swap(b, a);
    await swap(-1, b);
    await expectBroken('broken_link', a);
  });

  it('finds the newest events deleted (a truncated tail)', async () => {
    await events().deleteFrom('audit_events').where('tenant_id', '=', t.tenantId).where('seq', '>', total - 2).execute();
    expect(await countEvents()).toBe(total - 2);
    await expectBroken('gap', total - 1);
  });
});
