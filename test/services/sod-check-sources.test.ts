/**
 * The separation-of-duties check of a write gives the same answer from the access index as
 * from the write's own state (src/services/sod/check-holdings.ts), over random small tenants:
 * a unit tree, identities of every status in units or none, roles including roles,
 * assignments to identities and units in every state, with validity windows (future ones
 * too), contexts and delegations (their delegators of any status), policies of both modes
 * over roles and permissions, and exceptions (unexpired, expired, revoked). For every
 * identity and every unit as the target of each proposed addition, and of all together,
 * `checkSod` with the index equals `checkSod` without it:
 *
 * 1. in a write that has changed nothing yet — and the index is what answers;
 * 2. in a write that added an assignment first — the index does not answer (the write's state differs);
 * 3. in the next write, before the index has applied that commit — the index does not answer;
 * 4. once it has — it answers again.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessEngine } from '../../src/engine/engine.ts';
import { sodCatalog } from '../../src/services/sod/catalog.ts';
import { checkHoldings } from '../../src/services/sod/check-holdings.ts';
import { checkSod, type SodAdd, type SodCheckInput } from '../../src/services/sod/index.ts';
import type { WriteMeta, WriteTx } from '../../src/store/store.ts';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { CONTRACT_BACKENDS, openTestStore, type TestStore } from '../support/harness.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-25T12:00:00.000Z');
const TIMES = [-3, -1, 1, 3].map((h) => new Date(T0 + h * HOUR).toISOString());
const STATES = ['active', 'active', 'active', 'paused', 'revoked'];
const STATUSES = ['active', 'active', 'active', 'on_leave', 'terminated'];
const CONTEXTS = ['all', 'all', 'orgUnit', 'identity'] as const;
const META: WriteMeta = { actorType: 'system', actorId: null, actorName: 'sod check test' };

const N_UNITS = 4;
const N_IDENTITIES = 5;
const N_PERMS = 5;
const N_ROLES = 4;

const assignmentArb = fc.record({
  toUnit: fc.constantFrom(false, false, true),
  assignee: fc.nat(),
  toRole: fc.boolean(),
  resource: fc.nat(),
  context: fc.constantFrom(...CONTEXTS),
  contextRef: fc.nat(),
  state: fc.constantFrom(...STATES),
  from: fc.option(fc.constantFrom(...TIMES), { nil: null, freq: 2 }),
  to: fc.option(fc.constantFrom(...TIMES), { nil: null, freq: 2 }),
  delegate: fc.option(fc.record({ source: fc.nat(), sameResource: fc.constantFrom(true, true, false) }), { nil: null, freq: 3 }),
});
type AssignmentSpec = typeof assignmentArb extends fc.Arbitrary<infer T> ? T : never;

const resourceArb = fc.record({ role: fc.boolean(), n: fc.nat() });

const scenarioArb = fc.record({
  parents: fc.array(fc.nat(), { minLength: N_UNITS, maxLength: N_UNITS }),
  identities: fc.array(fc.record({ status: fc.constantFrom(...STATUSES), unit: fc.option(fc.nat(), { nil: null, freq: 4 }) }), { minLength: N_IDENTITIES, maxLength: N_IDENTITIES }),
  roles: fc.array(fc.record({ perms: fc.array(fc.nat(), { maxLength: 3 }), includes: fc.array(fc.nat(), { maxLength: 2 }) }), { minLength: N_ROLES, maxLength: N_ROLES }),
  assignments: fc.array(assignmentArb, { minLength: 4, maxLength: 16 }),
  policies: fc.array(fc.record({ sets: fc.array(fc.array(resourceArb, { minLength: 1, maxLength: 2 }), { minLength: 2, maxLength: 3 }), block: fc.boolean() }), { minLength: 1, maxLength: 4 }),
  exceptions: fc.array(fc.record({ policy: fc.nat(), identity: fc.nat(), expires: fc.constantFrom(...TIMES), revoked: fc.boolean() }), { maxLength: 3 }),
  adds: fc.array(fc.record({ resource: resourceArb, context: fc.constantFrom(...CONTEXTS), ref: fc.nat() }), { minLength: 1, maxLength: 3 }),
  late: assignmentArb,
});
type Scenario = typeof scenarioArb extends fc.Arbitrary<infer T> ? T : never;

interface Tenant {
  p: string;
  units: string[];
  identities: string[];
  perms: string[];
  roles: string[];
  /** Assignments written so far: id, assignee and resource (the delegation sources). */
  assignments: { id: string; assigneeType: 'identity' | 'orgUnit'; assigneeId: string; resourceType: 'permission' | 'role'; resourceId: string }[];
}

