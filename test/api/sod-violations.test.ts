/**
 * Current separation-of-duties violations (`GET /sod-violations`) and the preview
 * `sodConflicts`, on the run's backend. The conflicting access is written through fixtures
 * (as if it predated the policy), so the listing is what finds it: through roles, unit
 * inheritance and delegation, only in contexts that meet, only for active identities and
 * counting assignments, with the explanation per set, filters and cursor pages.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { sodConflicts } from '../../src/services/sod/index.ts';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
type Key = 'root' | 'finance' | 'payables' | 'sales' | 'vendor' | 'pay' | 'audit' | 'treasurer' | 'cfo' | 'anna' | 'ben' | 'cleo' | 'dan' | 'eve' | 'finn' | 'gus' | 'hal' | 'annaVendor' | 'annaCfo' | 'financeVendor' | 'policy' | 'other';
const ids = {} as Record<Key, string>;
const PEOPLE = ['anna', 'ben', 'cleo', 'dan', 'eve', 'finn', 'gus', 'hal'] as const;
const { get, post } = v1Calls(() => t);

interface Violation {
  policy: { id: string; name: string };
  identity: { id: string; username: string };
  conflicting: { set: number; held: { resource: { id: string; name: string }; via: { assignmentId: string; assignee: { type: string; id: string }; assigned: { type: string; id: string } }[] }[] }[];
  exception: unknown;
}

beforeAll(async () => {
  t = await createTestApp();
  const fx = new AccessFixtures(t.store, t.tenantId);
  await fx.batch(async (tx) => {
    ids.root = await fx.unit({ name: 'Acme' }, tx);
    ids.finance = await fx.unit({ name: 'Finance', parentId: ids.root }, tx);
    ids.payables = await fx.unit({ name: 'Payables', parentId: ids.finance }, tx);
    ids.sales = await fx.unit({ name: 'Sales', parentId: ids.root }, tx);
    const app = await fx.application({ name: 'ERP' }, tx);
    ids.vendor = await fx.permission({ applicationId: app, name: 'CreateVendor', delegable: true }, tx);
    ids.pay = await fx.permission({ applicationId: app, name: 'ApprovePayment' }, tx);
    ids.audit = await fx.permission({ applicationId: app, name: 'AuditBooks' }, tx);
    ids.treasurer = await fx.role({ name: 'Treasurer', permissionIds: [ids.pay] }, tx);
    ids.cfo = await fx.role({ name: 'CFO', includedRoleIds: [ids.treasurer] }, tx);
    for (const name of PEOPLE) ids[name] = await fx.identity({ username: name, unitId: name === 'ben' ? ids.payables : null, status: name === 'gus' ? 'on_leave' : 'active' }, tx);
    // anna: direct permission + role giving the other (through an included role).
    ids.annaVendor = await fx.assignment({ assigneeId: ids.anna, resourceId: ids.vendor }, tx);
    ids.annaCfo = await fx.assignment({ assigneeId: ids.anna, resourceType: 'role', resourceId: ids.cfo }, tx);
    // ben: inherits the vendor permission from Finance, holds the payment permission himself.
    ids.financeVendor = await fx.assignment({ assigneeType: 'orgUnit', assigneeId: ids.finance, resourceId: ids.vendor }, tx);
    await fx.assignment({ assigneeId: ids.ben, resourceId: ids.pay }, tx);
    // cleo: contexts that do not meet (Sales vs Finance): no violation.
    await fx.assignment({ assigneeId: ids.cleo, resourceId: ids.vendor, contextType: 'orgUnit', contextId: ids.sales }, tx);
    await fx.assignment({ assigneeId: ids.cleo, resourceId: ids.pay, contextType: 'orgUnit', contextId: ids.finance }, tx);
    // dan: contexts that meet (Payables is inside Finance): a violation.
    await fx.assignment({ assigneeId: ids.dan, resourceId: ids.vendor, contextType: 'orgUnit', contextId: ids.payables }, tx);
    await fx.assignment({ assigneeId: ids.dan, resourceId: ids.pay, contextType: 'orgUnit', contextId: ids.finance }, tx);
    // eve: the payment side is paused: no violation. gus: on leave: none.
    await fx.assignment({ assigneeId: ids.eve, resourceId: ids.vendor }, tx);
    await fx.assignment({ assigneeId: ids.eve, resourceType: 'role', resourceId: ids.treasurer, state: 'paused' }, tx);
    await fx.assignment({ assigneeId: ids.gus, resourceId: ids.vendor }, tx);
    await fx.assignment({ assigneeId: ids.gus, resourceId: ids.pay }, tx);
    // finn: the vendor permission through a delegation from anna's assignment.
    await fx.assignment({ assigneeId: ids.finn, resourceId: ids.vendor, source: 'delegation', delegatedFromId: ids.annaVendor, delegatorId: ids.anna }, tx);
    await fx.assignment({ assigneeId: ids.finn, resourceId: ids.pay }, tx);
    // hal: only the payment side.
    await fx.assignment({ assigneeId: ids.hal, resourceId: ids.pay }, tx);
  });
  const policy = await post('/sod-policies', { name: 'Vendor vs payment', conflicting: [[{ type: 'permission', id: ids.vendor }], [{ type: 'role', id: ids.treasurer }, { type: 'permission', id: ids.pay }]] });
  expect(policy.statusCode, policy.body).toBe(201);
  ids.policy = policy.json().id;
  const other = await post('/sod-policies', { name: 'Pay vs audit', conflicting: [[{ type: 'permission', id: ids.pay }], [{ type: 'permission', id: ids.audit }]], mode: 'require_exception' });
  ids.other = other.json().id;
});
afterAll(async () => t.close());

async function violations(query = ''): Promise<Violation[]> {
  const res = await get(`/sod-violations${query}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items;
}

describe('GET /sod-violations', () => {
  it('lists every current violation from effective access, with the explanation per set', async () => {
    const found = await violations();
    const who = found.map((v) => v.identity.username).sort();
    expect(who).toEqual(['anna', 'ben', 'dan', 'finn']);
    const anna = found.find((v) => v.identity.username === 'anna')!;
    expect(anna.policy).toMatchObject({ id: ids.policy, name: 'Vendor vs payment' });
    expect(anna.conflicting[0]!.held).toEqual([expect.objectContaining({ resource: expect.objectContaining({ id: ids.vendor, name: 'CreateVendor' }) })]);
    expect(anna.conflicting[0]!.held[0]!.via[0]!.assignmentId).toBe(ids.annaVendor);
    // The second set is held as the role Treasurer and as its permission, both through the CFO assignment.
    expect(anna.conflicting[1]!.held.map((h) => h.resource.name).sort()).toEqual(['ApprovePayment', 'Treasurer']);
    for (const h of anna.conflicting[1]!.held) expect(h.via[0]).toMatchObject({ assignmentId: ids.annaCfo, assigned: { type: 'role', id: ids.cfo } });
    const ben = found.find((v) => v.identity.username === 'ben')!;
    expect(ben.conflicting[0]!.held[0]!.via[0]).toMatchObject({ assignmentId: ids.financeVendor, assignee: { type: 'orgUnit', id: ids.finance } });
    expect(found.every((v) => v.exception === null)).toBe(true);
  });

  it('filters by policy and identity, and pages with a cursor', async () => {
    expect(await violations(`?policyId=${ids.other}`)).toEqual([]);
    expect((await violations(`?identityId=${ids.dan}`)).map((v) => v.identity.username)).toEqual(['dan']);
    expect(await violations(`?identityId=${ids.cleo}`)).toEqual([]);
    const first = (await get('/sod-violations?limit=3')).json();
    expect(first.items).toHaveLength(3);
    expect(first.nextCursor).toEqual(expect.any(String));
    const second = (await get(`/sod-violations?limit=3&cursor=${encodeURIComponent(first.nextCursor)}`)).json();
    expect(second.items).toHaveLength(1);
    expect(second.nextCursor).toBeNull();
    const all = [...first.items, ...second.items].map((v: Violation) => v.identity.id);
    expect(new Set(all).size).toBe(4);
    expect((await get(`/sod-violations?policyId=${ids.other}&cursor=${encodeURIComponent(first.nextCursor)}`)).statusCode).toBe(400);
  });

  it('follows writes: a revoked assignment ends the violation, a disabled policy lists none', async () => {
    const revoked = await post(`/assignments/${ids.annaCfo}/revoke`, {});
    expect(revoked.statusCode, revoked.body).toBe(200);
    const who = (await violations(`?minRevision=${revoked.json().revision}`)).map((v) => v.identity.username).sort();
    // finn's delegation came from anna's vendor permission, which still counts.
    expect(who).toEqual(['ben', 'dan', 'finn']);
    const disabled = await t.app.inject({ method: 'PATCH', url: `/api/v1/sod-policies/${ids.policy}`, headers: t.auth, payload: { enabled: false } });
    expect(disabled.statusCode).toBe(200);
    expect(await violations()).toEqual([]);
    await t.app.inject({ method: 'PATCH', url: `/api/v1/sod-policies/${ids.policy}`, headers: t.auth, payload: { enabled: true } });
  });
});

describe('sodConflicts (preview on effective access)', () => {
  it('names the conflicts an identity has now, and those a proposed addition would bring', async () => {
    const scope = t.store.read(t.tenantId);
    expect(await sodConflicts(t.services.deps, scope, [ids.hal])).toEqual([]);
    const withVendor = await sodConflicts(t.services.deps, scope, [ids.hal], [{ type: 'permission', id: ids.vendor }]);
    expect(withVendor.map((c) => c.policy.id)).toEqual([ids.policy]);
    expect(withVendor[0]!.conflicting[0]!.held[0]!.via[0]).toMatchObject({ proposed: true, assignmentId: null });
    const withAudit = await sodConflicts(t.services.deps, scope, [ids.hal], [{ type: 'permission', id: ids.audit }]);
    expect(withAudit.map((c) => [c.policy.id, c.policy.mode])).toEqual([[ids.other, 'require_exception']]);
    expect((await sodConflicts(t.services.deps, scope, [ids.dan])).map((c) => c.identityId)).toEqual([ids.dan]);
  });
});
