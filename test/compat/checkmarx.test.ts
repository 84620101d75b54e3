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
    // The sample's first entry holds exactly: manage-users is permission 1 of service provider 1.
    expect(body[0]).toEqual({ id: 1, serviceProviderId: 1, name: 'manage-users', category: null });
    for (const name of ['manage-users', 'manage-clients', 'manage-system-settings']) {
      expect(body).toContainEqual({ id: expect.any(Number), serviceProviderId: 1, name, category: null });
    }
    expect(body.filter((p) => p.serviceProviderId === 1).map((p) => p.name).sort()).toEqual([...RIGHTS].sort());
    // Checkmarx-only names have no Grantory counterpart (docs/compat-checkmarx.md).
    expect(body.map((p) => p.name)).not.toContain('manage-authentication-providers');
  });

  it('includes the permissions of other applications with their application number', async () => {
    const app = (await call(t, 'POST', '/api/v1/applications', { name: 'CxSAST' })).json();
    const perm = (await call(t, 'POST', `/api/v1/applications/${app.id}/permissions`, { name: 'scan', category: 'Scans' })).json();
    const res = await cx('GET', '/Permissions');
    expect(res.json()).toContainEqual({ id: perm.number, serviceProviderId: app.number, name: 'scan', category: 'Scans' });
  });

  it('GET /Permissions/{id}: 200 with the permission', async () => {
    const all = (await cx('GET', '/Permissions')).json() as { id: number; name: string }[];
    const settings = all.find((p) => p.name === 'manage-system-settings')!;
    const res = await cx('GET', `/Permissions/${settings.id}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers['content-type']).toBe(V1);
    expect(res.json()).toEqual({ id: settings.id, serviceProviderId: 1, name: 'manage-system-settings', category: null });
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
      expect((await cx('GET', '/Permissions/1', { auth: key.authorization })).statusCode).toBe(200);
    }
  });
});

describe('Checkmarx profile: media-type versioning', () => {
  it('accepts no version, a bare application/json and */*, and answers with v=1.0', async () => {
    for (const accept of [undefined, 'application/json', '*/*', 'application/json; v=1.0', 'text/html, application/json;v=1.0;q=0.5', 'application/json;v=1']) {
      const res = await t.app.inject({ method: 'GET', url: `${CX}/Permissions/1`, headers: { authorization: `Bearer ${token}`, ...(accept ? { accept } : {}) } });
      expect(res.statusCode, accept).toBe(200);
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
  it('lists roles with isSystemRole and permission numbers', async () => {
    const res = await cx('GET', '/Roles');
    expect(res.statusCode).toBe(200);
    const admin = (res.json() as { name: string }[]).find((r) => r.name === 'Admin');
    expect(admin).toEqual({
      id: expect.any(Number),
      isSystemRole: true,
      name: 'Admin',
      description: 'Every Grantory right',
      permissionIds: RIGHTS.map((_, i) => i + 1),
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

    const put = await cx('PUT', `/Roles/${role.id}`, { body: { ...role, name: 'Access Control Manager', permissionIds: [1, 2] } });
    expect(put.statusCode).toBe(204);
    expect(put.body).toBe('');
    expect((await cx('GET', `/Roles/${role.id}`)).json()).toMatchObject({ name: 'Access Control Manager', description: 'Manages users', permissionIds: [1, 2] });

    const del = await cx('DELETE', `/Roles/${role.id}`);
    expect(del.statusCode).toBe(204);
    expect((await cx('GET', `/Roles/${role.id}`)).statusCode).toBe(404);
  });

  it('refuses unknown permission ids, system roles, taken names and escalation', async () => {
    const unknown = await cx('POST', '/Roles', { body: { name: 'Bad perms', permissionIds: [987654] } });
    expect(unknown.statusCode).toBe(400);
    expectCxError(unknown, 400, 'validation_failed');
    expect(unknown.json().errors).toEqual([{ field: 'permissionIds', message: expect.stringContaining('987654') }]);

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
