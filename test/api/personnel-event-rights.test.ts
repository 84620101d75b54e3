/**
 * A personnel event's stages run later under the scheduler, but with no more power than the
 * event's creator had: a caller holding only manage-personnel-events cannot move someone into
 * a unit whose assignment rules give Grantory's own rights — the stage fails on the day and
 * nothing of it remains — while an administrator's same event applies.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { runDueJobs } from '../../src/services/kernel/index.ts';
import { callerWith, v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are read loosely

let t: TestApp;
const { get, post } = v1Calls(() => t);
let hr: { authorization: string };
let adminsUnit: string;
let manageUsersId: string;

async function ok(res: { statusCode: number; body: string; json: () => unknown }, status = 200): Promise<Json> {
  expect(res.statusCode, res.body).toBe(status);
  return res.json() as Json;
}
const today = () => new Date().toISOString().slice(0, 10);
const runToday = async () => {
  const now = new Date(Date.now() + 60_000);
  for (let i = 0; i < 5; i++) if ((await runDueJobs(t.services.deps, { node: 'test', now })).done === 0) break;
};
/** The identity's effective access as text (names of permissions included). */
const accessText = async (identityId: string) => JSON.stringify(await ok(await get(`/identities/${identityId}/access`)));

beforeAll(async () => {
  t = await createTestApp();
  hr = await callerWith(t, ['manage-personnel-events']);
  const { db } = t.store.read(t.tenantId);
  const manageUsers = await db
    .selectFrom('permissions')
    .innerJoin('applications', 'applications.id', 'permissions.application_id')
    .select('permissions.id')
    .where('applications.name', '=', 'grantory')
    .where('permissions.name', '=', 'manage-users')
    .executeTakeFirstOrThrow();
  manageUsersId = manageUsers.id;
  adminsUnit = (await ok(await post('/org-units', { name: 'Identity admins' }), 201)).id;
  await ok(await post('/assignment-rules', { name: 'Identity admins manage users', condition: { orgUnitSubtree: adminsUnit }, resources: [{ type: 'permission', id: manageUsers.id }] }), 201);
});
afterAll(async () => t.close());

describe('personnel event stages and Grantory rights', () => {
  it('a stage may not give a right its creator lacks: it fails on the day and changes nothing', async () => {
    const mover = (await ok(await post('/identities', { username: 'mover' }), 201)).id as string;
    const event = await ok(await post('/personnel-events/role-transition', { identityId: mover, effectiveDate: today(), changes: { orgUnitId: adminsUnit } }, hr), 201);
    await runToday();
    const after = await ok(await get(`/personnel-events/${event.id}`));
    expect(after.status).toBe('failed');
    expect(JSON.stringify(after.stages)).toMatch(/rights the caller does not hold \(manage-users\)/);
    const identity = await ok(await get(`/identities/${mover}`));
    expect(identity.orgUnitId).toBeNull();
    expect(await accessText(mover)).not.toContain('manage-users');
  });

  it('the same event created by an administrator applies', async () => {
    const mover = (await ok(await post('/identities', { username: 'mover.two' }), 201)).id as string;
    const event = await ok(await post('/personnel-events/role-transition', { identityId: mover, effectiveDate: today(), changes: { orgUnitId: adminsUnit } }), 201);
    await runToday();
    expect((await ok(await get(`/personnel-events/${event.id}`))).status).not.toBe('failed');
    expect((await ok(await get(`/identities/${mover}`))).orgUnitId).toBe(adminsUnit);
    expect(await accessText(mover)).toContain('manage-users');
  });

  it('in a batch of stages too: moves into a unit that holds manage-users fail, after another job ran in the same write', async () => {
    const unit = (await ok(await post('/org-units', { name: 'Unit admins' }), 201)).id as string;
    await ok(await post('/assignments', { assignee: { type: 'orgUnit', id: unit }, resource: { type: 'permission', id: manageUsersId } }), 201);
    // An offboarding due earlier runs first in the scheduler's write, so the moves are not its first job.
    const leaver = (await ok(await post('/identities', { username: 'batch.leaver' }), 201)).id as string;
    const yesterday = new Date(Date.now() - 86_400_000).toISOString().slice(0, 10);
    const off = await post('/personnel-events/offboard', { identityId: leaver, effectiveDate: yesterday }, hr);
    expect(off.statusCode, off.body).toBe(201);
    const movers: string[] = [];
    const events: string[] = [];
    for (let i = 0; i < 6; i++) {
      const m = (await ok(await post('/identities', { username: `batch.mover.${i}` }), 201)).id as string;
      movers.push(m);
      events.push((await ok(await post('/personnel-events/role-transition', { identityId: m, effectiveDate: today(), changes: { orgUnitId: unit } }, hr), 201)).id);
    }
    await runToday();
    const statuses = [];
    for (const e of events) statuses.push((await ok(await get(`/personnel-events/${e}`))).status);
    const units = [];
    for (const m of movers) units.push((await ok(await get(`/identities/${m}`))).orgUnitId === unit);
    expect({ statuses, units }).toEqual({ statuses: events.map(() => 'failed'), units: movers.map(() => false) });
    for (const m of movers) expect(await accessText(m)).not.toContain('manage-users');
    expect((await ok(await get(`/identities/${leaver}`))).status).toBe('terminated');
  });

  it('ordinary events of a manage-personnel-events caller apply', async () => {
    const leaver = (await ok(await post('/identities', { username: 'leaver' }), 201)).id as string;
    const event = await ok(await post('/personnel-events/offboard', { identityId: leaver, effectiveDate: today() }, hr), 201);
    await runToday();
    expect((await ok(await get(`/personnel-events/${event.id}`))).status).not.toBe('failed');
    expect((await ok(await get(`/identities/${leaver}`))).status).toBe('terminated');
  });
});
