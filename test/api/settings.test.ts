/** GET/PATCH /api/v1/settings, the workflow journal, and the manager of an organization unit. */
import { afterEach, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/services/kernel/index.ts';
import { journalOf, recordActivity, recordComment } from '../../src/services/workflow/index.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp | undefined;
afterEach(async () => {
  await t?.close();
  t = undefined;
});

async function keyWithout(app: TestApp, right: string): Promise<{ authorization: string }> {
  const id = await app.app.inject({ method: 'POST', url: '/api/v1/identities', headers: app.auth, payload: { subject: 'plain', username: 'plain' } });
  expect(id.statusCode).toBe(201);
  const key = await app.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: app.auth, payload: { name: `no ${right}`, identityId: id.json().id } });
  expect(key.statusCode).toBe(201);
  return { authorization: `Bearer ${key.json().secret as string}` };
}

describe('tenant settings', () => {
  it('shows the defaults, changes a subset, and audits the change', async () => {
    t = await createTestApp();
    const get = await t.app.inject({ method: 'GET', url: '/api/v1/settings', headers: t.auth });
    expect(get.statusCode).toBe(200);
    expect(get.json()).toEqual({
      timeZone: 'UTC',
      personnelEvents: { unjustifiedAccess: 'review', autoApproveHr: true },
      provisioning: { failAfterImports: 3 },
      compatibility: { checkmarx: true, coreone: true, celonis: true, permissionAssist: true },
    });
    const patch = await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: t.auth, payload: { timeZone: 'Europe/Zurich', personnelEvents: { unjustifiedAccess: 'remove' } } });
    expect(patch.statusCode).toBe(200);
    expect(patch.json()).toMatchObject({ timeZone: 'Europe/Zurich', personnelEvents: { unjustifiedAccess: 'remove', autoApproveHr: true }, revision: expect.any(Number) });
    const again = await t.app.inject({ method: 'GET', url: '/api/v1/settings', headers: t.auth });
    expect(again.json().timeZone).toBe('Europe/Zurich');
    const audit = await t.app.inject({ method: 'GET', url: '/api/v1/audit-events?action=settings.update', headers: t.auth });
    expect(audit.json().items[0]).toMatchObject({ action: 'settings.update', before: { timeZone: 'UTC' }, after: { timeZone: 'Europe/Zurich' } });
  });

  it('refuses an unknown time zone, unknown fields and out-of-range values, naming the field', async () => {
    t = await createTestApp();
    const zone = await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: t.auth, payload: { timeZone: 'Mars/Olympus' } });
    expect(zone.statusCode).toBe(400);
    expect(zone.json().errors[0].field).toBe('timeZone');
    const unknown = await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: t.auth, payload: { colour: 'blue' } });
    expect(unknown.statusCode).toBe(400);
    const range = await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: t.auth, payload: { provisioning: { failAfterImports: 0 } } });
    expect(range.statusCode).toBe(400);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/settings', headers: t.auth })).json().timeZone).toBe('UTC');
  });

  it('lets any caller read but only manage-system-settings change', async () => {
    t = await createTestApp();
    const plain = await keyWithout(t, 'manage-system-settings');
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/settings', headers: plain })).statusCode).toBe(200);
    const denied = await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: plain, payload: { timeZone: 'Europe/Zurich' } });
    expect(denied.statusCode).toBe(403);
  });
});

describe('organization unit manager', () => {
  it('sets, shows and clears a unit manager, refuses an unknown one, and blocks deleting the manager', async () => {
    t = await createTestApp();
    const boss = (await t.app.inject({ method: 'POST', url: '/api/v1/identities', headers: t.auth, payload: { subject: 'boss', username: 'boss' } })).json();
    const unit = await t.app.inject({ method: 'POST', url: '/api/v1/org-units', headers: t.auth, payload: { name: 'Finance', managerId: boss.id } });
    expect(unit.statusCode).toBe(201);
    expect(unit.json().managerId).toBe(boss.id);
    const unknown = await t.app.inject({ method: 'PATCH', url: `/api/v1/org-units/${unit.json().id}`, headers: t.auth, payload: { managerId: 'nobody' } });
    expect(unknown.statusCode).toBe(400);
    expect(unknown.json().errors[0].field).toBe('managerId');
    const blocked = await t.app.inject({ method: 'DELETE', url: `/api/v1/identities/${boss.id}`, headers: t.auth });
    expect(blocked.statusCode).toBe(409);
    const cleared = await t.app.inject({ method: 'PATCH', url: `/api/v1/org-units/${unit.json().id}`, headers: t.auth, payload: { managerId: null } });
    expect(cleared.statusCode).toBe(200);
    expect(cleared.json().managerId).toBeNull();
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/identities/${boss.id}`, headers: t.auth })).statusCode).toBe(200);
  });
});

describe('workflow journal', () => {
  it('keeps comments and activity apart, in order, with who wrote them, and audits comments', async () => {
    t = await createTestApp();
    const subject = { kind: 'personnel_event' as const, id: 'event-1' };
    const actor = systemActor(t.tenantId, 'HR Integration');
    await t.store.write(t.tenantId, { actorType: 'system', actorId: null, actorName: 'test' }, async (tx) => {
      await recordActivity(tx, null, subject, 'Created', { type: 'offboard' });
      await recordComment(tx, actor, subject, '  last day is Friday  ');
      await recordActivity(tx, actor, subject, 'Approved');
    });
    const { comments, activity } = await journalOf(t.store.read(t.tenantId), subject);
    expect(activity.map((a) => [a.text, a.actor.name, a.detail])).toEqual([
      ['Created', 'system', { type: 'offboard' }],
      ['Approved', 'HR Integration', null],
    ]);
    expect(comments.map((c) => [c.text, c.actor.name])).toEqual([['last day is Friday', 'HR Integration']]);
    const audit = await t.app.inject({ method: 'GET', url: '/api/v1/audit-events?action=personnelEvent.comment', headers: t.auth });
    expect(audit.json().items).toHaveLength(1);
    await expect(
      t.store.write(t.tenantId, { actorType: 'system', actorId: null, actorName: 'test' }, (tx) => recordComment(tx, actor, subject, '   ')),
    ).rejects.toMatchObject({ code: 'validation_failed' });
  });
});
