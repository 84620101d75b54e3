/**
 * Separation of duties on access requests: a `block` policy refuses the request at submission
 * and at the last approval when the target's access changed meanwhile; a `require_exception`
 * conflict is shown on the request and its approval records the approver's exception (the
 * comment is the reason) — without a comment the approval is refused and nothing changes.
 * With two steps, a `block` conflict that arose after submission refuses the first step's
 * approval already (SoD is checked at each approval), and the conflicts are refreshed on the request.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are read loosely
type Headers = Record<string, string>;

let t: TestApp;
const { get, post } = v1Calls(() => t);
const ids = {} as Record<'owner' | 'second' | 'eve' | 'app' | 'create' | 'approve' | 'vendor' | 'pay' | 'read' | 'write' | 'post' | 'audit', string>;
let ownerKey: Headers;
let secondKey: Headers;

async function ok(res: { statusCode: number; body: string; json: () => unknown }, status = 200): Promise<Json> {
  expect(res.statusCode, res.body).toBe(status);
  return res.json() as Json;
}
const perm = async (name: string) => (await ok(await post(`/applications/${ids.app}/permissions`, { name }), 201)).id as string;
const grant = (permission: string) => post('/assignments', { assignee: { type: 'identity', id: ids.eve }, resource: { type: 'permission', id: permission } });
const policy = (name: string, a: string, b: string, mode: string) =>
  post('/sod-policies', { name, conflicting: [[{ type: 'permission', id: a }], [{ type: 'permission', id: b }]], mode, severity: 'high' });
const ask = (permission: string) => post('/access-requests', { action: 'add', targetIdentityId: ids.eve, resource: { type: 'permission', id: permission }, justification: 'month-end close' });

beforeAll(async () => {
  t = await createTestApp();
  ids.owner = (await ok(await post('/identities', { username: 'owner' }), 201)).id;
  ids.eve = (await ok(await post('/identities', { username: 'eve' }), 201)).id;
  ownerKey = { authorization: `Bearer ${(await ok(await post('/api-keys', { name: 'owner', identityId: ids.owner }), 201)).secret as string}` };
  ids.app = (await ok(await post('/applications', { name: 'Payments', kind: 'managed', ownerIds: [ids.owner] }), 201)).id;
  for (const name of ['create', 'approve', 'vendor', 'pay', 'read', 'write', 'post', 'audit'] as const) ids[name] = await perm(`payments.${name}`);
  ids.second = (await ok(await post('/identities', { username: 'second' }), 201)).id;
  secondKey = { authorization: `Bearer ${(await ok(await post('/api-keys', { name: 'second', identityId: ids.second }), 201)).secret as string}` };
  await ok(await policy('Create vs approve', ids.create, ids.approve, 'block'), 201);
  await ok(await policy('Vendor vs pay', ids.vendor, ids.pay, 'require_exception'), 201);
  await ok(await policy('Read vs write', ids.read, ids.write, 'block'), 201);
});
afterAll(async () => t.close());

describe('separation of duties on access requests', () => {
  it('a block policy refuses the request at submission, naming the policy', async () => {
    await ok(await grant(ids.create), 201);
    const res = await ask(ids.approve);
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toMatchObject({ code: 'conflict', reason: 'sod_conflict', policy: { name: 'Create vs approve' } });
    expect((await ok(await get(`/access-requests?targetIdentityId=${ids.eve}`))).items).toHaveLength(0);
  });

  it('a require_exception conflict is shown on the request; its approval needs a comment, which becomes the exception', async () => {
    await ok(await grant(ids.vendor), 201);
    const req = await ok(await ask(ids.pay), 201);
    expect(req.sodConflicts).toHaveLength(1);
    expect(req.sodConflicts[0]).toMatchObject({ policy: { name: 'Vendor vs pay', mode: 'require_exception' }, identityId: ids.eve, exception: null });

    const bare = await post(`/access-requests/${req.id}/approve`, {}, ownerKey);
    expect(bare.statusCode, bare.body).toBe(409);
    expect(bare.json()).toMatchObject({ reason: 'sod_exception_required' });
    expect((await ok(await get(`/access-requests/${req.id}`))).status).toBe('pending');

    const approved = await post(`/access-requests/${req.id}/approve`, { comment: 'covered by the dual-control procedure' }, ownerKey);
    expect(approved.statusCode, approved.body).toBe(200);
    const revision = Number(approved.headers['grantory-revision']);
    expect(revision).toBeGreaterThan(0);
    const done = await ok(await get(`/access-requests/${req.id}`));
    expect(done.status).toBe('completed');
    expect(done.provisioning.status).toBe('provisioned');
    expect(done.sodConflicts[0].exception).toMatchObject({ reason: 'covered by the dual-control procedure', approvedBy: { identityId: ids.owner } });

    const violations = await ok(await get(`/sod-violations?identityId=${ids.eve}&minRevision=${revision}`));
    const mitigated = violations.items.find((v: Json) => v.policy.name === 'Vendor vs pay');
    expect(mitigated?.exception).toMatchObject({ reason: 'covered by the dual-control procedure' });
  });

  it('a block conflict that arose while the request waited refuses its approval, and nothing is provisioned', async () => {
    const req = await ok(await ask(ids.write), 201);
    expect(req.sodConflicts).toEqual([]);
    await ok(await grant(ids.read), 201);
    const res = await post(`/access-requests/${req.id}/approve`, { comment: 'ok' }, ownerKey);
    expect(res.statusCode, res.body).toBe(409);
    expect(res.json()).toMatchObject({ reason: 'sod_conflict', policy: { name: 'Read vs write' } });
    const still = await ok(await get(`/access-requests/${req.id}`));
    expect(still.status).toBe('pending');
    expect(still.provisioning.status).not.toBe('provisioned');
  });

  it('with two steps, a block conflict that arose after submission refuses the first approval already', async () => {
    await ok(await policy('Post vs audit', ids.post, ids.audit, 'block'), 201);
    await ok(
      await post('/approval-policies', {
        name: 'Two named approvers for posting',
        appliesTo: { permissionIds: [ids.post] },
        steps: [
          { name: 'Owner', approver: 'identity', id: ids.owner },
          { name: 'Second', approver: 'identity', id: ids.second },
        ],
      }),
      201,
    );
    const req = await ok(await ask(ids.post), 201);
    expect(req.sodConflicts).toEqual([]);
    await ok(await grant(ids.audit), 201);
    const refused = await post(`/access-requests/${req.id}/approve`, { comment: 'fine by me' }, ownerKey);
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json()).toMatchObject({ reason: 'sod_conflict', policy: { name: 'Post vs audit' } });
    const still = await ok(await get(`/access-requests/${req.id}`));
    expect(still.status).toBe('pending');
    expect(still.steps[0].status).toBe('open');
    expect(still.steps[1].status).toBe('waiting');
    // The second approver never got the request: nothing moved.
    expect((await ok(await get('/approvals', secondKey))).items.filter((i: Json) => i.requestId === req.id)).toHaveLength(0);
  });
});
