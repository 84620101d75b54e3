/**
 * Personnel-event stages on the durable scheduler: two runners at once run each stage once
 * (on PostgreSQL the two runners contend for the same rows), and a stage that dies half-way
 * leaves nothing applied and runs once when retried.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueJobs } from '../../src/services/kernel/index.ts';
import type { ServiceDeps } from '../../src/services/deps.ts';
import { v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
const { get, post } = v1Calls(() => t);
const yesterday = () => new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);

beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

async function offboardingOf(username: string): Promise<{ identityId: string; eventId: string }> {
  const identity = await post('/identities', { username });
  expect(identity.statusCode, identity.body).toBe(201);
  const identityId = identity.json().id as string;
  const granted = await post('/assignments', { assignee: { type: 'identity', id: identityId }, resource: { type: 'role', id: await someRole() } });
  expect(granted.statusCode, granted.body).toBe(201);
  const event = await post('/personnel-events/offboard', { identityId, effectiveDate: yesterday() });
  expect(event.statusCode, event.body).toBe(201);
  return { identityId, eventId: event.json().id as string };
}

let roleId: string | null = null;
async function someRole(): Promise<string> {
  if (roleId) return roleId;
  const res = await post('/roles', { name: 'Clerk' });
  expect(res.statusCode, res.body).toBe(201);
  roleId = res.json().id as string;
  return roleId;
}

async function entries(eventId: string, text: string): Promise<number> {
  const rows = await t.store.read(t.tenantId).db.selectFrom('workflow_entries').select('id').where('subject_id', '=', eventId).where('text', '=', text).execute();
  return rows.length;
}

async function auditCount(action: string, targetId: string): Promise<number> {
  const rows = await t.store.read(t.tenantId).db.selectFrom('audit_events').select('seq').where('action', '=', action).where('target_id', '=', targetId).execute();
  return rows.length;
}

describe('personnel-event stages on the scheduler', () => {
  it('two runners at once run each stage exactly once', async () => {
    const events = [];
    for (let i = 0; i < 12; i++) events.push(await offboardingOf(`leaver-${i}`));
    const now = new Date(Date.now() + 60_000);
    for (let round = 0; round < 3; round++) {
      await Promise.all([runDueJobs(t.services.deps, { node: 'node-a', now }), runDueJobs(t.services.deps, { node: 'node-b', now })]);
    }
    for (const { identityId, eventId } of events) {
      expect(await entries(eventId, 'Deprovision completed')).toBe(1);
      expect(await entries(eventId, 'Verified: the change is confirmed; the event is completed')).toBe(1);
      // The identity was terminated by one write, its assignment revoked by one.
      expect(await auditCount('identity.update', identityId)).toBe(1);
      const event = await get(`/personnel-events/${eventId}`);
      expect(event.json()).toMatchObject({ status: 'completed', stages: [{ status: 'completed' }, { status: 'completed' }, { status: 'completed' }] });
      const assignments = await get(`/assignments?assigneeId=${identityId}`);
      expect(assignments.json().items.map((a: { state: string }) => a.state)).toEqual(['revoked']);
    }
    const jobs = await t.store.read(t.tenantId).db.selectFrom('scheduled_jobs').select(['status', 'attempts']).where('kind', '=', 'personnel_event.stage').execute();
    expect(jobs.every((j) => j.status === 'done' && Number(j.attempts) === 1)).toBe(true);
  });

  it('a stage that dies half-way leaves nothing applied; the retry applies it once', async () => {
    const { identityId, eventId } = await offboardingOf('crash-leaver');
    const dying: ServiceDeps = {
      ...t.services.deps,
      directoryHooks: {
        afterIdentityChange: [
          ...(t.services.deps.directoryHooks?.afterIdentityChange ?? []),
          async () => {
            throw new Error('the node died in the middle of the stage');
          },
        ],
      },
    };
    const first = await runDueJobs(dying, { node: 'dies', now: new Date(Date.now() + 60_000) });
    expect(first.retried).toBe(1);
    expect((await get(`/identities/${identityId}`)).json().status).toBe('active');
    expect((await get(`/assignments?assigneeId=${identityId}`)).json().items.map((a: { state: string }) => a.state)).toEqual(['active']);
    expect((await get(`/personnel-events/${eventId}`)).json().stages[1].status).toBe('pending');

    // After the retry delay a healthy node runs it, once.
    await runDueJobs(t.services.deps, { node: 'healthy', now: new Date(Date.now() + 10 * 60_000) });
    await runDueJobs(t.services.deps, { node: 'healthy', now: new Date(Date.now() + 10 * 60_000) });
    expect((await get(`/identities/${identityId}`)).json().status).toBe('terminated');
    expect(await entries(eventId, 'Deprovision completed')).toBe(1);
    expect(await auditCount('identity.update', identityId)).toBe(1);
    expect((await get(`/personnel-events/${eventId}`)).json().status).toBe('completed');
  });
});
