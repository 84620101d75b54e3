/**
 * The Celonis profile with each way its clients authenticate (COMPAT.md §1): an OAuth token
 * from `POST /oauth2/token` with the vendor scopes (both spellings), `AppKey <key>`, and a
 * Bearer API key; a token of the wrong scope gets a bodiless 403, no credential a bodiless
 * 401, bad parameters the vendor's 400 envelope, and an application with no permissions 204.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { LEDGER_MODEL, seedModel, type Model } from '../support/model.ts';
import { appKeyFor, basic, clientFor, createApplication } from '../support/security-fixtures.ts';

let t: TestApp;
let m: Model;
let client: { clientId: string; clientSecret: string };
let ledgerKey: string;
let emptyAppKey: string;

const PERMISSION_SCOPES = ['authorization.permissions', 'authorization.permissions:read'];
const AUDIT_SCOPES = ['audit.log', 'audit.log:read'];

/** Each route, the scopes that open it, and one that does not. */
const ROUTES = [
  { url: '/api/authorization/external/permissions', scopes: PERMISSION_SCOPES, wrong: 'audit.log', appKey: true },
  { url: '/log/api/external/audit?pageNumber=0&pageSize=5', scopes: AUDIT_SCOPES, wrong: 'authorization.permissions', appKey: false },
  { url: '/log/api/external/v2/audit?pageSize=5', scopes: AUDIT_SCOPES, wrong: 'authorization.permissions:read', appKey: false },
  { url: '/api/external/authentication-events?pageSize=5', scopes: AUDIT_SCOPES, wrong: 'authorization.permissions', appKey: false },
  { url: '/api/external/members?includeInternal=true', scopes: PERMISSION_SCOPES, wrong: 'audit.log:read', appKey: false },
];

beforeAll(async () => {
  t = await createTestApp();
  m = await seedModel(t.store, t.tenantId, LEDGER_MODEL);
  const admin = await t.store.read(t.tenantId).db.selectFrom('identities').select('id').where('tenant_id', '=', t.tenantId).where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow();
  client = await clientFor(t.services, t.tenantId, { identityId: admin.id, scopes: [...PERMISSION_SCOPES, ...AUDIT_SCOPES] });
  ledgerKey = (await appKeyFor(t.services, t.tenantId, m.applicationId)).secret;
  emptyAppKey = (await appKeyFor(t.services, t.tenantId, await createApplication(t.store, t.tenantId, 'nothing assigned'))).secret;
});
afterAll(async () => t.close());

