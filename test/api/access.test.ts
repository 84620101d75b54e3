/**
 * Assignments, delegation, assignment rules and the reads of effective access, through the
 * HTTP API on the run's backend. Directory rows come from fixtures (store.write), not routes.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { reevaluateRulesForIdentity } from '../../src/services/access/assignment-rules.ts';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
let fx: AccessFixtures;
let clock = new Date('2026-11-25T12:00:00.000Z');
const ids = {} as Record<'root' | 'finance' | 'payables' | 'alice' | 'bob' | 'carol' | 'dave' | 'app' | 'connected' | 'addBill' | 'viewBill' | 'approve' | 'export' | 'clerk' | 'senior', string>;

beforeAll(async () => {
  t = await createTestApp({ now: () => clock });
  fx = new AccessFixtures(t.store, t.tenantId);
  await fx.batch(async (tx) => {
    ids.root = await fx.unit({ name: 'Acme' }, tx);
    ids.finance = await fx.unit({ name: 'Finance', parentId: ids.root }, tx);
    ids.payables = await fx.unit({ name: 'Payables', parentId: ids.finance }, tx);
    ids.alice = await fx.identity({ subject: 'c1s:alice', username: 'alice', unitId: ids.payables, attributes: { department: 'finance' } }, tx);
    ids.bob = await fx.identity({ subject: 'c1s:bob', username: 'bob', unitId: ids.root }, tx);
    ids.carol = await fx.identity({ subject: 'c1s:carol', username: 'carol' }, tx);
    ids.dave = await fx.identity({ subject: 'c1s:dave', username: 'dave', unitId: ids.payables, status: 'on_leave' }, tx);
    ids.app = await fx.application({ name: 'trusteeApp' }, tx);
    ids.connected = await fx.application({ name: 'Ledger', kind: 'connected' }, tx);
    ids.addBill = await fx.permission({ applicationId: ids.app, name: 'AddBill', delegable: true }, tx);
    ids.viewBill = await fx.permission({ applicationId: ids.app, name: 'ViewBill', delegable: true }, tx);
    ids.approve = await fx.permission({ applicationId: ids.app, name: 'Approve' }, tx);
    ids.export = await fx.permission({ applicationId: ids.connected, name: 'Export' }, tx);
    ids.clerk = await fx.role({ name: 'Clerk', permissionIds: [ids.viewBill] }, tx);
    ids.senior = await fx.role({ name: 'Senior clerk', permissionIds: [ids.addBill], includedRoleIds: [ids.clerk] }, tx);
  });
});
afterAll(async () => t.close());

const post = (url: string, payload: unknown, headers: Record<string, string> = t.auth) => t.app.inject({ method: 'POST', url, headers, payload: payload as object });
const get = (url: string, headers: Record<string, string> = t.auth) => t.app.inject({ method: 'GET', url, headers });
const check = async (body: Record<string, unknown>, minRevision?: number): Promise<boolean> => {
  const res = await post(`/api/v1/check${minRevision ? `?minRevision=${minRevision}` : ''}`, body);
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { allowed: boolean }).allowed;
};
const assign = async (body: Record<string, unknown>): Promise<{ id: string; revision: number; state: string }> => {
  const res = await post('/api/v1/assignments', body);
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};

async function keyFor(identityId: string, scopes: string[] | null = null): Promise<Record<string, string>> {
  const res = await post('/api/v1/api-keys', { name: `key ${Math.random()}`, identityId, scopes });
  expect(res.statusCode, res.body).toBe(201);
  return { authorization: `Bearer ${(res.json() as { secret: string }).secret}` };
}

describe('assignments and check', () => {
  it('a role assigned to a unit reaches members of descendant units, with nested roles', async () => {
    const a = await assign({ assignee: { type: 'orgUnit', id: ids.finance }, resource: { type: 'role', id: ids.senior }, reason: 'finance staff' });
    expect(a.state).toBe('active');
    expect(a.revision).toBeGreaterThan(0);
    expect(await check({ identity: ids.alice, application: 'trusteeApp', permission: 'AddBill' }, a.revision)).toBe(true);
    expect(await check({ identity: 'c1s:alice', application: 'trusteeApp', permission: 'ViewBill' })).toBe(true);
    expect(await check({ identity: ids.alice, permission: ids.viewBill })).toBe(true);
    expect(await check({ identity: ids.bob, application: 'trusteeApp', permission: 'AddBill' })).toBe(false);
    expect(await check({ identity: ids.alice, application: 'trusteeApp', permission: 'Approve' })).toBe(false);
    // An identity on leave has no effective access, though the assignment reaches it.
    expect(await check({ identity: ids.dave, application: 'trusteeApp', permission: 'AddBill' })).toBe(false);
  });

  it('pause, resume and revoke are audited state changes', async () => {
    const a = await assign({ assignee: { type: 'identity', id: ids.carol }, resource: { type: 'permission', id: ids.approve } });
    const ask = { identity: ids.carol, application: 'trusteeApp', permission: 'Approve' };
    expect(await check(ask)).toBe(true);
    const paused = await post(`/api/v1/assignments/${a.id}/pause`, { reason: 'investigation' });
    expect(paused.statusCode).toBe(200);
    expect(paused.json()).toMatchObject({ state: 'paused', reason: 'investigation' });
    expect(await check(ask)).toBe(false);
    expect((await post(`/api/v1/assignments/${a.id}/resume`, {})).json()).toMatchObject({ state: 'active' });
    expect(await check(ask)).toBe(true);
    expect((await post(`/api/v1/assignments/${a.id}/revoke`, {})).json()).toMatchObject({ state: 'revoked' });
    expect(await check(ask)).toBe(false);
    const again = await post(`/api/v1/assignments/${a.id}/resume`, {});
    expect(again.statusCode).toBe(409);
    expect(again.json()).toMatchObject({ code: 'conflict' });
    const audit = await t.store.read(t.tenantId).db.selectFrom('audit_events').select('action').where('target_id', '=', a.id).orderBy('seq').execute();
    expect(audit.map((e) => e.action)).toEqual(['assignment.create', 'assignment.pause', 'assignment.resume', 'assignment.revoke']);
    const fetched = await get(`/api/v1/assignments/${a.id}`);
    expect(fetched.json()).toMatchObject({ id: a.id, state: 'revoked', assignee: { type: 'identity', id: ids.carol } });
  });

  it('honours validity windows at query time, with the clock', async () => {
    const a = await assign({
      assignee: { type: 'identity', id: ids.bob },
      resource: { type: 'permission', id: ids.approve },
      validFrom: '2026-11-25T13:00:00.000Z',
      validTo: '2026-11-25T15:00:00.000Z',
    });
    const ask = { identity: ids.bob, application: 'trusteeApp', permission: 'Approve' };
    expect(await check(ask)).toBe(false);
    clock = new Date('2026-11-25T13:00:00.000Z');
    expect(await check(ask)).toBe(true);
    clock = new Date('2026-11-25T15:00:00.000Z');
    expect(await check(ask)).toBe(false);
    clock = new Date('2026-11-25T12:00:00.000Z');
    expect(a.state).toBe('active');
    const bad = await post('/api/v1/assignments', { assignee: { type: 'identity', id: ids.bob }, resource: { type: 'permission', id: ids.approve }, validFrom: '2026-11-26T00:00:00Z', validTo: '2026-11-25T00:00:00Z' });
    expect(bad.statusCode).toBe(400);
  });

  it('a unit-context assignment covers that unit and its descendants only', async () => {
    await assign({ assignee: { type: 'identity', id: ids.carol }, resource: { type: 'permission', id: ids.addBill }, context: { type: 'orgUnit', id: ids.finance } });
    const ask = (context?: unknown) => check({ identity: ids.carol, application: 'trusteeApp', permission: 'AddBill', ...(context ? { context } : {}) });
    expect(await ask({ type: 'orgUnit', id: ids.finance })).toBe(true);
    expect(await ask({ type: 'orgUnit', id: ids.payables })).toBe(true);
    expect(await ask({ type: 'orgUnit', id: ids.root })).toBe(false);
    expect(await ask()).toBe(false);
  });

  it('checks in batch, and refuses unknown references and missing rights', async () => {
    const res = await post('/api/v1/check/batch', {
      checks: [
        { identity: ids.alice, application: 'trusteeApp', permission: 'AddBill' },
        { identity: ids.bob, application: 'trusteeApp', permission: 'AddBill' },
        { identity: 'nobody', application: 'trusteeApp', permission: 'AddBill' },
      ],
    });
    expect(res.statusCode).toBe(200);
    expect(res.json()).toEqual({
      results: [{ allowed: true }, { allowed: false }, { allowed: false, reason: 'identity nobody does not exist (by id, subject or username)' }],
      revision: expect.any(Number),
    });
    // The answer's JSON is written by hand (batchJson): the same text JSON.stringify writes, escapes included.
    const odd = 'c1s:"quoted" \\ back\u2028 é 😀';
    const oddRes = await post('/api/v1/check/batch', { checks: [{ identity: odd, permission: ids.addBill }, { identity: ids.alice, permission: ids.addBill }] });
    expect(oddRes.statusCode, oddRes.body).toBe(200);
    expect(oddRes.headers['content-type']).toMatch(/^application\/json/);
    const oddRevision = (oddRes.json() as { revision: number }).revision;
    expect(oddRes.body).toBe(JSON.stringify({ results: [{ allowed: false, reason: `identity ${odd} does not exist (by id, subject or username)` }, { allowed: true }], revision: oddRevision }));
    const unknownApp = await post('/api/v1/check/batch', {
      checks: [
        { identity: ids.alice, application: 'trusteeApp', permission: 'AddBill' },
        { identity: ids.alice, application: 'no such app', permission: 'AddBill' },
      ],
    });
    expect(unknownApp.statusCode).toBe(404);
    expect(unknownApp.json()).toMatchObject({ code: 'not_found', detail: 'checks[1]: application no such app does not exist', errors: [{ field: 'checks.1.application' }] });
    const tooMany = await post('/api/v1/check/batch', { checks: Array.from({ length: 1001 }, () => ({ identity: ids.alice, permission: ids.addBill })) });
    expect(tooMany.statusCode).toBe(400);
    const noRights = await keyFor(ids.bob);
    expect((await post('/api/v1/check', { identity: ids.alice, permission: ids.addBill }, noRights)).statusCode).toBe(403);
    expect((await post('/api/v1/assignments', { assignee: { type: 'identity', id: ids.bob }, resource: { type: 'permission', id: ids.addBill } }, noRights)).statusCode).toBe(403);
  });

  it('answers 404 naming an application or permission that does not exist; an unknown identity is not allowed, with a reason', async () => {
    const unknownApp = await post('/api/v1/check', { identity: ids.alice, application: 'Payroll', permission: 'AddBill' });
    expect(unknownApp.statusCode).toBe(404);
    expect(unknownApp.json()).toMatchObject({ code: 'not_found', detail: 'application Payroll does not exist', errors: [{ field: 'application', message: 'names no application (by id or name)' }] });
    const unknownName = await post('/api/v1/check', { identity: ids.alice, application: 'trusteeApp', permission: 'DeleteBill' });
    expect(unknownName.statusCode).toBe(404);
    expect(unknownName.json()).toMatchObject({ detail: 'permission DeleteBill does not exist in application trusteeApp', errors: [{ field: 'permission' }] });
    const unknownId = await post('/api/v1/check', { identity: ids.alice, permission: 'AddBill' });
    expect(unknownId.statusCode).toBe(404);
    expect(unknownId.json().detail).toBe('permission AddBill does not exist; name its application, or give the permission id');
    const batch = await post('/api/v1/check/batch', { checks: [{ identity: ids.alice, permission: ids.addBill }, { identity: ids.alice, application: 'trusteeApp', permission: 'Nope' }] });
    expect(batch.statusCode).toBe(404);
    expect(batch.json()).toMatchObject({ errors: [{ field: 'checks.1.permission' }] });
    const nobody = await post('/api/v1/check', { identity: 'c1s:no-such-person', application: 'trusteeApp', permission: 'AddBill' });
    expect(nobody.statusCode).toBe(200);
    expect(nobody.json()).toMatchObject({ allowed: false, reason: 'identity c1s:no-such-person does not exist (by id, subject or username)' });
    const known = await post('/api/v1/check', { identity: ids.alice, application: 'trusteeApp', permission: 'AddBill' });
    expect(known.json()).not.toHaveProperty('reason');
    // A caller without the right learns nothing about which names exist.
    expect((await post('/api/v1/check', { identity: ids.alice, application: 'Payroll', permission: 'AddBill' }, await keyFor(ids.bob))).statusCode).toBe(403);
  });

  it('answers 422 naming the head revision for a minRevision that was never committed, on every route that takes it', async () => {
    const head = Number((await t.store.read(t.tenantId).db.selectFrom('tenants').select('revision').where('id', '=', t.tenantId).executeTakeFirstOrThrow()).revision);
    const beyond = head + 1000;
    const reads = [
      () => post(`/api/v1/check?minRevision=${beyond}`, { identity: ids.alice, permission: ids.addBill }),
      () => post(`/api/v1/check/batch?minRevision=${beyond}`, { checks: [{ identity: ids.alice, permission: ids.addBill }] }),
      () => get(`/api/v1/identities/${ids.alice}/access?minRevision=${beyond}`),
      () => get(`/api/v1/permissions/${ids.addBill}/holders?minRevision=${beyond}`),
      () => get(`/api/v1/access/explain?identity=${ids.alice}&permission=${ids.addBill}&minRevision=${beyond}`),
      () => get(`/api/v1/access/drift?minRevision=${beyond}`),
      () => get(`/api/v1/exports/effective-permissions?minRevision=${beyond}`),
      () => get(`/api/permission?userSubject=c1s:1&minRevision=${beyond}`),
    ];
    for (const read of reads) {
      const res = await read();
      expect(res.statusCode, res.body).toBe(422);
      expect(res.headers['retry-after']).toBeUndefined();
      expect(res.json()).toMatchObject({ code: 'unprocessable', headRevision: expect.any(Number), errors: [{ field: 'minRevision' }] });
      expect((res.json() as { detail: string }).detail).toMatch(new RegExp(`^minRevision ${beyond} is beyond the tenant's head revision \\d+`));
    }
    // The head itself is answered at once.
    expect((await post(`/api/v1/check?minRevision=${head}`, { identity: ids.alice, permission: ids.addBill })).statusCode).toBe(200);
  });

  it('nobody assigns a Grantory right they do not hold', async () => {
    const adminRole = await t.store.read(t.tenantId).db.selectFrom('roles').select('id').where('name', '=', 'Admin').executeTakeFirstOrThrow();
    const rights = await t.store.read(t.tenantId).db.selectFrom('permissions').select(['id', 'name']).where('name', 'in', ['manage-users', 'manage-clients']).execute();
    await assign({ assignee: { type: 'identity', id: ids.carol }, resource: { type: 'permission', id: rights.find((r) => r.name === 'manage-users')!.id } });
    const carol = await keyFor(ids.carol);
    const res = await post('/api/v1/assignments', { assignee: { type: 'identity', id: ids.carol }, resource: { type: 'role', id: adminRole.id } }, carol);
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ code: 'forbidden', rightsBeyondCaller: expect.arrayContaining(['manage-clients']) });
    // What carol holds she may give.
    expect((await post('/api/v1/assignments', { assignee: { type: 'identity', id: ids.bob }, resource: { type: 'permission', id: ids.addBill } }, carol)).statusCode).toBe(201);
  });
});

describe('delegation', () => {
  it('counts only while the delegator holds the source: pause, expiry and leave stop it at once', async () => {
    const source = await assign({ assignee: { type: 'identity', id: ids.alice }, resource: { type: 'permission', id: ids.viewBill }, validTo: '2026-11-25T18:00:00.000Z' });
    const alice = await keyFor(ids.alice);
    const res = await post(`/api/v1/assignments/${source.id}/delegate`, { assigneeId: ids.carol, reason: 'holiday cover' }, alice);
    expect(res.statusCode, res.body).toBe(201);
    const delegation = res.json() as { id: string; source: string; delegatorId: string; delegatedFromId: string; validTo: string };
    expect(delegation).toMatchObject({ source: 'delegation', delegatorId: ids.alice, delegatedFromId: source.id, validTo: '2026-11-25T18:00:00.000Z' });
    const ask = { identity: ids.carol, application: 'trusteeApp', permission: 'ViewBill' };
    expect(await check(ask)).toBe(true);

    await post(`/api/v1/assignments/${source.id}/pause`, {});
    expect(await check(ask)).toBe(false);
    await post(`/api/v1/assignments/${source.id}/resume`, {});
    expect(await check(ask)).toBe(true);

    clock = new Date('2026-11-25T18:00:00.000Z');
    expect(await check(ask)).toBe(false);
    clock = new Date('2026-11-25T12:00:00.000Z');
    expect(await check(ask)).toBe(true);

    await fx.identity({ id: ids.alice, status: 'on_leave' });
    await t.access.syncNow(t.tenantId);
    expect(await check(ask)).toBe(false);
    const why = await get(`/api/v1/access/explain?identity=${ids.carol}&permission=${ids.viewBill}`);
    expect(why.json()).toMatchObject({ allowed: false, notCounting: expect.arrayContaining([expect.objectContaining({ assignmentId: delegation.id })]) });
    await fx.identity({ id: ids.alice, status: 'active' });
    await t.access.syncNow(t.tenantId);
    expect(await check(ask)).toBe(true);

    // The delegator may revoke its own delegation without manage-users.
    expect((await post(`/api/v1/assignments/${delegation.id}/revoke`, {}, alice)).statusCode).toBe(200);
    expect(await check(ask)).toBe(false);
  });

  it('refuses what is not delegable, not held, or wider than the source', async () => {
    const approve = await assign({ assignee: { type: 'identity', id: ids.alice }, resource: { type: 'permission', id: ids.approve } });
    const alice = await keyFor(ids.alice);
    expect((await post(`/api/v1/assignments/${approve.id}/delegate`, { assigneeId: ids.carol }, alice)).statusCode).toBe(422);
    const bobs = await assign({ assignee: { type: 'identity', id: ids.bob }, resource: { type: 'permission', id: ids.addBill } });
    expect((await post(`/api/v1/assignments/${bobs.id}/delegate`, { assigneeId: ids.carol }, alice)).statusCode).toBe(403);
    const narrow = await assign({ assignee: { type: 'identity', id: ids.alice }, resource: { type: 'permission', id: ids.addBill }, context: { type: 'orgUnit', id: ids.payables } });
    expect((await post(`/api/v1/assignments/${narrow.id}/delegate`, { assigneeId: ids.carol, context: { type: 'all' } }, alice)).statusCode).toBe(400);
  });
});

describe('assignment rules', () => {
  it('assign to matching identities, follow identity changes and rule edits, revoke on delete', async () => {
    const created = await post('/api/v1/assignment-rules', {
      name: 'Finance birthright',
      condition: { attributes: [{ name: 'department', equals: 'finance' }], orgUnitSubtree: ids.finance },
      resources: [{ type: 'permission', id: ids.approve }],
    });
    expect(created.statusCode, created.body).toBe(201);
    const rule = created.json() as { id: string; revision: number };
    const ruleAssignments = async () => (await get(`/api/v1/assignments?ruleId=${rule.id}&state=active`)).json().items as { assignee: { id: string } }[];
    expect((await ruleAssignments()).map((a) => a.assignee.id)).toEqual([ids.alice]);

    // Dave moves into finance with the attribute: the identity write path re-evaluates rules.
    const { revision } = await fx.batch(async (tx) => {
      await fx.identity({ id: ids.dave, attributes: { department: 'finance' }, status: 'active' }, tx);
      return reevaluateRulesForIdentity(tx, ids.dave);
    });
    expect((await ruleAssignments()).map((a) => a.assignee.id).sort()).toEqual([ids.alice, ids.dave].sort());
    expect(await check({ identity: ids.dave, application: 'trusteeApp', permission: 'Approve' }, revision)).toBe(true);
    await fx.batch(async (tx) => {
      await fx.identity({ id: ids.dave, attributes: { department: 'sales' } }, tx);
      return reevaluateRulesForIdentity(tx, ids.dave);
    });
    expect((await ruleAssignments()).map((a) => a.assignee.id)).toEqual([ids.alice]);

    const patched = await t.app.inject({ method: 'PATCH', url: `/api/v1/assignment-rules/${rule.id}`, headers: t.auth, payload: { condition: { attributes: [{ name: 'department', in: ['finance', 'sales'] }] } } });
    expect(patched.statusCode, patched.body).toBe(200);
    expect((await ruleAssignments()).map((a) => a.assignee.id).sort()).toEqual([ids.alice, ids.dave].sort());
    const audit = await t.store.read(t.tenantId).db.selectFrom('audit_events').select(['action', 'after']).where('action', '=', 'assignment.create').orderBy('seq', 'desc').executeTakeFirstOrThrow();
    expect(JSON.parse(audit.after!)).toMatchObject({ cause: { ruleId: rule.id } });

    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/assignment-rules/${rule.id}`, headers: t.auth })).statusCode).toBe(200);
    expect(await ruleAssignments()).toEqual([]);
    expect((await get(`/api/v1/assignment-rules/${rule.id}`)).statusCode).toBe(404);
    const invalid = await post('/api/v1/assignment-rules', { name: 'empty', condition: {}, resources: [{ type: 'permission', id: ids.approve }] });
    expect(invalid.statusCode).toBe(400);
  });
});

describe('reads of effective access', () => {
  it('lists an identity access with the assignments behind it', async () => {
    const res = await get(`/api/v1/identities/${ids.alice}/access?applicationId=${ids.app}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { items: { permissionName: string; via: { kind: string; assignee?: { type: string } }[] }[]; revision: number };
    const addBill = body.items.find((i) => i.permissionName === 'AddBill');
    expect(addBill?.via).toEqual(expect.arrayContaining([expect.objectContaining({ kind: 'assignment', assignee: { type: 'orgUnit', id: ids.finance } })]));
    expect((await get('/api/v1/identities/nobody/access')).statusCode).toBe(404);
  });

  it('pages the holders of a permission', async () => {
    const seen: string[] = [];
    let cursor: string | null = null;
    do {
      const res = await get(`/api/v1/permissions/${ids.addBill}/holders?limit=1${cursor ? `&cursor=${cursor}` : ''}`);
      expect(res.statusCode, res.body).toBe(200);
      const page = res.json() as { items: { identity: { id: string } }[]; nextCursor: string | null };
      seen.push(...page.items.map((i) => i.identity.id));
      cursor = page.nextCursor;
    } while (cursor);
    // Alice through her unit's role; dave since the rule test made him active again.
    expect(seen).toEqual(expect.arrayContaining([ids.alice, ids.dave]));
    expect(new Set(seen).size).toBe(seen.length);
    expect(seen).toEqual([...seen].sort());
    expect((await get(`/api/v1/permissions/${ids.addBill}/holders?cursor=!!`)).statusCode).toBe(400);
  });

  it('explains why alice has AddBill: unit, role chain', async () => {
    const res = await get(`/api/v1/access/explain?identity=c1s:alice&application=trusteeApp&permission=ViewBill`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { allowed: boolean; chains: { unitPath: string[]; rolePath: string[] }[] };
    expect(body.allowed).toBe(true);
    expect(body.chains).toEqual(expect.arrayContaining([expect.objectContaining({ unitPath: [ids.payables, ids.finance], rolePath: [ids.senior, ids.clerk] })]));
  });

  it('separates the assigned and provisioned spaces and reports drift', async () => {
    await assign({ assignee: { type: 'identity', id: ids.alice }, resource: { type: 'permission', id: ids.export } });
    const put = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${ids.connected}/accounts/bob.ledger`, headers: t.auth, payload: { identityId: ids.bob, grants: [{ permission: 'Export' }] } });
    expect(put.statusCode, put.body).toBe(201);
    const orphan = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${ids.connected}/accounts/svc-old`, headers: t.auth, payload: { grants: [{ permission: ids.export }] } });
    expect(orphan.statusCode).toBe(201);
    const ask = (identity: string, space: string) => check({ identity, application: 'Ledger', permission: 'Export', space });
    expect(await ask(ids.alice, 'assigned')).toBe(true);
    expect(await ask(ids.alice, 'provisioned')).toBe(false);
    expect(await ask(ids.bob, 'assigned')).toBe(false);
    expect(await ask(ids.bob, 'provisioned')).toBe(true);
    const drift = await get(`/api/v1/access/drift?applicationId=${ids.connected}`);
    expect(drift.statusCode, drift.body).toBe(200);
    expect(drift.json()).toMatchObject({
      items: [
        {
          applicationName: 'Ledger',
          assignedNotProvisioned: [{ identityId: ids.alice, permissionId: ids.export }],
          provisionedNotAssigned: expect.arrayContaining([
            { identityId: ids.bob, permissionId: ids.export, accountName: 'bob.ledger' },
            { identityId: null, permissionId: ids.export, accountName: 'svc-old' },
          ]),
        },
      ],
    });
    const provisioned = await get(`/api/v1/identities/${ids.bob}/access?space=provisioned&applicationId=${ids.connected}`);
    expect(provisioned.json()).toMatchObject({ items: [{ permissionName: 'Export', via: [{ kind: 'account', accountName: 'bob.ledger' }] }] });
    // A managed application's paused assignment is assigned but not provisioned.
    const managed = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${ids.app}/accounts/x`, headers: t.auth, payload: { grants: [] } });
    expect(managed.statusCode).toBe(422);
  });
});
