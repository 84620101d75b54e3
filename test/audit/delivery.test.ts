import { afterEach, describe, expect, it } from 'vitest';
import { verifyWebhookSignature, type WebhookHeaders } from '../../src/domain/standard-webhooks.ts';
import { startJobs, type Jobs } from '../../src/jobs/index.ts';
import { DEFAULT_DELIVERY_OPTIONS, deliverPending, type DeliveryOptions } from '../../src/services/audit/delivery.ts';
import type { AuditEventView } from '../../src/services/audit/trail.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { startSyslogTcpListener, startSyslogUdpListener, startWebhookReceiver, until, type WebhookReceiver } from '../support/receivers.ts';

const cleanups: (() => Promise<void>)[] = [];
afterEach(async () => {
  for (const c of cleanups.splice(0).reverse()) await c();
});

const FAST: Partial<DeliveryOptions> = { baseBackoffMs: 10, maxBackoffMs: 40, timeoutMs: 5000, batchSize: 3 };

async function app(): Promise<TestApp> {
  const t = await createTestApp();
  cleanups.push(() => t.close());
  return t;
}

async function receiver(): Promise<WebhookReceiver> {
  const r = await startWebhookReceiver();
  cleanups.push(() => r.close());
  return r;
}

function jobs(t: TestApp, delivery: Partial<DeliveryOptions> = FAST): Jobs {
  const j = startJobs(t.services.deps, { checkpointIntervalMs: 0, deliveryIntervalMs: 20, delivery });
  cleanups.push(() => j.stop());
  return j;
}

async function createSink(t: TestApp, body: Record<string, unknown>): Promise<{ id: string; secret?: string }> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/event-sinks', headers: t.auth, payload: body });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; secret?: string };
}

