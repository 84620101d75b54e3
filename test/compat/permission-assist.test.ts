/**
 * Permission Assist (COMPAT.md §2) as a script calls it: an administrator creates the API
 * token "HR Integration" and the script sends `Authorization: Bearer <token>`. Acts are
 * recorded as "API Token - HR Integration"; unknown routes under `/api/` answer in the
 * vendor's error envelope with a correlationId; the tenant's switch (setting
 * `compatibility.permissionAssist`, on by default) turns the API off as the vendor does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
let token: { authorization: string };

const pa = (method: 'GET' | 'POST' | 'DELETE' | 'PUT', url: string, payload?: object) => t.app.inject({ method, url, headers: token, ...(payload ? { payload } : {}) });
const PA_ERROR = { error: expect.any(String), message: expect.any(String), correlationId: expect.stringMatching(/^[0-9a-f]{32}$/), errors: expect.any(Array) };

beforeAll(async () => {
  t = await createTestApp();
  const key = await t.app.inject({
    method: 'POST',
    url: '/api/v1/api-keys',
    headers: t.auth,
    payload: { name: 'HR Integration', expiresAt: '2031-01-01T00:00:00Z', scopes: ['grantory:manage-personnel-events', 'grantory:manage-users', 'grantory:manage-imports'] },
  });
  expect(key.statusCode, key.body).toBe(201);
  token = { authorization: `Bearer ${key.json().secret as string}` };
});
afterAll(async () => t.close());

describe('Permission Assist: the API token as the actor', () => {
  it('records acts done with the token "HR Integration" as "API Token - HR Integration"', async () => {
    const created = await pa('POST', '/api/personnel-events/onboard', { identity: { firstName: 'Ada', lastName: 'Byron' }, effectiveDate: '2031-03-15', comment: 'from the HRIS' });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ reporter: 'API Token - HR Integration' });
    expect(created.json().activity[0]).toMatchObject({ user: 'API Token - HR Integration' });
    const audit = await t.app.inject({ method: 'GET', url: '/api/v1/audit-events?action=personnelEvent.*', headers: t.auth });
    expect(audit.statusCode, audit.body).toBe(200);
    const names = (audit.json().items as { actor: { name: string } }[]).map((e) => e.actor.name);
    expect(names.length).toBeGreaterThan(0);
    expect(new Set(names)).toEqual(new Set(['API Token - HR Integration']));
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: token });
    expect(me.json()).toMatchObject({ kind: 'api_key', name: 'API Token - HR Integration' });
  });

  it('lists with the vendor envelope: ?page= from 1, 50 a page', async () => {
    const res = await pa('GET', '/api/identities?page=1');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toMatchObject({ items: expect.any(Array), totalCount: expect.any(Number), page: 1, pageSize: 50, totalPages: expect.any(Number) });
    expect(res.json().items[0]).toMatchObject({ kind: 'Identity', id: expect.any(String) });
  });
});

describe('Permission Assist: unknown routes under /api/', () => {
  it('answers an unknown route with not_found in the vendor envelope, with a correlationId', async () => {
    for (const url of ['/api/nothing-here', '/api/identities/x/y/z', '/api/reports?page=1']) {
      const res = await pa('GET', url);
      expect(res.statusCode, url).toBe(404);
      expect(res.headers['content-type']).toMatch(/^application\/json/);
      expect(res.json()).toEqual({ ...PA_ERROR, error: 'not_found' });
    }
    // Without a token, too: the route does not exist whoever asks.
    const anonymous = await t.app.inject({ method: 'GET', url: '/api/nothing-here' });
    expect(anonymous.json()).toMatchObject({ error: 'not_found', correlationId: expect.stringMatching(/^[0-9a-f]{32}$/) });
  });

  it('answers a method the route does not take with method_not_allowed in the envelope', async () => {
    const res = await pa('DELETE', '/api/identities');
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, HEAD');
    expect(res.json()).toEqual({ ...PA_ERROR, error: 'method_not_allowed' });
  });

  it('leaves the native API under /api/v1 with problem details', async () => {
    const res = await pa('GET', '/api/v1/nothing-here');
    expect(res.statusCode).toBe(404);
    expect(res.headers['content-type']).toContain('application/problem+json');
  });
});

describe('Permission Assist: the API feature switch', () => {
  it('is on by default, and off answers 403 forbidden in the envelope until turned back on', async () => {
    const settings = await t.app.inject({ method: 'GET', url: '/api/v1/settings', headers: t.auth });
    expect(settings.json().compatibility).toEqual({ checkmarx: true, coreone: true, celonis: true, permissionAssist: true });
    const off = await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: t.auth, payload: { compatibility: { permissionAssist: false } } });
    expect(off.statusCode, off.body).toBe(200);
    expect(off.json().compatibility).toMatchObject({ permissionAssist: false, checkmarx: true });
    try {
      for (const [method, url] of [['GET', '/api/identities'], ['POST', '/api/personnel-events/onboard']] as const) {
        const res = await pa(method, url, method === 'POST' ? { identity: { firstName: 'No', lastName: 'Body' }, effectiveDate: '2031-03-15' } : undefined);
        expect(res.statusCode, url).toBe(403);
        expect(res.json()).toEqual({ ...PA_ERROR, error: 'forbidden', message: expect.stringContaining('System Configuration') });
      }
      // A bad token is still a 401 (nothing about the tenant is revealed).
      const anonymous = await t.app.inject({ method: 'GET', url: '/api/identities', headers: { authorization: 'Bearer gty_not-a-key-not-a-key-not-a-key-0000' } });
      expect(anonymous.statusCode).toBe(401);
      // Other profiles and the native API are not affected.
      expect((await t.app.inject({ method: 'GET', url: '/cxrestapi/auth/Permissions', headers: t.auth })).statusCode).toBe(200);
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/identities', headers: t.auth })).statusCode).toBe(200);
    } finally {
      await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: t.auth, payload: { compatibility: { permissionAssist: true } } });
    }
    expect((await pa('GET', '/api/identities')).statusCode).toBe(200);
    const bad = await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: t.auth, payload: { compatibility: { sap: true } } });
    expect(bad.statusCode).toBe(400);
  });
});
