/**
 * Personnel events through HTTP on the run's database: each type end to end on the
 * scheduler (driven with a clock at the effective date), previews, dry runs, replays, the
 * 409s, bad dates and cancel.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor, writeMeta } from '../../src/services/kernel/actor.ts';
import { runDueJobs } from '../../src/services/kernel/index.ts';
import { v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
const { get, post, patch } = v1Calls(() => t);
// eslint-disable-next-line @typescript-eslint/no-explicit-any -- response bodies are read field by field, deep into stages and previews
type Json = Record<string, any>;

const DAY = 86_400_000;
/** A plain date `days` from now (UTC calendar). */
const dayFromNow = (days: number) => new Date(Date.now() + days * DAY).toISOString().slice(0, 10);
/** Midnight of a plain date in Europe/Zurich (no DST question in these tests' months is assumed: computed). */
const zurichMidnight = (date: string) => {
  const probe = new Date(`${date}T00:00:00Z`);
  const offsetHours = Number(new Intl.DateTimeFormat('en', { timeZone: 'Europe/Zurich', hour: 'numeric', hourCycle: 'h23' }).format(probe));
  return new Date(probe.getTime() - offsetHours * 3_600_000).toISOString();
};
const run = async (at: string | number) => {
  const now = new Date(typeof at === 'number' ? at : Date.parse(at));
  let total = 0;
  // Stages schedule their follow-ups (Verify) in the same run; run until nothing is due.
  for (let i = 0; i < 5; i++) {
    const r = await runDueJobs(t.services.deps, { node: 'test', now });
    total += r.done;
    if (r.done === 0) break;
  }
  return total;
};

let ids: { finance: string; sales: string; wiki: string; ledger: string; wikiEdit: string; wikiAdmin: string; ledgerRead: string; manager: string };

async function ok(res: { statusCode: number; body: string; json(): unknown }, status = 201): Promise<Json> {
  expect(res.statusCode, res.body).toBe(status);
  return res.json() as Json;
}

async function identity(body: Json): Promise<string> {
  return (await ok(await post('/identities', body))).id;
}

async function assignmentsOf(identityId: string): Promise<Json[]> {
  return (await ok(await get(`/assignments?assigneeId=${identityId}&limit=500`), 200)).items;
}

beforeAll(async () => {
  t = await createTestApp();
  await ok(await patch('/settings', { timeZone: 'Europe/Zurich' }), 200);
  const finance = (await ok(await post('/org-units', { name: 'Finance' }))).id;
  const sales = (await ok(await post('/org-units', { name: 'Sales' }))).id;
  const wiki = (await ok(await post('/applications', { name: 'Wiki', kind: 'managed' }))).id;
  const ledger = (await ok(await post('/applications', { name: 'Ledger', kind: 'connected' }))).id;
  const wikiEdit = (await ok(await post(`/applications/${wiki}/permissions`, { name: 'wiki.edit', delegable: true }))).id;
  const wikiAdmin = (await ok(await post(`/applications/${wiki}/permissions`, { name: 'wiki.admin' }))).id;
  const ledgerRead = (await ok(await post(`/applications/${ledger}/permissions`, { name: 'ledger.read' }))).id;
  await ok(await post('/assignment-rules', { name: 'Finance birthright', condition: { orgUnitSubtree: finance }, resources: [{ type: 'permission', id: wikiEdit }, { type: 'permission', id: ledgerRead }] }));
  await ok(await post('/assignment-rules', { name: 'Sales birthright', condition: { orgUnitSubtree: sales }, resources: [{ type: 'permission', id: wikiAdmin }] }));
  const manager = await identity({ username: 'boss', firstName: 'Bo', lastName: 'Ss' });
  ids = { finance, sales, wiki, ledger, wikiEdit, wikiAdmin, ledgerRead, manager };
});
afterAll(async () => t.close());

