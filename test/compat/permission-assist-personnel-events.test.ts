/**
 * Permission Assist personnel events (COMPAT.md §2): the create routes with the vendor's
 * bodies (201), the event shape with the token's name as reporter, the list envelope and
 * filters, and `validation_error` naming the field.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueJobs } from '../../src/services/kernel/index.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
let token: { authorization: string };
let managerId: string;

const pa = (method: 'GET' | 'POST', url: string, payload?: object) => t.app.inject({ method, url, headers: token, ...(payload ? { payload } : {}) });

beforeAll(async () => {
  t = await createTestApp();
  const key = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name: 'HR Integration', scopes: ['grantory:manage-personnel-events'] } });
  expect(key.statusCode, key.body).toBe(201);
  token = { authorization: `Bearer ${key.json().secret as string}` };
  const manager = await t.app.inject({ method: 'POST', url: '/api/v1/identities', headers: t.auth, payload: { username: 'pa-boss', firstName: 'Pat', lastName: 'Boss' } });
  managerId = manager.json().id as string;
});
afterAll(async () => t.close());

describe('Permission Assist personnel events', () => {
  it('creates an onboarding from an HRIS body and shows it in the vendor shape', async () => {
    const res = await pa('POST', '/api/personnel-events/onboard', {
      identity: { firstName: 'Lin', lastName: 'Ng', email: 'lin@example.com', supervisorId: managerId, department: 'Finance', title: 'Analyst', identityType: 'Employee' },
      effectiveDate: '2030-03-15',
      comment: 'Starts in March',
    });
    expect(res.statusCode, res.body).toBe(201);
    const event = res.json();
    expect(event).toMatchObject({
      kind: 'Personnel Event',
      number: expect.any(Number),
      type: 'Onboard',
      status: 'Scheduled',
      reporter: 'API Token - HR Integration',
      affectedIdentity: 'Lin Ng',
      neededOn: '2030-03-15T00:00:00.000Z',
      neededUntil: null,
      completedOn: null,
    });
    expect(event.stages.map((s: { name: string; status: string }) => `${s.name}:${s.status}`)).toEqual(['Approve:Completed', 'Provision:Pending', 'Verify:Pending']);
    expect(event.activity[0]).toMatchObject({ user: 'API Token - HR Integration', text: expect.stringContaining('Created') });

    const one = await pa('GET', `/api/personnel-events/${event.id}`);
    expect(one.statusCode).toBe(200);
    expect(one.json().id).toBe(event.id);

    // On the day the joiner exists, with the HR fields as Grantory attributes and the supervisor as manager.
    await runDueJobs(t.services.deps, { node: 'test', now: new Date('2030-03-15T00:01:00Z') });
    const after = (await pa('GET', `/api/personnel-events/${event.id}`)).json();
    expect(after.affectedIdentityId).toEqual(expect.any(String));
    const identity = await t.app.inject({ method: 'GET', url: `/api/v1/identities/${after.affectedIdentityId as string}`, headers: t.auth });
    expect(identity.json()).toMatchObject({ firstName: 'Lin', managerId, type: 'employee', attributes: { department: 'Finance', title: 'Analyst' } });
  });

  it('creates offboarding, role transition and absence events, and lists them with filters', async () => {
    const person = await t.app.inject({ method: 'POST', url: '/api/v1/identities', headers: t.auth, payload: { username: 'pa-person', firstName: 'Sam', lastName: 'Lee' } });
    const identityId = person.json().id as string;
    const absence = await pa('POST', '/api/personnel-events/leave-of-absence', { identityId, effectiveDate: '2030-06-01', endDate: '2030-07-01T00:00:00Z' });
    expect(absence.statusCode, absence.body).toBe(201);
    expect(absence.json()).toMatchObject({ type: 'Absence', neededUntil: '2030-07-01T00:00:00.000Z', stages: [{ name: 'Approve' }, { name: 'Suspend' }, { name: 'Restore' }, { name: 'Verify' }] });
    const move = await pa('POST', '/api/personnel-events/role-transition', { identityId, effectiveDate: '2030-08-01', identity: { title: 'Lead', department: 'Sales' } });
    expect(move.statusCode, move.body).toBe(201);
    expect(move.json()).toMatchObject({ type: 'Role Transition', stages: [{ name: 'Approve' }, { name: 'Transition' }, { name: 'Verify' }] });
    const leave = await pa('POST', '/api/personnel-events/offboard', { identityId, effectiveDate: '2030-12-31' });
    expect(leave.statusCode, leave.body).toBe(201);
    expect(leave.json()).toMatchObject({ type: 'Offboard', affectedIdentity: 'Sam Lee' });

    const list = await pa('GET', `/api/personnel-events?identityId=${identityId}`);
    expect(list.json()).toMatchObject({ totalCount: 3, page: 1, pageSize: 50, totalPages: 1 });
    const absences = await pa('GET', `/api/personnel-events?identityId=${identityId}&type=absence&status=scheduled`);
    expect(absences.json().items.map((e: { type: string }) => e.type)).toEqual(['Absence']);
    const badType = await pa('GET', '/api/personnel-events?type=Promotion');
    expect(badType.statusCode).toBe(400);
    expect(badType.json()).toMatchObject({ error: 'validation_error', errors: [{ field: 'type' }] });

    const twice = await pa('POST', '/api/personnel-events/offboard', { identityId, effectiveDate: '2031-01-31' });
    expect(twice.statusCode).toBe(409);
    expect(twice.json()).toMatchObject({ error: 'conflict', message: expect.stringContaining(`#${leave.json().number as number}`) });
  });

  it('answers validation_error naming the field', async () => {
    const missing = await pa('POST', '/api/personnel-events/onboard', { identity: { firstName: 'No' }, effectiveDate: '2030-01-01' });
    expect(missing.statusCode).toBe(400);
    expect(missing.json()).toMatchObject({ error: 'validation_error', correlationId: expect.stringMatching(/^[0-9a-f]{32}$/), errors: [{ field: 'identity.lastName' }] });
    const noDate = await pa('POST', '/api/personnel-events/offboard', { identityId: managerId });
    expect(noDate.json()).toMatchObject({ error: 'validation_error', errors: [{ field: 'effectiveDate' }] });
    const badDate = await pa('POST', '/api/personnel-events/offboard', { identityId: managerId, effectiveDate: '2030-02-30' });
    expect(badDate.statusCode).toBe(400);
    expect(badDate.json()).toMatchObject({ error: 'validation_error', errors: [{ field: 'effectiveDate' }] });
    const unknown = await pa('POST', '/api/personnel-events/offboard', { identityId: '00000000-0000-4000-8000-000000000000', effectiveDate: '2030-02-01' });
    expect(unknown.json()).toMatchObject({ error: 'validation_error', errors: [{ field: 'identityId' }] });
    const noToken = await t.app.inject({ method: 'GET', url: '/api/personnel-events' });
    expect(noToken.statusCode).toBe(401);
    expect(noToken.json().error).toBe('unauthorized');
  });
});
