/**
 * What the console's overview reads, on the run's backend: `GET /sod-violations/summary` and
 * `GET /access/drift/summary` count exactly what the full lists hold (every page), and the
 * counts the server keeps follow every change — a write on the next read, a validity window
 * ending without any write, a policy changed. Also: an identity without rights lists its own
 * assignments (to delegate one) and nobody else's, and a console session says who signed in
 * and how (`me.signedIn`).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { apiKeyFor, createIdentityWithRights } from '../support/security-fixtures.ts';

let t: TestApp;
let clock = Date.parse('2026-06-01T08:00:00.000Z');
const { get, post } = v1Calls(() => t);
const ids: Record<string, string> = {};
const PEOPLE = ['ann', 'bo', 'cy', 'di', 'ed', 'fay'] as const;

type Summary = {
  total: number;
  unmitigated: number;
  identities: number;
  bySeverity: Record<string, { total: number; unmitigated: number }>;
  byPolicy: { policy: { id: string; severity: string }; total: number; unmitigated: number }[];
  revision: number;
};
type DriftCounts = { applicationId: string; assignedNotProvisioned: number; provisionedNotAssigned: number; orphanGrants: number };
type FullDrift = { applicationId: string; assignedNotProvisioned: unknown[]; provisionedNotAssigned: { identityId: string | null }[]; truncated: boolean };

/** A write through the API; its revision (so the next read can wait for it). */
async function write(method: 'POST' | 'PUT', url: string, payload: unknown): Promise<{ id: string; revision: number }> {
  const res = await t.app.inject({ method, url: `/api/v1${url}`, headers: t.auth, payload: payload as object });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return { id: (res.json() as { id?: string }).id ?? '', revision: Number(res.headers['grantory-revision']) };
}
const assign = (identity: string, permission: string, extra: object = {}) =>
  write('POST', '/assignments', { assignee: { type: 'identity', id: identity }, resource: { type: 'permission', id: permission }, reason: 'test', ...extra });