describe('onboarding', () => {
  it('previews the birthright, creates the identity on the day, verifies once the import shows the grant', async () => {
    const date = dayFromNow(30);
    const body = { identity: { firstName: 'Ada', lastName: 'Lovelace', email: 'ada@example.com', username: 'ada', employeeNumber: 'E-1', orgUnitId: ids.finance, managerId: ids.manager, attributes: { title: 'Analyst' } }, effectiveDate: date };
    const dry = await ok(await post('/personnel-events/onboard?dryRun=true', body), 200);
    expect(dry.dryRun).toBe(true);
    expect(dry.preview.added.map((i: Json) => i.resource.name).sort()).toEqual(['ledger.read', 'wiki.edit']);
    expect((await ok(await get('/personnel-events?type=onboard'), 200)).items).toHaveLength(0);

    const event = await ok(await post('/personnel-events/onboard', body));
    expect(event).toMatchObject({ type: 'onboard', status: 'scheduled', identityId: null, identityName: 'Ada Lovelace', effectiveDate: zurichMidnight(date), number: expect.any(Number) });
    expect(event.stages.map((s: Json) => [s.name, s.status])).toEqual([['Approve', 'completed'], ['Provision', 'pending'], ['Verify', 'pending']]);
    expect(event.preview.added).toHaveLength(2);
    expect(event.activity.length).toBeGreaterThan(0);

    expect(await run(Date.parse(event.effectiveDate) - 60_000)).toBe(0);
    expect((await ok(await get(`/identities?q=ada`), 200)).items).toHaveLength(0);
    await run(Date.parse(event.effectiveDate) + 60_000);
    const after = await ok(await get(`/personnel-events/${event.id}`), 200);
    expect(after.identityId).toEqual(expect.any(String));
    expect(after.stages[1]).toMatchObject({ name: 'Provision', status: 'completed' });
    expect(after.preview.added).toHaveLength(2);
    const verify = after.stages[2];
    expect(verify.status).toBe('in_progress');
    expect(verify.detail.outstanding).toEqual([expect.objectContaining({ action: 'provision', permission: expect.objectContaining({ name: 'ledger.read' }) })]);
    const joiner = await ok(await get(`/identities/${after.identityId}`), 200);
    expect(joiner).toMatchObject({ status: 'active', orgUnitId: ids.finance, managerId: ids.manager, attributes: { title: 'Analyst' } });
    expect((await assignmentsOf(after.identityId)).filter((a) => a.state === 'active').map((a) => a.resource.id).sort()).toEqual([ids.wikiEdit, ids.ledgerRead].sort());

    // The import records the account with its grant: the next check completes the event.
    const account = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${ids.ledger}/accounts/ada`, headers: t.auth, payload: { identityId: after.identityId, grants: [{ permission: 'ledger.read' }] } });
    expect(account.statusCode, account.body).toBe(201);
    await run(Date.now() + 2 * 3_600_000 + 60 * DAY);
    const done = await ok(await get(`/personnel-events/${event.id}`), 200);
    expect(done.status).toBe('completed');
    expect(done.stages[2].status).toBe('completed');
    expect(done.completedAt).toEqual(expect.any(String));
    // The HR system sends the message again after the start: the same event, not a 409 about the employee number.
    const replay = await post('/personnel-events/onboard', body);
    expect(replay.statusCode, replay.body).toBe(200);
    expect(replay.json().id).toBe(event.id);
  });

  it('replays of the same message return the event, and Idempotency-Key the first response', async () => {
    const body = { identity: { firstName: 'Grace', lastName: 'Hopper', employeeNumber: 'E-2' }, effectiveDate: dayFromNow(40) };
    const first = await post('/personnel-events/onboard', body, { 'idempotency-key': 'hr-msg-1' });
    expect(first.statusCode).toBe(201);
    const again = await post('/personnel-events/onboard', body, { 'idempotency-key': 'hr-msg-1' });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json().id).toBe(first.json().id);
    const resent = await post('/personnel-events/onboard', { ...body, comment: 'sent again by the HR system' });
    expect(resent.statusCode, resent.body).toBe(200);
    expect(resent.json().id).toBe(first.json().id);
    const list = await ok(await get('/personnel-events?type=onboard&status=scheduled'), 200);
    expect(list.items.filter((e: Json) => e.identityName === 'Grace Hopper')).toHaveLength(1);
  });

  it('refuses dates that do not exist, end dates before the start, and missing fields, naming the field', async () => {
    const bad = await post('/personnel-events/onboard', { identity: { firstName: 'A', lastName: 'B' }, effectiveDate: '2026-02-30' });
    expect(bad.statusCode).toBe(400);
    expect(bad.json().errors[0].field).toBe('effectiveDate');
    const missing = await post('/personnel-events/onboard', { identity: { lastName: 'B' }, effectiveDate: '2026-03-01' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json().errors[0].field).toBe('identity.firstName');
    const someone = await identity({ username: 'dates' });
    const before = await post('/personnel-events/leave-of-absence', { identityId: someone, effectiveDate: '2031-05-10', endDate: '2031-05-01' });
    expect(before.statusCode).toBe(400);
    expect(before.json().errors[0].field).toBe('endDate');
    const iso = await ok(await post('/personnel-events/leave-of-absence', { identityId: someone, effectiveDate: '2031-05-10T08:30:00+02:00', endDate: '2031-06-01' }));
    expect(iso.effectiveDate).toBe('2031-05-10T06:30:00.000Z');
    expect(iso.endDate).toBe(zurichMidnight('2031-06-01'));
  });
});

describe('offboarding', () => {
  it('terminates, revokes every assignment and delegation, lists the accounts to deprovision; a second offboarding is a 409', async () => {
    const leaver = await identity({ username: 'leaver', orgUnitId: ids.finance });
    const colleague = await identity({ username: 'colleague' });
    const direct = await ok(await post('/assignments', { assignee: { type: 'identity', id: leaver }, resource: { type: 'permission', id: ids.wikiAdmin } }));
    const ruleEdit = (await assignmentsOf(leaver)).find((a) => a.resource.id === ids.wikiEdit)!;
    // A delegation the leaver granted (written as the system would: delegating needs the leaver's own credential).
    const delegation = await t.store.write(t.tenantId, writeMeta(systemActor(t.tenantId, 'test')), async (tx) => {
      const id = randomUUID();
      await tx.db.insertInto('assignments').values({ id, tenant_id: tx.tenantId, assignee_type: 'identity', assignee_id: colleague, resource_type: 'permission', resource_id: ids.wikiEdit, context_type: 'all', context_id: null, source: 'delegation', state: 'active', valid_from: null, valid_to: null, delegated_from_id: ruleEdit.id, delegator_id: leaver, rule_id: null, reason: null, created_by: null, created_at: tx.now, updated_at: tx.now, version: 1 }).execute();
      tx.audit({ action: 'assignment.create', targetType: 'assignment', targetId: id });
      tx.change('assignment', id, 'create');
      return id;
    });
    const acct = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${ids.ledger}/accounts/leaver`, headers: t.auth, payload: { identityId: leaver, grants: [{ permission: 'ledger.read' }] } });
    expect(acct.statusCode, acct.body).toBe(201);

    // A move HR had planned for next month is canceled by the offboarding.
    const move = await ok(await post('/personnel-events/role-transition', { identityId: leaver, effectiveDate: dayFromNow(30), changes: { attributes: { title: 'Lead' } } }));
    const event = await ok(await post('/personnel-events/offboard', { identityId: leaver, effectiveDate: dayFromNow(-1) }));
    expect(event.preview.revoked.map((i: Json) => i.assignmentId).sort()).toEqual((await assignmentsOf(leaver)).filter((a) => a.state !== 'revoked').map((a) => a.id).sort());
    expect(event.preview.delegationsStopped.map((i: Json) => i.assignmentId)).toEqual([delegation.value]);
    expect(event.preview.accountsToDeprovision).toEqual([expect.objectContaining({ name: 'leaver', grants: 1 })]);
    const pending = await post('/personnel-events/offboard', { identityId: leaver, effectiveDate: dayFromNow(3) });
    expect(pending.statusCode).toBe(409);
    expect(pending.json().detail ?? pending.json().title).toBeDefined();
    expect(JSON.stringify(pending.json())).toContain(`#${event.number}`);

    await run(Date.now() + 60_000);
    const done = await ok(await get(`/personnel-events/${event.id}`), 200);
    expect(done.stages[1]).toMatchObject({ name: 'Deprovision', status: 'completed' });
    expect(done.stages[1].detail.accountsToDeprovision).toHaveLength(1);
    expect(done.stages[1].detail.canceledEvents).toEqual([move.number]);
    expect((await ok(await get(`/personnel-events/${move.id}`), 200)).status).toBe('canceled');
    expect(done.stages[2].status).toBe('in_progress');
    expect(done.stages[2].detail.outstanding).toEqual([expect.objectContaining({ action: 'deprovision', account: 'leaver', grants: 1 })]);
    expect((await ok(await get(`/identities/${leaver}`), 200)).status).toBe('terminated');
    const states = await assignmentsOf(leaver);
    expect(states.every((a) => a.state === 'revoked')).toBe(true);
    expect(states.find((a) => a.id === direct.id)?.state).toBe('revoked');
    expect((await assignmentsOf(colleague)).find((a) => a.id === delegation.value)?.state).toBe('revoked');
    const drift = await ok(await get(`/access/drift?applicationId=${ids.ledger}`), 200);
    expect(JSON.stringify(drift)).toContain(leaver);

    const again = await post('/personnel-events/offboard', { identityId: leaver, effectiveDate: dayFromNow(5) });
    expect(again.statusCode).toBe(409);
    expect(JSON.stringify(again.json())).toContain(`#${event.number}`);
    const cancel = await post(`/personnel-events/${event.id}/cancel`, {});
    expect(cancel.statusCode).toBe(409);
  });
});

