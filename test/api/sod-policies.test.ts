/**
 * Separation-of-duties policies through the HTTP API on the run's backend: create, read,
 * list, change, delete; validation naming the field; names unique per tenant; another
 * tenant's policy is not found; who may write and read them; every write audited.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/services/kernel/index.ts';
import { createSodPolicy } from '../../src/services/sod/index.ts';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { callerWith, v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { createOtherTenant } from '../support/security-fixtures.ts';

let t: TestApp;
const ids = {} as Record<'vendor' | 'pay' | 'view' | 'treasurer', string>;
const { get, post, patch, del } = v1Calls(() => t);

beforeAll(async () => {
  t = await createTestApp();
  const fx = new AccessFixtures(t.store, t.tenantId);
  await fx.batch(async (tx) => {
    const app = await fx.application({ name: 'ERP' }, tx);
    ids.vendor = await fx.permission({ applicationId: app, name: 'CreateVendor' }, tx);
    ids.pay = await fx.permission({ applicationId: app, name: 'ApprovePayment' }, tx);
    ids.view = await fx.permission({ applicationId: app, name: 'ViewLedger' }, tx);
    ids.treasurer = await fx.role({ name: 'Treasurer', permissionIds: [ids.pay] }, tx);
  });
});
afterAll(async () => t.close());

const perm = (id: string) => ({ type: 'permission', id });
const role = (id: string) => ({ type: 'role', id });

describe('separation-of-duties policies', () => {
  it('creates, reads, lists, changes and deletes a policy, auditing each write', async () => {
    const created = await post('/sod-policies', { name: 'Vendor vs payment', description: 'P2P', conflicting: [[perm(ids.vendor)], [perm(ids.pay), role(ids.treasurer)]], severity: 'high' });
    expect(created.statusCode, created.body).toBe(201);
    const p = created.json();
    expect(p).toMatchObject({ name: 'Vendor vs payment', mode: 'block', severity: 'high', enabled: true, version: 1, revision: expect.any(Number) });
    expect(p.conflicting).toEqual([[perm(ids.vendor)], [perm(ids.pay), role(ids.treasurer)]]);
    expect(created.headers.location).toBe(`/api/v1/sod-policies/${p.id}`);

    const got = await get(`/sod-policies/${p.id}`);
    expect(got.statusCode).toBe(200);
    expect(got.headers.etag).toBe('"1"');
    expect((await get('/sod-policies')).json().items.map((x: { id: string }) => x.id)).toContain(p.id);

    const stale = await patch(`/sod-policies/${p.id}`, { mode: 'require_exception' }, { 'if-match': '"7"' });
    expect(stale.statusCode).toBe(412);
    const changed = await patch(`/sod-policies/${p.id}`, { mode: 'require_exception', enabled: false }, { 'if-match': '"1"' });
    expect(changed.statusCode, changed.body).toBe(200);
    expect(changed.json()).toMatchObject({ mode: 'require_exception', enabled: false, version: 2 });
    expect((await get('/sod-policies?enabled=false')).json().items.map((x: { id: string }) => x.id)).toEqual([p.id]);

    expect((await del(`/sod-policies/${p.id}`)).statusCode).toBe(200);
    expect((await get(`/sod-policies/${p.id}`)).statusCode).toBe(404);
    const audit = await t.store.read(t.tenantId).db.selectFrom('audit_events').select('action').where('target_id', '=', p.id).orderBy('seq').execute();
    expect(audit.map((a) => a.action)).toEqual(['sodPolicy.create', 'sodPolicy.update', 'sodPolicy.delete']);
  });

  it('refuses fewer than two sets, an empty set, unknown resources and a resource in two sets, naming the field', async () => {
    const one = await post('/sod-policies', { name: 'one set', conflicting: [[perm(ids.vendor)]] });
    expect(one.statusCode).toBe(400);
    expect(one.json().errors[0].field).toBe('conflicting');
    const empty = await post('/sod-policies', { name: 'empty set', conflicting: [[perm(ids.vendor)], []] });
    expect(empty.statusCode).toBe(400);
    expect(empty.json().errors[0].field).toBe('conflicting[1]');
    const unknown = await post('/sod-policies', { name: 'unknown', conflicting: [[perm(ids.vendor)], [role('no-such-role')]] });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].field).toBe('conflicting[1][0].id');
    const twice = await post('/sod-policies', { name: 'twice', conflicting: [[perm(ids.vendor)], [perm(ids.pay), perm(ids.vendor)]] });
    expect(twice.statusCode).toBe(400);
    expect(twice.json().errors[0].field).toBe('conflicting[1][1]');
    const badMode = await post('/sod-policies', { name: 'bad mode', conflicting: [[perm(ids.vendor)], [perm(ids.pay)]], mode: 'warn' });
    expect(badMode.statusCode).toBe(400);
    expect((await get('/sod-policies')).json().items.filter((x: { name: string }) => ['one set', 'empty set', 'unknown', 'twice', 'bad mode'].includes(x.name))).toEqual([]);
  });

  it('refuses a name taken in the tenant with 409 naming the field', async () => {
    expect((await post('/sod-policies', { name: 'Unique SoD', conflicting: [[perm(ids.vendor)], [perm(ids.view)]] })).statusCode).toBe(201);
    const dup = await post('/sod-policies', { name: 'Unique SoD', conflicting: [[perm(ids.pay)], [perm(ids.view)]] });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().field).toBe('name');
  });

  it("does not show, change or delete another tenant's policy (404), and refuses its resources (400)", async () => {
    const other = await createOtherTenant(t.store, `sod-other-${Date.now()}`);
    const ofx = new AccessFixtures(t.store, other.tenantId);
    const app = await ofx.application({ name: 'Other ERP' });
    const a = await ofx.permission({ applicationId: app, name: 'A' });
    const b = await ofx.permission({ applicationId: app, name: 'B' });
    const { policy } = await createSodPolicy(t.services.deps, systemActor(other.tenantId), { name: 'Theirs', conflicting: [[perm(a) as never], [perm(b) as never]] });
    expect((await get(`/sod-policies/${policy.id}`)).statusCode).toBe(404);
    expect((await patch(`/sod-policies/${policy.id}`, { severity: 'low' })).statusCode).toBe(404);
    expect((await del(`/sod-policies/${policy.id}`)).statusCode).toBe(404);
    expect((await get('/sod-policies')).json().items.map((x: { id: string }) => x.id)).not.toContain(policy.id);
    expect((await get(`/sod-violations?policyId=${policy.id}`)).json().items).toEqual([]);
    const foreign = await post('/sod-policies', { name: 'foreign resources', conflicting: [[perm(ids.vendor)], [perm(a)]] });
    expect(foreign.statusCode).toBe(400);
    expect(foreign.json().errors[0].field).toBe('conflicting[1][0].id');
  });

  it('needs manage-roles to write; readers of access and approvers may read', async () => {
    const reader = await callerWith(t, ['read-permissions-any-application']);
    const approver = await callerWith(t, ['approve-requests']);
    const userManager = await callerWith(t, ['manage-users']);
    const roleManager = await callerWith(t, ['manage-roles']);
    const body = { name: 'Rights SoD', conflicting: [[perm(ids.pay)], [perm(ids.view)]] };
    for (const h of [reader, approver, userManager]) {
      const res = await post('/sod-policies', body, h);
      expect(res.statusCode).toBe(403);
    }
    expect((await get('/sod-policies', userManager)).statusCode).toBe(403);
    expect((await get('/sod-violations', userManager)).statusCode).toBe(403);
    const created = await post('/sod-policies', body, roleManager);
    expect(created.statusCode, created.body).toBe(201);
    for (const h of [reader, approver, roleManager]) {
      expect((await get(`/sod-policies/${created.json().id}`, h)).statusCode).toBe(200);
      expect((await get('/sod-violations', h)).statusCode).toBe(200);
    }
    expect((await patch(`/sod-policies/${created.json().id}`, { severity: 'low' }, reader)).statusCode).toBe(403);
    expect((await del(`/sod-policies/${created.json().id}`, approver)).statusCode).toBe(403);
  });
});
