import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { assignToAdmin, call, callerWith, rightIds } from '../support/catalog.ts';

let t: TestApp;
let permA: string;
let permB: string;
let rights: Map<string, string>;
beforeAll(async () => {
  t = await createTestApp();
  const app = (await call(t, 'POST', '/api/v1/applications', { name: 'CRM' })).json().id;
  permA = (await call(t, 'POST', `/api/v1/applications/${app}/permissions`, { name: 'read' })).json().id;
  permB = (await call(t, 'POST', `/api/v1/applications/${app}/permissions`, { name: 'write' })).json().id;
  rights = await rightIds(t);
});
afterAll(async () => t.close());

const create = (body: unknown, headers?: Record<string, string>) => call(t, 'POST', '/api/v1/roles', body, headers);
const patch = (id: string, body: unknown, headers?: Record<string, string>) => call(t, 'PATCH', `/api/v1/roles/${id}`, body, headers);

describe('roles', () => {
  it('creates a role with permissions and included roles, and reads it with an ETag', async () => {
    const base = (await create({ name: 'CRM reader', permissionIds: [permA] })).json();
    const res = await create({ name: 'CRM editor', description: 'edits', permissionIds: [permB], includedRoleIds: [base.id] });
    expect(res.statusCode).toBe(201);
    const role = res.json();
    expect(role).toMatchObject({
      name: 'CRM editor',
      description: 'edits',
      system: false,
      permissionIds: [permB],
      includedRoleIds: [base.id],
      number: expect.any(Number),
      revision: expect.any(Number),
    });
    const got = await call(t, 'GET', `/api/v1/roles/${role.id}`);
    expect(got.headers.etag).toBe('"1"');
    expect(got.json().includedRoleIds).toEqual([base.id]);
    const holders = await call(t, 'GET', `/api/v1/roles?permissionId=${permA}`);
    expect(holders.json().items.map((r: { name: string }) => r.name)).toEqual(['CRM reader']);
  });

  it('lists the system role Admin holding every right', async () => {
    const list = await call(t, 'GET', '/api/v1/roles?q=admin');
    const admin = list.json().items.find((r: { name: string }) => r.name === 'Admin');
    expect(admin.system).toBe(true);
    expect([...admin.permissionIds].sort()).toEqual([...rights.values()].sort());
  });

  it('refuses to change or delete a system role', async () => {
    const admin = (await call(t, 'GET', '/api/v1/roles?q=admin')).json().items.find((r: { name: string }) => r.name === 'Admin');
    const res = await patch(admin.id, { description: 'mine' });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toContain('system role');
    expect((await call(t, 'DELETE', `/api/v1/roles/${admin.id}`)).statusCode).toBe(409);
  });

  it('refuses a duplicate name with 409 naming the field', async () => {
    await create({ name: 'Unique role' });
    const dup = await create({ name: 'Unique role' });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().field).toBe('name');
  });

  it('refuses inclusion cycles, naming the cycle', async () => {
    const a = (await create({ name: 'A' })).json();
    const b = (await create({ name: 'B', includedRoleIds: [a.id] })).json();
    const c = (await create({ name: 'C', includedRoleIds: [b.id] })).json();

    const twoStep = await patch(a.id, { includedRoleIds: [b.id] });
    expect(twoStep.statusCode).toBe(409);
    expect(twoStep.json().detail).toContain('A → B → A');
    expect(twoStep.json().cycle.map((n: { name: string }) => n.name)).toEqual(['A', 'B', 'A']);

    const threeStep = await patch(a.id, { includedRoleIds: [c.id] });
    expect(threeStep.statusCode).toBe(409);
    expect(threeStep.json().detail).toContain('A → C → B → A');

    const self = await patch(a.id, { includedRoleIds: [a.id] });
    expect(self.statusCode).toBe(409);
    expect(self.json().detail).toContain('A → A');

    // Nothing changed.
    expect((await call(t, 'GET', `/api/v1/roles/${a.id}`)).json().includedRoleIds).toEqual([]);
  });

  it('refuses unknown and repeated references, naming the field', async () => {
    const unknownPerm = await create({ name: 'R1', permissionIds: ['nope'] });
    expect(unknownPerm.statusCode).toBe(400);
    expect(unknownPerm.json().errors).toEqual([{ field: 'permissionIds', message: expect.stringContaining('nope') }]);
    const unknownRole = await create({ name: 'R1', includedRoleIds: ['nope'] });
    expect(unknownRole.json().errors[0].field).toBe('includedRoleIds');
    const repeated = await create({ name: 'R1', permissionIds: [permA, permA] });
    expect(repeated.statusCode).toBe(400);
    expect(repeated.json().errors[0].field).toBe('permissionIds');
  });

  it('rejects missing, unknown, oversized and wrongly typed fields', async () => {
    expect((await create({ description: 'x' })).json().errors).toContainEqual({ field: 'name', message: 'is required' });
    expect((await create({ name: 'x', system: true })).json().errors).toContainEqual({ field: 'system', message: 'is not a known field' });
    const big = await create({ name: 'x', permissionIds: Array.from({ length: 1001 }, (_, i) => `p${i}`) });
    expect(big.statusCode).toBe(400);
    expect(big.json().errors[0].field).toBe('permissionIds');
    const typed = await create({ name: 'x', permissionIds: 'all' });
    expect(typed.statusCode).toBe(400);
    expect(typed.json().errors[0].field).toBe('permissionIds');
  });

  it('patches with If-Match; permission lists are replaced; stale ETags are 412', async () => {
    const role = (await create({ name: 'Patch role', permissionIds: [permA] })).json();
    const ok = await patch(role.id, { permissionIds: [permB], description: 'now B' }, { 'if-match': '"1"' });
    expect(ok.statusCode).toBe(200);
    expect(ok.json()).toMatchObject({ permissionIds: [permB], description: 'now B' });
    expect(ok.headers.etag).toBe('"2"');
    expect((await patch(role.id, { name: 'Renamed' }, { 'if-match': '"1"' })).statusCode).toBe(412);
    expect((await call(t, 'DELETE', `/api/v1/roles/${role.id}`, undefined, { 'if-match': '"1"' })).statusCode).toBe(412);
  });

  it('refuses to delete a role that is assigned or included, naming the blockers', async () => {
    const inner = (await create({ name: 'Inner' })).json();
    const outer = (await create({ name: 'Outer', includedRoleIds: [inner.id] })).json();
    const assignment = await assignToAdmin(t, { type: 'role', id: inner.id });
    const res = await call(t, 'DELETE', `/api/v1/roles/${inner.id}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toContain('included in role "Outer"');
    expect(res.json().blockers.map((b: { type: string }) => b.type)).toEqual(['assignment', 'role']);

    await t.store.read(t.tenantId).db.updateTable('assignments').set({ state: 'revoked' }).where('id', '=', assignment).execute();
    await call(t, 'DELETE', `/api/v1/roles/${outer.id}`);
    const ok = await call(t, 'DELETE', `/api/v1/roles/${inner.id}`);
    expect(ok.statusCode).toBe(200);
    expect((await call(t, 'GET', `/api/v1/roles/${inner.id}`)).statusCode).toBe(404);
  });

  describe('privilege escalation guard', () => {
    it('refuses a role holding Grantory rights the caller lacks, directly or through inclusion', async () => {
      const roleManager = await callerWith(t, ['manage-roles']);
      const direct = await create({ name: 'Sneaky', permissionIds: [rights.get('manage-system-settings')!, permA] }, roleManager);
      expect(direct.statusCode).toBe(403);
      expect(direct.json()).toMatchObject({ code: 'forbidden', rightsBeyondCaller: ['manage-system-settings'] });
      expect(direct.json().detail).toContain('manage-system-settings');

      // The administrator builds a role with a right; the role manager may not include it.
      const settings = (await create({ name: 'Settings' , permissionIds: [rights.get('manage-system-settings')!] })).json();
      const admin = (await call(t, 'GET', '/api/v1/roles?q=admin')).json().items.find((r: { name: string }) => r.name === 'Admin');
      const viaInclude = await create({ name: 'Sneaky 2', includedRoleIds: [settings.id] }, roleManager);
      expect(viaInclude.statusCode).toBe(403);
      const viaAdmin = await create({ name: 'Sneaky 3', includedRoleIds: [admin.id] }, roleManager);
      expect(viaAdmin.statusCode).toBe(403);
      expect(viaAdmin.json().rightsBeyondCaller).toEqual(expect.arrayContaining(['manage-users', 'manage-clients']));
      expect(viaAdmin.json().rightsBeyondCaller).not.toContain('manage-roles');

      // Rights the caller holds are fine, and so are other applications' permissions.
      const own = await create({ name: 'Role managers', permissionIds: [rights.get('manage-roles')!, permA] }, roleManager);
      expect(own.statusCode).toBe(201);

      // Changing a role so that it would hold more is refused too.
      const grow = await patch(own.json().id, { includedRoleIds: [settings.id] }, roleManager);
      expect(grow.statusCode).toBe(403);
      // And a role already holding rights beyond the caller's cannot be changed by them.
      const touch = await patch(settings.id, { description: 'x' }, roleManager);
      expect(touch.statusCode).toBe(403);
      // The administrator (every right) may.
      expect((await patch(settings.id, { description: 'x' })).statusCode).toBe(200);
    });
  });

  it('replays a POST with the same Idempotency-Key', async () => {
    const headers = { 'idempotency-key': 'role-1' };
    const first = await create({ name: 'Idem role' }, headers);
    const again = await create({ name: 'Idem role' }, headers);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
  });

  it('pages in number order and refuses a forged cursor', async () => {
    for (const n of [1, 2, 3]) await create({ name: `Paged role ${n}` });
    const first = await call(t, 'GET', '/api/v1/roles?q=paged%20role&limit=2');
    expect(first.json().items.map((r: { name: string }) => r.name)).toEqual(['Paged role 1', 'Paged role 2']);
    const second = await call(t, 'GET', `/api/v1/roles?q=paged%20role&limit=2&cursor=${encodeURIComponent(first.json().nextCursor)}`);
    expect(second.json().items.map((r: { name: string }) => r.name)).toEqual(['Paged role 3']);
    const forged = await call(t, 'GET', '/api/v1/roles?cursor=MQ.AAAAAAAAAAAAAAAAAAAAAAAA');
    expect(forged.statusCode).toBe(400);
    expect(forged.json().code).toBe('invalid_cursor');
  });

  it('audits writes with before and after', async () => {
    const role = (await create({ name: 'Audited role', permissionIds: [permA] })).json();
    await patch(role.id, { permissionIds: [permB] });
    await call(t, 'DELETE', `/api/v1/roles/${role.id}`);
    const events = await t.store.read(t.tenantId).db.selectFrom('audit_events').selectAll().where('target_id', '=', role.id).orderBy('seq').execute();
    expect(events.map((e) => e.action)).toEqual(['role.create', 'role.update', 'role.delete']);
    expect(JSON.parse(events[1]!.before!).permissionIds).toEqual([permA]);
    expect(JSON.parse(events[1]!.after!).permissionIds).toEqual([permB]);
  });

  it('needs manage-roles to write; manage-users may read', async () => {
    const users = await callerWith(t, ['manage-users']);
    expect((await call(t, 'GET', '/api/v1/roles', undefined, users)).statusCode).toBe(200);
    expect((await create({ name: 'nope' }, users)).statusCode).toBe(403);
    const apps = await callerWith(t, ['manage-applications']);
    expect((await call(t, 'GET', '/api/v1/roles', undefined, apps)).statusCode).toBe(403);
  });
});