describe('leave of absence', () => {
  it('pauses the active assignments and, at return, resumes exactly those', async () => {
    const who = await identity({ username: 'traveller', orgUnitId: ids.finance });
    const direct = await ok(await post('/assignments', { assignee: { type: 'identity', id: who }, resource: { type: 'permission', id: ids.wikiAdmin } }));
    const pausedBefore = await ok(await post('/assignments', { assignee: { type: 'identity', id: who }, resource: { type: 'permission', id: ids.wikiAdmin }, reason: 'second' }));
    await ok(await post(`/assignments/${pausedBefore.id}/pause`, {}), 200);
    const start = dayFromNow(50);
    const end = dayFromNow(80);
    const event = await ok(await post('/personnel-events/leave-of-absence', { identityId: who, effectiveDate: start, endDate: end }));
    expect(event.stages.map((s: Json) => s.name)).toEqual(['Approve', 'Suspend', 'Restore', 'Verify']);
    const activeIds = (await assignmentsOf(who)).filter((a) => a.state === 'active').map((a) => a.id).sort();
    expect(activeIds).toContain(direct.id);
    expect(event.preview.paused.map((i: Json) => i.assignmentId).sort()).toEqual(activeIds);

    // An offboarding after the leave does not stand in the way of it; a later leave is refused by it.
    const lastDay = await ok(await post('/personnel-events/offboard', { identityId: who, effectiveDate: dayFromNow(200) }));
    const afterLeaving = await post('/personnel-events/leave-of-absence', { identityId: who, effectiveDate: dayFromNow(210), endDate: dayFromNow(220) });
    expect(afterLeaving.statusCode).toBe(409);
    expect(JSON.stringify(afterLeaving.json())).toContain(`#${lastDay.number}`);
    const overlap = await post('/personnel-events/leave-of-absence', { identityId: who, effectiveDate: dayFromNow(60), endDate: dayFromNow(90) });
    expect(overlap.statusCode).toBe(409);
    expect(JSON.stringify(overlap.json())).toContain(`#${event.number}`);

    await run(zurichMidnight(start));
    expect((await ok(await get(`/identities/${who}`), 200)).status).toBe('on_leave');
    let states = new Map((await assignmentsOf(who)).map((a) => [a.id, a.state]));
    for (const id of activeIds) expect(states.get(id)).toBe('paused');
    const suspended = await ok(await get(`/personnel-events/${event.id}`), 200);
    expect(suspended.stages[1].detail.paused.sort()).toEqual(activeIds);
    expect(suspended.stages[2].status).toBe('pending');

    await run(zurichMidnight(end));
    expect((await ok(await get(`/identities/${who}`), 200)).status).toBe('active');
    states = new Map((await assignmentsOf(who)).map((a) => [a.id, a.state]));
    for (const id of activeIds) expect(states.get(id)).toBe('active');
    expect(states.get(pausedBefore.id)).toBe('paused');
    const back = await ok(await get(`/personnel-events/${event.id}`), 200);
    expect(back.stages[2]).toMatchObject({ name: 'Restore', status: 'completed' });
    // The restored rule access includes ledger.read, a connected application: its import must confirm it.
    expect(back.stages[3]).toMatchObject({ name: 'Verify', status: 'in_progress' });
    expect(back.stages[3].detail.outstanding).toEqual([expect.objectContaining({ action: 'provision', permission: expect.objectContaining({ id: ids.ledgerRead }) })]);
    expect(back.status).toBe('in_progress');
  });
});

