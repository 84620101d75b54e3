import { request as httpRequest } from 'node:http';
import type { AddressInfo } from 'node:net';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditTrail } from '../../src/services/audit/index.ts';
import { buildApp } from '../../src/api/app.ts';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { createServices } from '../../src/services/index.ts';
import { createTestApp, TEST_SECRET_KEY, type TestApp } from '../support/harness.ts';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';
import { LEDGER_MODEL, seedModel, type Model } from '../support/model.ts';

let t: TestApp;
let m: Model;
let limited: string;
let failedKeyId: string;

beforeAll(async () => {
  t = await createTestApp();
  m = await seedModel(t.store, t.tenantId, LEDGER_MODEL);
  limited = ((await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name: 'limited', scopes: ['grantory:manage-clients'] } })).json() as { secret: string }).secret;
  const bobKey = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name: 'bob-key', identityId: m.identities.bob } });
  failedKeyId = (bobKey.json() as { id: string }).id;
  // A failed authentication as the security issue records it (auth.failure).
  await t.store.write(t.tenantId, { actorType: 'anonymous', actorId: failedKeyId, actorName: 'gty_abcd', sourceIp: '10.1.2.3' }, async (tx) => {
    tx.audit({ action: 'auth.failure', targetType: 'api_key', targetId: failedKeyId, after: { reason: 'expired', credentialType: 'api_key', label: 'gty_abcd' } });
  });
});
afterAll(async () => t.close());

const get = (url: string, headers: Record<string, string> = t.auth) => t.app.inject({ method: 'GET', url, headers });

type Item = Record<string, unknown>;

describe('Celonis: GET /api/authorization/external/permissions', () => {
  it('exports every permission of the team with the ten fields, as a Bearer API key', async () => {
    const res = await get('/api/authorization/external/permissions');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/json/);
    const { permissions } = res.json() as { permissions: Item[] };
    for (const p of permissions) {
      expect(Object.keys(p).sort()).toEqual(['actions', 'groups', 'objectId', 'objectName', 'objectType', 'role', 'service', 'subjectId', 'subjectName', 'subjectType']);
      for (const [k, v] of Object.entries(p)) {
        if (k === 'actions') expect((v as unknown[]).every((a) => typeof a === 'string')).toBe(true);
        else expect(typeof v).toBe('string');
      }
    }
    const ledger = permissions.filter((p) => p.service === 'ledger');
    expect(ledger).toEqual(
      expect.arrayContaining([
        { subjectName: 'Acme', subjectType: 'GROUP', subjectId: m.units.Acme, groups: '/Acme', role: 'Accountant', service: 'ledger', objectName: 'All', objectType: 'ALL', objectId: '', actions: ['read', 'write'] },
        { subjectName: 'bob@example.com', subjectType: 'USER', subjectId: m.identities.bob, groups: '', role: '', service: 'ledger', objectName: '/Acme/Finance', objectType: 'ORGANIZATION_UNIT', objectId: m.units.Finance, actions: ['approve'] },
        { subjectName: 'alice@example.com', subjectType: 'USER', subjectId: m.identities.alice, groups: '/Acme/Finance', role: '', service: 'ledger', objectName: '/Acme/Finance', objectType: 'ORGANIZATION_UNIT', objectId: m.units.Finance, actions: ['approve'] },
      ]),
    );
    // Paused, expired and on-leave holders' assignments are not permissions.
    expect(ledger).toHaveLength(4);
    expect(ledger.some((p) => p.subjectId === m.identities.carol)).toBe(false);
    expect(permissions.find((p) => p.service === 'grantory')).toMatchObject({ role: 'Admin', subjectType: 'USER' });
  });

  it('answers 204 when the team has no permission', async () => {
    const empty = await t.store.createTenant('empty-team', new Date().toISOString());
    const real = createServices({ store: t.store, now: () => new Date(), secrets: createServerSecrets(TEST_SECRET_KEY) });
    const services = { ...real, authenticate: async () => systemActor(empty).caller };
    const app = await buildApp({ services, store: t.store, logLevel: 'silent' });
    try {
      const res = await app.inject({ method: 'GET', url: '/api/authorization/external/permissions', headers: { authorization: 'Bearer x' } });
      expect(res.statusCode).toBe(204);
      expect(res.body).toBe('');
    } finally {
      await app.close();
    }
  });

  it('answers 401 and 403 with no body', async () => {
    const none = await get('/api/authorization/external/permissions', {});
    expect(none.statusCode).toBe(401);
    expect(none.body).toBe('');
    const denied = await get('/api/authorization/external/permissions', { authorization: `Bearer ${limited}` });
    expect(denied.statusCode).toBe(403);
    expect(denied.body).toBe('');
    const bad = await get('/log/api/external/audit', { authorization: 'Bearer not-a-valid-key-not-a-valid-key-0000' });
    expect(bad.statusCode).toBe(401);
    expect(bad.body).toBe('');
    // The refused key is recorded in the background: settle it so later counts are stable.
    await t.services.authFailures.flush();
  });
});

