/**
 * Property: whatever sequence of rights-moving writes a low-privileged caller sends
 * (assignment pause/resume/revoke/create, identity status/unit/attributes, unit moves, role
 * contents, rules, new identities), after every step each identity's Grantory rights are
 * within what it held before the sequence plus what the caller holds, at least one full
 * administrator remains, and nothing answers 5xx.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RIGHTS, type Right } from '../../src/domain/rights.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { call, callerWith, permissionIdOf } from '../support/escalation-fixtures.ts';

const V1 = '/api/v1';
const tomorrow = () => new Date(Date.now() + 86_400_000).toISOString();

let t: TestApp;
const units: string[] = [];
const roles: string[] = [];
const perms = new Map<Right, string>();

async function adminPost(url: string, body: unknown): Promise<string> {
  const res = await call(t, t.auth.authorization, 'POST', url, body);
  expect(res.statusCode, res.body).toBe(201);
  return (res.json() as { id: string }).id;
}

beforeAll(async () => {
  t = await createTestApp();
  for (const r of RIGHTS) perms.set(r, await permissionIdOf(t, r));
  const perm = (r: Right) => ({ type: 'permission', id: perms.get(r)! });
  const root = await adminPost(`${V1}/org-units`, { name: 'Root' });
  const roles1 = await adminPost(`${V1}/org-units`, { name: 'Role managers', parentId: root });
  const auditors = await adminPost(`${V1}/org-units`, { name: 'Auditors' });
  const plain = await adminPost(`${V1}/org-units`, { name: 'Plain' });
  units.push(root, roles1, auditors, plain);
  await adminPost(`${V1}/assignments`, { assignee: { type: 'orgUnit', id: roles1 }, resource: perm('manage-roles') });
  const auditRole = await adminPost(`${V1}/roles`, { name: 'Audit', permissionIds: [perms.get('read-audit')!] });
  const empty = await adminPost(`${V1}/roles`, { name: 'Empty' });
  const wrapper = await adminPost(`${V1}/roles`, { name: 'Wrapper', includedRoleIds: [auditRole] });
  roles.push(auditRole, empty, wrapper);
  await adminPost(`${V1}/assignments`, { assignee: { type: 'orgUnit', id: auditors }, resource: { type: 'role', id: wrapper } });
  await adminPost(`${V1}/assignment-rules`, {
    name: 'ops import',
    condition: { attributes: [{ name: 'department', equals: 'ops' }] },
    resources: [perm('manage-imports')],
  });
  const settings = await callerWith(t, 'prop:settings', ['manage-system-settings']);
  const settingsAssignment = (await call(t, t.auth.authorization, 'GET', `${V1}/assignments?assigneeId=${settings.identityId}`)).json().items[0].id;
  expect((await call(t, t.auth.authorization, 'POST', `${V1}/assignments/${settingsAssignment}/pause`)).statusCode).toBe(200);
  const leaver = await callerWith(t, 'prop:leaver', ['manage-clients'], { orgUnitId: plain });
  expect((await call(t, t.auth.authorization, 'PATCH', `${V1}/identities/${leaver.identityId}`, { status: 'terminated' })).statusCode).toBe(200);
  const later = await callerWith(t, 'prop:later', [], { orgUnitId: root });
  await adminPost(`${V1}/assignments`, { assignee: { type: 'identity', id: later.identityId }, resource: perm('approve-requests'), validFrom: tomorrow() });
}, 60_000);
afterAll(async () => t.close());

type Op =
  | { kind: 'state'; pick: number; action: 'pause' | 'resume' | 'revoke' }
  | { kind: 'identity'; pick: number; status?: 'active' | 'on_leave' | 'terminated'; unit?: number | null; department?: string }
  | { kind: 'unit'; pick: number; parent: number | null }
  | { kind: 'assign'; toUnit: boolean; pick: number; right: Right | null; role: number; future: boolean }
  | { kind: 'role'; pick: number; include: number[]; rights: Right[] }
  | { kind: 'create'; unit: number | null };

const idx = fc.nat({ max: 1000 });
const rightArb = fc.constantFrom(...RIGHTS);
const opArb: fc.Arbitrary<Op> = fc.oneof(
  fc.record({ kind: fc.constant('state' as const), pick: idx, action: fc.constantFrom('pause' as const, 'resume' as const, 'revoke' as const) }),
  fc.record(
    {
      kind: fc.constant('identity' as const),
      pick: idx,
      status: fc.constantFrom('active' as const, 'on_leave' as const, 'terminated' as const),
      unit: fc.option(fc.nat({ max: 3 }), { nil: null }),
      department: fc.constantFrom('ops', 'sales'),
    },
    { requiredKeys: ['kind', 'pick'] },
  ),
  fc.record({ kind: fc.constant('unit' as const), pick: fc.nat({ max: 3 }), parent: fc.option(fc.nat({ max: 3 }), { nil: null }) }),
  fc.record({ kind: fc.constant('assign' as const), toUnit: fc.boolean(), pick: idx, right: fc.option(rightArb, { nil: null }), role: fc.nat({ max: 2 }), future: fc.boolean() }),
  fc.record({ kind: fc.constant('role' as const), pick: fc.nat({ max: 2 }), include: fc.uniqueArray(fc.nat({ max: 2 }), { maxLength: 2 }), rights: fc.uniqueArray(rightArb, { maxLength: 2 }) }),
  fc.record({ kind: fc.constant('create' as const), unit: fc.option(fc.nat({ max: 3 }), { nil: null }) }),
);

/** Every identity's rights now, as credential checks see them (the access index, caught up). */
async function rightsOfAll(): Promise<Map<string, Set<Right>>> {
  const { index } = await t.access.at(t.tenantId, await t.access.syncNow(t.tenantId));
  return new Map((await identityIds()).map((id) => [id, t.access.rightsOf(index, id)]));
}