describe('role transition', () => {
  it('moves the identity; access the move no longer justifies is kept for review until the end date, then removed', async () => {
    const mover = await identity({ username: 'mover', orgUnitId: ids.finance });
    const start = dayFromNow(20);
    const end = dayFromNow(35);
    const event = await ok(await post('/personnel-events/role-transition', { identityId: mover, effectiveDate: start, endDate: end, changes: { orgUnitId: ids.sales, attributes: { title: 'Seller' } } }));
    expect(event.preview.added.map((i: Json) => i.resource.name)).toEqual(['wiki.admin']);
    expect(event.preview.review.map((i: Json) => i.resource.name).sort()).toEqual(['ledger.read', 'wiki.edit']);
    expect(event.preview.unjustifiedAccess).toBe('review');
    const preview = await ok(await get(`/personnel-events/${event.id}/preview`), 200);
    expect(preview.review).toHaveLength(2);

    await run(zurichMidnight(start));
    const moved = await ok(await get(`/identities/${mover}`), 200);
    expect(moved).toMatchObject({ orgUnitId: ids.sales, attributes: { title: 'Seller' } });
    const held = await assignmentsOf(mover);
    expect(held.filter((a) => a.state === 'active').map((a) => a.resource.id).sort()).toEqual([ids.wikiAdmin, ids.wikiEdit, ids.ledgerRead].sort());
    const kept = held.filter((a) => a.resource.id !== ids.wikiAdmin);
    for (const a of kept) expect(a.validTo).toBe(zurichMidnight(end));
    expect((await ok(await get(`/personnel-events/${event.id}`), 200)).stages[1]).toMatchObject({ name: 'Transition', status: 'completed' });

    await run(zurichMidnight(end));
    const later = new Map((await assignmentsOf(mover)).map((a) => [a.id, a.state]));
    for (const a of kept) expect(later.get(a.id)).toBe('revoked');
  });

  it('removes unjustified access at once when the tenant says so', async () => {
    await ok(await patch('/settings', { personnelEvents: { unjustifiedAccess: 'remove' } }), 200);
    try {
      const mover = await identity({ username: 'mover2', orgUnitId: ids.finance });
      const event = await ok(await post('/personnel-events/role-transition', { identityId: mover, effectiveDate: dayFromNow(-1), changes: { orgUnitId: ids.sales } }));
      expect(event.preview.revoked.map((i: Json) => i.resource.name).sort()).toEqual(['ledger.read', 'wiki.edit']);
      await run(Date.now() + 60_000);
      const held = (await assignmentsOf(mover)).filter((a) => a.state === 'active').map((a) => a.resource.id);
      expect(held).toEqual([ids.wikiAdmin]);
    } finally {
      await ok(await patch('/settings', { personnelEvents: { unjustifiedAccess: 'review' } }), 200);
    }
  });
});

