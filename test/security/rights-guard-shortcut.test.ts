/**
 * The rights guard's shortcut: a write that cannot move any Grantory right skips the guard's
 * before/after (an identity provider's first push creates thousands of identities holding
 * nothing). Each case makes one change inside a write, asks `mayMoveRights`, and rolls the
 * write back; the escalation tests (escalation.test.ts) check the refusals end to end.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { canonicalJson } from '../../src/domain/canonical-json.ts';
import { mayMoveRights } from '../../src/services/kernel/rights-guard.ts';
import type { WriteTx } from '../../src/store/store.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { call, callerWith, permissionIdOf } from '../support/escalation-fixtures.ts';

const V1 = '/api/v1';

class RolledBack extends Error {
  constructor(readonly moves: boolean) {
    super('rolled back');
  }
}

describe('rights guard: which writes can move a right', () => {
  let t: TestApp;
  const admin = (method: 'POST' | 'PATCH', url: string, body?: unknown) => call(t, t.auth.authorization, method, url, body);
  const createdId = async (method: 'POST', url: string, body: unknown) => {
    const res = await admin(method, url, body);
    expect(res.statusCode, res.body).toBe(201);
    return (res.json() as { id: string }).id;
  };

  /** Runs `change` in a write, answers `mayMoveRights` for what it touched, and rolls it back. */
  async function moves(change: (tx: WriteTx) => Promise<[entity: string, id: string][]>): Promise<boolean> {
    try {
      await t.store.write(t.tenantId, { actorType: 'system', actorId: null, actorName: 'test' }, async (tx) => {
        const touched = new Map<string, Set<string>>();
        for (const [entity, id] of await change(tx)) (touched.get(entity) ?? touched.set(entity, new Set()).get(entity)!).add(id);
        throw new RolledBack(await mayMoveRights(t.store, tx, touched));
      });
    } catch (e) {
      if (e instanceof RolledBack) return e.moves;
      throw e;
    }
    throw new Error('the write was not rolled back');
  }

  const newIdentity = (unitId: string | null) => async (tx: WriteTx): Promise<[string, string][]> => {
    const id = randomUUID();
    await tx.db
      .insertInto('identities')
      .values({
        id, tenant_id: t.tenantId, number: await tx.nextNumber('identities'), subject: `s-${id}`, username: `u-${id}`, email: null, first_name: null, last_name: null,
        display_name: null, employee_number: null, type: 'employee', status: 'active', manager_id: null, org_unit_id: unitId, attributes: canonicalJson({}),
        created_at: tx.now, updated_at: tx.now, version: 1,
      })
      .execute();
    return [['identity', id]];
  };
  const setIdentity = (id: string, set: { status?: string; org_unit_id?: string | null; attributes?: string }) => async (tx: WriteTx): Promise<[string, string][]> => {
    await tx.db.updateTable('identities').set(set).where('id', '=', id).execute();
    return [['identity', id]];
  };
  const setUnit = (id: string, set: { name?: string; parent_id?: string | null }) => async (tx: WriteTx): Promise<[string, string][]> => {
    await tx.db.updateTable('org_units').set(set).where('id', '=', id).execute();
    return [['orgUnit', id]];
  };

  let plain: string;
  let holder: string;
  let delegator: string;
  let unitA: string;
  let unitB: string;

  beforeAll(async () => {
    t = await createTestApp();
    plain = await createdId('POST', `${V1}/identities`, { username: 'plain' });
    holder = (await callerWith(t, 'guard:holder', ['manage-users'])).identityId;
    unitA = await createdId('POST', `${V1}/org-units`, { name: 'A' });
    unitB = await createdId('POST', `${V1}/org-units`, { name: 'B' });
    // A delegation of the holder's right: the delegator's status decides whether it counts.
    delegator = (await callerWith(t, 'guard:delegator', [])).identityId;
    const source = await t.store.read(t.tenantId).db.selectFrom('assignments').selectAll().where('assignee_id', '=', holder).executeTakeFirstOrThrow();
    await t.store.write(t.tenantId, { actorType: 'system', actorId: null, actorName: 'test' }, async (tx) => {
      await tx.db.insertInto('assignments').values({ ...source, id: randomUUID(), assignee_id: plain, delegated_from_id: source.id, delegator_id: delegator, source: 'delegation' }).execute();
      tx.audit({ action: 'assignment.create', targetType: 'assignment', targetId: source.id });
    });
  });
  afterAll(async () => t.close());

  it('an identity holding nothing, created or moved between units while no unit is assigned a right, moves none', async () => {
    expect(await moves(newIdentity(null))).toBe(false);
    expect(await moves(newIdentity(unitA))).toBe(false);
    const other = await createdId('POST', `${V1}/identities`, { username: 'other' });
    expect(await moves(setIdentity(other, { org_unit_id: unitA }))).toBe(false);
    expect(await moves(setIdentity(other, { status: 'terminated' }))).toBe(false);
  });

  it('an identity holding a right, or delegating one, moves rights when its status or unit changes', async () => {
    expect(await moves(setIdentity(holder, { status: 'terminated' }))).toBe(true);
    expect(await moves(setIdentity(holder, { org_unit_id: unitA }))).toBe(true);
    expect(await moves(setIdentity(delegator, { status: 'terminated' }))).toBe(true);
    expect(await moves(setIdentity(plain, { status: 'on_leave' }))).toBe(true);
    // Attributes alone act through assignment rules, whose assignments are judged themselves.
    expect(await moves(setIdentity(holder, { attributes: canonicalJson({ department: 'Finance' }) }))).toBe(false);
  });

  it('a unit moves rights when its parent changes or it is deleted, not when renamed', async () => {
    expect(await moves(setUnit(unitB, { name: 'B renamed' }))).toBe(false);
    expect(await moves(setUnit(unitB, { parent_id: unitA }))).toBe(true);
    expect(
      await moves(async (tx) => {
        await tx.db.deleteFrom('org_units').where('id', '=', unitB).execute();
        return [['orgUnit', unitB]];
      }),
    ).toBe(true);
  });

  it('once some unit is assigned a right, any identity entering or leaving a unit may move one', async () => {
    const res = await admin('POST', `${V1}/assignments`, { assignee: { type: 'orgUnit', id: unitB }, resource: { type: 'permission', id: await permissionIdOf(t, 'read-audit') } });
    expect(res.statusCode, res.body).toBe(201);
    const other = await createdId('POST', `${V1}/identities`, { username: 'joiner' });
    expect(await moves(setIdentity(other, { org_unit_id: unitA }))).toBe(true);
    expect(await moves(newIdentity(unitA))).toBe(true);
    // Still none for an identity in no unit, before or after.
    expect(await moves(newIdentity(null))).toBe(false);
  });
});
