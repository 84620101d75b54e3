/**
 * Access requests and approvals through the HTTP API on the run's backend: request → approve →
 * provisioned, multi-step approval with a quorum, reject, cancel, self-approval refused,
 * no-op requests (422), unknown and invisible ids (404), two approvers at once (one 200, one
 * 409), escalation by the scheduler, a scheduled validFrom, and the Permission Assist routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueJobs } from '../../src/services/kernel/index.ts';
import { v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are read loosely
type Headers = Record<string, string>;

let t: TestApp;
const { get, post, patch } = v1Calls(() => t);
const who = {} as Record<'mona' | 'eve' | 'olga' | 'ann' | 'ben' | 'carl' | 'admin', string>;
const key = {} as Record<'mona' | 'eve' | 'olga' | 'ann' | 'ben' | 'carl', Headers>;
const ids = {} as Record<'payroll' | 'view' | 'approve' | 'secret' | 'export' | 'reviewers' | 'audit' | 'reports' | 'hr' | 'hrRead', string>;
const DAY = 86_400_000;

async function ok(res: { statusCode: number; body: string; json: () => unknown }, status = 200): Promise<Json> {
  expect(res.statusCode, res.body).toBe(status);
  return res.json() as Json;
}

async function identity(username: string, fields: Json = {}): Promise<string> {
  return (await ok(await post('/identities', { username, firstName: username, ...fields }), 201)).id as string;
}

async function keyOf(identityId: string): Promise<Headers> {
  const body = await ok(await post('/api-keys', { name: `key ${identityId}`, identityId }), 201);
  return { authorization: `Bearer ${body.secret as string}` };
}

async function request(body: Json, as: Headers = key.eve): Promise<Json> {
  return ok(await post('/access-requests', body, as), 201);
}

async function inbox(as: Headers): Promise<Json[]> {
  return (await ok(await get('/approvals', as))).items as Json[];
}

beforeAll(async () => {
  t = await createTestApp();
  const { db } = t.store.read(t.tenantId);
  who.admin = (await db.selectFrom('identities').select('id').where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow()).id;
  who.mona = await identity('mona');
  who.eve = await identity('eve', { managerId: who.mona });
  who.olga = await identity('olga');
  who.ann = await identity('ann');
  who.ben = await identity('ben');
  who.carl = await identity('carl');
  for (const name of ['mona', 'eve', 'olga', 'ann', 'ben', 'carl'] as const) key[name] = await keyOf(who[name]);
  ids.payroll = (await ok(await post('/applications', { name: 'Payroll', kind: 'managed', ownerIds: [who.olga] }), 201)).id;
  const perm = async (app: string, name: string, fields: Json = {}) => (await ok(await post(`/applications/${app}/permissions`, { name, ...fields }), 201)).id as string;
  ids.view = await perm(ids.payroll, 'view-payslips', { risk: 'low' });
  ids.approve = await perm(ids.payroll, 'approve-payroll', { risk: 'high' });
  ids.secret = await perm(ids.payroll, 'edit-salaries', { requestable: false });
  ids.audit = await perm(ids.payroll, 'audit-payroll', { risk: 'medium' });
  ids.reports = await perm(ids.payroll, 'payroll-reports', { risk: 'low' });
  ids.hr = (await ok(await post('/applications', { name: 'HR portal', kind: 'managed', ownerIds: [who.olga] }), 201)).id;
  ids.hrRead = await perm(ids.hr, 'read-records', { risk: 'low' });
  ids.reviewers = (await ok(await post('/roles', { name: 'Payroll reviewers' }), 201)).id;
  for (const person of [who.ann, who.ben, who.carl]) await ok(await post('/assignments', { assignee: { type: 'identity', id: person }, resource: { type: 'role', id: ids.reviewers } }), 201);
});
afterAll(async () => t.close());

describe('approval policies', () => {
  it('refuses no steps, an unknown approver kind, a missing id, a bad quorum and escalation cycles, naming the field', async () => {
    const cases: [Json, string][] = [
      [{ name: 'p', steps: [] }, 'steps'],
      [{ name: 'p', steps: [{ name: 'a', approver: 'boss' }] }, 'steps[0].approver'],
      [{ name: 'p', steps: [{ name: 'a', approver: 'manager' }, { name: 'b', approver: 'identity' }] }, 'steps[1].id'],
      [{ name: 'p', steps: [{ name: 'a', approver: 'identity', id: '00000000-0000-4000-8000-000000000000' }] }, 'steps[0].id'],
      [{ name: 'p', steps: [{ name: 'a', approver: 'manager', quorum: 0 }] }, 'steps[0].quorum'],
      [{ name: 'p', steps: [{ name: 'a', approver: 'manager', escalateTo: { step: 'b' } }, { name: 'b', approver: 'application_owner', escalateTo: { step: 'a' } }] }, 'steps[0].escalateTo'],
    ];
    for (const [body, field] of cases) {
      const res = await post('/approval-policies', body);
      expect(res.statusCode, JSON.stringify(body)).toBe(400);
      expect((res.json().errors as { field: string }[]).map((e) => e.field)).toContain(field);
    }
  });

  it('creates, reads, changes and deletes a policy; writing needs manage-roles', async () => {
    const created = await ok(await post('/approval-policies', { name: 'Temp', appliesTo: { minRisk: 'critical' }, steps: [{ name: 'Boss', approver: 'manager', dueDays: 3 }] }), 201);
    expect(created.steps[0]).toMatchObject({ name: 'Boss', approver: 'manager', quorum: 1, dueDays: 3, id: null, escalateTo: null });
    expect((await ok(await get(`/approval-policies/${created.id}`))).name).toBe('Temp');
    const changed = await ok(await patch(`/approval-policies/${created.id}`, { autoApprove: 'low' }));
    expect(changed.autoApprove).toBe('low');
    expect((await post('/approval-policies', { name: 'x', steps: [{ name: 'a', approver: 'manager' }] }, key.eve)).statusCode).toBe(403);
    expect((await post('/approval-policies', { name: 'Temp', steps: [{ name: 'a', approver: 'manager' }] })).statusCode).toBe(409);
    await ok(await t.app.inject({ method: 'DELETE', url: `/api/v1/approval-policies/${created.id}`, headers: t.auth }));
    expect((await get(`/approval-policies/${created.id}`)).statusCode).toBe(404);
  });
});

describe('request → approve → provisioned', () => {
  it('without a policy the application owner approves, and the assignment is written with source request', async () => {
    const req = await request({ action: 'add', targetIdentityId: who.eve, resource: { type: 'permission', id: ids.view }, justification: 'payslips' });
    expect(req).toMatchObject({ action: 'add', status: 'pending', requesterId: who.eve, targetIdentityId: who.eve, provisioning: { status: 'not_needed' } });
    expect(req.number).toBeGreaterThan(0);
    expect(req.steps).toHaveLength(1);
    expect(req.steps[0]).toMatchObject({ name: 'Application owner', status: 'open', approvers: [{ identityId: who.olga, status: 'open' }] });
    const tasks = await inbox(key.olga);
    expect(tasks.find((x) => x.requestId === req.id)).toMatchObject({ kind: 'access_request', step: 'Application owner' });

    const done = await ok(await post(`/access-requests/${req.id}/approve`, { comment: 'fine' }, key.olga));
    expect(done).toMatchObject({ status: 'completed', provisioning: { status: 'provisioned' } });
    expect(done.steps[0]).toMatchObject({ decision: 'approved', decidedBy: who.olga, comment: 'fine' });
    const assignment = await ok(await get(`/assignments/${done.provisioning.assignmentId}`));
    expect(assignment).toMatchObject({ source: 'request', state: 'active', assignee: { type: 'identity', id: who.eve }, resource: { id: ids.view } });
    expect((done.activity as Json[]).map((a) => a.text).join('\n')).toMatch(/provisioned/);
    expect(await inbox(key.olga)).not.toContainEqual(expect.objectContaining({ requestId: req.id }));
    const { db } = t.store.read(t.tenantId);
    const actions = (await db.selectFrom('audit_events').select('action').where('target_id', '=', req.id).orderBy('seq').execute()).map((e) => e.action);
    expect(actions).toEqual(['accessRequest.create', 'approval.approve', 'accessRequest.approve']);
  });

  it('refuses a request that would change nothing, saying why (422)', async () => {
    const again = await post('/access-requests', { action: 'add', targetIdentityId: who.eve, resource: { type: 'permission', id: ids.view } }, key.eve);
    expect(again.statusCode).toBe(422);
    expect(again.json().detail ?? again.body).toMatch(/already held/);
    const remove = await post('/access-requests', { action: 'remove', targetIdentityId: who.eve, resource: { type: 'permission', id: ids.approve } }, key.eve);
    expect(remove.statusCode).toBe(422);
    expect(remove.body).toMatch(/no such assignment/);
    const notRequestable = await post('/access-requests', { action: 'add', targetIdentityId: who.eve, resource: { type: 'permission', id: ids.secret } }, key.eve);
    expect(notRequestable.statusCode).toBe(422);
    expect(notRequestable.body).toMatch(/not requestable/);
  });

  it('nobody approves their own request: the owner asking for herself escalates to approve-requests holders', async () => {
    const req = await request({ action: 'add', targetIdentityId: who.olga, resource: { type: 'permission', id: ids.view } }, key.olga);
    expect(req.steps[0].approvers.map((a: Json) => a.identityId)).toEqual([who.admin]);
    expect(req.steps[0].approvers[0].via).toBe('escalation');
    expect((await post(`/access-requests/${req.id}/approve`, {}, key.olga)).statusCode).toBe(403);
    expect((await post(`/access-requests/${req.id}/approve`, {}, key.eve)).statusCode).toBe(404);
    expect((await ok(await post(`/access-requests/${req.id}/approve`, {}))).status).toBe('completed');
  });

  it('reject closes the request with the comment; a closed request is 409', async () => {
    const req = await request({ action: 'add', targetIdentityId: who.eve, resource: { type: 'permission', id: ids.audit } });
    const rejected = await ok(await post(`/access-requests/${req.id}/reject`, { comment: 'not your job' }, key.olga));
    expect(rejected.status).toBe('rejected');
    expect(rejected.steps[0]).toMatchObject({ decision: 'rejected', decidedBy: who.olga, comment: 'not your job' });
    expect((await post(`/access-requests/${req.id}/approve`, {}, key.olga)).statusCode).toBe(409);
    expect((await post(`/access-requests/${req.id}/cancel`, {}, key.eve)).statusCode).toBe(409);
  });

  it('the requester cancels; the task leaves the inbox; comments are kept', async () => {
    const req = await request({ action: 'add', targetIdentityId: who.eve, resource: { type: 'permission', id: ids.audit } });
    const commented = await ok(await post(`/access-requests/${req.id}/comments`, { comment: 'needed for the audit' }, key.eve), 201);
    expect(commented.comments.map((c: Json) => c.text)).toEqual(['needed for the audit']);
    expect((await post(`/access-requests/${req.id}/cancel`, {}, key.olga)).statusCode).toBe(403);
    expect((await ok(await post(`/access-requests/${req.id}/cancel`, { comment: 'not needed' }, key.eve))).status).toBe('canceled');
    expect(await inbox(key.olga)).not.toContainEqual(expect.objectContaining({ requestId: req.id }));
    expect((await post(`/access-requests/${req.id}/approve`, {}, key.olga)).statusCode).toBe(409);
  });

  it('an add whose permission was deleted while it waited fails instead of assigning it', async () => {
    const temp = (await ok(await post(`/applications/${ids.payroll}/permissions`, { name: 'temporary' }), 201)).id as string;
    const req = await request({ action: 'add', targetIdentityId: who.eve, resource: { type: 'permission', id: temp } });
    await ok(await t.app.inject({ method: 'DELETE', url: `/api/v1/permissions/${temp}`, headers: t.auth }));
    const failed = await ok(await post(`/access-requests/${req.id}/approve`, {}, key.olga));
    expect(failed).toMatchObject({ status: 'failed', provisioning: { status: 'failed', assignmentId: null } });
    expect((failed.activity as Json[]).map((a) => a.text).join('\n')).toMatch(/permission was deleted/);
  });

  it('unknown ids and requests the caller may not see are 404', async () => {
    expect((await get('/access-requests/00000000-0000-4000-8000-000000000000')).statusCode).toBe(404);
    expect((await post('/access-requests/00000000-0000-4000-8000-000000000000/approve', {})).statusCode).toBe(404);
    expect((await post('/approvals/00000000-0000-4000-8000-000000000000/approve', {}, key.olga)).statusCode).toBe(404);
    const mine = await request({ action: 'add', targetIdentityId: who.carl, resource: { type: 'permission', id: ids.hrRead } }, key.carl);
    expect((await get(`/access-requests/${mine.id}`, key.eve)).statusCode).toBe(404);
    expect((await get(`/access-requests/${mine.id}`, key.carl)).statusCode).toBe(200);
    expect((await ok(await get('/access-requests', key.eve))).items.map((r: Json) => r.id)).not.toContain(mine.id);
    expect((await post('/access-requests', { action: 'add', targetIdentityId: who.carl, resource: { type: 'permission', id: ids.hrRead } }, key.eve)).statusCode).toBe(403);
    await ok(await post(`/access-requests/${mine.id}/cancel`, {}, key.carl));
  });
});

describe('multi-step approval, quorum, concurrency, escalation, validFrom', () => {
  it('the most specific policy applies: manager first, then two of the reviewers', async () => {
    await ok(await post('/approval-policies', { name: 'Payroll (app)', appliesTo: { applicationIds: [ids.payroll] }, steps: [{ name: 'Owner', approver: 'application_owner' }] }), 201);
    await ok(await post('/approval-policies', { name: 'Approve payroll', appliesTo: { permissionIds: [ids.approve] }, steps: [{ name: 'Manager', approver: 'manager' }, { name: 'Reviewers', approver: 'role_holders', id: ids.reviewers, quorum: 2 }] }), 201);
    const req = await request({ action: 'add', targetIdentityId: who.eve, resource: { type: 'permission', id: ids.approve } });
    expect(req.steps.map((s: Json) => [s.name, s.status])).toEqual([['Manager', 'open'], ['Reviewers', 'waiting']]);
    expect(req.steps[0].approvers.map((a: Json) => a.identityId)).toEqual([who.mona]);
    expect((await post(`/access-requests/${req.id}/approve`, {}, key.ann)).statusCode).toBe(403);
    const afterManager = await ok(await post(`/access-requests/${req.id}/approve`, {}, key.mona));
    expect(afterManager.status).toBe('pending');
    expect(afterManager.steps[1].status).toBe('open');
    expect(afterManager.steps[1].approvers.map((a: Json) => a.identityId).sort()).toEqual([who.ann, who.ben, who.carl].sort());
    expect((await ok(await post(`/access-requests/${req.id}/approve`, {}, key.ann))).status).toBe('pending');
    const task = (await inbox(key.ben)).find((x) => x.requestId === req.id)!;
    const decided = await ok(await post(`/approvals/${task.id}/approve`, {}, key.ben));
    expect(decided).toMatchObject({ outcome: 'approved', subjectId: req.id });
    const done = await ok(await get(`/access-requests/${req.id}`));
    expect(done.status).toBe('completed');
    expect(done.steps[1].approvers.find((a: Json) => a.identityId === who.carl).status).toBe('withdrawn');
  });

  it('two approvers deciding a one-approver step at once: one 200, one 409, one assignment', async () => {
    await ok(await post('/approval-policies', { name: 'HR records', appliesTo: { permissionIds: [ids.hrRead] }, steps: [{ name: 'Reviewer', approver: 'role_holders', id: ids.reviewers }] }), 201);
    const req = await request({ action: 'add', targetIdentityId: who.eve, resource: { type: 'permission', id: ids.hrRead } });
    const [a, b] = await Promise.all([post(`/access-requests/${req.id}/approve`, {}, key.ann), post(`/access-requests/${req.id}/approve`, {}, key.ben)]);
    expect([a.statusCode, b.statusCode].sort()).toEqual([200, 409]);
    const { db } = t.store.read(t.tenantId);
    const rows = await db.selectFrom('assignments').select('id').where('assignee_id', '=', who.eve).where('resource_id', '=', ids.hrRead).execute();
    expect(rows).toHaveLength(1);
  });

  it('a step past its due date escalates through the scheduler', async () => {
    await ok(await post('/approval-policies', { name: 'Audit', appliesTo: { permissionIds: [ids.audit] }, steps: [{ name: 'Ann', approver: 'identity', id: who.ann, dueDays: 2, escalateTo: { identityId: who.carl } }] }), 201);
    const req = await request({ action: 'add', targetIdentityId: who.eve, resource: { type: 'permission', id: ids.audit } });
    expect(Date.parse(req.steps[0].dueAt) - Date.now()).toBeGreaterThan(1.9 * DAY);
    expect(await inbox(key.carl)).not.toContainEqual(expect.objectContaining({ requestId: req.id }));
    await runDueJobs(t.services.deps, { node: 'test', now: new Date(Date.now() + DAY) });
    expect(await inbox(key.carl)).not.toContainEqual(expect.objectContaining({ requestId: req.id }));
    await runDueJobs(t.services.deps, { node: 'test', now: new Date(Date.now() + 3 * DAY) });
    expect(await inbox(key.carl)).toContainEqual(expect.objectContaining({ requestId: req.id, via: 'escalation' }));
    const done = await ok(await post(`/access-requests/${req.id}/approve`, {}, key.carl));
    expect(done.status).toBe('completed');
    expect(done.steps[0].escalatedAt).not.toBeNull();
  });

  it('a future validFrom is scheduled, and completes when the scheduler reaches it', async () => {
    const validFrom = new Date(Date.now() + 5 * DAY).toISOString();
    const req = await request({ action: 'add', targetIdentityId: who.mona, resource: { type: 'permission', id: ids.view }, validFrom }, key.mona);
    const approved = await ok(await post(`/access-requests/${req.id}/approve`, {}, key.olga));
    expect(approved.status).toBe('scheduled');
    const assignment = await ok(await get(`/assignments/${approved.provisioning.assignmentId}`));
    expect(Date.parse(assignment.validFrom)).toBe(Date.parse(validFrom));
    await runDueJobs(t.services.deps, { node: 'test', now: new Date(Date.now() + 4 * DAY) });
    expect((await ok(await get(`/access-requests/${req.id}`))).status).toBe('scheduled');
    await runDueJobs(t.services.deps, { node: 'test', now: new Date(Date.now() + 6 * DAY) });
    expect((await ok(await get(`/access-requests/${req.id}`))).status).toBe('completed');
  });

  it('suspend and restore act on the existing assignment', async () => {
    const suspend = await request({ action: 'suspend', targetIdentityId: who.eve, resource: { type: 'permission', id: ids.view } });
    const done = await ok(await post(`/access-requests/${suspend.id}/approve`, {}, key.olga));
    expect(done.status).toBe('completed');
    expect((await ok(await get(`/assignments/${done.provisioning.assignmentId}`))).state).toBe('paused');
    const restore = await request({ action: 'restore', assignmentId: done.provisioning.assignmentId });
    await ok(await post(`/access-requests/${restore.id}/approve`, {}, key.olga));
    expect((await ok(await get(`/assignments/${done.provisioning.assignmentId}`))).state).toBe('active');
  });
});

describe('requests for an organization unit', () => {
  it("the unit's manager approves; its members are targets and may not; the assignment goes to the unit", async () => {
    const unit = await ok(await post('/org-units', { name: 'Payroll team', managerId: who.mona }), 201);
    const member = await identity('tess', { orgUnitId: unit.id });
    const tessKey = await keyOf(member);
    await ok(await post('/approval-policies', { name: 'Reports', appliesTo: { permissionIds: [ids.reports] }, steps: [{ name: 'Manager', approver: 'manager' }] }), 201);
    const req = await request({ action: 'add', targetOrgUnitId: unit.id, resource: { type: 'permission', id: ids.reports } }, t.auth);
    expect(req).toMatchObject({ targetOrgUnitId: unit.id, target: { type: 'orgUnit', name: 'Payroll team' } });
    expect(req.steps[0].approvers.map((a: Json) => a.identityId)).toEqual([who.mona]);
    expect((await post(`/access-requests/${req.id}/approve`, {}, tessKey)).statusCode).toBe(404);
    const done = await ok(await post(`/access-requests/${req.id}/approve`, {}, key.mona));
    expect(done.status).toBe('completed');
    expect((await ok(await get(`/assignments/${done.provisioning.assignmentId}`))).assignee).toEqual({ type: 'orgUnit', id: unit.id });
    // The unit's manager may ask for the unit without any right; she is then not its approver.
    const own = await post('/access-requests', { action: 'remove', targetOrgUnitId: unit.id, resource: { type: 'permission', id: ids.reports } }, key.mona);
    expect(own.statusCode, own.body).toBe(201);
    expect(own.json().steps[0].approvers.map((a: Json) => a.identityId)).toEqual([who.admin]);
  });
});

describe('deleting an identity', () => {
  const del = (id: string) => t.app.inject({ method: 'DELETE', url: `/api/v1/identities/${id}`, headers: t.auth });
  const pa = (url: string) => t.app.inject({ method: 'GET', url, headers: t.auth });

  it('is refused while a request for it or by it is under way, naming them; closed requests are history and still read', async () => {
    // Asked by the administrator for the leaver: the request targets it.
    const leaver = await identity('leaver');
    const forIt = await request({ action: 'add', targetIdentityId: leaver, resource: { type: 'permission', id: ids.hrRead } }, t.auth);
    const refused = await del(leaver);
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().blockers).toEqual([expect.objectContaining({ type: 'accessRequest', count: 1, ids: [forIt.id] })]);
    expect(refused.json().detail).toContain('1 access request for it under way');
    await ok(await post(`/access-requests/${forIt.id}/cancel`, { comment: 'not now' }));
    expect((await del(leaver)).statusCode).toBe(200);

    // Asked by the asker for itself: it is both the requester and the target.
    const asker = await identity('asker');
    const askerKey = await ok(await post('/api-keys', { name: 'asker', identityId: asker }), 201);
    const byIt = await request({ action: 'add', targetIdentityId: asker, resource: { type: 'permission', id: ids.hrRead } }, { authorization: `Bearer ${askerKey.secret as string}` });
    await ok(await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${askerKey.id as string}`, headers: t.auth }));
    const blocked = await del(asker);
    expect(blocked.statusCode, blocked.body).toBe(409);
    expect((blocked.json().blockers as Json[]).map((b) => [b.type, b.ids])).toEqual([
      ['accessRequest', [byIt.id]],
      ['requestedAccessRequest', [byIt.id]],
    ]);
    await ok(await post(`/access-requests/${byIt.id}/cancel`, {}));
    expect((await del(asker)).statusCode).toBe(200);

    // Both closed requests read on, natively and in the Permission Assist shape.
    const closed = await ok(await get(`/access-requests/${forIt.id}`));
    expect(closed).toMatchObject({ status: 'canceled', targetIdentityId: leaver, requesterId: who.admin });
    const canceled = await ok(await get(`/access-requests/${byIt.id}`));
    expect(canceled).toMatchObject({ status: 'canceled', requesterId: asker, targetIdentityId: asker });
    expect((await ok(await get(`/access-requests?targetIdentityId=${asker}`))).items.map((r: Json) => r.id)).toEqual([byIt.id]);
    expect(await ok(await pa(`/api/access-requests/${byIt.id}`))).toMatchObject({ id: byIt.id, status: 'Canceled', target: { type: 'User', affectedIdentity: { id: asker } } });
  });

  it('is refused while it has approval tasks awaiting its decision; decided tasks do not block', async () => {
    const approver = await identity('approver');
    const app = (await ok(await post('/applications', { name: 'Ledger', kind: 'managed' }), 201)).id as string;
    const entry = (await ok(await post(`/applications/${app}/permissions`, { name: 'post-entries' }), 201)).id as string;
    await ok(await post('/approval-policies', { name: 'Ledger', appliesTo: { applicationIds: [app] }, steps: [{ name: 'Approver', approver: 'identity', id: approver }] }), 201);
    const waiting = await request({ action: 'add', targetIdentityId: who.eve, resource: { type: 'permission', id: entry } });
    expect(waiting.steps[0].approvers.map((a: Json) => a.identityId)).toEqual([approver]);
    const task = (await inbox(await keyOf(approver)))[0]!;
    const refused = await del(approver);
    expect(refused.statusCode, refused.body).toBe(409);
    expect((refused.json().blockers as Json[]).filter((b) => b.type === 'approvalTask')).toEqual([expect.objectContaining({ count: 1, ids: [task.id] })]);
    expect(refused.json().detail).toContain('1 approval task awaiting its decision');
    // Once the request is closed the task is history: only the approver's API key is left in the way.
    await ok(await post(`/access-requests/${waiting.id}/cancel`, {}, key.eve));
    expect(((await del(approver)).json().blockers as Json[]).map((b) => b.type)).toEqual(['apiKey']);
  });
});

describe('the Permission Assist access-request routes', () => {
  it('lists with case-insensitive filters in the page envelope, and shows one in the vendor shape', async () => {
    const pa = (url: string, headers: Headers = t.auth) => t.app.inject({ method: 'GET', url, headers });
    const page = await ok(await pa(`/api/access-requests?status=completed&identityId=${who.eve}&type=ADD`));
    expect(page).toMatchObject({ page: 1, pageSize: 50 });
    expect(page.totalCount).toBeGreaterThan(0);
    expect(page.items.every((i: Json) => i.status === 'Completed' && i.action === 'Add' && i.kind === 'Access Request' && i.assignee === null)).toBe(true);
    await request({ action: 'add', targetIdentityId: who.mona, resource: { type: 'permission', id: ids.audit } }, key.mona);
    const waiting = await ok(await pa(`/api/access-requests?status=PENDING`));
    expect(waiting.items.length).toBeGreaterThan(0);
    expect(waiting.items.every((i: Json) => i.status === 'Pending' && typeof i.assignee === 'string')).toBe(true);
    const one = page.items[0] as Json;
    const detail = await ok(await pa(`/api/access-requests/${one.id}`));
    expect(detail).toMatchObject({ id: one.id, kind: 'Access Request', number: one.number, action: 'Add', status: 'Completed', target: { type: 'User', affectedIdentity: { id: who.eve } } });
    expect(detail.approvalHistory.length).toBeGreaterThan(0);
    expect(detail.provisioningStatus).toMatch(/Provisioned|Verified/);
    expect(Array.isArray(detail.relatedReviewItems)).toBe(true);
    const missing = await pa('/api/access-requests/00000000-0000-4000-8000-000000000000');
    expect(missing.statusCode).toBe(404);
    expect(missing.json()).toMatchObject({ error: 'not_found' });
    const bad = await pa('/api/access-requests?status=Exploded');
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('status');
  });
});