describe('cancel and comments', () => {
  it('cancels before the effective date (nothing runs), and keeps comments', async () => {
    const who = await identity({ username: 'stays' });
    const event = await ok(await post('/personnel-events/offboard', { identityId: who, effectiveDate: dayFromNow(10), comment: 'last day' }));
    const commented = await ok(await post(`/personnel-events/${event.id}/comments`, { comment: 'confirmed with HR' }));
    expect(commented.comments.map((c: Json) => c.text)).toEqual(['confirmed with HR']);
    const canceled = await ok(await post(`/personnel-events/${event.id}/cancel`, { comment: 'contract extended' }), 200);
    expect(canceled.status).toBe('canceled');
    expect(canceled.stages.slice(1).every((s: Json) => s.status === 'canceled')).toBe(true);
    await run(Date.now() + 11 * DAY);
    expect((await ok(await get(`/identities/${who}`), 200)).status).toBe('active');
    // Canceled events do not stand in the way of a new one.
    await ok(await post('/personnel-events/offboard', { identityId: who, effectiveDate: dayFromNow(10) }));
  });

  it('needs manage-personnel-events', async () => {
    const key = await ok(await post('/api-keys', { name: 'users only', scopes: ['grantory:manage-users'] }));
    const res = await get('/personnel-events', { authorization: `Bearer ${key.secret}` });
    expect(res.statusCode).toBe(403);
  });
});

