/**
 * The Checkmarx Access Control profile, replaying the seed document's calls exactly:
 * `Authorization: Bearer <token>` and `Accept: application/json;v=1.0`.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RIGHTS } from '../../src/domain/rights.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { call, callerWith } from '../support/catalog.ts';

let t: TestApp;
let token: string;
beforeAll(async () => {
  t = await createTestApp();
  token = t.adminKey;
});
afterAll(async () => t.close());

const CX = '/cxrestapi/auth';
const V1 = 'application/json;v=1.0';

function cx(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, options: { body?: unknown; headers?: Record<string, string>; auth?: string | null } = {}) {
  const headers: Record<string, string> = { accept: V1, ...(options.headers ?? {}) };
  if (options.auth !== null) headers.authorization = options.auth ?? `Bearer ${token}`;
  if (options.body !== undefined) headers['content-type'] ??= V1;
  return t.app.inject({ method, url: `${CX}${path}`, headers, ...(options.body !== undefined ? { payload: JSON.stringify(options.body) } : {}) });
}

const expectCxError = (res: { headers: Record<string, unknown>; json: () => Record<string, unknown> }, status: number, code: string) => {
  expect(String(res.headers['content-type'])).toBe(V1);
  expect(res.json()).toMatchObject({ messageCode: expect.any(Number), messageDetails: expect.any(String), code });
  expect(Math.floor((res.json().messageCode as number) / 100)).toBe(status);
};

describe('Checkmarx profile: GET /Permissions (the seed document)', () => {
  it('returns every permission as {id, serviceProviderId, name, category}, Grantory rights under the built-in application', async () => {
    const res = await cx('GET', '/Permissions');
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(V1);
    const body = res.json() as { id: number; serviceProviderId: number; name: string; category: string | null }[];
    expect(Array.isArray(body)).toBe(true);
    for (const p of body) expect(Object.keys(p).sort()).toEqual(['category', 'id', 'name', 'serviceProviderId']);
    // The sample response, entry for entry: the vendor's ids and names come first.
    expect(body.slice(0, 4)).toEqual([
      { id: 1, serviceProviderId: 1, name: 'manage-users', category: null },
      { id: 2, serviceProviderId: 1, name: 'manage-authentication-providers', category: null },
      { id: 3, serviceProviderId: 1, name: 'manage-clients', category: null },
      { id: 4, serviceProviderId: 1, name: 'manage-system-settings', category: null },
    ]);
    // Then every other Grantory right, under the built-in application.
    const builtins = body.filter((p) => p.serviceProviderId === 1);
    expect(builtins.map((p) => p.id)).toEqual(Array.from({ length: RIGHTS.length + 1 }, (_, i) => i + 1));
    expect(new Set(builtins.map((p) => p.name))).toEqual(new Set([...RIGHTS, 'manage-authentication-providers']));
  });

  it('includes the permissions of other applications with their application number', async () => {
    const app = (await call(t, 'POST', '/api/v1/applications', { name: 'CxSAST' })).json();
    const perm = (await call(t, 'POST', `/api/v1/applications/${app.id}/permissions`, { name: 'scan', category: 'Scans' })).json();
    const res = await cx('GET', '/Permissions');
    // Application permissions: number + 1000, clear of the built-in ids.
    expect(res.json()).toContainEqual({ id: perm.number + 1000, serviceProviderId: app.number, name: 'scan', category: 'Scans' });
    const one = await cx('GET', `/Permissions/${perm.number + 1000}`);
    expect(one.statusCode).toBe(201);
    expect(one.json()).toEqual({ id: perm.number + 1000, serviceProviderId: app.number, name: 'scan', category: 'Scans' });
    // The built-in application's own numbers are not ids of this profile.
    expect((await cx('GET', '/Permissions/1001')).statusCode).toBe(404);
  });

  it('GET /Permissions/{id}: 201 with the permission, as the seed documents; /Permissions/2 and /4 as its sample', async () => {
    const res = await cx('GET', '/Permissions/4');
    expect(res.statusCode).toBe(201);
    expect(res.headers['content-type']).toBe(V1);
    expect(res.json()).toEqual({ id: 4, serviceProviderId: 1, name: 'manage-system-settings', category: null });
    expect((await cx('GET', '/Permissions/2')).json()).toEqual({ id: 2, serviceProviderId: 1, name: 'manage-authentication-providers', category: null });
  });

  it('maps the vendor permissions to Grantory rights: a role given manage-authentication-providers holds manage-system-settings', async () => {
    const created = await cx('POST', '/Roles', { body: { name: 'Auth Provider Manager', permissionIds: [2] } });
    expect(created.statusCode, created.body).toBe(201);
    // Both vendor permissions stand for the one right, so the role lists both.
    expect(created.json().permissionIds).toEqual([2, 4]);
    const native = (await call(t, 'GET', `/api/v1/roles?q=Auth%20Provider`)).json().items[0];
    const rights = (await call(t, 'GET', `/api/v1/permissions?applicationId=${native.applicationIds?.[0] ?? ''}`)).statusCode;
    expect(rights).toBeDefined();
    const permission = (await call(t, 'GET', `/api/v1/permissions/${native.permissionIds[0]}`)).json();
    expect(native.permissionIds).toHaveLength(1);
    expect(permission).toMatchObject({ name: 'manage-system-settings', builtin: true });
  });

  it('GET /Permissions/{id}: 404 for an unknown id, 400 for a non-integer id', async () => {
    const missing = await cx('GET', '/Permissions/999999');
    expect(missing.statusCode).toBe(404);
    expectCxError(missing, 404, 'not_found');
    for (const bad of ['abc', '1.5', '-']) {
      const res = await cx('GET', `/Permissions/${bad}`);
      expect(res.statusCode).toBe(400);
      expectCxError(res, 400, 'validation_failed');
    }
  });

  it('401 without a valid token', async () => {
    const none = await cx('GET', '/Permissions', { auth: null });
    expect(none.statusCode).toBe(401);
    expectCxError(none, 401, 'unauthenticated');
    expect(none.headers['www-authenticate']).toMatch(/^Bearer/);
    const bad = await cx('GET', '/Permissions/1', { auth: 'Bearer not-a-real-token-0123456789abcdefghij' });
    expect(bad.statusCode).toBe(401);
  });

  it('403 without Manage Roles or Manage Users; either one is enough', async () => {
    const auditor = await callerWith(t, ['read-audit', 'manage-applications']);
    const denied = await cx('GET', '/Permissions', { auth: auditor.authorization });
    expect(denied.statusCode).toBe(403);
    expectCxError(denied, 403, 'forbidden');
    expect((await cx('GET', '/Permissions/1', { auth: auditor.authorization })).statusCode).toBe(403);
    for (const right of ['manage-roles', 'manage-users'] as const) {
      const key = await callerWith(t, [right]);
      expect((await cx('GET', '/Permissions', { auth: key.authorization })).statusCode).toBe(200);
      expect((await cx('GET', '/Permissions/1', { auth: key.authorization })).statusCode).toBe(201);
    }
  });
});

describe('Checkmarx profile: media-type versioning', () => {
  it('accepts no version, a bare application/json and */*, and answers with v=1.0', async () => {
    for (const accept of [undefined, 'application/json', '*/*', 'application/json; v=1.0', 'text/html, application/json;v=1.0;q=0.5', 'application/json;v=1']) {
      const res = await t.app.inject({ method: 'GET', url: `${CX}/Permissions/1`, headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) } });
      expect(res.statusCode, accept).toBe(201);
      expect(res.headers['content-type']).toBe(V1);
    }
  });

  it('406 for an unsupported version or a non-JSON type', async () => {
    for (const accept of ['application/json;v=2.0', 'application/xml', 'application/json;v=1.0;q=0']) {
      const res = await cx('GET', '/Permissions', { headers: { accept } });
      expect(res.statusCode, accept).toBe(406);
      expectCxError(res, 406, 'not_acceptable');
    }
  });

  it('415 for a body of an unsupported version', async () => {
    const res = await cx('POST', '/Roles', { body: { name: 'v2 role' }, headers: { 'content-type': 'application/json;v=2.0' } });
    expect(res.statusCode).toBe(415);
    expectCxError(res, 415, 'unsupported_media_type');
    const plain = await cx('POST', '/Roles', { body: { name: 'plain json role' }, headers: { 'content-type': 'application/json' } });
    expect(plain.statusCode).toBe(201);
  });
});