async function sinkState(t: TestApp, id: string) {
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/event-sinks/${id}`, headers: t.auth });
  expect(res.statusCode).toBe(200);
  return res.json() as { status: string; cursor: number; head: number; attempts: number; lastError: string | null; deadLetterCount: number; deadLetters: { seq: number; eventId: string; error: string }[] };
}

async function write(t: TestApp, name: string): Promise<void> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name } });
  expect(res.statusCode).toBe(201);
}

async function trail(t: TestApp, afterSeq: number): Promise<AuditEventView[]> {
  const res = await t.app.inject({ method: 'GET', url: '/api/v1/audit-events?limit=1000', headers: t.auth });
  return (res.json() as { items: AuditEventView[] }).items.filter((e) => e.seq > afterSeq);
}

/** The accepted webhook messages, de-duplicated by webhook-id, with their events. */
function deduplicated(r: WebhookReceiver, secret: string) {
  const seen = new Set<string>();
  const out: { id: string; event: AuditEventView; type: string }[] = [];
  for (const m of r.accepted) {
    expect(verifyWebhookSignature(secret, m.headers as unknown as WebhookHeaders, m.body)).toBe(true);
    if (seen.has(m.headers['webhook-id']!)) continue;
    seen.add(m.headers['webhook-id']!);
    const body = JSON.parse(m.body) as { type: string; data: AuditEventView };
    out.push({ id: m.headers['webhook-id']!, event: body.data, type: body.type });
  }
  return out;
}

describe('webhook delivery', () => {
  it('a sink that is down for a while, across a restart, then returns gets every event, in order, signed, with ids', async () => {
    const t = await app();
    const r = await receiver();
    r.mode = { kind: 'status', status: 503 };
    const sink = await createSink(t, { name: 'siem', type: 'webhook', webhook: { url: r.url } });
    expect(sink.secret).toMatch(/^whsec_/);
    const start = (await sinkState(t, sink.id)).cursor;

    const first = jobs(t);
    for (let i = 0; i < 4; i += 1) await write(t, `key-${i}`);
    await until(async () => (await sinkState(t, sink.id)).status === 'retrying', 'the sink is retrying');
    const down = await sinkState(t, sink.id);
    expect(down.lastError).toMatch(/503/);
    expect(down.cursor).toBe(start);

    // A restart of the node: the cursor is durable.
    await first.stop();
    for (let i = 4; i < 7; i += 1) await write(t, `key-${i}`);
    jobs(t);
    await until(() => r.attempts >= 4, 'a few more attempts');
    r.mode = { kind: 'accept' };

    const expected = await trail(t, start);
    await until(async () => (await sinkState(t, sink.id)).cursor >= expected[expected.length - 1]!.seq, 'every event is delivered');
    const got = deduplicated(r, sink.secret!);
    expect(got.map((g) => g.event.seq)).toEqual(expected.map((e) => e.seq).filter((s) => s <= got[got.length - 1]!.event.seq));
    expect(got.map((g) => g.id)).toEqual(got.map((g) => g.event.id));
    for (const e of expected) expect(got.find((g) => g.event.id === e.id)?.event).toEqual(e);
    expect(got[0]!.type).toBe(expected[0]!.action);
    const after = await sinkState(t, sink.id);
    expect(after).toMatchObject({ status: 'active', attempts: 0, lastError: null, deadLetterCount: 0 });
  });

  it('a poison payload goes to dead letter, delivery goes on, and a retry delivers it', async () => {
    const t = await app();
    const r = await receiver();
    r.refuseBodiesContaining = 'poison-key';
    const sink = await createSink(t, { name: 'siem', type: 'webhook', webhook: { url: r.url } });
    await write(t, 'before');
    await write(t, 'poison-key');
    await write(t, 'after');
    const deps = t.services.deps;
    const options = { ...DEFAULT_DELIVERY_OPTIONS, ...FAST };
    const head = (await sinkState(t, sink.id)).head;
    for (let i = 0; i < 10 && (await sinkState(t, sink.id)).cursor < head; i += 1) await deliverPending(deps, options);

    const state = await sinkState(t, sink.id);
    expect(state.cursor).toBe(head);
    expect(state.deadLetters).toHaveLength(1);
    expect(state.deadLetters[0]!.error).toMatch(/400/);
    const names = deduplicated(r, sink.secret!).map((g) => (g.event.after as { name?: string } | null)?.name);
    expect(names).toContain('before');
    expect(names).toContain('after');
    expect(names).not.toContain('poison-key');

    r.refuseBodiesContaining = null;
    const retry = await t.app.inject({ method: 'POST', url: `/api/v1/event-sinks/${sink.id}/retry`, headers: t.auth });
    expect(retry.json()).toMatchObject({ requeued: 1 });
    await deliverPending(deps, options);
    expect((await sinkState(t, sink.id)).deadLetterCount).toBe(0);
    expect(deduplicated(r, sink.secret!).map((g) => g.event.id)).toContain(state.deadLetters[0]!.eventId);
  });

  it('a permanently failing sink is suspended (audited), keeps its cursor, and resumes on retry', async () => {
    const t = await app();
    const r = await receiver();
    r.mode = { kind: 'status', status: 500 };
    const sink = await createSink(t, { name: 'siem', type: 'webhook', webhook: { url: r.url }, format: 'ocsf' });
    const start = (await sinkState(t, sink.id)).cursor;
    await write(t, 'one');
    const options = { ...DEFAULT_DELIVERY_OPTIONS, ...FAST, maxAttempts: 3 };
    let clock = Date.now();
    const deps = { ...t.services.deps, now: () => new Date(clock) };
    for (let i = 0; i < 6; i += 1) {
      await deliverPending(deps, options);
      clock += 60_000;
    }
    const state = await sinkState(t, sink.id);
    expect(state).toMatchObject({ status: 'suspended', attempts: 3, cursor: start, lastError: expect.stringMatching(/500/) });
    expect(r.attempts).toBe(3);
    const audit = await t.app.inject({ method: 'GET', url: `/api/v1/audit-events?action=event_sink.suspend&targetId=${sink.id}`, headers: t.auth });
    expect((audit.json() as { items: unknown[] }).items).toHaveLength(1);

    r.mode = { kind: 'accept' };
    await t.app.inject({ method: 'POST', url: `/api/v1/event-sinks/${sink.id}/retry`, headers: t.auth });
    await deliverPending(deps, options);
    const resumed = await sinkState(t, sink.id);
    expect(resumed.status).toBe('active');
    expect(resumed.cursor).toBe(resumed.head);
    const ocsf = r.accepted.map((m) => (JSON.parse(m.body) as { data: { class_uid: number; type_uid: number; metadata: { uid: string } } }).data);
    expect(ocsf.find((e) => e.class_uid === 3004)).toMatchObject({ type_uid: 300401 });
  });

  it('stores the cursor in steps, and past every accepted event before a failure is recorded', async () => {
    const t = await app();
    const r = await receiver();
    const sink = await createSink(t, { name: 'siem', type: 'webhook', webhook: { url: r.url } });
    const start = (await sinkState(t, sink.id)).cursor;
    await t.store.write(t.tenantId, { actorType: 'system', actorId: null, actorName: 'test' }, async (tx) => {
      for (let i = 0; i < 250; i += 1) tx.audit({ action: 'test.event', targetType: 'test', targetId: String(i) });
    });
    r.failAfterAccepted = 180;
    await deliverPending(t.services.deps, { ...DEFAULT_DELIVERY_OPTIONS, ...FAST, batchSize: 500 });
    const expected = await trail(t, start);
    expect(r.accepted).toHaveLength(180);
    expect(await sinkState(t, sink.id)).toMatchObject({ status: 'retrying', attempts: 1, cursor: expected[179]!.seq, lastError: expect.stringMatching(/503/) });

    r.failAfterAccepted = null;
    await deliverPending(t.services.deps, { ...DEFAULT_DELIVERY_OPTIONS, ...FAST, batchSize: 500 }).catch(() => undefined);
    // Not due yet (backoff): a later pass delivers the rest, each event once.
    await until(async () => {
      await deliverPending({ ...t.services.deps, now: () => new Date(Date.now() + 60_000) }, { ...DEFAULT_DELIVERY_OPTIONS, ...FAST, batchSize: 500 });
      return (await sinkState(t, sink.id)).cursor === expected[expected.length - 1]!.seq;
    }, 'the rest is delivered');
    expect(deduplicated(r, sink.secret!).map((g) => g.event.seq)).toEqual(expected.map((e) => e.seq));
    expect(r.accepted).toHaveLength(expected.length);
  });

  it('a slow sink never holds up a write', async () => {
    const t = await app();
    const r = await receiver();
    r.mode = { kind: 'hang' };
    const sink = await createSink(t, { name: 'slow', type: 'webhook', webhook: { url: r.url } });
    jobs(t);
    await write(t, 'first');
    await until(() => r.pending === 1, 'the sink holds a delivery open');
    for (let i = 0; i < 3; i += 1) await write(t, `while-held-${i}`);
    expect(r.pending).toBe(1);
    expect(r.accepted).toHaveLength(0);
    r.mode = { kind: 'accept' };
    r.release();
    const head = (await sinkState(t, sink.id)).head;
    await until(async () => (await sinkState(t, sink.id)).cursor >= head, 'the backlog is delivered');
  });

  it('refuses a sink without its configuration and needs manage-system-settings', async () => {
    const t = await app();
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/event-sinks', headers: t.auth, payload: { name: 'x', type: 'webhook', webhook: { url: 'ftp://example.com' } } });
    expect(bad.statusCode).toBe(400);
    const missing = await t.app.inject({ method: 'POST', url: '/api/v1/event-sinks', headers: t.auth, payload: { name: 'x', type: 'syslog' } });
    expect(missing.statusCode).toBe(400);
    const key = (await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name: 'auditor', scopes: ['grantory:read-audit'] } })).json() as { secret: string };
    const denied = await t.app.inject({ method: 'GET', url: '/api/v1/event-sinks', headers: { authorization: `Bearer ${key.secret}` } });
    expect(denied.statusCode).toBe(403);
  });
});

const RFC5424 = /^<(\d{1,3})>1 (\S+) (\S+) (\S+) (\S+) (\S+) (-|(?:\[[^\]]*(?:\\\][^\]]*)*\])+) \uFEFF([\s\S]*)$/;

function parseSyslog(message: string) {
  const m = RFC5424.exec(message);
  expect(m, message).not.toBeNull();
  const [, pri, time, host, app, procId, msgId, sd, msg] = m!;
  return { pri: Number(pri), time, host, app, procId, msgId, sd: sd!, msg: JSON.parse(msg!) as Record<string, unknown> };
}

describe('syslog delivery (RFC 5424)', () => {
  it('over TCP with octet counting, in order, OCSF or Grantory JSON', async () => {
    const t = await app();
    const listener = await startSyslogTcpListener();
    cleanups.push(() => listener.close());
    const sink = await createSink(t, { name: 'tcp', type: 'syslog', syslog: { host: '127.0.0.1', port: listener.port, transport: 'tcp', hostname: 'gty-test' }, startAt: 'beginning' });
    for (let i = 0; i < 4; i += 1) await write(t, `key-${i}`);
    jobs(t);
    const expected = await trail(t, 0);
    await until(() => listener.messages.length >= expected.length, 'every event arrives');
    const parsed = listener.messages.map(parseSyslog);
    expect(parsed.map((p) => p.msg.seq)).toEqual(expected.map((e) => e.seq).slice(0, parsed.length));
    expect(parsed[0]).toMatchObject({ pri: 13 * 8 + 5, host: 'gty-test', app: 'grantory', procId: '-', msgId: expected[0]!.action });
    expect(parsed[0]!.sd).toContain(`seq="${expected[0]!.seq}"`);
    expect(parsed[0]!.sd).toContain(`id="${expected[0]!.id}"`);
    expect(listener.connections).toBeGreaterThan(1); // batches of 3
    expect((await sinkState(t, sink.id)).status).toBe('active');
  });

  it('over UDP, one message a datagram, as OCSF', async () => {
    const t = await app();
    const listener = await startSyslogUdpListener();
    cleanups.push(() => listener.close());
    await createSink(t, { name: 'udp', type: 'syslog', format: 'ocsf', syslog: { host: '127.0.0.1', port: listener.port, transport: 'udp', facility: 10 } });
    await write(t, 'over-udp');
    jobs(t);
    await until(() => listener.messages.some((m) => m.includes('over-udp')), 'the event arrives');
    const message = parseSyslog(listener.messages.find((m) => m.includes('over-udp'))!);
    expect(message.pri).toBe(10 * 8 + 5);
    expect(message.msgId).toBe('api_key.create');
    expect(message.msg).toMatchObject({ class_uid: 3004, activity_id: 1, category_uid: 3, metadata: { version: '1.3.0' }, unmapped: { grantory: { action: 'api_key.create' } } });
  });
});
