/**
 * Personnel events through the approval policies: a policy that names an event type holds the
 * event in `pending_approval` until its approvers decide in their inbox (approve → the stage
 * is scheduled and runs on the day; reject → nothing takes effect); a tenant that does not
 * auto-approve HR events sends events no policy names to the affected identity's manager.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueJobs } from '../../src/services/kernel/index.ts';
import { v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are read loosely
type Headers = Record<string, string>;

let t: TestApp;
const { get, post, patch } = v1Calls(() => t);
const DAY = 86_400_000;
const dayFromNow = (days: number) => new Date(Date.now() + days * DAY).toISOString().slice(0, 10);

async function ok(res: { statusCode: number; body: string; json: () => unknown }, status = 200): Promise<Json> {
  expect(res.statusCode, res.body).toBe(status);
  return res.json() as Json;
}
const identity = async (username: string, fields: Json = {}) => (await ok(await post('/identities', { username, firstName: username, ...fields }), 201)).id as string;
const keyOf = async (identityId: string): Promise<Headers> => ({ authorization: `Bearer ${(await ok(await post('/api-keys', { name: `key ${identityId}`, identityId }), 201)).secret as string}` });
const inbox = async (as: Headers) => (await ok(await get('/approvals', as))).items as Json[];
const runAt = async (date: string) => {
  const now = new Date(Date.parse(`${date}T00:00:00Z`) + 60_000);
  for (let i = 0; i < 5; i++) if ((await runDueJobs(t.services.deps, { node: 'test', now })).done === 0) break;
};

let hrLead: string;
let hrKey: Headers;

beforeAll(async () => {
  t = await createTestApp();
  hrLead = await identity('hr.lead');
  hrKey = await keyOf(hrLead);
  await ok(await post('/approval-policies', { name: 'Leavers need HR', appliesTo: { personnelEventTypes: ['offboard'] }, steps: [{ name: 'HR lead', approver: 'identity', id: hrLead }] }), 201);
});
afterAll(async () => t.close());

describe('personnel events and approval policies', () => {
  it('an event a policy names waits for its approver, then runs on the day', async () => {
    const leaver = await identity('leaver.one');
    const date = dayFromNow(10);
    const event = await ok(await post('/personnel-events/offboard', { identityId: leaver, effectiveDate: date }), 201);
    expect(event.status).toBe('pending_approval');
    expect(event.stages[0]).toMatchObject({ name: 'Approve', status: 'in_progress' });

    // Nothing is scheduled while it waits: the day comes and goes without effect.
    await runAt(date);
    expect((await ok(await get(`/identities/${leaver}`))).status).toBe('active');

    const [task] = (await inbox(hrKey)).filter((x) => x.eventId === event.id);
    expect(task).toMatchObject({ kind: 'personnel_event', eventId: event.id });
    await ok(await post(`/approvals/${task!.id}/approve`, { comment: 'confirmed with the manager' }, hrKey));
    const approved = await ok(await get(`/personnel-events/${event.id}`));
    expect(approved.status).toBe('scheduled');
    expect(approved.stages[0]).toMatchObject({ name: 'Approve', status: 'completed' });

    await runAt(date);
    expect((await ok(await get(`/identities/${leaver}`))).status).toBe('terminated');
    expect((await inbox(hrKey)).filter((x) => x.eventId === event.id)).toEqual([]);
  });

  it('a rejected event fails and changes nothing', async () => {
    const stayer = await identity('leaver.two');
    const date = dayFromNow(10);
    const event = await ok(await post('/personnel-events/offboard', { identityId: stayer, effectiveDate: date }), 201);
    const [task] = (await inbox(hrKey)).filter((x) => x.eventId === event.id);
    await ok(await post(`/approvals/${task!.id}/reject`, { comment: 'not leaving after all' }, hrKey));
    const rejected = await ok(await get(`/personnel-events/${event.id}`));
    expect(rejected.status).toBe('failed');
    expect(rejected.stages[0]).toMatchObject({ name: 'Approve', status: 'failed' });
    await runAt(date);
    expect((await ok(await get(`/identities/${stayer}`))).status).toBe('active');
  });

  it('without auto-approval of HR events, an event no policy names goes to the manager', async () => {
    await ok(await patch('/settings', { personnelEvents: { autoApproveHr: false } }));
    try {
      const manager = await identity('line.manager');
      const managerKey = await keyOf(manager);
      const employee = await identity('on.leave', { managerId: manager });
      const event = await ok(await post('/personnel-events/leave-of-absence', { identityId: employee, effectiveDate: dayFromNow(5), endDate: dayFromNow(20) }), 201);
      expect(event.status).toBe('pending_approval');
      const [task] = (await inbox(managerKey)).filter((x) => x.eventId === event.id);
      expect(task).toMatchObject({ step: 'Manager' });
      // The manager is the approver; the HR lead of the offboarding policy is not.
      expect((await inbox(hrKey)).filter((x) => x.eventId === event.id)).toEqual([]);
      await ok(await post(`/approvals/${task!.id}/approve`, {}, managerKey));
      expect((await ok(await get(`/personnel-events/${event.id}`))).status).toBe('scheduled');
    } finally {
      await ok(await patch('/settings', { personnelEvents: { autoApproveHr: true } }));
    }
  });

  it('with auto-approval (the default), an event no policy names is approved at once', async () => {
    const employee = await identity('mover.one');
    const event = await ok(await post('/personnel-events/leave-of-absence', { identityId: employee, effectiveDate: dayFromNow(5), endDate: dayFromNow(9) }), 201);
    expect(event.status).toBe('scheduled');
    expect(event.stages[0]).toMatchObject({ name: 'Approve', status: 'completed' });
  });
});