for (const backend of CONTRACT_BACKENDS) {
  describe(`separation-of-duties check: the access index answers as the write does (${backend})`, () => {
    let ts: TestStore;
    let engine: AccessEngine;
    let run = 0;
    beforeAll(async () => {
      ts = await openTestStore(backend);
      await ts.store.migrate();
      // No polling: the index applies a commit only when the test syncs it.
      engine = new AccessEngine(ts.store, { clock: () => T0, pollIntervalMs: 0 });
      await engine.start();
    });
    afterAll(async () => {
      engine.stop();
      await ts.dispose();
    });

    it('gives the same conflicts, explained and named, with their exceptions', { timeout: 300_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (scenario) => {
          run += 1;
          const p = `s${run}-${Math.random().toString(36).slice(2, 8)}`;
          const tenantId = await ts.store.createTenant(p, new Date().toISOString());
          const fx = new AccessFixtures(ts.store, tenantId);
          const t = await seed(fx, p, scenario);
          const write = (fn: (tx: WriteTx) => Promise<void>) =>
            ts.store.write(tenantId, META, async (tx) => {
              tx.audit({ action: 'test.sodCheck', targetType: 'test', targetId: null });
              await fn(tx);
            });
          const withIndex = { now: () => new Date(T0), access: engine };
          const fromWrite = { now: () => new Date(T0) };
          const adds: SodAdd[] = scenario.adds.map((a) => ({ ...pick(t, a.resource), context: contextOf(t, a.context, a.ref), source: 'request' }));
          const questions: SodCheckInput[] = [];
          for (const target of [...t.identities.map((id) => ({ identityIds: [id] })), ...t.units.map((id) => ({ orgUnitIds: [id] }))]) {
            for (const add of adds) questions.push({ ...target, adds: [add] });
            if (adds.length > 1) questions.push({ ...target, adds });
          }
          /** Compares both answers to every question; `indexAnswers`: whether the index is the one that answers. */
          const compare = async (tx: WriteTx, indexAnswers: boolean) => {
            const { graph } = await sodCatalog(tx);
            if (graph) expect((await checkHoldings(tx, engine, graph, t.identities, [], T0)).names !== null).toBe(indexAnswers);
            for (const q of questions) expect(await checkSod(tx, withIndex, q), JSON.stringify(q)).toEqual(await checkSod(tx, fromWrite, q));
          };

          await engine.syncNow(tenantId);
          await write((tx) => compare(tx, true));
          await engine.syncNow(tenantId);
          await write(async (tx) => {
            await addAssignment(fx, t, scenario.late, tx);
            await compare(tx, false);
          });
          await write((tx) => compare(tx, false));
          await engine.syncNow(tenantId);
          await write((tx) => compare(tx, true));
        }),
        { numRuns: backend === 'sqlite' ? 60 : 20, endOnFailure: true },
      );
    });
  });
}

function pick(t: Tenant, r: { role: boolean; n: number }): { type: 'permission' | 'role'; id: string } {
  return r.role ? { type: 'role', id: t.roles[r.n % t.roles.length]! } : { type: 'permission', id: t.perms[r.n % t.perms.length]! };
}

function contextOf(t: Tenant, type: (typeof CONTEXTS)[number], ref: number): { type: (typeof CONTEXTS)[number]; id: string | null } {
  if (type === 'orgUnit') return { type, id: t.units[ref % t.units.length]! };
  if (type === 'identity') return { type, id: t.identities[ref % t.identities.length]! };
  return { type, id: null };
}