describe("moving a leave's return date", () => {
  const restoreJob = async (eventId: string) => {
    const { db } = t.store.read(t.tenantId);
    return db.selectFrom('scheduled_jobs').select(['due_at', 'status']).where('subject_id', '=', eventId).where('job_key', '=', 'Restore').executeTakeFirst();
  };
  const once = (at: number) => runDueJobs(t.services.deps, { node: 'test', now: new Date(at) });

  it('re-plans the return before and during the leave; refuses bad dates, overlaps and a return that already ran', async () => {
    const who = await identity({ username: 'sabbatical', orgUnitId: ids.finance });
    const start = dayFromNow(10);
    const event = await ok(await post('/personnel-events/leave-of-absence', { identityId: who, effectiveDate: start, endDate: dayFromNow(20) }));
    const later = await ok(await post('/personnel-events/leave-of-absence', { identityId: who, effectiveDate: dayFromNow(60), endDate: dayFromNow(70) }));

    const early = await patch(`/personnel-events/${event.id}`, { endDate: dayFromNow(5) });
    expect(early.statusCode, early.body).toBe(400);
    expect(early.json().errors[0].field).toBe('endDate');
    expect((await patch(`/personnel-events/${event.id}`, { endDate: '2031-02-30' })).statusCode).toBe(400);
    const overlap = await patch(`/personnel-events/${event.id}`, { endDate: dayFromNow(65) });
    expect(overlap.statusCode, overlap.body).toBe(409);
    expect(overlap.json().detail).toContain(`#${later.number}`);
    await ok(await post(`/personnel-events/${later.id}/cancel`, {}), 200);

    // Before the leave starts: the stored date moves, and Suspend plans the return from it.
    const moved = await ok(await patch(`/personnel-events/${event.id}`, { endDate: dayFromNow(25) }), 200);
    expect(moved.endDate).toBe(zurichMidnight(dayFromNow(25)));
    expect(moved.activity.map((a: Json) => a.text).join('\n')).toContain('Return date moved');
    await run(zurichMidnight(start));
    expect((await ok(await get(`/identities/${who}`), 200)).status).toBe('on_leave');
    expect(new Date((await restoreJob(event.id))!.due_at).toISOString()).toBe(zurichMidnight(dayFromNow(25)));

    // During the leave: the return job itself moves; the old date restores nothing.
    const movedAgain = await ok(await patch(`/personnel-events/${event.id}`, { endDate: dayFromNow(30) }), 200);
    expect(movedAgain.stages.find((s: Json) => s.name === 'Suspend').detail.returnOn).toBe(zurichMidnight(dayFromNow(30)));
    expect(new Date((await restoreJob(event.id))!.due_at).toISOString()).toBe(zurichMidnight(dayFromNow(30)));
    await run(Date.parse(zurichMidnight(dayFromNow(25))) + 60_000);
    expect((await ok(await get(`/identities/${who}`), 200)).status).toBe('on_leave');
    await run(Date.parse(zurichMidnight(dayFromNow(30))) + 60_000);
    expect((await ok(await get(`/identities/${who}`), 200)).status).toBe('active');
    const back = await ok(await get(`/personnel-events/${event.id}`), 200);
    expect(back.stages[2]).toMatchObject({ name: 'Restore', status: 'completed' });

    const tooLate = await patch(`/personnel-events/${event.id}`, { endDate: dayFromNow(40) });
    expect(tooLate.statusCode, tooLate.body).toBe(409);
    expect(tooLate.json().detail).toContain('already run');
    const offboarding = await ok(await post('/personnel-events/offboard', { identityId: ids.manager, effectiveDate: dayFromNow(300) }));
    expect((await patch(`/personnel-events/${offboarding.id}`, { endDate: dayFromNow(310) })).statusCode).toBe(409);
    await ok(await post(`/personnel-events/${offboarding.id}/cancel`, {}), 200);
  });

  it('honours If-Match: the ETag of a GET moves the date once; a stale one is 412 and changes nothing', async () => {
    const who = await identity({ username: 'etag-leave', orgUnitId: ids.finance });
    const created = await post('/personnel-events/leave-of-absence', { identityId: who, effectiveDate: dayFromNow(100), endDate: dayFromNow(110) });
    const event = await ok(created);
    expect(created.headers.etag).toBe(`"${event.version}"`);
    const read = await get(`/personnel-events/${event.id}`);
    const etag = read.headers.etag as string;
    expect(etag).toBe(`"${(await ok(read, 200)).version}"`);

    const moved = await patch(`/personnel-events/${event.id}`, { endDate: dayFromNow(115) }, { 'if-match': etag });
    const after = await ok(moved, 200);
    expect(after.version).toBeGreaterThan(event.version);
    expect(moved.headers.etag).toBe(`"${after.version}"`);

    const stale = await patch(`/personnel-events/${event.id}`, { endDate: dayFromNow(120) }, { 'if-match': etag });
    expect(stale.statusCode, stale.body).toBe(412);
    expect(stale.json().code).toBe('precondition_failed');
    const unchanged = await ok(await get(`/personnel-events/${event.id}`), 200);
    expect(unchanged.endDate).toBe(zurichMidnight(dayFromNow(115)));
    expect(unchanged.version).toBe(after.version);
    await ok(await patch(`/personnel-events/${event.id}`, { endDate: dayFromNow(120) }, { 'if-match': moved.headers.etag as string }), 200);
    await ok(await post(`/personnel-events/${event.id}/cancel`, {}), 200);
  });

  it('a scheduled recheck of Verify runs at its time, and completes the event once the import shows the grant', async () => {
    const who = await identity({ username: 'recheck', orgUnitId: ids.finance });
    // Minutes from now (full times): the recheck, an hour after the return, is then still ahead of the clock the stages run at.
    const start = Date.now() + 60_000;
    const end = start + 60_000;
    const event = await ok(await post('/personnel-events/leave-of-absence', { identityId: who, effectiveDate: new Date(start).toISOString(), endDate: new Date(end).toISOString() }));
    await once(start + 1_000);
    await once(end + 1_000);
    let verify = (await ok(await get(`/personnel-events/${event.id}`), 200)).stages[3];
    // ledger.read (a connected application's birthright) is outstanding until an import shows it.
    expect(verify).toMatchObject({ name: 'Verify', status: 'in_progress', detail: { checks: 1 } });
    const firstCheckAt = Date.parse(verify.detail.nextCheckAt);
    expect(firstCheckAt - Date.now()).toBeGreaterThan(0);

    await once(firstCheckAt - 60_000);
    expect((await ok(await get(`/personnel-events/${event.id}`), 200)).stages[3].detail.checks).toBe(1);
    await once(firstCheckAt + 1_000);
    verify = (await ok(await get(`/personnel-events/${event.id}`), 200)).stages[3];
    expect(verify).toMatchObject({ status: 'in_progress', detail: { checks: 2 } });
    const secondCheckAt = Date.parse(verify.detail.nextCheckAt);

    const account = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${ids.ledger}/accounts/recheck`, headers: t.auth, payload: { identityId: who, grants: [{ permission: 'ledger.read' }] } });
    expect(account.statusCode, account.body).toBe(201);
    await once(secondCheckAt + 1_000);
    const done = await ok(await get(`/personnel-events/${event.id}`), 200);
    expect(done.status).toBe('completed');
    expect(done.stages[3]).toMatchObject({ status: 'completed', detail: { outstanding: [], checks: 3 } });
  });
});

describe('deleting an identity with open personnel events', () => {
  it('is refused with a 409 naming the events; after they are canceled it goes through', async () => {
    const who = await identity({ username: 'short-lived' });
    const event = await ok(await post('/personnel-events/offboard', { identityId: who, effectiveDate: dayFromNow(100) }));
    const refused = await t.app.inject({ method: 'DELETE', url: `/api/v1/identities/${who}`, headers: t.auth });
    expect(refused.statusCode, refused.body).toBe(409);
    expect(refused.json().detail).toContain('1 open personnel event');
    expect(refused.json().blockers).toEqual([expect.objectContaining({ type: 'personnelEvent', count: 1, ids: [event.id] })]);
    await ok(await post(`/personnel-events/${event.id}/cancel`, {}), 200);
    const deleted = await t.app.inject({ method: 'DELETE', url: `/api/v1/identities/${who}`, headers: t.auth });
    expect(deleted.statusCode, deleted.body).toBe(200);
  });
});