async function identityIds(): Promise<string[]> {
  const rows = await t.store.read(t.tenantId).db.selectFrom('identities').select('id').where('tenant_id', '=', t.tenantId).orderBy('number').execute();
  return rows.map((r) => r.id);
}

async function send(auth: string, op: Op, n: number) {
  const ids = await identityIds();
  switch (op.kind) {
    case 'state': {
      const rows = await t.store.read(t.tenantId).db.selectFrom('assignments').select('id').where('tenant_id', '=', t.tenantId).orderBy('created_at').orderBy('id').execute();
      return call(t, auth, 'POST', `${V1}/assignments/${rows[op.pick % rows.length]!.id}/${op.action}`);
    }
    case 'identity': {
      const patch: Record<string, unknown> = {};
      if (op.status) patch.status = op.status;
      if (op.unit !== undefined) patch.orgUnitId = op.unit === null ? null : units[op.unit];
      if (op.department) patch.attributes = { department: op.department };
      return call(t, auth, 'PATCH', `${V1}/identities/${ids[op.pick % ids.length]}`, patch);
    }
    case 'unit':
      return call(t, auth, 'PATCH', `${V1}/org-units/${units[op.pick]}`, { parentId: op.parent === null ? null : units[op.parent] });
    case 'assign': {
      const assignee = op.toUnit ? { type: 'orgUnit', id: units[op.pick % units.length] } : { type: 'identity', id: ids[op.pick % ids.length] };
      const resource = op.right ? { type: 'permission', id: perms.get(op.right) } : { type: 'role', id: roles[op.role] };
      return call(t, auth, 'POST', `${V1}/assignments`, { assignee, resource, ...(op.future ? { validFrom: tomorrow() } : {}) });
    }
    case 'role':
      return call(t, auth, 'PATCH', `${V1}/roles/${roles[op.pick]}`, {
        includedRoleIds: op.include.filter((i) => i !== op.pick).map((i) => roles[i]),
        permissionIds: op.rights.map((r) => perms.get(r)),
      });
    case 'create':
      return call(t, auth, 'POST', `${V1}/identities`, { username: `prop-${n}`, ...(op.unit === null ? {} : { orgUnitId: units[op.unit] }) });
  }
}

describe('rights containment under random write sequences', () => {
  it('never gives an identity a right beyond its own and the caller\'s, and keeps a full administrator', async () => {
    let run = 0;
    await fc.assert(
      fc.asyncProperty(fc.subarray(['manage-roles', 'manage-clients', 'read-audit'] as Right[]), fc.array(opArb, { minLength: 1, maxLength: 8 }), async (extraRights, ops) => {
        run += 1;
        // manage-users: most rights-moving writes need it, so the writes reach the guard.
        const actorRights: Right[] = ['manage-users', ...extraRights];
        const actor = await callerWith(t, `prop:actor-${run}`, actorRights);
        const held = new Set<Right>(actorRights);
        const before = await rightsOfAll();
        for (const [step, op] of ops.entries()) {
          const res = await send(actor.auth, op, run * 100 + step);
          expect(res.statusCode, `${JSON.stringify(op)}: ${res.body}`).toBeLessThan(500);
          let admins = 0;
          for (const [id, now] of await rightsOfAll()) {
            const allowed = new Set([...(before.get(id) ?? []), ...held]);
            const beyond = [...now].filter((r) => !allowed.has(r));
            expect(beyond, `identity ${id} after ${JSON.stringify(op)}`).toEqual([]);
            if (now.size === RIGHTS.length) admins += 1;
          }
          expect(admins).toBeGreaterThan(0);
        }
      }),
      { numRuns: 40 },
    );
  }, 240_000);
});