describe('Checkmarx profile: /Roles', () => {
  it('lists roles with isSystemRole and permission ids', async () => {
    const res = await cx('GET', '/Roles');
    expect(res.statusCode).toBe(200);
    const admin = (res.json() as { name: string }[]).find((r) => r.name === 'Admin');
    expect(admin).toEqual({
      id: expect.any(Number),
      isSystemRole: true,
      name: 'Admin',
      description: 'Every Grantory right',
      permissionIds: Array.from({ length: RIGHTS.length + 1 }, (_, i) => i + 1),
    });
  });

  it('creates (201), reads, replaces (204) and deletes (204) a role', async () => {
    const created = await cx('POST', '/Roles', { body: { name: 'User Manager', description: 'Manages users', permissionIds: [1] } });
    expect(created.statusCode).toBe(201);
    expect(created.headers['content-type']).toBe(V1);
    const role = created.json();
    expect(role).toEqual({ id: expect.any(Number), isSystemRole: false, name: 'User Manager', description: 'Manages users', permissionIds: [1] });
    expect(created.headers.location).toBe(`${CX}/Roles/${role.id}`);

    const got = await cx('GET', `/Roles/${role.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.json()).toEqual(role);

    const put = await cx('PUT', `/Roles/${role.id}`, { body: { ...role, name: 'Access Control Manager', permissionIds: [1, 3] } });
    expect(put.statusCode).toBe(204);
    expect(put.body).toBe('');
    expect((await cx('GET', `/Roles/${role.id}`)).json()).toMatchObject({ name: 'Access Control Manager', description: 'Manages users', permissionIds: [1, 3] });

    const del = await cx('DELETE', `/Roles/${role.id}`);
    expect(del.statusCode).toBe(204);
    expect((await cx('GET', `/Roles/${role.id}`)).statusCode).toBe(404);
  });

  it('refuses unknown permission ids, system roles, taken names and escalation', async () => {
    // RIGHTS.length + 2: the first id after the built-in permissions (one per right, and manage-authentication-providers).
    for (const id of [987654, RIGHTS.length + 2, 500]) {
      const unknown = await cx('POST', '/Roles', { body: { name: 'Bad perms', permissionIds: [id] } });
      expect(unknown.statusCode).toBe(400);
      expectCxError(unknown, 400, 'validation_failed');
      expect(unknown.json().errors).toEqual([{ field: 'permissionIds', message: expect.stringContaining(String(id)) }]);
    }

    const admin = ((await cx('GET', '/Roles')).json() as { id: number; name: string }[]).find((r) => r.name === 'Admin')!;
    const put = await cx('PUT', `/Roles/${admin.id}`, { body: { name: 'Admin', permissionIds: [] } });
    expect(put.statusCode).toBe(409);
    expectCxError(put, 409, 'conflict');
    expect((await cx('DELETE', `/Roles/${admin.id}`)).statusCode).toBe(409);

    await cx('POST', '/Roles', { body: { name: 'Taken' } });
    expect((await cx('POST', '/Roles', { body: { name: 'Taken' } })).statusCode).toBe(409);

    const roleManager = await callerWith(t, ['manage-roles']);
    const escalate = await cx('POST', '/Roles', { body: { name: 'Escalate', permissionIds: [1] }, auth: roleManager.authorization });
    expect(escalate.statusCode).toBe(403);
    expect(escalate.json().messageDetails).toContain('manage-users');
  });

  it('shows direct permissions only, and a PUT keeps the native included roles', async () => {
    const inner = (await call(t, 'POST', '/api/v1/roles', { name: 'Native inner' })).json();
    const outer = (await call(t, 'POST', '/api/v1/roles', { name: 'Native outer', includedRoleIds: [inner.id] })).json();
    const put = await cx('PUT', `/Roles/${outer.number}`, { body: { name: 'Native outer', permissionIds: [] } });
    expect(put.statusCode).toBe(204);
    const native = (await call(t, 'GET', `/api/v1/roles/${outer.id}`)).json();
    expect(native.includedRoleIds).toEqual([inner.id]);
    expect(native.permissionIds).toEqual([]);
  });

  it('rejects unknown fields and bad ids; 404 for unknown roles', async () => {
    const extra = await cx('POST', '/Roles', { body: { name: 'Extra', colour: 'red' } });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().errors).toContainEqual({ field: 'colour', message: 'is not a known field' });
    expect((await cx('GET', '/Roles/abc')).statusCode).toBe(400);
    expect((await cx('GET', '/Roles/424242')).statusCode).toBe(404);
    expect((await cx('PUT', '/Roles/424242', { body: { name: 'x' } })).statusCode).toBe(404);
    expect((await cx('DELETE', '/Roles/424242')).statusCode).toBe(404);
  });

  it('needs manage-roles to write, manage-roles or manage-users to read', async () => {
    const users = await callerWith(t, ['manage-users']);
    expect((await cx('GET', '/Roles', { auth: users.authorization })).statusCode).toBe(200);
    const denied = await cx('POST', '/Roles', { body: { name: 'By user manager' }, auth: users.authorization });
    expect(denied.statusCode).toBe(403);
    const none = await callerWith(t, ['read-audit']);
    expect((await cx('GET', '/Roles', { auth: none.authorization })).statusCode).toBe(403);
    expect((await cx('GET', '/Roles', { auth: null })).statusCode).toBe(401);
  });

  it('records cxOrigin on the audit event', async () => {
    const created = await cx('POST', '/Roles', { body: { name: 'From Jenkins' }, headers: { cxOrigin: 'cx-jenkins' } });
    expect(created.statusCode).toBe(201);
    const events = await t.store
      .read(t.tenantId)
      .db.selectFrom('audit_events')
      .select(['action', 'origin', 'after'])
      .where('tenant_id', '=', t.tenantId)
      .where('action', '=', 'role.create')
      .orderBy('seq', 'desc')
      .limit(1)
      .execute();
    expect(events[0]).toMatchObject({ action: 'role.create', origin: 'cx-jenkins' });
    expect(JSON.parse(events[0]!.after!).name).toBe('From Jenkins');
  });
});

describe('Checkmarx profile: /ServiceProviders', () => {
  it('lists applications as {id, name} and reads one by id', async () => {
    const res = await cx('GET', '/ServiceProviders');
    expect(res.statusCode).toBe(200);
    expect(res.json()).toContainEqual({ id: 1, name: 'grantory' });
    const one = await cx('GET', '/ServiceProviders/1');
    expect(one.json()).toEqual({ id: 1, name: 'grantory' });
    expect((await cx('GET', '/ServiceProviders/999')).statusCode).toBe(404);
    expect((await cx('GET', '/ServiceProviders/x')).statusCode).toBe(400);
  });
});

describe('Checkmarx profile: unknown routes and methods, the token scope, the tenant switch', () => {
  it('answers every unknown route or method under /cxrestapi/auth in the Checkmarx error body', async () => {
    const missing = await cx('GET', '/AuthenticationProviders');
    expect(missing.statusCode).toBe(404);
    expectCxError(missing, 404, 'route_not_found');
    const deep = await t.app.inject({ method: 'GET', url: `${CX}/no/such/route?x=1`, headers: { accept: V1 } });
    expect(deep.statusCode).toBe(404);
    expectCxError(deep, 404, 'route_not_found');
    const method = await cx('DELETE', '/Permissions/1');
    expect(method.statusCode).toBe(405);
    expectCxError(method, 405, 'method_not_allowed');
    expect(method.headers.allow).toBe('GET, HEAD');
    const patch = await t.app.inject({ method: 'PATCH', url: `${CX}/Roles/1`, headers: { accept: V1 } });
    expectCxError(patch, 405, 'method_not_allowed');
    const tokenGet = await t.app.inject({ method: 'GET', url: `${CX}/identity/connect/token` });
    expectCxError(tokenGet, 405, 'method_not_allowed');
    // The native API keeps problem details.
    const native = await t.app.inject({ method: 'GET', url: '/api/v1/no-such-route', headers: t.auth });
    expect(native.headers['content-type']).toContain('application/problem+json');
  });

  it('issues a token for the documented scope list access_control_api sast_rest_api (sast_rest_api grants nothing more)', async () => {
    const client = (await call(t, 'POST', '/api/v1/clients', { name: 'cx automation', scopes: ['access_control_api', 'sast_rest_api'] })).json();
    const form = new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: 'access_control_api sast_rest_api' });
    const res = await t.app.inject({ method: 'POST', url: `${CX}/identity/connect/token`, headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() });
    expect(res.statusCode, res.body).toBe(200);
    const { access_token: accessToken, scope } = res.json() as { access_token: string; scope: string };
    expect(scope).toBe('access_control_api sast_rest_api');
    const me = (await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${accessToken}` } })).json();
    expect([...me.rights].sort()).toEqual(['manage-clients', 'manage-roles', 'manage-system-settings', 'manage-users']);
    expect((await cx('GET', '/Permissions/4', { auth: `Bearer ${accessToken}` })).statusCode).toBe(201);
    const sastOnly = await t.app.inject({
      method: 'POST',
      url: `${CX}/identity/connect/token`,
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: new URLSearchParams({ grant_type: 'client_credentials', client_id: client.clientId, client_secret: client.clientSecret, scope: 'sast_rest_api' }).toString(),
    });
    const narrow = (await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${sastOnly.json().access_token as string}` } })).json();
    expect(narrow.rights).toEqual([]);
  });

  it('answers 404 in its error body while the tenant has the profile turned off', async () => {
    const off = await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: t.auth, payload: { compatibility: { checkmarx: false } } });
    expect(off.statusCode, off.body).toBe(200);
    try {
      const res = await cx('GET', '/Permissions');
      expect(res.statusCode).toBe(404);
      expectCxError(res, 404, 'route_not_found');
      expect(res.json().messageDetails).toContain('compatibility.checkmarx');
      // Unauthenticated callers learn nothing more than before.
      expect((await cx('GET', '/Permissions', { auth: null })).statusCode).toBe(401);
    } finally {
      await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: t.auth, payload: { compatibility: { checkmarx: true } } });
    }
    expect((await cx('GET', '/Permissions')).statusCode).toBe(200);
  });
});