describe('Celonis: audit log', () => {
  const all = async () => {
    const first = (await get('/log/api/external/audit?pageSize=200')).json() as { totalCount: number; content: Item[] };
    return first;
  };

  it('pages by number from 0 with the envelope and the item fields', async () => {
    const { totalCount } = await all();
    const seen: Item[] = [];
    for (let page = 0; page < 100; page += 1) {
      const res = await get(`/log/api/external/audit?pageNumber=${page}&pageSize=3`);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { content: Item[]; pageNumber: number; pageSize: number; totalCount: number };
      expect(body).toMatchObject({ pageNumber: page, pageSize: 3, totalCount });
      if (!body.content.length) break;
      seen.push(...body.content);
    }
    expect(seen).toHaveLength(totalCount);
    const seqs = seen.map((i) => (i.message as { seq: number }).seq);
    expect(seqs).toEqual([...seqs].sort((a, b) => a - b));
    const created = seen.find((i) => i.event === 'api_key.create' && (i.message as { targetId: string }).targetId === failedKeyId)!;
    // The bootstrap key acts as the administrator, whose role is Admin.
    expect(created).toMatchObject({ userRole: 'Admin', timestamp: expect.any(String), ipAddress: expect.any(String), port: null, diffPayload: expect.any(String) });
    expect(JSON.parse(created.diffPayload as string)).toMatchObject({ before: null, after: { name: 'bob-key' } });
  });

  it('v2 follows nextPageToken to the end, where it is absent; a forged token is a 400', async () => {
    const { content: everything } = await all();
    const seen: Item[] = [];
    let token: string | undefined;
    for (let i = 0; i < 100; i += 1) {
      const res = await get(`/log/api/external/v2/audit?pageSize=4${token ? `&pageToken=${encodeURIComponent(token)}` : ''}`);
      expect(res.statusCode).toBe(200);
      const body = res.json() as { content: Item[]; nextPageToken?: string };
      seen.push(...body.content);
      token = body.nextPageToken;
      if (!token) break;
    }
    // The first token creates the tenant's cursor key (one more event at the end).
    expect(seen.slice(0, everything.length).map((i) => (i.message as { id: string }).id)).toEqual(everything.map((i) => (i.message as { id: string }).id));
    expect(new Set(seen.map((i) => (i.message as { id: string }).id)).size).toBe(seen.length);
    const forged = await get('/log/api/external/v2/audit?pageToken=abc.def');
    expect(forged.statusCode).toBe(400);
    expect(forged.json()).toEqual({ frontendErrorKey: 'INVALID_PAGE_TOKEN', errorInformation: expect.any(String) });
  });

  it('filters by from/to (ISO or epoch milliseconds) and bounds pageSize with the vendor 400', async () => {
    const { content } = await all();
    const pivot = content[Math.floor(content.length / 2)]!.timestamp as string;
    const iso = (await get(`/log/api/external/audit?pageSize=200&from=${encodeURIComponent(pivot)}`)).json() as { content: Item[] };
    const epoch = (await get(`/log/api/external/audit?pageSize=200&from=${Date.parse(pivot)}`)).json() as { content: Item[] };
    expect(iso.content.length).toBe(epoch.content.length);
    expect(iso.content.every((i) => (i.timestamp as string) >= pivot)).toBe(true);
    const before = (await get(`/log/api/external/audit?pageSize=200&to=${encodeURIComponent(pivot)}`)).json() as { content: Item[] };
    expect(before.content.every((i) => (i.timestamp as string) < pivot)).toBe(true);

    const big = await get('/log/api/external/audit?pageSize=500');
    expect(big.statusCode).toBe(400);
    expect(big.json()).toEqual({ frontendErrorKey: expect.any(String), errorInformation: expect.any(String) });
    const badTime = await get('/log/api/external/audit?from=yesterday');
    expect(badTime.statusCode).toBe(400);
    expect(badTime.json()).toMatchObject({ frontendErrorKey: 'INVALID_PARAMETER' });
  });
});

