/**
 * Access reviews through the HTTP API on the run's backend: a campaign over a managed and a
 * connected application (drift, orphan, SoD flags; manager and fallback reviewers; nobody
 * reviews their own access), decisions (403 for someone else's item, 409 once decided or
 * closed), a revoke that opens a remove access request linked both ways, bulk decisions,
 * delegation, reminders/escalation and the deadline by the scheduler, progress, and the
 * CSV and PDF reports (in progress said on the first page; the covering checkpoint).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueJobs } from '../../src/services/kernel/index.ts';
import { v1Calls } from '../support/catalog.ts';
import { createIdentityWithRights } from '../support/security-fixtures.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are read loosely
type Headers = Record<string, string>;

let t: TestApp;
const { get, post, patch } = v1Calls(() => t);
const who = {} as Record<'admin' | 'mona' | 'eve' | 'sam' | 'olga' | 'rita', string>;
const key = {} as Record<'mona' | 'eve' | 'sam' | 'olga' | 'rita', Headers>;
const ids = {} as Record<'payroll' | 'view' | 'approve' | 'bank' | 'transfer' | 'audit' | 'finance', string>;
const DAY = 86_400_000;

async function ok(res: { statusCode: number; body: string; json: () => unknown }, status = 200): Promise<Json> {
  expect(res.statusCode, res.body).toBe(status);
  return res.json() as Json;
}
const identity = async (username: string, fields: Json = {}) => (await ok(await post('/identities', { username, firstName: username, ...fields }), 201)).id as string;
const keyOf = async (identityId: string): Promise<Headers> => ({ authorization: `Bearer ${(await ok(await post('/api-keys', { name: `key ${identityId}`, identityId }), 201)).secret as string}` });
const assign = async (identityId: string, permissionId: string) => (await ok(await post('/assignments', { assignee: { type: 'identity', id: identityId }, resource: { type: 'permission', id: permissionId } }), 201)).id as string;
const items = async (reviewId: string, as: Headers = t.auth, query = '') => (await ok(await get(`/access-reviews/${reviewId}/items?limit=500${query}`, as))).items as Json[];

beforeAll(async () => {
  t = await createTestApp();
  const { db } = t.store.read(t.tenantId);
  who.admin = (await db.selectFrom('identities').select('id').where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow()).id;
  ids.finance = (await ok(await post('/org-units', { name: 'Finance' }), 201)).id;
  who.mona = await identity('mona', { orgUnitId: ids.finance });
  who.eve = await identity('eve', { managerId: who.mona, orgUnitId: ids.finance });
  who.sam = await identity('sam', { orgUnitId: ids.finance });
  who.olga = await identity('olga');
  who.rita = await identity('rita');
  for (const name of ['mona', 'eve', 'sam', 'olga', 'rita'] as const) key[name] = await keyOf(who[name]);
  ids.payroll = (await ok(await post('/applications', { name: 'Payroll', kind: 'managed', ownerIds: [who.olga] }), 201)).id;
  ids.view = (await ok(await post(`/applications/${ids.payroll}/permissions`, { name: 'view-payslips', risk: 'low' }), 201)).id;
  ids.approve = (await ok(await post(`/applications/${ids.payroll}/permissions`, { name: 'approve-payroll', risk: 'high' }), 201)).id;
  ids.audit = (await ok(await post(`/applications/${ids.payroll}/permissions`, { name: 'audit-payroll', risk: 'high' }), 201)).id;
  ids.bank = (await ok(await post('/applications', { name: 'Bank', kind: 'connected', ownerIds: [who.olga] }), 201)).id;
  ids.transfer = (await ok(await post(`/applications/${ids.bank}/permissions`, { name: 'transfer', risk: 'critical' }), 201)).id;
  // eve: view (low) and approve (high) assigned; mona: approve; sam's bank account holds transfer without an assignment (drift); an orphan account too.
  await assign(who.eve, ids.view);
  await assign(who.eve, ids.approve);
  await assign(who.eve, ids.audit);
  await assign(who.mona, ids.approve);
  await ok(await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${ids.bank}/accounts/sam1`, headers: t.auth, payload: { identityId: who.sam, grants: [{ permission: 'transfer' }] } }), 201);
  await ok(await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${ids.bank}/accounts/ghost`, headers: t.auth, payload: { identityId: null, grants: [{ permission: 'transfer' }] } }), 201);
  await ok(await post('/sod-policies', { name: 'approve vs audit', conflicting: [[{ type: 'permission', id: ids.approve }], [{ type: 'permission', id: ids.audit }]] }), 201);
}, 300_000);
afterAll(async () => t.close());

describe('creating and starting a campaign', () => {
  it('refuses bad definitions naming the field, and needs manage-reviews (approve-requests is not enough)', async () => {
    const cases: [Json, string][] = [
      [{ name: 'x', reviewer: { type: 'identity' } }, 'reviewer.id'],
      [{ name: 'x', reviewer: { type: 'manager' }, scope: { applicationIds: ['00000000-0000-4000-8000-000000000000'] } }, 'scope.applicationIds[0]'],
      [{ name: 'x', reviewer: { type: 'manager' }, schedule: 'every day' }, 'schedule'],
      [{ name: 'x', reviewer: { type: 'manager' }, dueAt: '2001-01-01T00:00:00Z' }, 'dueAt'],
    ];
    for (const [body, field] of cases) {
      const res = await post('/access-reviews', body);
      expect(res.statusCode, res.body).toBe(400);
      expect((res.json().errors as { field: string }[]).map((e) => e.field)).toContain(field);
    }
    expect((await post('/access-reviews', { name: 'x', reviewer: { type: 'manager' } }, key.eve)).statusCode).toBe(403);
    const approver = await keyOf(await createIdentityWithRights(t.store, t.tenantId, 'reviews:approver', ['approve-requests']));
    const denied = await post('/access-reviews', { name: 'x', reviewer: { type: 'manager' } }, approver);
    expect(denied.statusCode, denied.body).toBe(403);
    expect(denied.body).toContain('manage-reviews');
    const manager = await keyOf(await createIdentityWithRights(t.store, t.tenantId, 'reviews:manager', ['manage-reviews']));
    const made = await ok(await post('/access-reviews', { name: 'by a campaign manager', reviewer: { type: 'manager' } }, manager), 201);
    await ok(await get(`/access-reviews/${made.id as string}`, manager));
    expect((await get(`/access-reviews/${made.id as string}`, approver)).statusCode).toBe(403);
  });

  it('snapshots identity × permission with why and flags; self-review goes to the fallback reviewer', async () => {
    const review = await ok(await post('/access-reviews', { name: 'Q1 finance', reviewer: { type: 'manager' }, fallbackReviewerId: who.rita, scope: { applicationIds: [ids.payroll, ids.bank] } }), 201);
    expect(review.status).toBe('draft');
    const started = await ok(await post(`/access-reviews/${review.id}/start`, {}));
    expect(started).toMatchObject({ status: 'active', itemCount: 6 });
    const again = await post(`/access-reviews/${review.id}/start`, {});
    expect(again.statusCode, again.body).toBe(409);
    const all = await items(review.id);
    const find = (identityId: string | null, permissionId: string) => all.find((i) => (i.identity?.id ?? null) === identityId && i.permission?.id === permissionId)!;
    const eveApprove = find(who.eve, ids.approve);
    expect(eveApprove).toMatchObject({ reviewerId: who.mona, reviewerReason: 'manager', why: { kind: 'assigned' }, flags: { sodViolation: true, drift: false, orphan: false } });
    expect(find(who.eve, ids.view).flags.sodViolation).toBe(false);
    // mona has no manager: her item goes to the fallback reviewer.
    expect(find(who.mona, ids.approve)).toMatchObject({ reviewerId: who.rita, reviewerReason: 'fallback_no_reviewer' });
    const samTransfer = find(who.sam, ids.transfer);
    expect(samTransfer).toMatchObject({ flags: { drift: true }, why: { kind: 'observed' }, account: { name: 'sam1' } });
    expect(samTransfer.why.text).toContain('observed by import, not assigned');
    expect(find(null, ids.transfer)).toMatchObject({ flags: { orphan: true }, account: { name: 'ghost' }, reviewerId: who.rita });
  });

  it('a start that fails after its items were written leaves a draft with no items (one transaction)', async () => {
    // The due date is checked after the items are inserted; once it has passed the start fails and nothing of it remains.
    const review = await ok(await post('/access-reviews', { name: 'Too late', reviewer: { type: 'manager' }, fallbackReviewerId: who.rita, dueAt: new Date(Date.now() + 1500).toISOString() }), 201);
    await new Promise((r) => setTimeout(r, 2000));
    const res = await post(`/access-reviews/${review.id}/start`, {});
    expect(res.statusCode, res.body).toBe(422);
    expect((await ok(await get(`/access-reviews/${review.id}`))).status).toBe('draft');
    expect(await items(review.id)).toEqual([]);
    const { db } = t.store.read(t.tenantId);
    expect((await db.selectFrom('review_items').select('id').where('review_id', '=', review.id).execute()).length).toBe(0);
  });

  it('nobody reviews their own access: with rita as reviewer, her own item goes to the fallback', async () => {
    await assign(who.rita, ids.view);
    const review = await ok(await post('/access-reviews', { name: 'Rita reviews', reviewer: { type: 'identity', id: who.rita }, fallbackReviewerId: who.olga, scope: { applicationIds: [ids.payroll], minRisk: 'low' } }), 201);
    await ok(await post(`/access-reviews/${review.id}/start`, {}));
    const all = await items(review.id);
    const own = all.find((i) => i.identity.id === who.rita)!;
    expect(own).toMatchObject({ reviewerId: who.olga, reviewerReason: 'fallback_self_review' });
    expect(all.filter((i) => i.identity.id !== who.rita).every((i) => i.reviewerId === who.rita)).toBe(true);
    expect((await post(`/review-items/${own.id}/decide`, { decision: 'certify' }, key.rita)).statusCode).toBe(403);
    await ok(await post(`/access-reviews/${review.id}/close`, {}));
  });

  it('scopes by minimum risk and organization unit', async () => {
    const review = await ok(await post('/access-reviews', { name: 'High risk finance', reviewer: { type: 'application_owner' }, scope: { orgUnitIds: [ids.finance], minRisk: 'high' } }), 201);
    const started = await ok(await post(`/access-reviews/${review.id}/start`, {}));
    const all = await items(review.id);
    expect(all.length).toBe(started.itemCount);
    expect(all.every((i) => ['high', 'critical'].includes(i.risk) && [who.mona, who.eve, who.sam].includes(i.identity?.id))).toBe(true);
    expect(all.every((i) => i.reviewerId === who.olga)).toBe(true);
    await ok(await post(`/access-reviews/${review.id}/close`, {}));
  });
});

describe('decisions', () => {
  let reviewId: string;
  let monaItems: Json[];
  beforeAll(async () => {
    reviewId = (await ok(await post('/access-reviews', { name: 'Decisions', reviewer: { type: 'manager' }, fallbackReviewerId: who.rita, scope: { applicationIds: [ids.payroll] } }), 201)).id;
    await ok(await post(`/access-reviews/${reviewId}/start`, {}));
    monaItems = await items(reviewId, key.mona);
  }, 120_000);

  it('a reviewer sees only its own items without any right, and not someone else\'s', async () => {
    expect(monaItems.length).toBe(3);
    expect(monaItems.every((i) => i.reviewerId === who.mona)).toBe(true);
    expect((await get(`/access-reviews/${reviewId}/items?reviewerId=${who.rita}`, key.mona)).statusCode).toBe(403);
    expect((await get(`/access-reviews/${reviewId}`, key.mona)).statusCode).toBe(403);
  });

  it("deciding someone else's item is 403; a modify needs validTo", async () => {
    const item = monaItems[0]!;
    expect((await post(`/review-items/${item.id}/decide`, { decision: 'certify' }, key.rita)).statusCode).toBe(403);
    expect((await post(`/review-items/${item.id}/decide`, { decision: 'certify' }, key.eve)).statusCode).toBe(403);
    const res = await post(`/review-items/${item.id}/decide`, { decision: 'modify' }, key.mona);
    expect(res.statusCode).toBe(400);
    expect(res.json().errors[0].field).toBe('validTo');
  });

  it('revoke opens a remove access request, linked both ways; a decision is final (409)', async () => {
    const item = monaItems.find((i) => i.permission.id === ids.approve)!;
    const decided = await ok(await post(`/review-items/${item.id}/decide`, { decision: 'revoke', comment: 'moved to another team' }, key.mona));
    expect(decided).toMatchObject({ decision: 'revoke', comment: 'moved to another team', decidedBy: who.mona, remediation: { status: 'request_opened' } });
    expect(decided.requestId).toEqual(expect.any(String));
    const request = await ok(await get(`/access-requests/${decided.requestId}`));
    expect(request).toMatchObject({ action: 'remove', targetIdentityId: who.eve, requesterId: who.mona });
    expect(request.relatedReviewItems).toEqual([expect.objectContaining({ id: item.id, reviewId, decision: 'revoke' })]);
    expect((await post(`/review-items/${item.id}/decide`, { decision: 'certify' }, key.mona)).statusCode).toBe(409);
  });

  it('bulk decides with a result per item, and delegation hands an item over', async () => {
    const [a, b] = monaItems.filter((i) => i.decision === null && i.permission.id !== ids.approve);
    const delegated = await ok(await post(`/review-items/${b!.id}/delegate`, { to: who.sam }, key.mona));
    expect(delegated).toMatchObject({ reviewerId: who.sam, delegatedBy: who.mona, reviewerReason: 'delegated' });
    expect((await post(`/review-items/${a!.id}/delegate`, { to: who.eve }, key.mona)).statusCode).toBe(422);
    const bulk = await ok(await post('/review-items/decisions', { itemIds: [a!.id, b!.id], decision: 'certify', comment: 'still needed' }, key.mona));
    expect(bulk.decided).toBe(1);
    expect(bulk.results.map((r: Json) => [r.id, r.status])).toEqual([[a!.id, 200], [b!.id, 403]]);
    await ok(await post(`/review-items/${b!.id}/decide`, { decision: 'modify', validTo: new Date(Date.now() + 30 * DAY).toISOString() }, key.sam));
  });

  it('progress counts decided and open per reviewer; the report says in progress; closing makes decisions 409', async () => {
    const progress = await ok(await get(`/access-reviews/${reviewId}/progress`));
    expect(progress).toMatchObject({ total: 5, decided: 3, open: 2, decisions: { certify: 1, revoke: 1, modify: 1 } });
    expect(progress.reviewers.find((r: Json) => r.reviewerId === who.rita)).toMatchObject({ open: 1, decided: 0 });
    const csv = await get(`/access-reviews/${reviewId}/report?format=csv`);
    expect(csv.statusCode).toBe(200);
    expect(csv.headers['content-type']).toContain('text/csv');
    expect(csv.body.split('\r\n')[0]).toContain('IN PROGRESS');
    const pdf = await get(`/access-reviews/${reviewId}/report?format=pdf`);
    expect(pdf.statusCode).toBe(200);
    expect(pdf.headers['content-type']).toBe('application/pdf');
    expect(pdf.rawPayload.subarray(0, 5).toString()).toBe('%PDF-');

    const closed = await ok(await post(`/access-reviews/${reviewId}/close`, {}));
    expect(closed.status).toBe('closed');
    const open = (await items(reviewId, t.auth, '&state=open'))[0]!;
    const res = await post(`/review-items/${open.id}/decide`, { decision: 'certify' }, key.rita);
    expect(res.statusCode).toBe(409);
    const cp = await post('/audit-checkpoints', {});
    expect([200, 201]).toContain(cp.statusCode);
    const after = await get(`/access-reviews/${reviewId}/report?format=csv`);
    const lines = after.body.split('\r\n');
    expect(lines[0]).not.toContain('IN PROGRESS');
    expect(lines[1]).toMatch(/Audit checkpoint seq \d+/);
    expect(lines.some((l) => l.includes('moved to another team') && l.includes('revoke'))).toBe(true);
  });
});

describe('the scheduler: reminders, escalation, deadline', () => {
  it('reminds and escalates as audit events, then applies the default decision and closes at the deadline', async () => {
    const review = await ok(await post('/access-reviews', { name: 'Deadline', reviewer: { type: 'manager' }, fallbackReviewerId: who.rita, scope: { applicationIds: [ids.payroll] }, dueDays: 10, reminderDays: [3, 1], defaultDecision: 'certify' }), 201);
    const started = await ok(await post(`/access-reviews/${review.id}/start`, {}));
    const due = Date.parse(started.dueAt);
    await runDueJobs({ ...t.services.deps, now: () => new Date(due - 2 * DAY) }, { node: 'test' });
    await runDueJobs({ ...t.services.deps, now: () => new Date(due - DAY / 2) }, { node: 'test' });
    const events = (await ok(await get(`/audit-events?targetId=${review.id}&limit=50`))).items as Json[];
    const actions = events.map((e) => e.action);
    expect(actions.filter((a) => a === 'accessReview.reminder').length).toBe(2);
    expect(actions).toContain('accessReview.escalation');
    expect((await ok(await get(`/access-reviews/${review.id}`))).status).toBe('active');
    await runDueJobs({ ...t.services.deps, now: () => new Date(due + 1000) }, { node: 'test' });
    const closed = await ok(await get(`/access-reviews/${review.id}`));
    expect(closed).toMatchObject({ status: 'closed', closeReason: 'deadline' });
    const all = await items(review.id);
    expect(all.every((i) => i.decision === 'certify' && i.decidedBy === 'system')).toBe(true);
  });
});

void patch;
