/**
 * The escalation paths of issue 12, replayed through the HTTP API: each must be refused
 * whole (403 naming the rights, or 409 for the last full administrator), and a refused
 * request must change nothing — neither the object nor its audit trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Right } from '../../src/domain/rights.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import {
  ALL_RIGHTS,
  bootstrapAdmin,
  call,
  callerWith,
  expectRefusedUnchanged,
  permissionIdOf,
  rightsOf,
  row,
  writeEventsAbout,
} from '../support/escalation-fixtures.ts';

const V1 = '/api/v1';
const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString();

async function created(res: { statusCode: number; body: string; json(): unknown }): Promise<{ id: string; number: number }> {
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as { id: string; number: number };
}

async function assignmentsOf(t: TestApp, assigneeId: string) {
  return t.store.read(t.tenantId).db.selectFrom('assignments').selectAll().where('tenant_id', '=', t.tenantId).where('assignee_id', '=', assigneeId).execute();
}

describe('path 1: pause, mint, resume', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('refuses to pause the only full administrator (409), and with a second one refuses the resume (403)', async () => {
    const attacker = await callerWith(t, 'p1:attacker', ['manage-users', 'manage-clients']);
    const admin = await bootstrapAdmin(t);
    const pause = () => call(t, attacker.auth, 'POST', `${V1}/assignments/${admin.assignmentId}/pause`);

    const refused = await expectRefusedUnchanged(t, [{ table: 'assignments', id: admin.assignmentId }], pause, 409);
    expect(refused).toMatchObject({ code: 'conflict', reason: 'last_full_administrator' });
    expect((await call(t, t.auth.authorization, 'GET', `${V1}/me`)).json().rights).toHaveLength(ALL_RIGHTS.length);

    // With a second full administrator the pause is a loss of rights, which is allowed.
    await callerWith(t, 'p1:second-admin', ALL_RIGHTS);
    expect((await pause()).statusCode).toBe(200);
    expect(await rightsOf(t, admin.identityId)).toEqual(new Set());

    // Minting a key that acts as the (now rightless) administrator is not the escalation:
    // resuming its role is, and it is refused whole, naming the rights.
    const resume = () => call(t, attacker.auth, 'POST', `${V1}/assignments/${admin.assignmentId}/resume`);
    const body = await expectRefusedUnchanged(t, [{ table: 'assignments', id: admin.assignmentId }], resume, 403);
    expect(body.code).toBe('forbidden');
    expect(body.rightsBeyondCaller).toEqual(expect.arrayContaining(['manage-roles', 'manage-system-settings', 'read-audit']));
    expect(body.rightsBeyondCaller).not.toContain('manage-users');
    expect(body.identities).toEqual([admin.identityId]);
    expect((await row(t, 'assignments', admin.assignmentId))?.state).toBe('paused');
  });
});

describe('path 2: rights reached through the directory, rules, roles, validity and delegation', () => {
  let t: TestApp;
  let m: Awaited<ReturnType<typeof callerWith>>;
  let settingsUnit: string;
  const admin = (method: 'POST' | 'PATCH' | 'DELETE', url: string, body?: unknown) => call(t, t.auth.authorization, method, url, body);
  const perm = (right: Right) => permissionIdOf(t, right);

  beforeAll(async () => {
    t = await createTestApp();
    m = await callerWith(t, 'p2:manager', ['manage-users']);
    settingsUnit = (await created(await admin('POST', `${V1}/org-units`, { name: 'Settings holders' }))).id;
    await created(await admin('POST', `${V1}/assignments`, { assignee: { type: 'orgUnit', id: settingsUnit }, resource: { type: 'permission', id: await perm('manage-system-settings') } }));
  });
  afterAll(async () => t.close());

  it('refuses moving oneself into a unit that holds a right one lacks', async () => {
    const body = await expectRefusedUnchanged(
      t,
      [{ table: 'identities', id: m.identityId }],
      () => call(t, m.auth, 'PATCH', `${V1}/identities/${m.identityId}`, { orgUnitId: settingsUnit }),
      403,
    );
    expect(body).toMatchObject({ code: 'forbidden', rightsBeyondCaller: ['manage-system-settings'], identities: [m.identityId] });
    expect(await rightsOf(t, m.identityId)).toEqual(new Set(['manage-users']));
  });

  it('refuses creating an identity in that unit, and allows it in a unit without rights', async () => {
    const before = await t.store.read(t.tenantId).db.selectFrom('identities').select('id').where('tenant_id', '=', t.tenantId).execute();
    const res = await call(t, m.auth, 'POST', `${V1}/identities`, { username: 'p2-new', orgUnitId: settingsUnit });
    expect(res.statusCode).toBe(403);
    const after = await t.store.read(t.tenantId).db.selectFrom('identities').select('id').where('tenant_id', '=', t.tenantId).execute();
    expect(after).toHaveLength(before.length);
    await created(await call(t, m.auth, 'POST', `${V1}/identities`, { username: 'p2-plain' }));
  });

  it('refuses an attribute change that makes an assignment rule give a right', async () => {
    await created(
      await admin('POST', `${V1}/assignment-rules`, {
        name: 'ops get settings',
        condition: { attributes: [{ name: 'department', equals: 'ops' }] },
        resources: [{ type: 'permission', id: await perm('manage-system-settings') }],
      }),
    );
    await expectRefusedUnchanged(
      t,
      [{ table: 'identities', id: m.identityId }],
      () => call(t, m.auth, 'PATCH', `${V1}/identities/${m.identityId}`, { attributes: { department: 'ops' } }),
      403,
    );
    expect((await assignmentsOf(t, m.identityId)).filter((a) => a.source === 'rule')).toEqual([]);
  });

  it('refuses a rule created by a caller lacking the right it gives', async () => {
    const res = await call(t, m.auth, 'POST', `${V1}/assignment-rules`, {
      name: 'everyone audits',
      condition: { attributes: [{ name: 'type', in: ['employee', 'service'] }] },
      resources: [{ type: 'permission', id: await perm('read-audit') }],
    });
    expect(res.statusCode).toBe(403);
    expect(res.json().rightsBeyondCaller).toEqual(['read-audit']);
    const rules = await t.store.read(t.tenantId).db.selectFrom('assignment_rules').select('name').where('tenant_id', '=', t.tenantId).execute();
    expect(rules.map((r) => r.name)).not.toContain('everyone audits');
  });

  it('refuses a role the caller may edit gaining an inclusion of a role with rights', async () => {
    const editor = await callerWith(t, 'p2:role-editor', ['manage-roles', 'manage-users']);
    const role = await created(await call(t, editor.auth, 'POST', `${V1}/roles`, { name: 'Editors' }));
    await created(await call(t, editor.auth, 'POST', `${V1}/assignments`, { assignee: { type: 'identity', id: editor.identityId }, resource: { type: 'role', id: role.id } }));
    const { roleId: adminRole } = await bootstrapAdmin(t);
    const body = await expectRefusedUnchanged(
      t,
      [{ table: 'roles', id: role.id }],
      () => call(t, editor.auth, 'PATCH', `${V1}/roles/${role.id}`, { includedRoleIds: [adminRole] }),
      403,
    );
    expect(body.rightsBeyondCaller).toEqual(expect.arrayContaining(['manage-system-settings', 'manage-clients']));
    expect(await rightsOf(t, editor.identityId)).toEqual(new Set(['manage-roles', 'manage-users']));
  });

  it('refuses resuming an assignment that is valid only from tomorrow', async () => {
    const target = await callerWith(t, 'p2:future', []);
    const future = await created(
      await admin('POST', `${V1}/assignments`, { assignee: { type: 'identity', id: target.identityId }, resource: { type: 'permission', id: await perm('manage-roles') }, validFrom: tomorrow() }),
    );
    expect((await admin('POST', `${V1}/assignments/${future.id}/pause`)).statusCode).toBe(200);
    const body = await expectRefusedUnchanged(t, [{ table: 'assignments', id: future.id }], () => call(t, m.auth, 'POST', `${V1}/assignments/${future.id}/resume`), 403);
    expect(body).toMatchObject({ rightsBeyondCaller: ['manage-roles'], identities: [target.identityId] });
  });

  it('refuses bringing forward a right an identity holds only from tomorrow', async () => {
    const target = await callerWith(t, 'p2:sooner', []);
    const resource = { type: 'permission', id: await perm('approve-requests') };
    await created(await admin('POST', `${V1}/assignments`, { assignee: { type: 'identity', id: target.identityId }, resource, validFrom: tomorrow() }));
    const now = await created(await admin('POST', `${V1}/assignments`, { assignee: { type: 'identity', id: target.identityId }, resource }));
    expect((await admin('POST', `${V1}/assignments/${now.id}/pause`)).statusCode).toBe(200);
    const body = await expectRefusedUnchanged(t, [{ table: 'assignments', id: now.id }], () => call(t, m.auth, 'POST', `${V1}/assignments/${now.id}/resume`), 403);
    expect(body).toMatchObject({ rightsBeyondCaller: ['approve-requests'], identities: [target.identityId] });
    expect(await rightsOf(t, target.identityId)).toEqual(new Set());
  });

  it('refuses a delegation that gives a right the delegating credential does not hold', async () => {
    // A delegable right (made so below the API: built-in permissions are read-only there).
    const settings = await perm('manage-system-settings');
    await t.store.write(t.tenantId, { actorType: 'system', actorId: null, actorName: 'test fixture' }, async (tx) => {
      await tx.db.updateTable('permissions').set({ delegable: 1 }).where('tenant_id', '=', tx.tenantId).where('id', '=', settings).execute();
      tx.audit({ action: 'permission.update', targetType: 'permission', targetId: settings });
      tx.change('permission', settings, 'update');
    });
    const holder = await callerWith(t, 'p2:holder', ['manage-system-settings']);
    const source = (await assignmentsOf(t, holder.identityId))[0]!;
    const { secret } = await (await import('../support/security-fixtures.ts')).apiKeyFor(t.services, t.tenantId, holder.identityId, { scopes: ['grantory:read-audit'] });
    const delegatee = await callerWith(t, 'p2:delegatee', []);
    const res = await call(t, `Bearer ${secret}`, 'POST', `${V1}/assignments/${source.id}/delegate`, { assigneeId: delegatee.identityId });
    expect(res.statusCode, res.body).toBe(403);
    expect(res.json()).toMatchObject({ rightsBeyondCaller: ['manage-system-settings'], identities: [delegatee.identityId] });
    expect(await assignmentsOf(t, delegatee.identityId)).toEqual([]);
    // The holder's own unscoped key may delegate what it holds.
    expect((await call(t, holder.auth, 'POST', `${V1}/assignments/${source.id}/delegate`, { assigneeId: delegatee.identityId })).statusCode).toBe(201);
    expect(await rightsOf(t, delegatee.identityId)).toEqual(new Set(['manage-system-settings']));
  });

  it('refuses moving a unit under a unit with rights', async () => {
    const plain = await created(await admin('POST', `${V1}/org-units`, { name: 'Plain' }));
    await callerWith(t, 'p2:member', [], { orgUnitId: plain.id });
    const body = await expectRefusedUnchanged(
      t,
      [{ table: 'org_units', id: plain.id }],
      () => call(t, m.auth, 'PATCH', `${V1}/org-units/${plain.id}`, { parentId: settingsUnit }),
      403,
    );
    expect(body.rightsBeyondCaller).toEqual(['manage-system-settings']);
  });

  it('allows terminating an identity holding rights the caller lacks, and refuses making it active again', async () => {
    const holder = await callerWith(t, 'p2:leaver', ['manage-roles']);
    expect((await call(t, m.auth, 'PATCH', `${V1}/identities/${holder.identityId}`, { status: 'terminated' })).statusCode).toBe(200);
    const body = await expectRefusedUnchanged(
      t,
      [{ table: 'identities', id: holder.identityId }],
      () => call(t, m.auth, 'PATCH', `${V1}/identities/${holder.identityId}`, { status: 'active' }),
      403,
    );
    expect(body.rightsBeyondCaller).toEqual(['manage-roles']);
    expect((await row(t, 'identities', holder.identityId))?.status).toBe('terminated');
  });
});

describe('paths 3 and 5: lock-out, and a 403 that wrote', () => {
  let t: TestApp;
  let m: Awaited<ReturnType<typeof callerWith>>;
  const cx = (method: 'PUT' | 'POST', path: string, body: unknown) =>
    t.app.inject({
      method,
      url: `/cxrestapi/auth${path}`,
      headers: { authorization: m.auth, accept: 'application/json;v=1.0', 'content-type': 'application/json;v=1.0' },
      payload: JSON.stringify(body),
    });

  beforeAll(async () => {
    t = await createTestApp();
    m = await callerWith(t, 'p3:manager', ['manage-users']);
  });
  afterAll(async () => t.close());

  it('refuses terminating the only full administrator, natively and through Checkmarx', async () => {
    const admin = await bootstrapAdmin(t);
    const watched = [{ table: 'identities' as const, id: admin.identityId }];
    const native = await expectRefusedUnchanged(t, watched, () => call(t, m.auth, 'PATCH', `${V1}/identities/${admin.identityId}`, { status: 'terminated' }), 409);
    expect(native).toMatchObject({ code: 'conflict', reason: 'last_full_administrator' });
    await expectRefusedUnchanged(t, watched, () => cx('PUT', `/Users/${admin.number}`, { userName: 'admin', active: false }), 409);
    await expectRefusedUnchanged(t, watched, () => call(t, m.auth, 'PATCH', `${V1}/identities/${admin.identityId}`, { status: 'on_leave' }), 409);
    const me = await call(t, t.auth.authorization, 'GET', `${V1}/me`);
    expect(me.json().rights).toHaveLength(ALL_RIGHTS.length);
  });

  it('refuses a Checkmarx PUT giving the Admin role whole: the username is unchanged', async () => {
    const user = await created(await cx('POST', '/Users', { userName: 'p5-user' }));
    const { roleId } = await bootstrapAdmin(t);
    const adminRole = await row(t, 'roles', roleId);
    const watched = [{ table: 'identities' as const, id: (await t.store.read(t.tenantId).db.selectFrom('identities').select('id').where('number', '=', Number(user.id)).where('tenant_id', '=', t.tenantId).executeTakeFirstOrThrow()).id }];
    const body = await expectRefusedUnchanged(t, watched, () => cx('PUT', `/Users/${user.id}`, { userName: 'p5-renamed', roleIds: [Number(adminRole!.number)] }), 403);
    expect(JSON.stringify(body)).toContain('manage-system-settings');
    expect((await row(t, 'identities', watched[0]!.id))?.username).toBe('p5-user');
    expect(await writeEventsAbout(t, watched[0]!.id)).toEqual(['identity.create']);
    // The same with roles the caller may give is one write that does both.
    const rename = await cx('PUT', `/Users/${user.id}`, { userName: 'p5-renamed', roleIds: [] });
    expect(rename.statusCode).toBe(204);
    expect((await row(t, 'identities', watched[0]!.id))?.username).toBe('p5-renamed');
  });
});
