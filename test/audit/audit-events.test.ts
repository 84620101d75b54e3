import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.ts';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { listAuditEvents, type AuditEventView } from '../../src/services/audit/trail.ts';
import { createServices } from '../../src/services/index.ts';
import type { Store } from '../../src/store/store.ts';
import { createTestApp, TEST_SECRET_KEY, type TestApp } from '../support/harness.ts';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';

let t: TestApp;

async function createKey(name: string, scopes?: string[]): Promise<{ id: string; secret: string }> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: { ...t.auth, 'user-agent': 'audit-test/1', cxorigin: 'test-suite' }, payload: { name, ...(scopes ? { scopes } : {}) } });
  expect(res.statusCode).toBe(201);
  return res.json() as { id: string; secret: string };
}

async function page(query: string, auth = t.auth) {
  return t.app.inject({ method: 'GET', url: `/api/v1/audit-events?${query}`, headers: auth });
}

async function all(query: string): Promise<AuditEventView[]> {
  const out: AuditEventView[] = [];
  let cursor: string | null = null;
  for (let i = 0; i < 100; i += 1) {
    const res = await page(`${query}&limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.statusCode).toBe(200);
    const body = res.json() as { items: AuditEventView[]; nextCursor: string | null };
    expect(body.items.length).toBeLessThanOrEqual(2);
    out.push(...body.items);
    cursor = body.nextCursor;
    if (!cursor) return out;
  }
  throw new Error('paging did not end');
}

let reader: { id: string; secret: string };
let limited: { id: string; secret: string };
const keyIds: string[] = [];

beforeAll(async () => {
  t = await createTestApp();
  for (let i = 0; i < 5; i += 1) keyIds.push((await createKey(`k${i}`)).id);
  reader = await createKey('reader', ['grantory:read-audit']);
  limited = await createKey('limited', ['grantory:manage-clients']);
  const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${keyIds[0]}`, headers: t.auth });
  expect(del.statusCode).toBe(200);
});
afterAll(async () => t.close());