/** POSTs JSON to a listening server; answers the status and the client's own (source) port. */
function postOverTcp(port: number, path: string, body: unknown, headers: Record<string, string>): Promise<{ status: number; sourcePort: number }> {
  return new Promise((resolve, reject) => {
    const payload = JSON.stringify(body);
    const req = httpRequest({ host: '127.0.0.1', port, path, method: 'POST', agent: false, headers: { ...headers, 'content-type': 'application/json', 'content-length': String(Buffer.byteLength(payload)) } }, (res) => {
      res.resume();
      res.on('end', () => resolve({ status: res.statusCode ?? 0, sourcePort }));
    });
    let sourcePort = 0;
    req.on('socket', (socket) => socket.on('connect', () => (sourcePort = socket.localPort ?? 0)));
    req.on('error', reject);
    req.end(payload);
  });
}

describe('Celonis: audit port', () => {
  it("records the caller's source port with the event, serves it as port, and the trail still verifies", async () => {
    await t.app.listen({ host: '127.0.0.1', port: 0 });
    const { port } = t.app.server.address() as AddressInfo;
    const sent = await postOverTcp(port, '/api/v1/api-keys', { name: 'over-tcp' }, t.auth);
    expect(sent.status).toBe(201);
    expect(sent.sourcePort).toBeGreaterThan(0);
    const { content } = (await get('/log/api/external/audit?pageSize=200')).json() as { content: Item[] };
    const created = content.find((i) => i.event === 'api_key.create' && JSON.parse(i.diffPayload as string).after.name === 'over-tcp')!;
    expect(created).toMatchObject({ ipAddress: '127.0.0.1', port: sent.sourcePort });
    // The native trail carries the same port; injected requests (no socket) have none.
    const native = (await get('/api/v1/audit-events?action=api_key.create&limit=100')).json() as { items: { sourcePort: number | null; after: { name: string } }[] };
    expect(native.items.find((e) => e.after.name === 'over-tcp')!.sourcePort).toBe(sent.sourcePort);
    expect(native.items.find((e) => e.after.name === 'bob-key')!.sourcePort).toBeNull();
    const [verified] = (await verifyAuditTrail(t.store)).filter((v) => v.tenantId === t.tenantId);
    expect(verified!.problem).toBeNull();
  });
});

describe('Celonis: team APIs', () => {
  it('lists authentication events from the audit trail', async () => {
    const res = await get('/api/external/authentication-events');
    expect(res.statusCode).toBe(200);
    const body = res.json() as { content: Item[]; totalCount: number };
    // The seeded failure, and the refused key of the 401 test above (recorded by the app).
    expect(body.totalCount).toBe(body.content.length);
    expect(body.content).toContainEqual({ authenticationEventType: 'LOGIN_FAILED', email: 'bob@example.com', success: false, timestamp: expect.any(String) });
    expect(body.content.every((e) => e.success === false)).toBe(true);
  });

  it('lists members, internal ones only when asked', async () => {
    const external = (await get('/api/external/members')).json() as Item[];
    expect(external.map((x) => x.email).sort()).toEqual(['alice@example.com', 'bob@example.com', 'carol@example.com']);
    expect(external.find((x) => x.email === 'carol@example.com')).toMatchObject({ active: false, internal: false, name: 'carol Test' });
    const everyone = (await get('/api/external/members?includeInternal=true')).json() as Item[];
    expect(everyone).toHaveLength(4);
    expect(everyone.find((x) => x.internal)).toMatchObject({ username: 'admin' });
  });
});

