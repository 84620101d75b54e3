/**
 * Separation of duties on every path that adds access, through the HTTP API (and the
 * identity-with-roles service) on the run's backend: a `block` policy refuses a direct
 * assignment whose conflict comes through a role's contents or through unit inheritance,
 * in either order; a `require_exception` policy refuses without an exception and records
 * one (audited) when an approver sends it; assignment rules are refused when changed
 * through the API and skip (audited `sod.blocked`) on directory changes; delegation and
 * resume are checked too; refused writes change nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentityWithRoles } from '../../src/services/access/index.ts';
import { systemActor } from '../../src/services/kernel/index.ts';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { callerWith, v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
let fx: AccessFixtures;
const ids = {} as Record<
  'root' | 'finance' | 'payables' | 'sales' | 'alice' | 'bob' | 'carol' | 'erin' | 'gina' | 'vendor' | 'pay' | 'view' | 'export' | 'treasurer' | 'seniorTreasurer' | 'purchaser' | 'block' | 'exception',
  string
>;
const { get, post, patch } = v1Calls(() => t);

beforeAll(async () => {
  t = await createTestApp();
  fx = new AccessFixtures(t.store, t.tenantId);
  await fx.batch(async (tx) => {
    ids.root = await fx.unit({ name: 'Acme' }, tx);
    ids.finance = await fx.unit({ name: 'Finance', parentId: ids.root }, tx);
    ids.payables = await fx.unit({ name: 'Payables', parentId: ids.finance }, tx);
    ids.sales = await fx.unit({ name: 'Sales', parentId: ids.root }, tx);
    ids.alice = await fx.identity({ username: 'alice', unitId: ids.payables }, tx);
    ids.bob = await fx.identity({ username: 'bob', unitId: ids.sales }, tx);
    ids.carol = await fx.identity({ username: 'carol' }, tx);
    ids.erin = await fx.identity({ username: 'erin' }, tx);
    ids.gina = await fx.identity({ username: 'gina', attributes: { department: 'none' } }, tx);
    const app = await fx.application({ name: 'ERP' }, tx);
    ids.vendor = await fx.permission({ applicationId: app, name: 'CreateVendor', delegable: true }, tx);
    ids.pay = await fx.permission({ applicationId: app, name: 'ApprovePayment', delegable: true }, tx);
    ids.view = await fx.permission({ applicationId: app, name: 'ViewLedger' }, tx);
    ids.export = await fx.permission({ applicationId: app, name: 'ExportLedger' }, tx);
    ids.treasurer = await fx.role({ name: 'Treasurer', permissionIds: [ids.pay] }, tx);
    ids.seniorTreasurer = await fx.role({ name: 'Senior treasurer', includedRoleIds: [ids.treasurer] }, tx);
    ids.purchaser = await fx.role({ name: 'Purchaser', permissionIds: [ids.vendor] }, tx);
  });
  const block = await post('/sod-policies', { name: 'Vendor vs payment', conflicting: [[{ type: 'permission', id: ids.vendor }], [{ type: 'permission', id: ids.pay }]], severity: 'critical' });
  expect(block.statusCode, block.body).toBe(201);
  ids.block = block.json().id;
  const exception = await post('/sod-policies', {
    name: 'Ledger view vs export',
    conflicting: [[{ type: 'permission', id: ids.view }], [{ type: 'permission', id: ids.export }]],
    mode: 'require_exception',
    severity: 'medium',
  });
  expect(exception.statusCode, exception.body).toBe(201);
  ids.exception = exception.json().id;
});
afterAll(async () => t.close());

const identity = (id: string) => ({ type: 'identity', id });
const unit = (id: string) => ({ type: 'orgUnit', id });
const perm = (id: string) => ({ type: 'permission', id });
const role = (id: string) => ({ type: 'role', id });

async function assign(assignee: object, resource: object, extra: object = {}, headers?: Record<string, string>) {
  return post('/assignments', { assignee, resource, ...extra }, headers);
}

async function assignmentsOf(assigneeId: string): Promise<{ resource: { id: string }; state: string; source: string }[]> {
  return (await get(`/assignments?assigneeId=${assigneeId}`)).json().items;
}

describe('separation of duties on direct assignments', () => {
  it('blocks a role whose contents (through an included role) conflict with a held permission, naming policy and access', async () => {
    const held = await assign(identity(ids.carol), perm(ids.vendor));
    expect(held.statusCode, held.body).toBe(201);
    const res = await assign(identity(ids.carol), role(ids.seniorTreasurer));
    expect(res.statusCode, res.body).toBe(409);
    const body = res.json();
    expect(body.code).toBe('conflict');
    expect(body.reason).toBe('sod_conflict');
    expect(body.policy).toEqual({ id: ids.block, name: 'Vendor vs payment', mode: 'block', severity: 'critical' });
    expect(body.identityId).toBe(ids.carol);
    expect(body.conflicting[0].held[0].resource).toEqual({ type: 'permission', id: ids.vendor, name: 'CreateVendor' });
    expect(body.conflicting[0].held[0].via[0]).toMatchObject({ assignmentId: held.json().id, proposed: false, assignee: identity(ids.carol) });
    expect(body.conflicting[1].held[0].resource).toEqual({ type: 'permission', id: ids.pay, name: 'ApprovePayment' });
    expect(body.conflicting[1].held[0].via[0]).toMatchObject({ assignmentId: null, proposed: true, assigned: role(ids.seniorTreasurer) });
    expect((await assignmentsOf(ids.carol)).map((a) => a.resource.id)).toEqual([ids.vendor]);
  });

  it('blocks access that conflicts with what a unit above gives, in either order', async () => {
    const unitGrant = await assign(unit(ids.finance), perm(ids.vendor));
    expect(unitGrant.statusCode, unitGrant.body).toBe(201);
    const res = await assign(identity(ids.alice), role(ids.treasurer));
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json().conflicting[0].held[0].via[0]).toMatchObject({ assignmentId: unitGrant.json().id, assignee: unit(ids.finance) });

    // The other order: bob holds the payment role; giving his unit's parent the vendor permission is refused, naming him.
    expect((await assign(identity(ids.bob), role(ids.treasurer))).statusCode).toBe(201);
    const toUnit = await assign(unit(ids.root), perm(ids.vendor));
    expect(toUnit.statusCode, toUnit.body).toBe(409);
    expect(toUnit.json().identityId).toBe(ids.bob);
    expect(toUnit.json().conflicting[0].held[0].via[0]).toMatchObject({ proposed: true, assignee: unit(ids.root) });
  });

  it('lets contexts that do not meet through, and blocks those that do', async () => {
    const dora = await fx.identity({ username: 'dora' });
    expect((await assign(identity(dora), perm(ids.vendor), { context: { type: 'orgUnit', id: ids.sales } })).statusCode).toBe(201);
    const elsewhere = await assign(identity(dora), perm(ids.pay), { context: { type: 'orgUnit', id: ids.finance } });
    expect(elsewhere.statusCode, elsewhere.body).toBe(201);
    const within = await assign(identity(dora), perm(ids.pay), { context: { type: 'orgUnit', id: ids.root } });
    expect(within.statusCode).toBe(409);
  });

  it('require_exception: refused without an exception, refused for a caller who cannot approve, recorded and audited with one', async () => {
    expect((await assign(identity(ids.erin), perm(ids.view))).statusCode).toBe(201);
    const without = await assign(identity(ids.erin), perm(ids.export));
    expect(without.statusCode).toBe(409);
    expect(without.json()).toMatchObject({ reason: 'sod_exception_required', policy: { id: ids.exception, mode: 'require_exception' } });

    const exception = { reason: 'quarter-end close, approved by CFO', expiresAt: '2099-01-31T00:00:00.000Z' };
    const userManager = await callerWith(t, ['manage-users']);
    const notApprover = await assign(identity(ids.erin), perm(ids.export), { sodException: exception }, userManager);
    expect(notApprover.statusCode).toBe(403);
    const past = await assign(identity(ids.erin), perm(ids.export), { sodException: { ...exception, expiresAt: '2020-01-01T00:00:00.000Z' } });
    expect(past.statusCode).toBe(400);
    expect(past.json().errors[0].field).toBe('sodException.expiresAt');

    const granted = await assign(identity(ids.erin), perm(ids.export), { sodException: exception });
    expect(granted.statusCode, granted.body).toBe(201);
    const db = t.store.read(t.tenantId).db;
    const rows = await db.selectFrom('sod_exceptions').selectAll().where('identity_id', '=', ids.erin).execute();
    expect(rows).toHaveLength(1);
    expect(rows[0]).toMatchObject({ policy_id: ids.exception, reason: exception.reason, expires_at: exception.expiresAt, subject_type: 'assignment', subject_id: granted.json().id });
    const events = await db.selectFrom('audit_events').select(['action', 'after']).where('revision', '=', granted.json().revision).orderBy('seq').execute();
    expect(events.map((e) => e.action)).toEqual(['sodException.create', 'assignment.create']);
    expect(JSON.parse(events[1]!.after!).cause.sodExceptions[0]).toMatchObject({ policyId: ids.exception, reason: exception.reason });

    // The violation is listed, mitigated by the exception.
    const listed = (await get(`/sod-violations?identityId=${ids.erin}`)).json();
    expect(listed.items).toHaveLength(1);
    expect(listed.items[0].exception).toMatchObject({ policyId: ids.exception, reason: exception.reason });
  });

  it('checks delegation and resume as paths that add access', async () => {
    const frida = await fx.identity({ username: 'frida' });
    const hugo = await fx.identity({ username: 'hugo' });
    const source = await assign(identity(hugo), perm(ids.vendor), { context: { type: 'orgUnit', id: ids.sales } });
    expect(source.statusCode, source.body).toBe(201);
    expect((await assign(identity(frida), perm(ids.pay))).statusCode).toBe(201);
    const hugoKey = await post('/api-keys', { name: 'hugo key', identityId: hugo });
    const delegated = await post(`/assignments/${source.json().id}/delegate`, { assigneeId: frida }, { authorization: `Bearer ${hugoKey.json().secret}` });
    expect(delegated.statusCode, delegated.body).toBe(409);
    expect(delegated.json().reason).toBe('sod_conflict');

    expect((await assign(identity(frida), perm(ids.vendor))).statusCode).toBe(409);
    const viaFixture = await fx.assignment({ assigneeId: frida, resourceId: ids.vendor, state: 'paused' });
    await t.access.syncNow(t.tenantId);
    const resumed = await post(`/assignments/${viaFixture}/resume`, {});
    expect(resumed.statusCode, resumed.body).toBe(409);
    expect((await get(`/assignments/${viaFixture}`)).json().state).toBe('paused');
  });
});

describe('separation of duties on assignment rules and identity roles', () => {
  it('refuses a rule change that would create a conflict, and skips (audited) on a directory change', async () => {
    const harry = await fx.identity({ username: 'harry', attributes: { department: 'purchasing' } });
    expect((await assign(identity(harry), role(ids.treasurer))).statusCode).toBe(201);
    const refused = await post('/assignment-rules', { name: 'Purchasing vendors', condition: { attributes: [{ name: 'department', equals: 'purchasing' }] }, resources: [perm(ids.vendor)] });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({ reason: 'sod_conflict', identityId: harry });
    expect((await get('/assignment-rules')).json().items.map((r: { name: string }) => r.name)).not.toContain('Purchasing vendors');

    const rule = await post('/assignment-rules', { name: 'Procurement vendors', condition: { attributes: [{ name: 'department', equals: 'procurement' }] }, resources: [perm(ids.vendor)] });
    expect(rule.statusCode, rule.body).toBe(201);
    expect((await assign(identity(ids.gina), role(ids.treasurer))).statusCode).toBe(201);
    const moved = await patch(`/identities/${ids.gina}`, { attributes: { department: 'procurement' } });
    expect(moved.statusCode, moved.body).toBe(200);
    expect((await assignmentsOf(ids.gina)).map((a) => a.resource.id)).toEqual([ids.treasurer]);
    const blocked = await t.store.read(t.tenantId).db.selectFrom('audit_events').select(['action', 'after']).where('action', '=', 'sod.blocked').where('target_id', '=', ids.gina).execute();
    expect(blocked).toHaveLength(1);
    expect(JSON.parse(blocked[0]!.after!)).toMatchObject({ ruleId: rule.json().id, resource: perm(ids.vendor), conflicts: [{ policy: { id: ids.block } }] });

    // Without the conflict, the same directory change gives the rule's access.
    const ivan = await fx.identity({ username: 'ivan', attributes: { department: 'none' } });
    expect((await patch(`/identities/${ivan}`, { attributes: { department: 'procurement' } })).statusCode).toBe(200);
    expect((await assignmentsOf(ivan)).map((a) => [a.resource.id, a.source])).toEqual([[ids.vendor, 'rule']]);
  });

  it('refuses an identity created with conflicting roles, creating nothing', async () => {
    const create = createIdentityWithRoles(t.services.deps, systemActor(t.tenantId), { username: 'jack' }, [ids.purchaser, ids.treasurer]);
    await expect(create).rejects.toMatchObject({ code: 'conflict', details: { reason: 'sod_conflict', policy: { id: ids.block } } });
    const found = await t.store.read(t.tenantId).db.selectFrom('identities').select('id').where('username', '=', 'jack').execute();
    expect(found).toEqual([]);
    const ok = await createIdentityWithRoles(t.services.deps, systemActor(t.tenantId), { username: 'kim' }, [ids.purchaser]);
    expect((await assignmentsOf(ok.identity.id)).map((a) => a.resource.id)).toEqual([ids.purchaser]);
  });
});
