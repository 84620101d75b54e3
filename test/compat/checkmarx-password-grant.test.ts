/**
 * The Checkmarx password grant, sent as Checkmarx automation sends it: a form-encoded POST to
 * `/cxrestapi/auth/identity/connect/token` with `grant_type=password`, `username`,
 * `password`, `client_id=resource_owner_client`, Checkmarx's published client secret and
 * `scope=access_control_api sast_rest_api`; the token then calls the Access Control API.
 * Wrong passwords, lockout and the audit trail as for console sign-in.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { createIdentityWithRights, waitForAudit } from '../support/security-fixtures.ts';

let t: TestApp;
let now = Date.parse('2026-04-01T08:00:00Z');
beforeAll(async () => {
  t = await createTestApp({ now: () => new Date(now), rateLimits: { windowSeconds: 60, perCredential: 0, decisionPerCredential: 0, tokenPerClient: 0, authFailuresPerIp: 0 } });
});
afterAll(async () => t.close());

const TOKEN_URL = '/cxrestapi/auth/identity/connect/token';
/** The client secret Checkmarx documents for `resource_owner_client`. */
const CX_CLIENT_SECRET = '014DF517-39D1-4453-B7B3-9930C563627C';
const PASSWORD = 'Cx automation password 1';
const CX_JSON = 'application/json;v=1.0';

async function userWithPassword(subject: string, rights: Parameters<typeof createIdentityWithRights>[3]): Promise<string> {
  const id = await createIdentityWithRights(t.store, t.tenantId, subject, rights);
  const res = await t.app.inject({ method: 'PUT', url: `/api/v1/identities/${id}/password`, headers: t.auth, payload: { password: PASSWORD } });
  expect(res.statusCode, res.body).toBe(204);
  return id;
}

/** The form exactly as a Checkmarx script builds it (Python requests / PowerShell Invoke-RestMethod). */
function tokenRequest(fields: Record<string, string>) {
  return t.app.inject({
    method: 'POST',
    url: TOKEN_URL,
    headers: { 'content-type': 'application/x-www-form-urlencoded', accept: 'application/json' },
    payload: new URLSearchParams(fields).toString(),
  });
}

const scriptForm = (username: string, password = PASSWORD) => ({
  username,
  password,
  grant_type: 'password',
  scope: 'access_control_api sast_rest_api',
  client_id: 'resource_owner_client',
  client_secret: CX_CLIENT_SECRET,
});

