/**
 * Benchmark smoke run (the benchmarks themselves stay out of the suite): the S dataset
 * generator is reproducible, loads through the store, and the index built from it answers
 * sampled checks, lists and holders exactly like the reference evaluator.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { generate, idOf, load, rng, SIZES, type Dataset } from '../../bench/dataset.ts';
import { checkAccess, effectiveGrants, permissionHolders, type ReferenceModel } from '../../src/domain/access-rules.ts';
import { timeOf, type AssignmentFact } from '../../src/domain/access.ts';
import { AccessEngine } from '../../src/engine/engine.ts';
import { askContext, checkSlots, holders, listAccess } from '../../src/engine/queries.ts';
import { openTestStore, type TestStore } from '../support/harness.ts';

let ts: TestStore;
let engine: AccessEngine;
let tenantId: string;
let d: Dataset;
/** An engine started before the load: it reaches the data only through the change feed. */
let follower: AccessEngine;
const now = Date.parse('2026-11-25T12:00:00.000Z');

beforeAll(async () => {
  ts = await openTestStore();
  await ts.store.migrate();
  tenantId = await ts.store.createTenant('bench-smoke', new Date().toISOString());
  d = generate(SIZES.S, 42);
  follower = new AccessEngine(ts.store, { pollIntervalMs: 0, clock: () => now, rebuildThreshold: 1_000_000 });
  await follower.start();
  await load(ts.store, tenantId, d);
  engine = new AccessEngine(ts.store, { pollIntervalMs: 0, clock: () => now });
  await engine.start();
}, 120_000);
afterAll(async () => {
  engine?.stop();
  follower?.stop();
  await ts?.dispose();
});

function referenceModel(): ReferenceModel {
  const s = d.size;
  const assignments: AssignmentFact[] = d.assignments.map((a, x) => ({
    id: idOf.assignment(x),
    assigneeType: a.toUnit ? 'orgUnit' : 'identity',
    assigneeId: a.toUnit ? idOf.unit(a.assignee) : idOf.identity(a.assignee),
    resourceType: a.toRole ? 'role' : 'permission',
    resourceId: a.toRole ? idOf.role(a.resource) : idOf.perm(a.resource),
    context: a.contextUnit < 0 ? { type: 'all', id: null } : { type: 'orgUnit', id: idOf.unit(a.contextUnit) },
    state: a.state,
    validFrom: timeOf(a.validFrom),
    validTo: timeOf(a.validTo),
    delegatedFromId: a.delegatedFrom < 0 ? null : idOf.assignment(a.delegatedFrom),
    delegatorId: a.delegator < 0 ? null : idOf.identity(a.delegator),
  }));
  return {
    identities: new Map(Array.from({ length: s.identities }, (_, i) => [idOf.identity(i), { status: i % 50 === 49 ? 'on_leave' : 'active', unitId: idOf.unit(d.identityUnit[i]!) }])),
    units: new Map(Array.from({ length: s.units }, (_, u) => [idOf.unit(u), { parentId: d.unitParent[u]! < 0 ? null : idOf.unit(d.unitParent[u]!) }])),
    permissions: new Map(Array.from({ length: s.permissions }, (_, p) => [idOf.perm(p), { applicationId: idOf.app(d.permApp[p]!) }])),
    roles: new Map(Array.from({ length: s.roles }, (_, k) => [idOf.role(k), { permissionIds: d.rolePerms[k]!.map(idOf.perm), includedRoleIds: d.roleIncludes[k]!.map(idOf.role) }])),
    assignments,
  };
}

describe('benchmark smoke (S dataset)', () => {
  it('generates the same dataset for the same seed', () => {
    const again = generate(SIZES.S, 42);
    expect(again.assignments.slice(0, 50)).toEqual(d.assignments.slice(0, 50));
    expect(Array.from(again.unitParent)).toEqual(Array.from(d.unitParent));
    expect(d.assignments.some((a) => a.delegatedFrom >= 0)).toBe(true);
    expect(d.assignments.some((a) => a.state === 'paused')).toBe(true);
    expect(d.roleIncludes.some((inc) => inc.length > 0)).toBe(true);
  });

  it('the index built from it agrees with the reference rules', { timeout: 120_000 }, async () => {
    const { index } = await engine.at(tenantId);
    const model = referenceModel();
    const r = rng(3);
    const all = askContext(index, undefined);
    let allowed = 0;
    for (let k = 0; k < 60; k += 1) {
      const identityId = idOf.identity(Math.floor(r() * d.size.identities));
      const grants = effectiveGrants(model, identityId, now);
      const listed = listAccess(index, index.identities.find(identityId), now, 'assigned').map((h) => h.permissionId).sort();
      expect(listed).toEqual([...new Set(grants.map((g) => g.permissionId))].sort());
      for (const permissionId of [...grants.slice(0, 3).map((g) => g.permissionId), idOf.perm(Math.floor(r() * d.size.permissions))]) {
        const expected = checkAccess(model, identityId, permissionId, { type: 'all', id: null }, now);
        expect(checkSlots(index, index.identities.find(identityId), index.perms.find(permissionId), all, now, 'assigned')).toBe(expected);
        if (expected) allowed += 1;
      }
    }
    expect(allowed).toBeGreaterThan(10);
    const permissionId = idOf.perm(Math.floor(r() * d.size.permissions));
    const page = holders(index, index.perms.find(permissionId), now, 'assigned', null, 100_000);
    expect(page.items.map((h) => index.identities.get(h.identity).id)).toEqual(permissionHolders(model, permissionId, now));
  });

  it('loads through the write protocol: one audit event per write, and a follower of the change feed reaches the same answers', { timeout: 120_000 }, async () => {
    const db = ts.store.read(tenantId).db;
    const { revision } = await db.selectFrom('tenants').select('revision').where('id', '=', tenantId).executeTakeFirstOrThrow();
    const audits = await db.selectFrom('audit_events').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    expect(Number(audits.n)).toBe(Number(revision));
    const changed = await db.selectFrom('changes').select((eb) => eb.fn.countAll<number>().as('n')).where('tenant_id', '=', tenantId).where('entity', '=', 'assignment').executeTakeFirstOrThrow();
    expect(Number(changed.n)).toBe(d.assignments.length);
    expect(await follower.syncNow(tenantId)).toBe(Number(revision));
    const built = (await engine.at(tenantId)).index;
    const followed = (await follower.at(tenantId)).index;
    const r = rng(5);
    for (let k = 0; k < 100; k += 1) {
      const identityId = idOf.identity(Math.floor(r() * d.size.identities));
      const render = (index: typeof built) => listAccess(index, index.identities.find(identityId), now, 'assigned').map((h) => [h.permissionId, h.via.map((v) => (v.kind === 'assignment' ? v.assignmentId : '')).sort()]);
      expect(render(followed)).toEqual(render(built));
    }
  });
});