const tokens = new Map<string, string>();
/** A client-credentials token with `scope`, as a Celonis client gets it (HTTP Basic, form). */
async function token(scope: string): Promise<string> {
  const known = tokens.get(scope);
  if (known) return known;
  const res = await t.app.inject({
    method: 'POST',
    url: '/oauth2/token',
    headers: { authorization: basic(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    payload: `grant_type=client_credentials&scope=${encodeURIComponent(scope)}`,
  });
  expect(res.statusCode, res.body).toBe(200);
  const body = res.json() as { access_token: string; scope: string };
  expect(body.scope).toBe(scope);
  tokens.set(scope, body.access_token);
  return body.access_token;
}

const get = (url: string, authorization?: string) => t.app.inject({ method: 'GET', url, headers: authorization ? { authorization } : {} });

describe('Celonis profile: authentication', () => {
  for (const route of ROUTES) {
    describe(route.url.split('?')[0]!, () => {
      for (const scope of route.scopes) {
        it(`answers an OAuth token with scope ${scope}`, async () => {
          const bearer = `Bearer ${await token(scope)}`;
          // Refused credentials of earlier tests are recorded in the background: settle them,
          // so that both reads below see the same trail.
          await t.services.authFailures.flush();
          const viaKey = await get(route.url, t.auth.authorization);
          const res = await get(route.url, bearer);
          expect(res.statusCode, res.body).toBe(200);
          expect(res.headers['content-type']).toMatch(/^application\/json/);
          expect(res.json()).toEqual(viaKey.json());
        });
      }

      it('answers a Bearer API key', async () => {
        const res = await get(route.url, t.auth.authorization);
        expect(res.statusCode).toBe(200);
        expect(res.body.length).toBeGreaterThan(2);
      });

      it(`refuses an OAuth token of scope ${route.wrong} with a bodiless 403`, async () => {
        const res = await get(route.url, `Bearer ${await token(route.wrong)}`);
        expect(res.statusCode).toBe(403);
        expect(res.body).toBe('');
      });

      it(route.appKey ? 'answers an AppKey with its application only' : 'refuses an AppKey with a bodiless 403', async () => {
        const res = await get(route.url, `AppKey ${ledgerKey}`);
        if (!route.appKey) {
          expect(res.statusCode).toBe(403);
          expect(res.body).toBe('');
          return;
        }
        expect(res.statusCode).toBe(200);
        const { permissions } = res.json() as { permissions: { service: string }[] };
        expect(permissions.length).toBe(4);
        expect(new Set(permissions.map((p) => p.service))).toEqual(new Set(['ledger']));
      });

      it('answers no credential, and an unknown one, with a bodiless 401', async () => {
        for (const authorization of [undefined, 'Bearer gty_not-a-key-not-a-key-not-a-key-0000', 'AppKey gtya_nope']) {
          const res = await get(route.url, authorization);
          expect(res.statusCode).toBe(401);
          expect(res.body).toBe('');
        }
      });
    });
  }

  it('answers 204 with no body when the caller can see no permission (an application nothing is assigned in)', async () => {
    const res = await get('/api/authorization/external/permissions', `AppKey ${emptyAppKey}`);
    expect(res.statusCode).toBe(204);
    expect(res.body).toBe('');
  });

  it('answers bad parameters with the vendor 400 envelope, whatever the credential', async () => {
    const cases: [string, string][] = [
      ['/log/api/external/audit?pageSize=201', 'INVALID_PARAMETER'],
      ['/log/api/external/audit?pageNumber=-1', 'INVALID_PARAMETER'],
      ['/log/api/external/audit?to=tomorrow', 'INVALID_PARAMETER'],
      ['/log/api/external/v2/audit?pageToken=forged.token', 'INVALID_PAGE_TOKEN'],
      ['/api/external/authentication-events?from=not-a-time', 'INVALID_PARAMETER'],
      ['/api/external/members?includeInternal=perhaps', 'INVALID_PARAMETER'],
    ];
    for (const [url, key] of cases) {
      const scope = url.startsWith('/api/external/members') ? 'authorization.permissions' : 'audit.log';
      for (const authorization of [t.auth.authorization, `Bearer ${await token(scope)}`]) {
        const res = await get(url, authorization);
        expect(res.statusCode, url).toBe(400);
        expect(res.json(), url).toEqual({ frontendErrorKey: key, errorInformation: expect.any(String) });
      }
    }
  });
});

describe('Celonis profile: one scope per spelling, team-level AppKeys, audit items, login history, the tenant switch', () => {
  it('lets a client registered with one spelling ask for the other', async () => {
    for (const [registered, asked] of [
      ['authorization.permissions', 'authorization.permissions:read'],
      ['authorization.permissions:read', 'authorization.permissions'],
      ['audit.log', 'audit.log:read'],
      ['audit.log:read', 'audit.log'],
    ] as const) {
      const admin = await t.store.read(t.tenantId).db.selectFrom('identities').select('id').where('tenant_id', '=', t.tenantId).where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow();
      const one = await clientFor(t.services, t.tenantId, { identityId: admin.id, scopes: [registered] });
      const res = await t.app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: { 'content-type': 'application/x-www-form-urlencoded' },
        payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: one.clientId, client_secret: one.clientSecret, scope: asked }).toString(),
      });
      expect(res.statusCode, `${registered} → ${asked}: ${res.body}`).toBe(200);
      const url = asked.startsWith('audit') ? '/log/api/external/audit' : '/api/authorization/external/permissions';
      expect((await get(url, `Bearer ${(res.json() as { access_token: string }).access_token}`)).statusCode).toBe(200);
    }
  });

  it('an AppKey made with authorization.permissions is team-level: it exports every application', async () => {
    const teamKey = (await appKeyFor(t.services, t.tenantId, m.applicationId, { scopes: ['authorization.permissions'] })).secret;
    const res = await get('/api/authorization/external/permissions', `AppKey ${teamKey}`);
    expect(res.statusCode).toBe(200);
    const services = new Set((res.json() as { permissions: { service: string }[] }).permissions.map((p) => p.service));
    expect(services).toEqual(new Set(['ledger', 'grantory']));
    const viaKey = (await get('/api/authorization/external/permissions', t.auth.authorization)).json();
    expect(res.json()).toEqual(viaKey);
    // A creator who cannot read every application's permissions cannot make one.
    const narrow = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name: 'appkey maker', scopes: ['grantory:manage-clients', 'grantory:read-permissions-my-application'] } });
    const maker = { authorization: `Bearer ${(narrow.json() as { secret: string }).secret}` };
    const refused = await t.app.inject({ method: 'POST', url: `/api/v1/applications/${m.applicationId}/keys`, headers: maker, payload: { name: 'team key', scopes: ['authorization.permissions:read'] } });
    expect(refused.statusCode, refused.body).toBe(403);
    const allowed = await t.app.inject({ method: 'POST', url: `/api/v1/applications/${m.applicationId}/keys`, headers: maker, payload: { name: 'app key' } });
    expect(allowed.statusCode, allowed.body).toBe(201);
  });

  it("shows the user's role, id and address on audit items, and token issues in the login history", async () => {
    const bearer = `Bearer ${await token('audit.log')}`;
    await get('/api/authorization/external/permissions', `Bearer ${await token('authorization.permissions')}`);
    const admin = await t.store.read(t.tenantId).db.selectFrom('identities').select('id').where('tenant_id', '=', t.tenantId).where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow();
    const page = (await get('/log/api/external/audit?pageNumber=0&pageSize=200', bearer)).json() as { content: { userId: string; userRole: string; event: string; ipAddress: string | null }[]; totalCount: number };
    const issued = page.content.filter((e) => e.event === 'oauth_token.issue');
    expect(issued.length).toBeGreaterThan(0);
    // The client acts as the administrator, who holds the Admin role.
    for (const e of issued) expect(e).toMatchObject({ userId: admin.id, userRole: 'Admin', ipAddress: '127.0.0.1' });
    const logins = (await get('/api/external/authentication-events?pageSize=200', bearer)).json() as { content: { authenticationEventType: string; success: boolean; email: string | null }[] };
    expect(logins.content).toContainEqual(expect.objectContaining({ authenticationEventType: 'TOKEN_ISSUED', success: true }));
    await get('/api/authorization/external/permissions', 'Bearer gty_not-a-key-not-a-key-not-a-key-0000');
    await t.services.authFailures.flush();
    const after = (await get('/api/external/authentication-events?pageSize=200', bearer)).json() as { content: { authenticationEventType: string; success: boolean }[] };
    expect(after.content).toContainEqual(expect.objectContaining({ authenticationEventType: 'LOGIN_FAILED', success: false }));
  });

  it('answers a bodiless 404 while the tenant has the profile turned off', async () => {
    const off = await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: t.auth, payload: { compatibility: { celonis: false } } });
    expect(off.statusCode, off.body).toBe(200);
    try {
      const res = await get('/api/authorization/external/permissions', t.auth.authorization);
      expect(res.statusCode).toBe(404);
      expect(res.body).toBe('');
    } finally {
      await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: t.auth, payload: { compatibility: { celonis: true } } });
    }
    expect((await get('/api/authorization/external/permissions', t.auth.authorization)).statusCode).toBe(200);
  });
});
