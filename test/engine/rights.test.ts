/** Grantory rights from the access index equal the SQL resolution, through assignment changes. */
import { afterAll, beforeAll, expect, it } from 'vitest';
import { resolveGrantoryRights, resolveGrantoryRightsFromIndex } from '../../src/services/access/rights.ts';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

it('agrees with the SQL resolution for admins, unit members, paused and on-leave identities', async () => {
  const fx = new AccessFixtures(t.store, t.tenantId);
  const db = t.store.read(t.tenantId).db;
  const perm = async (name: string) => (await db.selectFrom('permissions').select('id').where('tenant_id', '=', t.tenantId).where('name', '=', name).executeTakeFirstOrThrow()).id;
  const admin = (await db.selectFrom('identities').select('id').where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow()).id;
  const unit = await fx.unit({ name: 'IT' });
  const child = await fx.unit({ name: 'Helpdesk', parentId: unit });
  const erin = await fx.identity({ subject: 'c1s:erin', unitId: child });
  const frank = await fx.identity({ subject: 'c1s:frank', unitId: child, status: 'on_leave' });
  await fx.assignment({ assigneeType: 'orgUnit', assigneeId: unit, resourceId: await perm('manage-users') });
  const paused = await fx.assignment({ assigneeId: erin, resourceId: await perm('read-audit') });
  await fx.assignment({ assigneeId: erin, resourceId: await perm('manage-roles'), contextType: 'orgUnit', contextId: unit });
  const compare = async () => {
    for (const id of [admin, erin, frank]) {
      const viaSql = [...(await resolveGrantoryRights(t.store.read(t.tenantId), id, new Date().toISOString()))].sort();
      const viaIndex = [...(await resolveGrantoryRightsFromIndex(t.access, t.tenantId, id))].sort();
      expect(viaIndex).toEqual(viaSql);
    }
  };
  await compare();
  expect([...(await resolveGrantoryRightsFromIndex(t.access, t.tenantId, erin))].sort()).toEqual(['manage-users', 'read-audit']);
  await fx.setAssignmentState(paused, 'paused');
  await compare();
  expect([...(await resolveGrantoryRightsFromIndex(t.access, t.tenantId, erin))]).toEqual(['manage-users']);
  expect((await resolveGrantoryRightsFromIndex(t.access, t.tenantId, admin)).size).toBeGreaterThan(5);
});