describe('GET /api/v1/audit-events', () => {
  it('pages the whole trail in order with linked hashes and full event fields', async () => {
    const events = await all('');
    expect(events.map((e) => e.seq)).toEqual(events.map((_, i) => i + 1));
    for (let i = 1; i < events.length; i += 1) expect(events[i]!.prevHash).toBe(events[i - 1]!.hash);
    const created = events.find((e) => e.action === 'api_key.create' && e.targetId === keyIds[1])!;
    expect(created).toMatchObject({
      targetType: 'api_key',
      actor: { type: 'api_key', name: 'API Token - bootstrap' },
      userAgent: 'audit-test/1',
      origin: 'test-suite',
      before: null,
      after: { id: keyIds[1], name: 'k1' },
      requestId: expect.any(String),
      sourceIp: expect.any(String),
      onBehalfOfId: expect.any(String),
    });
    const deleted = events.find((e) => e.action === 'api_key.delete')!;
    expect(deleted).toMatchObject({ targetId: keyIds[0], before: { name: 'k0' }, after: null });
  });

  it('filters by action (exact and prefix), target, actor and time', async () => {
    const creates = await all('action=api_key.create');
    expect(creates.map((e) => e.action)).toEqual(Array(creates.length).fill('api_key.create'));
    expect(creates.map((e) => e.targetId)).toEqual(expect.arrayContaining([...keyIds, reader.id, limited.id]));
    const keyEvents = await all('action=api_key.*');
    expect(keyEvents.length).toBe(creates.length + 1);
    const target = await all(`targetType=api_key&targetId=${keyIds[0]}`);
    expect(target.map((e) => e.action)).toEqual(['api_key.create', 'api_key.delete']);

    const admin = (await all('')).find((e) => e.targetId === keyIds[1])!.actor.id!;
    const byAdmin = await all(`actorId=${admin}`);
    expect(byAdmin.length).toBeGreaterThan(0);
    expect(byAdmin.every((e) => e.actor.id === admin)).toBe(true);

    const everything = await all('');
    const pivot = everything[Math.floor(everything.length / 2)]!;
    const from = await all(`from=${encodeURIComponent(pivot.time)}`);
    expect(from.every((e) => e.time >= pivot.time)).toBe(true);
    expect(from.map((e) => e.id)).toContain(pivot.id);
    const to = await all(`to=${encodeURIComponent(pivot.time)}`);
    expect(to.every((e) => e.time < pivot.time)).toBe(true);
    expect(from.length + to.length).toBe(everything.length);
  });

  it('pages newest first with order=desc', async () => {
    const res = await page('order=desc&limit=3');
    const items = (res.json() as { items: AuditEventView[] }).items;
    expect(items.map((e) => e.seq)).toEqual([items[0]!.seq, items[0]!.seq - 1, items[0]!.seq - 2]);
  });

  it('refuses a forged cursor, and a cursor of other filters or another tenant', async () => {
    const first = (await page('action=api_key.create&limit=1')).json() as { nextCursor: string };
    expect(first.nextCursor).toEqual(expect.any(String));
    const forged = first.nextCursor.replace(/^./, (c) => (c === 'A' ? 'B' : 'A'));
    for (const query of [`action=api_key.create&cursor=${encodeURIComponent(forged)}`, `action=api_key.delete&cursor=${encodeURIComponent(first.nextCursor)}`, 'cursor=garbage']) {
      const res = await page(query);
      expect(res.statusCode).toBe(400);
      expect((res.json() as { code: string }).code).toBe('invalid_cursor');
    }
    // The same cursor still works for its own query.
    expect((await page(`action=api_key.create&limit=1&cursor=${encodeURIComponent(first.nextCursor)}`)).statusCode).toBe(200);

    const otherTenant = await t.store.createTenant('other', new Date().toISOString());
    await expect(
      listAuditEvents(t.services.deps, systemActor(otherTenant), { filter: { action: 'api_key.create' }, limit: 1, cursor: first.nextCursor }),
    ).rejects.toMatchObject({ code: 'invalid_cursor' });
  });

  it('needs read-audit; a denied request is an access.denied event', async () => {
    const ok = await page('limit=1', { authorization: `Bearer ${reader.secret}` });
    expect(ok.statusCode).toBe(200);
    const denied = await page('limit=1', { authorization: `Bearer ${limited.secret}` });
    expect(denied.statusCode).toBe(403);
    expect((denied.json() as { code: string }).code).toBe('forbidden');
    const events = await all(`action=access.denied&actorId=${limited.id}`);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      targetType: 'route',
      targetId: 'GET /api/v1/audit-events',
      actor: { type: 'api_key', id: limited.id, name: 'API Token - limited' },
      after: { requiredRights: ['read-audit'], heldRights: ['manage-clients'] },
    });
  });

  it('records a 403 decided inside a service (after the route check) once, with its reason', async () => {
    // POST /check admits any authenticated caller; the service asks for a read right.
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/check',
      headers: { authorization: `Bearer ${limited.secret}` },
      payload: { identity: 'nobody', permission: 'nothing' },
    });
    expect(res.statusCode).toBe(403);
    const events = await all(`action=access.denied&actorId=${limited.id}&targetId=${encodeURIComponent('POST /api/v1/check')}`);
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({
      targetType: 'route',
      after: { method: 'POST', route: '/api/v1/check', requiredRights: ['read-permissions-any-application'], heldRights: ['manage-clients'], reason: expect.stringContaining('read-permissions-any-application') },
    });
  });

  it('records a bodiless 403 of a vendor profile', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/log/api/external/audit', headers: { authorization: `Bearer ${limited.secret}` } });
    expect(res.statusCode).toBe(403);
    expect(res.body).toBe('');
    const events = await all(`action=access.denied&actorId=${limited.id}&targetId=${encodeURIComponent('GET /log/api/external/audit')}`);
    expect(events).toHaveLength(1);
    expect(events[0]!.after).toMatchObject({ requiredRights: ['read-audit'] });
  });

  it('still answers 403 when the denial cannot be recorded', async () => {
    const failingStore = new Proxy(t.store, {
      get(target, prop, receiver) {
        if (prop === 'write') return () => Promise.reject(new Error('the disk is full'));
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;
    const app = await buildApp({ services: createServices({ store: failingStore, now: () => new Date(), secrets: createServerSecrets(TEST_SECRET_KEY) }), store: failingStore, logLevel: 'silent' });
    try {
      const res = await app.inject({ method: 'GET', url: '/api/v1/audit-events', headers: { authorization: `Bearer ${limited.secret}` } });
      expect(res.statusCode).toBe(403);
    } finally {
      await app.close();
    }
  });
});
