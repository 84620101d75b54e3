import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RIGHTS } from '../../src/domain/rights.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { assignToAdmin, call, callerWith, rightIds } from '../support/catalog.ts';

let t: TestApp;
let appId: string;
beforeAll(async () => {
  t = await createTestApp();
  appId = (await call(t, 'POST', '/api/v1/applications', { name: 'Payments' })).json().id;
});
afterAll(async () => t.close());

const create = (body: unknown, headers?: Record<string, string>, app = appId) => call(t, 'POST', `/api/v1/applications/${app}/permissions`, body, headers);

describe('permissions', () => {
  it('creates a permission with defaults and reads it with an ETag', async () => {
    const res = await create({ name: 'approve-payments', category: 'Payments', risk: 'high' });
    expect(res.statusCode).toBe(201);
    const perm = res.json();
    expect(perm).toMatchObject({
      name: 'approve-payments',
      category: 'Payments',
      risk: 'high',
      requestable: true,
      delegable: false,
      builtin: false,
      applicationId: appId,
      description: null,
      number: expect.any(Number),
      revision: expect.any(Number),
    });
    expect(res.headers.location).toBe(`/api/v1/permissions/${perm.id}`);
    const got = await call(t, 'GET', `/api/v1/permissions/${perm.id}`);
    expect(got.headers.etag).toBe('"1"');
    expect(got.json().name).toBe('approve-payments');
  });

  it('shows Grantory rights as built-in permissions of the built-in application', async () => {
    const rights = await rightIds(t);
    expect([...rights.keys()].sort()).toEqual([...RIGHTS].sort());
  });

  it('keeps names unique within an application, not across applications', async () => {
    await create({ name: 'view' });
    const dup = await create({ name: 'view' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json()).toMatchObject({ field: 'name', errors: [{ field: 'name', message: 'is already taken' }] });
    const otherApp = (await call(t, 'POST', '/api/v1/applications', { name: 'Reports' })).json().id;
    expect((await create({ name: 'view' }, undefined, otherApp)).statusCode).toBe(201);
    const renamed = (await create({ name: 'edit' })).json();
    const clash = await call(t, 'PATCH', `/api/v1/permissions/${renamed.id}`, { name: 'view' });
    expect(clash.statusCode).toBe(409);
  });

  it('lists per application and across applications, with filters and paging', async () => {
    const app = (await call(t, 'POST', '/api/v1/applications', { name: 'Listing' })).json().id;
    for (const name of ['alpha', 'beta', 'gamma']) await create({ name, category: name === 'gamma' ? 'G' : 'AB' }, undefined, app);
    const per = await call(t, 'GET', `/api/v1/applications/${app}/permissions?limit=2`);
    expect(per.json().items.map((p: { name: string }) => p.name)).toEqual(['alpha', 'beta']);
    const next = await call(t, 'GET', `/api/v1/applications/${app}/permissions?limit=2&cursor=${encodeURIComponent(per.json().nextCursor)}`);
    expect(next.json().items.map((p: { name: string }) => p.name)).toEqual(['gamma']);
    const across = await call(t, 'GET', `/api/v1/permissions?applicationId=${app}&category=AB`);
    expect(across.json().items.map((p: { name: string }) => p.name)).toEqual(['alpha', 'beta']);
    const q = await call(t, 'GET', `/api/v1/permissions?applicationId=${app}&q=AMM`);
    expect(q.json().items.map((p: { name: string }) => p.name)).toEqual(['gamma']);
    // A cursor of one application's list is not valid for another's.
    const foreign = await call(t, 'GET', `/api/v1/applications/${appId}/permissions?limit=2&cursor=${encodeURIComponent(per.json().nextCursor)}`);
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().code).toBe('invalid_cursor');
    expect((await call(t, 'GET', '/api/v1/permissions?applicationId=nope')).statusCode).toBe(404);
    expect((await call(t, 'GET', '/api/v1/applications/nope/permissions')).statusCode).toBe(404);
    const like = await call(t, 'GET', `/api/v1/permissions?applicationId=${app}&q=%25`);
    expect(like.json().items).toEqual([]);
  });

  it('rejects bad input naming the field', async () => {
    const missing = await create({ risk: 'low' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors).toContainEqual({ field: 'name', message: 'is required' });
    const extra = await create({ name: 'p', applicationId: appId });
    expect(extra.json().errors).toContainEqual({ field: 'applicationId', message: 'is not a known field' });
    const wrong = await create({ name: 'p', requestable: 1, risk: 'extreme' });
    expect(wrong.statusCode).toBe(400);
    expect(wrong.json().errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['requestable']));
    const long = await create({ name: 'p', category: 'c'.repeat(201), description: 'd'.repeat(2001) });
    expect(long.json().errors.map((e: { field: string }) => e.field)).toEqual(expect.arrayContaining(['category', 'description']));
    expect((await create({ name: 'p' }, undefined, 'no-such-app')).statusCode).toBe(404);
  });

  it('protects Grantory rights and the built-in catalog', async () => {
    const rights = await rightIds(t);
    const manageUsers = rights.get('manage-users')!;
    const patch = await call(t, 'PATCH', `/api/v1/permissions/${manageUsers}`, { description: 'x' });
    expect(patch.statusCode).toBe(409);
    const del = await call(t, 'DELETE', `/api/v1/permissions/${manageUsers}`);
    expect(del.statusCode).toBe(409);
    const builtinApp = (await call(t, 'GET', `/api/v1/permissions/${manageUsers}`)).json().applicationId;
    const add = await create({ name: 'manage-everything' }, undefined, builtinApp);
    expect(add.statusCode).toBe(409);
  });

  it('patches with If-Match and refuses a stale ETag', async () => {
    const perm = (await create({ name: 'patch-me' })).json();
    const ok = await call(t, 'PATCH', `/api/v1/permissions/${perm.id}`, { risk: 'critical', requestable: false, category: null }, { 'if-match': '"1"' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ risk: 'critical', requestable: false, category: null });
    expect(ok.headers.etag).toBe('"2"');
    const stale = await call(t, 'PATCH', `/api/v1/permissions/${perm.id}`, { risk: 'low' }, { 'if-match': '"1"' });
    expect(stale.statusCode).toBe(412);
    const staleDelete = await call(t, 'DELETE', `/api/v1/permissions/${perm.id}`, undefined, { 'if-match': '"1"' });
    expect(staleDelete.statusCode).toBe(412);
  });

  it('refuses to delete a permission that is assigned or in a role, naming the blockers', async () => {
    const perm = (await create({ name: 'blocked' })).json();
    const role = (await call(t, 'POST', '/api/v1/roles', { name: 'Holds blocked', permissionIds: [perm.id] })).json();
    const assignment = await assignToAdmin(t, { type: 'permission', id: perm.id }, 'paused');

    const res = await call(t, 'DELETE', `/api/v1/permissions/${perm.id}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toMatch(/1 assignment that is not revoked; held by role "Holds blocked"/);
    expect(res.json().blockers).toEqual([
      expect.objectContaining({ type: 'assignment', ids: [assignment] }),
      expect.objectContaining({ type: 'role', ids: [role.id] }),
    ]);

    await call(t, 'PATCH', `/api/v1/roles/${role.id}`, { permissionIds: [] });
    await t.store.read(t.tenantId).db.updateTable('assignments').set({ state: 'revoked' }).where('id', '=', assignment).execute();
    const ok = await call(t, 'DELETE', `/api/v1/permissions/${perm.id}`);
    expect(ok.statusCode).toBe(200);
    expect((await call(t, 'GET', `/api/v1/permissions/${perm.id}`)).statusCode).toBe(404);
  });

  it('replays a POST with the same Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'perm-1' };
    const first = await create({ name: 'idem' }, headers);
    const again = await create({ name: 'idem' }, headers);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(first.json().id);
  });

  it('audits writes with before and after', async () => {
    const perm = (await create({ name: 'audited' })).json();
    await call(t, 'PATCH', `/api/v1/permissions/${perm.id}`, { risk: 'medium' });
    await call(t, 'DELETE', `/api/v1/permissions/${perm.id}`);
    const events = await t.store.read(t.tenantId).db.selectFrom('audit_events').selectAll().where('target_id', '=', perm.id).orderBy('seq').execute();
    expect(events.map((e) => e.action)).toEqual(['permission.create', 'permission.update', 'permission.delete']);
    expect(JSON.parse(events[1]!.before!).risk).toBe('low');
    expect(JSON.parse(events[1]!.after!).risk).toBe('medium');
  });

  it('needs manage-applications to write', async () => {
    const users = await callerWith(t, ['manage-users']);
    expect((await call(t, 'GET', '/api/v1/permissions', undefined, users)).statusCode).toBe(200);
    expect((await create({ name: 'nope' }, users)).statusCode).toBe(403);
    const none = await callerWith(t, ['read-audit']);
    expect((await call(t, 'GET', '/api/v1/permissions', undefined, none)).statusCode).toBe(403);
  });
});
