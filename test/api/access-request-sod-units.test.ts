/**
 * Separation of duties at submission, when the conflicting access is inherited: a unit two
 * levels above the target holds a role that includes a policy role, among many unrelated
 * assignments of that unit. The check reads only a part of the target's and its units'
 * assignments; this fails if that read misses the ancestor's assignment (or the role's
 * inclusion), and shows the inheritance in the explanation. A target outside that unit chain
 * is not refused, and "already held" still finds the target's assignment among its others.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are read loosely

let t: TestApp;
const { get, post } = v1Calls(() => t);
const ids = {} as Record<'acme' | 'finance' | 'payables' | 'other' | 'dana' | 'erin' | 'post' | 'pay' | 'clerk' | 'staff' | 'officer', string>;

async function ok(res: { statusCode: number; body: string; json: () => unknown }, status = 200): Promise<Json> {
  expect(res.statusCode, res.body).toBe(status);
  return res.json() as Json;
}
const ask = (identityId: string, resource: { type: 'permission' | 'role'; id: string }) =>
  post('/access-requests', { action: 'add', targetIdentityId: identityId, resource, justification: 'quarter-end' });

beforeAll(async () => {
  t = await createTestApp();
  const fx = new AccessFixtures(t.store, t.tenantId);
  await fx.batch(async (tx) => {
    ids.acme = await fx.unit({ name: 'Acme' }, tx);
    ids.finance = await fx.unit({ name: 'Finance', parentId: ids.acme }, tx);
    ids.payables = await fx.unit({ name: 'Payables', parentId: ids.finance }, tx);
    ids.other = await fx.unit({ name: 'Other company' }, tx);
    ids.dana = await fx.identity({ username: 'dana', unitId: ids.payables }, tx);
    ids.erin = await fx.identity({ username: 'erin', unitId: ids.other }, tx);
    const app = await fx.application({ name: 'ERP' }, tx);
    ids.post = await fx.permission({ applicationId: app, name: 'PostJournal' }, tx);
    ids.pay = await fx.permission({ applicationId: app, name: 'ApprovePayment' }, tx);
    ids.clerk = await fx.role({ name: 'Ledger clerk', permissionIds: [ids.post] }, tx);
    ids.staff = await fx.role({ name: 'Finance staff', includedRoleIds: [ids.clerk] }, tx);
    ids.officer = await fx.role({ name: 'Payment officer', permissionIds: [ids.pay] }, tx);
    // Acme, two levels above Dana, gives many unrelated permissions and the staff role.
    for (let k = 0; k < 40; k += 1) {
      const other = await fx.permission({ applicationId: app, name: `Report${k}` }, tx);
      await fx.assignment({ assigneeType: 'orgUnit', assigneeId: ids.acme, resourceId: other }, tx);
      await fx.assignment({ assigneeType: 'identity', assigneeId: ids.dana, resourceId: other }, tx);
    }
    await fx.assignment({ assigneeType: 'orgUnit', assigneeId: ids.acme, resourceType: 'role', resourceId: ids.staff }, tx);
    await fx.assignment({ assigneeType: 'identity', assigneeId: ids.erin, resourceType: 'role', resourceId: ids.officer }, tx);
  });
  // The policy names the included role, not the one the unit holds.
  await ok(await post('/sod-policies', { name: 'Ledger vs payment', conflicting: [[{ type: 'role', id: ids.clerk }], [{ type: 'permission', id: ids.pay }]], severity: 'critical' }), 201);
});
afterAll(async () => t.close());

describe('separation of duties at submission, inherited from a unit ancestor through an including role', () => {
  for (const [what, resource] of [
    ['the policy permission', () => ({ type: 'permission' as const, id: ids.pay })],
    ['a role giving the policy permission', () => ({ type: 'role' as const, id: ids.officer })],
  ] as const) {
    it(`refuses ${what}, explaining the inheritance`, async () => {
      const res = await ask(ids.dana, resource());
      expect(res.statusCode, res.body).toBe(409);
      const body = res.json() as Json;
      expect(body).toMatchObject({ reason: 'sod_conflict', policy: { name: 'Ledger vs payment' }, identityId: ids.dana });
      const held = body.conflicting.find((s: Json) => s.set === 0).held;
      expect(held).toHaveLength(1);
      expect(held[0].resource).toMatchObject({ type: 'role', id: ids.clerk, name: 'Ledger clerk' });
      expect(held[0].via).toEqual([expect.objectContaining({ proposed: false, assignee: { type: 'orgUnit', id: ids.acme }, assigned: { type: 'role', id: ids.staff } })]);
      expect((await ok(await get(`/access-requests?targetIdentityId=${ids.dana}`))).items).toHaveLength(0);
    });
  }

  it('accepts the same request for an identity outside that unit chain, and "already held" finds its assignment', async () => {
    await ok(await ask(ids.erin, { type: 'permission', id: ids.post }), 201);
    const held = await ask(ids.erin, { type: 'role', id: ids.officer });
    expect(held.statusCode, held.body).toBe(422);
    expect(held.body).toMatch(/already held/);
    const mine = await ask(ids.dana, { type: 'permission', id: ids.post });
    expect(mine.statusCode, mine.body).toBe(201);
  });
});