async function sodSummary(revision?: number): Promise<Summary> {
  const res = await get(`/sod-violations/summary${revision ? `?minRevision=${revision}` : ''}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json();
}

/** Every violation, page by page (pages of 2, so the cursor is exercised). */
async function allViolations(revision?: number): Promise<{ policy: { id: string; severity: string }; exception: unknown }[]> {
  const out = [];
  let cursor: string | null = null;
  do {
    const res = await get(`/sod-violations?limit=2${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}${revision ? `&minRevision=${revision}` : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    out.push(...res.json().items);
    cursor = res.json().nextCursor;
  } while (cursor);
  return out;
}

/** The summary equals the full list, counted. */
async function expectSummaryMatchesList(revision?: number): Promise<Summary> {
  const summary = await sodSummary(revision);
  const list = await allViolations(revision);
  expect(summary.total).toBe(list.length);
  expect(summary.unmitigated).toBe(list.filter((v) => v.exception === null).length);
  for (const p of summary.byPolicy) {
    expect(p.total).toBe(list.filter((v) => v.policy.id === p.policy.id).length);
    expect(p.unmitigated).toBe(list.filter((v) => v.policy.id === p.policy.id && v.exception === null).length);
  }
  for (const [severity, counted] of Object.entries(summary.bySeverity)) expect(counted.total).toBe(list.filter((v) => v.policy.severity === severity).length);
  // And each person's, evaluated on its own (not from the kept answer), adds up to the same.
  let each = 0;
  for (const name of PEOPLE) {
    const own = await get(`/sod-violations?identityId=${ids[name]}${revision ? `&minRevision=${revision}` : ''}`);
    each += (own.json().items as unknown[]).length;
  }
  expect(each).toBe(summary.total);
  return summary;
}

async function driftSummary(revision?: number): Promise<DriftCounts[]> {
  const res = await get(`/access/drift/summary${revision ? `?minRevision=${revision}` : ''}`);
  expect(res.statusCode, res.body).toBe(200);
  return res.json().items;
}

/** The drift summary equals the full drift list, counted, for every connected application. */
async function expectDriftMatchesList(revision?: number): Promise<DriftCounts[]> {
  const summary = await driftSummary(revision);
  const full = await get(`/access/drift?limit=10000${revision ? `&minRevision=${revision}` : ''}`);
  expect(full.statusCode, full.body).toBe(200);
  const items = full.json().items as FullDrift[];
  expect(summary.map((s) => s.applicationId).sort()).toEqual(items.map((i) => i.applicationId).sort());
  for (const app of items) {
    expect(app.truncated).toBe(false);
    const counted = summary.find((s) => s.applicationId === app.applicationId)!;
    expect(counted).toMatchObject({
      assignedNotProvisioned: app.assignedNotProvisioned.length,
      provisionedNotAssigned: app.provisionedNotAssigned.length,
      orphanGrants: app.provisionedNotAssigned.filter((e) => e.identityId === null).length,
    });
  }
  return summary;
}

beforeAll(async () => {
  t = await createTestApp({ now: () => new Date(clock) });
  ids.erp = (await write('POST', '/applications', { name: 'ERP', kind: 'managed' })).id;
  ids.ledger = (await write('POST', '/applications', { name: 'Ledger', kind: 'connected' })).id;
  for (const name of ['vendor', 'pay', 'audit']) ids[name] = (await write('POST', `/applications/${ids.erp}/permissions`, { name, delegable: true })).id;
  for (const name of ['export', 'post']) ids[name] = (await write('POST', `/applications/${ids.ledger}/permissions`, { name })).id;
  for (const name of PEOPLE) ids[name] = (await write('POST', '/identities', { subject: `sum:${name}`, username: name, firstName: name, lastName: 'Test' })).id;
  ids.vendorPay = (await write('POST', '/sod-policies', { name: 'Vendor vs pay', conflicting: [[{ type: 'permission', id: ids.vendor }], [{ type: 'permission', id: ids.pay }]], severity: 'high' })).id;
  ids.payAudit = (await write('POST', '/sod-policies', { name: 'Pay vs audit', conflicting: [[{ type: 'permission', id: ids.pay }], [{ type: 'permission', id: ids.audit }]], mode: 'require_exception', severity: 'critical' })).id;
});
afterAll(async () => t?.close());

describe('GET /sod-violations/summary', () => {
  it('counts what the full list holds, and follows each write on the next read', async () => {
    // Conflicting access that predates the policies' check: granted with the policies disabled.
    await t.app.inject({ method: 'PATCH', url: `/api/v1/sod-policies/${ids.vendorPay}`, headers: { ...t.auth, 'if-match': '*' }, payload: { enabled: false } });
    await t.app.inject({ method: 'PATCH', url: `/api/v1/sod-policies/${ids.payAudit}`, headers: { ...t.auth, 'if-match': '*' }, payload: { enabled: false } });
    for (const name of ['ann', 'bo', 'cy', 'di']) {
      await assign(ids[name]!, ids.vendor!);
      await assign(ids[name]!, ids.pay!);
    }
    ids.diAudit = (await assign(ids.di!, ids.audit!)).id;
    // ed's payment permission ends in an hour: a violation until then.
    await assign(ids.ed!, ids.vendor!);
    await assign(ids.ed!, ids.pay!, { validTo: new Date(clock + 3_600_000).toISOString() });
    expect((await sodSummary()).total).toBe(0); // both policies disabled
    const patched = await t.app.inject({ method: 'PATCH', url: `/api/v1/sod-policies/${ids.vendorPay}`, headers: { ...t.auth, 'if-match': '*' }, payload: { enabled: true } });
    expect(patched.statusCode, patched.body).toBe(200);
    const enabled = await t.app.inject({ method: 'PATCH', url: `/api/v1/sod-policies/${ids.payAudit}`, headers: { ...t.auth, 'if-match': '*' }, payload: { enabled: true } });

    let summary = await expectSummaryMatchesList(Number(enabled.headers['grantory-revision']));
    expect(summary).toMatchObject({ total: 6, unmitigated: 6, identities: 5, bySeverity: { high: { total: 5 }, critical: { total: 1 }, low: { total: 0 }, medium: { total: 0 } } });

    // A revocation: one fewer on the next read.
    const annPay = await get(`/assignments?assigneeId=${ids.ann}&resourceId=${ids.pay}`);
    const revoked = await write('POST', `/assignments/${annPay.json().items[0].id}/revoke`, {});
    summary = await expectSummaryMatchesList(revoked.revision);
    expect(summary.total).toBe(5);

    // A new conflict (fay) — allowed with an exception — counts as mitigated.
    const inADay = new Date(clock + 86_400_000).toISOString();
    await write('POST', '/sod-exceptions', { policyId: ids.payAudit, identityId: ids.fay, reason: 'year-end', expiresAt: inADay });
    await assign(ids.fay!, ids.pay!);
    const last = await assign(ids.fay!, ids.audit!);
    summary = await expectSummaryMatchesList(last.revision);
    expect(summary).toMatchObject({ total: 6, unmitigated: 5 });
    expect(summary.byPolicy.find((p) => p.policy.id === ids.payAudit)).toMatchObject({ total: 2, unmitigated: 1 });

    // No write, only time: ed's payment permission ends, and so does his violation.
    clock += 2 * 3_600_000;
    summary = await expectSummaryMatchesList();
    expect(summary.total).toBe(5);

    // A policy disabled: its violations go at once.
    const off = await t.app.inject({ method: 'PATCH', url: `/api/v1/sod-policies/${ids.payAudit}`, headers: { ...t.auth, 'if-match': '*' }, payload: { enabled: false } });
    summary = await expectSummaryMatchesList(Number(off.headers['grantory-revision']));
    expect(summary).toMatchObject({ total: 3, byPolicy: [expect.objectContaining({ policy: expect.objectContaining({ id: ids.vendorPay }), total: 3 })] });
  });

  it('is refused without a right to read policies', async () => {
    const nobody = await createIdentityWithRights(t.store, t.tenantId, 'sum:nobody', []);
    const key = await apiKeyFor(t.services, t.tenantId, nobody);
    expect((await get('/sod-violations/summary', { authorization: `Bearer ${key.secret}` })).statusCode).toBe(403);
  });
});

describe('GET /access/drift/summary', () => {
  it('counts what the full drift list holds, and follows assignments and accounts on the next read', async () => {
    let summary = await expectDriftMatchesList();
    expect(summary).toEqual([{ applicationId: ids.ledger, applicationName: 'Ledger', assignedNotProvisioned: 0, provisionedNotAssigned: 0, orphanGrants: 0 }]);

    // Assigned, not provisioned: two people.
    await assign(ids.ann!, ids.export!);
    let w = await assign(ids.bo!, ids.export!);
    summary = await expectDriftMatchesList(w.revision);
    expect(summary[0]).toMatchObject({ assignedNotProvisioned: 2, provisionedNotAssigned: 0 });

    // bo's account now holds it (in sync); cy's account holds what cy is not assigned; an orphan account.
    await write('PUT', `/applications/${ids.ledger}/accounts/bo.ledger`, { identityId: ids.bo, grants: [{ permission: ids.export }] });
    await write('PUT', `/applications/${ids.ledger}/accounts/cy.ledger`, { identityId: ids.cy, grants: [{ permission: ids.export }, { permission: ids.post }] });
    w = await write('PUT', `/applications/${ids.ledger}/accounts/svc-old`, { grants: [{ permission: ids.post }] });
    summary = await expectDriftMatchesList(w.revision);
    expect(summary[0]).toMatchObject({ assignedNotProvisioned: 1, provisionedNotAssigned: 3, orphanGrants: 1 });

    // The orphan account removed, cy assigned one of the two: counted again on the next read.
    const removed = await t.app.inject({ method: 'DELETE', url: `/api/v1/applications/${ids.ledger}/accounts/svc-old`, headers: t.auth });
    expect(removed.statusCode, removed.body).toBeLessThan(300);
    w = await assign(ids.cy!, ids.post!);
    summary = await expectDriftMatchesList(w.revision);
    expect(summary[0]).toMatchObject({ assignedNotProvisioned: 1, provisionedNotAssigned: 1, orphanGrants: 0 });
  });
});

describe('own assignments without rights', () => {
  it('an identity without rights lists its own assignments (with their names), nobody else\'s', async () => {
    const rita = await createIdentityWithRights(t.store, t.tenantId, 'sum:rita', []);
    const key = { authorization: `Bearer ${(await apiKeyFor(t.services, t.tenantId, rita)).secret}` };
    const given = await assign(rita, ids.vendor!);
    const own = await get(`/assignments?assigneeId=${rita}`, key);
    expect(own.statusCode, own.body).toBe(200);
    expect(own.json().items).toEqual([expect.objectContaining({ id: given.id, resource: { type: 'permission', id: ids.vendor }, resourceName: 'vendor' })]);
    expect((await get(`/assignments?assigneeType=identity&assigneeId=${rita}&state=active`, key)).statusCode).toBe(200);
    // Someone else's, a unit's, or everything: refused.
    expect((await get(`/assignments?assigneeId=${ids.ann}`, key)).statusCode).toBe(403);
    expect((await get(`/assignments?assigneeType=orgUnit&assigneeId=${rita}`, key)).statusCode).toBe(403);
    expect((await get('/assignments', key)).statusCode).toBe(403);
    // And she delegates what she holds.
    const colleague = await write('POST', '/identities', { subject: 'sum:hal', username: 'hal' });
    const delegated = await post(`/assignments/${given.id}/delegate`, { assigneeId: colleague.id, reason: 'holiday' }, key);
    expect(delegated.statusCode, delegated.body).toBe(201);
  });
});

describe('who signed in', () => {
  it('a password session names the person and the way in; an API key session its key; a bearer key none', async () => {
    const person = await write('POST', '/identities', { subject: 'sum:gil', username: 'gil', displayName: 'Gil Grant' });
    expect((await t.app.inject({ method: 'PUT', url: `/api/v1/identities/${person.id}/password`, headers: t.auth, payload: { password: 'a long enough password' } })).statusCode).toBe(204);
    const byPassword = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { username: 'gil', password: 'a long enough password' } });
    expect(byPassword.statusCode, byPassword.body).toBe(201);
    expect(byPassword.json().me).toMatchObject({ kind: 'session', identityId: person.id, signedIn: { name: 'Gil Grant', method: 'password' } });
    const cookie = String(byPassword.headers['set-cookie']).split(';')[0]!;
    const current = await t.app.inject({ method: 'GET', url: '/api/v1/sessions/current', headers: { cookie } });
    expect(current.json().me.signedIn).toEqual({ name: 'Gil Grant', method: 'password' });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { cookie } })).json().signedIn).toEqual({ name: 'Gil Grant', method: 'password' });

    const byKey = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { apiKey: t.auth.authorization.replace(/^Bearer /, '') } });
    expect(byKey.statusCode, byKey.body).toBe(201);
    expect(byKey.json().me.signedIn).toMatchObject({ method: 'api_key', name: expect.not.stringContaining('(session)') });
    expect((await get('/me')).json().signedIn).toBeNull();
  });
});