describe('Checkmarx password grant', () => {
  it('gives a Bearer token that calls the Access Control API as the user', async () => {
    const id = await userWithPassword('cx.admin', ['manage-users', 'manage-roles', 'read-audit']);
    const res = await tokenRequest(scriptForm('cx.admin'));
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers['cache-control']).toBe('no-store');
    const body = res.json() as { access_token: string; token_type: string; expires_in: number; scope: string };
    expect(body).toMatchObject({ token_type: 'Bearer', expires_in: 900, scope: 'access_control_api sast_rest_api' });
    const authorization = `Bearer ${body.access_token}`;
    const permissions = await t.app.inject({ method: 'GET', url: '/cxrestapi/auth/Permissions', headers: { authorization, accept: CX_JSON } });
    expect(permissions.statusCode, permissions.body).toBe(200);
    expect(Array.isArray(permissions.json())).toBe(true);
    // access_control_api keeps the Access Control rights; sast_rest_api adds none; read-audit is narrowed away.
    const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization } });
    expect(me.json()).toMatchObject({ kind: 'session', identityId: id, scopes: ['access_control_api', 'sast_rest_api'], rights: ['manage-roles', 'manage-users'] });
    // Writes need no CSRF token: the token travels in the Authorization header.
    const role = await t.app.inject({
      method: 'POST',
      url: '/cxrestapi/auth/Roles',
      headers: { authorization, accept: CX_JSON, 'content-type': CX_JSON },
      payload: { name: 'cx-script-role', description: 'made by a script', permissionIds: [] },
    });
    expect(role.statusCode, role.body).toBe(201);
    const issued = await waitForAudit(t.store, t.services, t.tenantId, 'auth.signIn');
    expect(issued.some((a) => a.after?.includes('checkmarx_password_grant'))).toBe(true);
  });

  it('caps the token at the rights the user holds (sast_rest_api alone grants nothing)', async () => {
    await userWithPassword('cx.reader', ['read-audit']);
    const res = await tokenRequest({ ...scriptForm('cx.reader'), scope: 'sast_rest_api' });
    expect(res.statusCode).toBe(200);
    const authorization = `Bearer ${(res.json() as { access_token: string }).access_token}`;
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization } })).json()).toMatchObject({ rights: [] });
    expect((await t.app.inject({ method: 'GET', url: '/cxrestapi/auth/Permissions', headers: { authorization, accept: CX_JSON } })).statusCode).toBe(403);
  });

  it('expires with the access-token lifetime', async () => {
    await userWithPassword('cx.expiry', ['manage-users']);
    const res = await tokenRequest(scriptForm('cx.expiry'));
    const authorization = `Bearer ${(res.json() as { access_token: string }).access_token}`;
    const start = now;
    try {
      now += 899 * 1000;
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization } })).statusCode).toBe(200);
      now += 2 * 1000;
      expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization } })).statusCode).toBe(401);
    } finally {
      now = start;
    }
  });

  it('answers wrong credentials, a wrong client and unknown scopes in the OAuth error format', async () => {
    await userWithPassword('cx.wrong', []);
    const wrong = await tokenRequest(scriptForm('cx.wrong', 'not the password'));
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json()).toEqual({ error: 'invalid_grant', error_description: 'the username or password is wrong' });
    const unknown = await tokenRequest(scriptForm('cx.nobody'));
    expect(unknown.json()).toEqual(wrong.json());
    const client = await tokenRequest({ ...scriptForm('cx.wrong'), client_id: 'cxsast_client' });
    expect(client.statusCode).toBe(401);
    expect(client.json()).toMatchObject({ error: 'invalid_client' });
    const noSecret = await tokenRequest(Object.fromEntries(Object.entries(scriptForm('cx.wrong')).filter(([k]) => k !== 'client_secret')));
    expect(noSecret.json()).toMatchObject({ error: 'invalid_client' });
    const scope = await tokenRequest({ ...scriptForm('cx.wrong'), scope: 'access_control_api cx_unknown_api' });
    expect(scope.json()).toMatchObject({ error: 'invalid_scope' });
    // The password grant is Checkmarx's path only.
    const native = await t.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: new URLSearchParams(scriptForm('cx.wrong')).toString() });
    expect(native.statusCode).toBe(401);
  });

  it('locks the user after repeated failures, audited', async () => {
    await userWithPassword('cx.locked', ['manage-users']);
    for (let i = 0; i < 5; i += 1) expect((await tokenRequest(scriptForm('cx.locked', `wrong ${i}`))).json()).toMatchObject({ error: 'invalid_grant' });
    const locked = await tokenRequest(scriptForm('cx.locked'));
    expect(locked.statusCode).toBe(400);
    expect(locked.json()).toMatchObject({ error: 'invalid_grant', error_description: expect.stringMatching(/try again later/) });
    const lockouts = await waitForAudit(t.store, t.services, t.tenantId, 'auth.lockout');
    expect(lockouts.some((a) => a.after?.includes('cx.locked'))).toBe(true);
    const failures = await waitForAudit(t.store, t.services, t.tenantId, 'auth.failure');
    expect(failures.filter((a) => a.after?.includes('cx.locked')).length).toBeGreaterThanOrEqual(6);
    expect(failures.map((a) => a.after ?? '').join('\n')).not.toContain(PASSWORD);
  });
});