async function seed(fx: AccessFixtures, p: string, s: Scenario): Promise<Tenant> {
  const t: Tenant = {
    p,
    units: Array.from({ length: N_UNITS }, (_, i) => `${p}-u${i}`),
    identities: Array.from({ length: N_IDENTITIES }, (_, i) => `${p}-i${i}`),
    perms: Array.from({ length: N_PERMS }, (_, i) => `${p}-p${i}`),
    roles: Array.from({ length: N_ROLES }, (_, i) => `${p}-r${i}`),
    assignments: [],
  };
  await fx.batch(async (tx) => {
    const appId = await fx.application({ id: `${p}-app`, name: `app ${p}` }, tx);
    for (let i = 0; i < N_UNITS; i += 1) {
      const parent = s.parents[i]! % (i + 1);
      await fx.unit({ id: t.units[i]!, parentId: parent === i ? null : t.units[parent]! }, tx);
    }
    for (const id of t.perms) await fx.permission({ id, applicationId: appId, name: `name of ${id}` }, tx);
    for (let i = 0; i < N_ROLES; i += 1) {
      const spec = s.roles[i]!;
      // Only lower-numbered roles may be included: no cycles, as the role service guarantees.
      const includes = i === 0 ? [] : spec.includes.map((n) => t.roles[n % i]!);
      await fx.role({ id: t.roles[i]!, name: `name of ${t.roles[i]!}`, permissionIds: spec.perms.map((n) => t.perms[n % N_PERMS]!), includedRoleIds: includes }, tx);
    }
    for (let i = 0; i < N_IDENTITIES; i += 1) {
      const spec = s.identities[i]!;
      await fx.identity({ id: t.identities[i]!, status: spec.status, unitId: spec.unit === null ? null : t.units[spec.unit % N_UNITS]! }, tx);
    }
    for (const spec of s.assignments) await addAssignment(fx, t, spec, tx);
    const policies: string[] = [];
    for (const [k, spec] of s.policies.entries()) {
      // No resource in two sets of a policy (the policy service refuses that).
      const used = new Set<string>();
      const sets: { type: 'permission' | 'role'; id: string }[][] = [];
      for (const given of spec.sets) {
        const set = given.map((r) => pick(t, r)).filter((r) => !used.has(`${r.type}:${r.id}`) && used.add(`${r.type}:${r.id}`));
        if (set.length) sets.push(set);
      }
      if (sets.length < 2) continue;
      const id = `${p}-sod${k}`;
      policies.push(id);
      await tx.db
        .insertInto('sod_policies')
        .values({ id, tenant_id: tx.tenantId, name: `policy ${k}`, description: null, conflicting: JSON.stringify(sets), mode: spec.block ? 'block' : 'require_exception', severity: 'high', enabled: 1, created_at: tx.now, updated_at: tx.now, version: 1 })
        .execute();
      tx.change('sod_policy', id, 'create');
    }
    for (const [k, e] of s.exceptions.entries()) {
      if (!policies.length) break;
      await tx.db
        .insertInto('sod_exceptions')
        .values({
          id: `${p}-x${k}`,
          tenant_id: tx.tenantId,
          policy_id: policies[e.policy % policies.length]!,
          identity_id: t.identities[e.identity % N_IDENTITIES]!,
          reason: 'test',
          expires_at: e.expires,
          approved_by: 'test',
          approved_by_name: null,
          approver_identity_id: null,
          subject_type: 'manual',
          subject_id: null,
          created_at: TIMES[0]!,
          revoked_at: e.revoked ? TIMES[1]! : null,
          revoked_by: e.revoked ? 'test' : null,
          revoked_by_name: null,
          revoker_identity_id: null,
          revoke_reason: null,
        })
        .execute();
    }
  });
  return t;
}

async function addAssignment(fx: AccessFixtures, t: Tenant, spec: AssignmentSpec, tx: WriteTx): Promise<void> {
  const id = `${t.p}-a${t.assignments.length}`;
  let resource = pick(t, { role: spec.toRole, n: spec.resource });
  let assignee: { type: 'identity' | 'orgUnit'; id: string } = spec.toUnit ? { type: 'orgUnit', id: t.units[spec.assignee % N_UNITS]! } : { type: 'identity', id: t.identities[spec.assignee % N_IDENTITIES]! };
  let delegation: { delegatedFromId: string; delegatorId: string } | null = null;
  const sources = t.assignments.filter((a) => a.assigneeType === 'identity');
  if (spec.delegate && sources.length) {
    const source = sources[spec.delegate.source % sources.length]!;
    delegation = { delegatedFromId: source.id, delegatorId: source.assigneeId };
    assignee = { type: 'identity', id: t.identities[spec.assignee % N_IDENTITIES]! };
    if (spec.delegate.sameResource) resource = { type: source.resourceType, id: source.resourceId };
  }
  const context = contextOf(t, spec.context, spec.contextRef);
  await fx.assignment(
    {
      id,
      assigneeType: assignee.type,
      assigneeId: assignee.id,
      resourceType: resource.type,
      resourceId: resource.id,
      contextType: context.type,
      contextId: context.id,
      state: spec.state,
      validFrom: spec.from,
      validTo: spec.to,
      delegatedFromId: delegation?.delegatedFromId ?? null,
      delegatorId: delegation?.delegatorId ?? null,
    },
    tx,
  );
  t.assignments.push({ id, assigneeType: assignee.type, assigneeId: assignee.id, resourceType: resource.type, resourceId: resource.id });
}
