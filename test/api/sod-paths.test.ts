/**
 * Separation of duties on the paths that add access without writing an assignment, through
 * the HTTP API on the run's backend:
 *
 * - a role's contents change (`PATCH /roles`): every holder of the role (directly, through a
 *   role including it, through a unit) gains what was added — a `block` conflict refuses the
 *   change (409 naming policy and identity) and the role keeps its contents; a conflict that
 *   existed before the change does not stop an unrelated change;
 * - an identity moves into a unit (`PATCH /identities`) or is created in one, or a unit moves under another (`PATCH /org-units`): the unit access it inherits is
 *   checked the same way;
 * - `require_exception` on those paths: refused, unless an exception was recorded ahead with
 *   `POST /sod-exceptions`, which `GET /sod-exceptions` then lists.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { callerWith, v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are read loosely

let t: TestApp;
let fx: AccessFixtures;
const ids = {} as Record<
  'root' | 'finance' | 'payables' | 'sales' | 'audit' | 'alice' | 'bob' | 'carol' | 'dave' | 'vendor' | 'pay' | 'view' | 'export' | 'post' | 'clerk' | 'senior' | 'block' | 'exception',
  string
>;
const { get, post, patch } = v1Calls(() => t);
const perm = (id: string) => ({ type: 'permission', id });
const role = (id: string) => ({ type: 'role', id });
const assign = (assignee: object, resource: object) => post('/assignments', { assignee, resource });

async function ok(res: { statusCode: number; body: string; json: () => unknown }, status = 200): Promise<Json> {
  expect(res.statusCode, res.body).toBe(status);
  return res.json() as Json;
}

beforeAll(async () => {
  t = await createTestApp();
  fx = new AccessFixtures(t.store, t.tenantId);
  await fx.batch(async (tx) => {
    ids.root = await fx.unit({ name: 'Acme' }, tx);
    ids.finance = await fx.unit({ name: 'Finance', parentId: ids.root }, tx);
    ids.payables = await fx.unit({ name: 'Payables', parentId: ids.root }, tx);
    ids.sales = await fx.unit({ name: 'Sales', parentId: ids.root }, tx);
    ids.audit = await fx.unit({ name: 'Audit', parentId: ids.root }, tx);
    ids.alice = await fx.identity({ username: 'alice' }, tx);
    ids.bob = await fx.identity({ username: 'bob', unitId: ids.sales }, tx);
    ids.carol = await fx.identity({ username: 'carol' }, tx);
    ids.dave = await fx.identity({ username: 'dave' }, tx);
    const app = await fx.application({ name: 'ERP' }, tx);
    ids.vendor = await fx.permission({ applicationId: app, name: 'CreateVendor' }, tx);
    ids.pay = await fx.permission({ applicationId: app, name: 'ApprovePayment' }, tx);
    ids.view = await fx.permission({ applicationId: app, name: 'ViewLedger' }, tx);
    ids.export = await fx.permission({ applicationId: app, name: 'ExportLedger' }, tx);
    ids.post = await fx.permission({ applicationId: app, name: 'PostJournal' }, tx);
    ids.clerk = await fx.role({ name: 'Clerk', permissionIds: [ids.post] }, tx);
    ids.senior = await fx.role({ name: 'Senior clerk', includedRoleIds: [ids.clerk] }, tx);
  });
  ids.block = (await ok(await post('/sod-policies', { name: 'Vendor vs payment', conflicting: [[perm(ids.vendor)], [perm(ids.pay)]], severity: 'critical' }), 201)).id;
  ids.exception = (await ok(await post('/sod-policies', { name: 'Ledger view vs export', conflicting: [[perm(ids.view)], [perm(ids.export)]], mode: 'require_exception' }), 201)).id;
  // Alice holds the vendor permission and (through the senior role, which includes Clerk) Clerk.
  await ok(await assign({ type: 'identity', id: ids.alice }, perm(ids.vendor)), 201);
  await ok(await assign({ type: 'identity', id: ids.alice }, role(ids.senior)), 201);
  // Finance gives the payment permission to its members; Payables gives the ledger export.
  await ok(await assign({ type: 'orgUnit', id: ids.finance }, perm(ids.pay)), 201);
  await ok(await assign({ type: 'orgUnit', id: ids.payables }, perm(ids.export)), 201);
  // Bob (in Sales) holds the vendor permission; Carol views the ledger.
  await ok(await assign({ type: 'identity', id: ids.bob }, perm(ids.vendor)), 201);
  await ok(await assign({ type: 'identity', id: ids.carol }, perm(ids.view)), 201);
});
afterAll(async () => t.close());

describe("a role's contents change", () => {
  it('is refused when a holder (through an including role) would break a block policy, and the role is unchanged', async () => {
    const res = await patch(`/roles/${ids.clerk}`, { permissionIds: [ids.post, ids.pay] });
    expect(res.statusCode, res.body).toBe(409);
    const body = res.json();
    expect(body).toMatchObject({ code: 'conflict', reason: 'sod_conflict', policy: { id: ids.block, name: 'Vendor vs payment' }, identityId: ids.alice });
    const gained = body.conflicting.flatMap((s: Json) => s.held).find((h: Json) => h.resource.id === ids.pay);
    expect(gained.via[0]).toMatchObject({ proposed: true, assigned: { type: 'role', id: ids.senior } });
    expect((await ok(await get(`/roles/${ids.clerk}`))).permissionIds).toEqual([ids.post]);
  });

  it('goes through when no holder would break a policy, and an existing violation does not stop an unrelated change', async () => {
    const view = await ok(await post('/applications', { name: 'Other' }), 201);
    const other = (await ok(await post(`/applications/${view.id}/permissions`, { name: 'other.read' }), 201)).id;
    expect((await patch(`/roles/${ids.clerk}`, { permissionIds: [ids.post, other] })).statusCode).toBe(200);
    // A role nobody holds may take both sides.
    const empty = (await ok(await post('/roles', { name: 'Nobody holds me', permissionIds: [ids.vendor] }), 201)).id;
    expect((await patch(`/roles/${empty}`, { permissionIds: [ids.vendor, ids.pay] })).statusCode).toBe(200);
  });
});

describe('moving into a unit', () => {
  it('is refused when the unit inherits conflicting access (block), and the identity stays where it was', async () => {
    const res = await patch(`/identities/${ids.bob}`, { orgUnitId: ids.finance });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toMatchObject({ reason: 'sod_conflict', policy: { name: 'Vendor vs payment' }, identityId: ids.bob });
    const held = res.json().conflicting.flatMap((s: Json) => s.held).find((h: Json) => h.resource.id === ids.pay);
    expect(held.via[0]).toMatchObject({ proposed: true, assignee: { type: 'orgUnit', id: ids.finance } });
    expect((await ok(await get(`/identities/${ids.bob}`))).orgUnitId).toBe(ids.sales);
    // A fresh identity (nothing held) just joins.
    expect((await post('/identities', { username: 'fresh', orgUnitId: ids.finance })).statusCode).toBe(201);
  });

  it('is refused when a unit moves under one whose access conflicts with its members', async () => {
    // Sales (Bob: vendor) under Finance (payment) would give Bob both.
    const res = await patch(`/org-units/${ids.sales}`, { parentId: ids.finance });
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toMatchObject({ reason: 'sod_conflict', identityId: ids.bob });
    expect((await ok(await get(`/org-units/${ids.sales}`))).parentId).toBe(ids.root);
    // Audit (nobody in it) moves freely.
    expect((await patch(`/org-units/${ids.audit}`, { parentId: ids.finance })).statusCode).toBe(200);
  });

  it('require_exception: refused without an exception, passes with one recorded ahead, which the list shows', async () => {
    const refused = await patch(`/identities/${ids.carol}`, { orgUnitId: ids.payables });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({ reason: 'sod_exception_required', policy: { id: ids.exception } });
    expect(refused.json().detail).toContain('POST /api/v1/sod-exceptions');

    const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const bad = await post('/sod-exceptions', { policyId: ids.block, identityId: ids.carol, reason: 'no', expiresAt });
    expect(bad.statusCode, bad.body).toBe(400);
    expect(bad.json().errors[0].field).toBe('policyId');
    const past = await post('/sod-exceptions', { policyId: ids.exception, identityId: ids.carol, reason: 'late', expiresAt: '2001-01-01T00:00:00Z' });
    expect(past.statusCode, past.body).toBe(400);
    expect(past.json().errors[0].field).toBe('expiresAt');
    const unknown = await post('/sod-exceptions', { policyId: ids.exception, identityId: '00000000-0000-4000-8000-000000000000', reason: 'x', expiresAt });
    expect(unknown.statusCode, unknown.body).toBe(400);
    expect(unknown.json().errors[0].field).toBe('identityId');
    const noRight = await post('/sod-exceptions', { policyId: ids.exception, identityId: ids.carol, reason: 'x', expiresAt }, await callerWith(t, ['manage-roles']));
    expect(noRight.statusCode, noRight.body).toBe(403);

    const made = await ok(await post('/sod-exceptions', { policyId: ids.exception, identityId: ids.carol, reason: 'covers the audit season', expiresAt }), 201);
    expect(made).toMatchObject({ policyId: ids.exception, identityId: ids.carol, reason: 'covers the audit season', subject: { type: 'manual', id: null } });
    expect((await patch(`/identities/${ids.carol}`, { orgUnitId: ids.payables })).statusCode).toBe(200);

    const listed = await ok(await get(`/sod-exceptions?identityId=${ids.carol}&active=true`));
    expect(listed.items.map((e: Json) => e.id)).toEqual([made.id]);
    expect((await ok(await get(`/sod-exceptions?identityId=${ids.carol}&active=false`))).items).toEqual([]);
    expect((await ok(await get(`/sod-exceptions/${made.id}`))).reason).toBe('covers the audit season');
    expect((await get('/sod-exceptions/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
  });

  it('an exception revoked early stops mitigating: the next conflicting write is refused, the violation is listed without it, the record stays', async () => {
    const erin = (await ok(await post('/identities', { username: 'erin' }), 201)).id as string;
    await ok(await assign({ type: 'identity', id: erin }, perm(ids.view)), 201);
    const expiresAt = new Date(Date.now() + 30 * 86_400_000).toISOString();
    const made = await ok(await post('/sod-exceptions', { policyId: ids.exception, identityId: erin, reason: 'month-end close', expiresAt }), 201);
    expect(made.revoked).toBeNull();
    // While it lasts the export goes through (it mitigates the conflict).
    await ok(await assign({ type: 'identity', id: erin }, perm(ids.export)), 201);

    expect((await post(`/sod-exceptions/${made.id}/revoke`, {}, await callerWith(t, ['manage-roles']))).statusCode).toBe(403);
    expect((await post('/sod-exceptions/00000000-0000-4000-8000-000000000000/revoke', {})).statusCode).toBe(404);
    const revoked = await ok(await post(`/sod-exceptions/${made.id}/revoke`, { reason: 'the close is over' }));
    expect(revoked).toMatchObject({ id: made.id, reason: 'month-end close', expiresAt: made.expiresAt, revoked: { reason: 'the close is over', by: { name: expect.any(String) } } });
    const again = await post(`/sod-exceptions/${made.id}/revoke`, {});
    expect(again.statusCode, again.body).toBe(409);
    expect(again.json().detail).toContain('revoked');

    // The same conflict in another context now needs an exception again.
    const refused = await post('/assignments', { assignee: { type: 'identity', id: erin }, resource: perm(ids.export), context: { type: 'orgUnit', id: ids.finance } });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({ reason: 'sod_exception_required', policy: { id: ids.exception }, identityId: erin });

    const violations = await ok(await get(`/sod-violations?identityId=${erin}&minRevision=${revoked.revision}`));
    expect(violations.items).toHaveLength(1);
    expect(violations.items[0]).toMatchObject({ policy: { id: ids.exception }, exception: null });
    expect((await ok(await get(`/sod-exceptions?identityId=${erin}&active=true`))).items).toEqual([]);
    expect((await ok(await get(`/sod-exceptions?identityId=${erin}&active=false`))).items.map((e: Json) => e.id)).toEqual([made.id]);
    expect((await ok(await get(`/sod-exceptions/${made.id}`))).revoked.at).toBe(revoked.revoked.at);
    const events = (await ok(await get(`/audit-events?action=sodException.revoke&targetId=${erin}`))).items as Json[];
    expect(events).toHaveLength(1);
    expect(events[0]!.before.revoked).toBeNull();
    expect(events[0]!.after.revoked.reason).toBe('the close is over');
  });

  it('pages the exceptions newest first', async () => {
    const expiresAt = new Date(Date.now() + 86_400_000).toISOString();
    const made: string[] = [];
    for (let i = 0; i < 3; i += 1) made.push((await ok(await post('/sod-exceptions', { policyId: ids.exception, identityId: ids.dave, reason: `r${i}`, expiresAt }), 201)).id);
    const first = await ok(await get(`/sod-exceptions?identityId=${ids.dave}&limit=2`));
    expect(first.items).toHaveLength(2);
    const second = await ok(await get(`/sod-exceptions?identityId=${ids.dave}&limit=2&cursor=${encodeURIComponent(first.nextCursor)}`));
    const seen = [...first.items, ...second.items].map((e: Json) => e.id);
    expect(new Set(seen)).toEqual(new Set(made));
    expect(second.nextCursor).toBeNull();
  });
});
