import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { createApplication } from '../../src/services/catalog/applications.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { assignToAdmin, call, callerWith } from '../support/catalog.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const create = (body: unknown, headers?: Record<string, string>) => call(t, 'POST', '/api/v1/applications', body, headers);

async function adminIdentityId(): Promise<string> {
  const me = await call(t, 'GET', '/api/v1/me');
  return me.json().identityId as string;
}

describe('applications', () => {
  it('creates, reads with an ETag, and lists an application', async () => {
    const owner = await adminIdentityId();
    const res = await create({ name: 'Core Banking', kind: 'connected', description: 'Ledger', ownerIds: [owner], priority: 'High', connector: { type: 'file', directory: 'core', fileGroups: [{ name: 'grants', pattern: '*.csv', columns: { accountName: 'login', employeeNumber: 'emp', permission: 'entitlement' } }], matching: ['employeeNumber'] } });
    expect(res.statusCode).toBe(201);
    const app = res.json();
    expect(app).toMatchObject({
      name: 'Core Banking',
      kind: 'connected',
      description: 'Ledger',
      ownerIds: [owner],
      priority: 'High',
      archived: false,
      builtin: false,
      connector: { type: 'file', directory: 'core', fileGroups: [{ id: expect.stringMatching(/^[0-9a-f-]{36}$/), name: 'grants', pattern: '*.csv', required: true, format: 'csv' }], matching: ['employeeNumber'], unknownPermissions: 'report' },
      lastImport: null,
      revision: expect.any(Number),
      number: expect.any(Number),
    });
    expect(res.headers.etag).toBe('"1"');
    expect(res.headers.location).toBe(`/api/v1/applications/${app.id}`);

    const got = await call(t, 'GET', `/api/v1/applications/${app.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.headers.etag).toBe('"1"');
    expect(got.json().name).toBe('Core Banking');

    const list = await call(t, 'GET', '/api/v1/applications?q=core%20bank');
    expect(list.json().items.map((a: { id: string }) => a.id)).toEqual([app.id]);
  });

  it('applies defaults', async () => {
    const res = await create({ name: 'Defaults App' });
    expect(res.statusCode).toBe(201);
    expect(res.json()).toMatchObject({ kind: 'connected', priority: 'None', archived: false, ownerIds: [], connector: null, description: null });
  });

  it('lists the built-in application', async () => {
    const list = await call(t, 'GET', '/api/v1/applications?limit=500');
    const builtin = list.json().items.find((a: { builtin: boolean }) => a.builtin);
    expect(builtin).toMatchObject({ name: 'grantory', kind: 'managed', number: 1 });
  });

  it('refuses a duplicate name with 409 naming the field', async () => {
    await create({ name: 'Dup' });
    const res = await create({ name: 'Dup' });
    expect(res.statusCode).toBe(409);
    expect(res.json()).toMatchObject({ code: 'conflict', field: 'name', errors: [{ field: 'name', message: 'is already taken' }] });
    const renamed = await create({ name: 'Dup 2' });
    const clash = await call(t, 'PATCH', `/api/v1/applications/${renamed.json().id}`, { name: 'Dup' });
    expect(clash.statusCode).toBe(409);
    expect(clash.json().field).toBe('name');
  });

  it('refuses owners that are not identities', async () => {
    const res = await create({ name: 'Owned', ownerIds: ['no-such-identity'] });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'ownerIds', message: expect.stringContaining('no-such-identity') }]);
    const owner = await adminIdentityId();
    const twice = await create({ name: 'Owned', ownerIds: [owner, owner] });
    expect(twice.statusCode).toBe(400);
    expect(twice.json().errors[0].field).toBe('ownerIds');
  });

  it('rejects missing, unknown, oversized and wrongly typed fields, naming them', async () => {
    const missing = await create({ kind: 'managed' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors).toContainEqual({ field: 'name', message: 'is required' });

    const extra = await create({ name: 'X1', colour: 'blue' });
    expect(extra.statusCode).toBe(400);
    expect(extra.json().errors).toContainEqual({ field: 'colour', message: 'is not a known field' });

    const long = await create({ name: 'x'.repeat(201) });
    expect(long.statusCode).toBe(400);
    expect(long.json().errors[0].field).toBe('name');

    const wrongType = await create({ name: 'X2', archived: 'yes', kind: 'other', priority: 'Urgent' });
    expect(wrongType.statusCode).toBe(400);
    const fields = wrongType.json().errors.map((e: { field: string }) => e.field);
    expect(fields).toEqual(expect.arrayContaining(['archived', 'priority']));
    expect(fields.some((f: string) => f.startsWith('kind'))).toBe(true);

    const blank = await create({ name: '   ' });
    expect(blank.statusCode).toBe(400);

    const tooManyOwners = await create({ name: 'X3', ownerIds: Array.from({ length: 51 }, (_, i) => `id-${i}`) });
    expect(tooManyOwners.statusCode).toBe(400);
    expect(tooManyOwners.json().errors[0].field).toBe('ownerIds');

    const connector = await create({ name: 'X4', connector: { blob: 'x'.repeat(70 * 1024) } });
    expect(connector.statusCode).toBe(400);
    expect(connector.json().errors[0].field).toBe('connector');

    const connectorList = await create({ name: 'X5', connector: ['not', 'an', 'object'] });
    expect(connectorList.statusCode).toBe(400);
    expect(connectorList.json().errors[0].field).toBe('connector');
  });

  it('patches with If-Match, bumps the ETag, and refuses a stale one with 412', async () => {
    const app = (await create({ name: 'Patchable' })).json();
    const ok = await call(t, 'PATCH', `/api/v1/applications/${app.id}`, { archived: true, description: 'old system' }, { 'if-match': '"1"' });
    expect(ok.statusCode).toBe(200);
    expect(ok.headers.etag).toBe('"2"');
    expect(ok.json()).toMatchObject({ archived: true, description: 'old system', name: 'Patchable', revision: expect.any(Number) });

    const stale = await call(t, 'PATCH', `/api/v1/applications/${app.id}`, { archived: false }, { 'if-match': '"1"' });
    expect(stale.statusCode).toBe(412);
    expect(stale.json().code).toBe('precondition_failed');

    const cleared = await call(t, 'PATCH', `/api/v1/applications/${app.id}`, { description: null });
    expect(cleared.json().description).toBeNull();

    const empty = await call(t, 'PATCH', `/api/v1/applications/${app.id}`, {});
    expect(empty.statusCode).toBe(400);

    const readOnly = await call(t, 'PATCH', `/api/v1/applications/${app.id}`, { number: 5 });
    expect(readOnly.statusCode).toBe(400);
    expect(readOnly.json().errors).toContainEqual({ field: 'number', message: 'is not a known field' });
  });

  it('protects the built-in application', async () => {
    const list = await call(t, 'GET', '/api/v1/applications?q=grantory');
    const builtin = list.json().items.find((a: { builtin: boolean }) => a.builtin);
    const patch = await call(t, 'PATCH', `/api/v1/applications/${builtin.id}`, { description: 'mine now' });
    expect(patch.statusCode).toBe(409);
    const del = await call(t, 'DELETE', `/api/v1/applications/${builtin.id}`);
    expect(del.statusCode).toBe(409);
    expect(del.json().detail).toContain('built-in');
  });

  it('deletes an application with its permissions, unless one is assigned', async () => {
    const app = (await create({ name: 'Short-lived' })).json();
    const perm = (await call(t, 'POST', `/api/v1/applications/${app.id}/permissions`, { name: 'use' })).json();
    const assignment = await assignToAdmin(t, { type: 'permission', id: perm.id });

    const blocked = await call(t, 'DELETE', `/api/v1/applications/${app.id}`);
    expect(blocked.statusCode).toBe(409);
    expect(blocked.json().detail).toContain('its permissions are still in use');
    expect(blocked.json().blockers).toEqual([expect.objectContaining({ type: 'assignment', count: 1, ids: [assignment] })]);

    // Revoking the assignment lifts the block.
    await t.store.read(t.tenantId).db.updateTable('assignments').set({ state: 'revoked' }).where('id', '=', assignment).execute();
    const stale = await call(t, 'DELETE', `/api/v1/applications/${app.id}`, undefined, { 'if-match': '"7"' });
    expect(stale.statusCode).toBe(412);
    const del = await call(t, 'DELETE', `/api/v1/applications/${app.id}`, undefined, { 'if-match': '"1"' });
    expect(del.statusCode).toBe(200);
    expect(del.json().revision).toEqual(expect.any(Number));
    expect((await call(t, 'GET', `/api/v1/applications/${app.id}`)).statusCode).toBe(404);
    expect((await call(t, 'GET', `/api/v1/permissions/${perm.id}`)).statusCode).toBe(404);
  });

  it('pages with a signed cursor and refuses a forged one', async () => {
    for (const n of [1, 2, 3]) await create({ name: `Paged ${n}` });
    const first = await call(t, 'GET', '/api/v1/applications?q=paged&limit=2');
    expect(first.json().items).toHaveLength(2);
    const cursor = first.json().nextCursor as string;
    expect(cursor).toEqual(expect.any(String));
    const second = await call(t, 'GET', `/api/v1/applications?q=paged&limit=2&cursor=${encodeURIComponent(cursor)}`);
    expect(second.json().items.map((a: { name: string }) => a.name)).toEqual(['Paged 3']);
    expect(second.json().nextCursor).toBeNull();

    const forged = `${Buffer.from('0').toString('base64url')}.${cursor.split('.')[1]}`;
    const bad = await call(t, 'GET', `/api/v1/applications?q=paged&cursor=${encodeURIComponent(forged)}`);
    expect(bad.statusCode).toBe(400);
    expect(bad.json().code).toBe('invalid_cursor');
    const otherFilter = await call(t, 'GET', `/api/v1/applications?q=other&cursor=${encodeURIComponent(cursor)}`);
    expect(otherFilter.statusCode).toBe(400);
    const tooBig = await call(t, 'GET', '/api/v1/applications?limit=501');
    expect(tooBig.statusCode).toBe(400);
    const unknown = await call(t, 'GET', '/api/v1/applications?colour=red');
    expect(unknown.statusCode).toBe(400);
  });

  it('filters by kind and archived', async () => {
    await create({ name: 'Filter managed', kind: 'managed' });
    await create({ name: 'Filter archived', archived: true });
    const managed = await call(t, 'GET', '/api/v1/applications?q=filter&kind=managed');
    expect(managed.json().items.map((a: { name: string }) => a.name)).toEqual(['Filter managed']);
    const archived = await call(t, 'GET', '/api/v1/applications?q=filter&archived=true');
    expect(archived.json().items.map((a: { name: string }) => a.name)).toEqual(['Filter archived']);
  });

  it('replays a POST with the same Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'app-create-1' };
    const first = await create({ name: 'Once' }, headers);
    const again = await create({ name: 'Once' }, headers);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    const other = await create({ name: 'Twice' }, headers);
    expect(other.statusCode).toBe(422);
  });

  it('audits every write with before and after', async () => {
    const app = (await create({ name: 'Audited' })).json();
    await call(t, 'PATCH', `/api/v1/applications/${app.id}`, { priority: 'Low' });
    await call(t, 'DELETE', `/api/v1/applications/${app.id}`);
    const events = await t.store
      .read(t.tenantId)
      .db.selectFrom('audit_events')
      .selectAll()
      .where('tenant_id', '=', t.tenantId)
      .where('target_id', '=', app.id)
      .orderBy('seq')
      .execute();
    expect(events.map((e) => e.action)).toEqual(['application.create', 'application.update', 'application.delete']);
    expect(JSON.parse(events[1]!.before!).priority).toBe('None');
    expect(JSON.parse(events[1]!.after!).priority).toBe('Low');
    expect(JSON.parse(events[2]!.before!).name).toBe('Audited');
    const changes = await t.store.read(t.tenantId).db.selectFrom('changes').selectAll().where('entity_id', '=', app.id).execute();
    expect(changes.map((c) => c.op).sort()).toEqual(['create', 'delete', 'update']);
  });

  it('needs manage-applications to write; reads also for role and user managers', async () => {
    const none = await callerWith(t, []);
    expect((await call(t, 'GET', '/api/v1/applications', undefined, none)).statusCode).toBe(403);
    const roles = await callerWith(t, ['manage-roles']);
    expect((await call(t, 'GET', '/api/v1/applications', undefined, roles)).statusCode).toBe(200);
    const denied = await call(t, 'POST', '/api/v1/applications', { name: 'Nope' }, roles);
    expect(denied.statusCode).toBe(403);
    expect(denied.json().code).toBe('forbidden');
    const apps = await callerWith(t, ['manage-applications']);
    expect((await call(t, 'POST', '/api/v1/applications', { name: 'Yes' }, apps)).statusCode).toBe(201);
    const anon = await t.app.inject({ method: 'GET', url: '/api/v1/applications' });
    expect(anon.statusCode).toBe(401);
  });

  it("does not show another tenant's application", async () => {
    const other = await t.store.createTenant(`other-${Date.now()}`, new Date().toISOString());
    const { value } = await createApplication(t.services.deps, systemActor(other), { name: 'Hidden' });
    expect((await call(t, 'GET', `/api/v1/applications/${value.id}`)).statusCode).toBe(404);
    expect((await call(t, 'PATCH', `/api/v1/applications/${value.id}`, { archived: true })).statusCode).toBe(404);
    const list = await call(t, 'GET', '/api/v1/applications?q=hidden');
    expect(list.json().items).toEqual([]);
  });
});
