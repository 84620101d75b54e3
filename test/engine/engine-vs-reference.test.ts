/**
 * The access engine against the reference evaluator of DESIGN.md's rules, over random
 * models and random sequences of writes (pauses, revocations, moves in the unit tree, role
 * edits, identity status and unit changes, new and delegated assignments) and clock moves
 * across validity windows. The engine reads the store and follows the change feed; the
 * reference reads a plain in-memory copy of the same model.
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessContext, AssignmentFact, AssignmentState } from '../../src/domain/access.ts';
import { checkAccess, effectiveGrants, explainAccess, permissionHolders, type ReferenceModel } from '../../src/domain/access-rules.ts';
import { AccessEngine } from '../../src/engine/engine.ts';
import { explain } from '../../src/engine/explain.ts';
import { askContext, checkSlots, holders, listAccess } from '../../src/engine/queries.ts';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { CONTRACT_BACKENDS, openTestStore, type TestStore } from '../support/harness.ts';

const HOUR = 3_600_000;
const T0 = Date.parse('2026-11-25T12:00:00.000Z');
const TIMES = [-3, -1, 1, 3].map((h) => T0 + h * HOUR);
const STATES: AssignmentState[] = ['active', 'active', 'active', 'paused', 'revoked'];
const STATUSES = ['active', 'active', 'active', 'active', 'on_leave', 'terminated'];

const N_UNITS = 5;
const N_IDENTITIES = 4;
const N_PERMS = 4;
const N_ROLES = 3;

const assignmentArb = fc.record({
  toUnit: fc.boolean(),
  assignee: fc.nat(),
  toRole: fc.boolean(),
  resource: fc.nat(),
  context: fc.constantFrom('all', 'all', 'orgUnit', 'identity'),
  contextRef: fc.nat(),
  state: fc.constantFrom(...STATES),
  from: fc.option(fc.constantFrom(...TIMES), { nil: null, freq: 2 }),
  to: fc.option(fc.constantFrom(...TIMES), { nil: null, freq: 2 }),
  delegate: fc.option(fc.record({ source: fc.nat(), delegator: fc.nat(), sameResource: fc.constantFrom(true, true, false) }), { nil: null, freq: 3 }),
});
type AssignmentSpec = typeof assignmentArb extends fc.Arbitrary<infer T> ? T : never;

const opArb = fc.oneof(
  fc.record({ kind: fc.constant('state' as const), target: fc.nat(), state: fc.constantFrom(...STATES) }),
  fc.record({ kind: fc.constant('move' as const), unit: fc.nat(), parent: fc.nat() }),
  fc.record({ kind: fc.constant('identity' as const), target: fc.nat(), status: fc.constantFrom(...STATUSES), unit: fc.option(fc.nat(), { nil: null }) }),
  fc.record({ kind: fc.constant('role' as const), target: fc.nat(), perms: fc.array(fc.nat(), { maxLength: 3 }), includes: fc.array(fc.nat(), { maxLength: 2 }) }),
  fc.record({ kind: fc.constant('add' as const), spec: assignmentArb }),
  fc.record({ kind: fc.constant('clock' as const), at: fc.constantFrom(T0, ...TIMES.map((t) => t - 1), ...TIMES) }),
);

const scenarioArb = fc.record({
  parents: fc.array(fc.nat(), { minLength: N_UNITS, maxLength: N_UNITS }),
  identities: fc.array(fc.record({ status: fc.constantFrom(...STATUSES), unit: fc.option(fc.nat(), { nil: null }) }), { minLength: N_IDENTITIES, maxLength: N_IDENTITIES }),
  roles: fc.array(fc.record({ perms: fc.array(fc.nat(), { maxLength: 3 }), includes: fc.array(fc.nat(), { maxLength: 2 }) }), { minLength: N_ROLES, maxLength: N_ROLES }),
  assignments: fc.array(assignmentArb, { minLength: 3, maxLength: 12 }),
  ops: fc.array(opArb, { maxLength: 14 }),
});

interface MutableModel {
  identities: Map<string, { status: string; unitId: string | null }>;
  units: Map<string, { parentId: string | null }>;
  permissions: Map<string, { applicationId: string }>;
  roles: Map<string, { permissionIds: string[]; includedRoleIds: string[] }>;
  assignments: AssignmentFact[];
}

for (const backend of CONTRACT_BACKENDS) {
  describe(`access engine vs reference rules (${backend})`, () => {
    let ts: TestStore;
    let engine: AccessEngine;
    /** The same engine with an identity cache of one byte: every answer recomputes (eviction). */
    let uncached: AccessEngine;
    let clock = T0;
    let run = 0;
    beforeAll(async () => {
      ts = await openTestStore(backend);
      await ts.store.migrate();
      engine = new AccessEngine(ts.store, { clock: () => clock, pollIntervalMs: 0 });
      await engine.start();
      uncached = new AccessEngine(ts.store, { clock: () => clock, pollIntervalMs: 0, cacheBytes: 1 });
      await uncached.start();
    });
    afterAll(async () => {
      engine.stop();
      uncached.stop();
      await ts.dispose();
    });

    it('gives the reference answers for check, list, explain and holders after every write', { timeout: 300_000 }, async () => {
      await fc.assert(
        fc.asyncProperty(scenarioArb, async (scenario) => {
          run += 1;
          clock = T0;
          const p = `r${run}-${Math.random().toString(36).slice(2, 8)}`;
          const tenantId = await ts.store.createTenant(p, new Date().toISOString());
          const fx = new AccessFixtures(ts.store, tenantId);
          const model: MutableModel = { identities: new Map(), units: new Map(), permissions: new Map(), roles: new Map(), assignments: [] };
          const unitIds = Array.from({ length: N_UNITS }, (_, i) => `${p}-u${i}`);
          const identityIds = Array.from({ length: N_IDENTITIES }, (_, i) => `${p}-i${i}`);
          const permIds = Array.from({ length: N_PERMS }, (_, i) => `${p}-p${i}`);
          const roleIds = Array.from({ length: N_ROLES }, (_, i) => `${p}-r${i}`);
          const appId = `${p}-app`;

          // Initial model, in one revision.
          await fx.batch(async (tx) => {
            await fx.application({ id: appId, name: `app ${p}` }, tx);
            for (let i = 0; i < N_UNITS; i += 1) {
              const parentIdx = scenario.parents[i]! % (i + 1);
              const parentId = parentIdx === i ? null : unitIds[parentIdx]!;
              await fx.unit({ id: unitIds[i]!, parentId }, tx);
              model.units.set(unitIds[i]!, { parentId });
            }
            for (const id of permIds) {
              await fx.permission({ id, applicationId: appId, name: id }, tx);
              model.permissions.set(id, { applicationId: appId });
            }
            for (let i = 0; i < N_ROLES; i += 1) {
              const spec = scenario.roles[i]!;
              const role = roleSpec(spec, i, permIds, roleIds);
              await fx.role({ id: roleIds[i]!, ...role }, tx);
              model.roles.set(roleIds[i]!, role);
            }
            for (let i = 0; i < N_IDENTITIES; i += 1) {
              const spec = scenario.identities[i]!;
              const unitId = spec.unit === null ? null : unitIds[spec.unit % N_UNITS]!;
              await fx.identity({ id: identityIds[i]!, status: spec.status, unitId }, tx);
              model.identities.set(identityIds[i]!, { status: spec.status, unitId });
            }
            for (const spec of scenario.assignments) await addAssignment(fx, model, spec, tx);
          });

          await compare(tenantId, model);
          for (const op of scenario.ops) {
            switch (op.kind) {
              case 'state': {
                if (!model.assignments.length) break;
                const a = model.assignments[op.target % model.assignments.length]!;
                a.state = op.state;
                await fx.setAssignmentState(a.id, op.state);
                break;
              }
              case 'move': {
                const unit = unitIds[op.unit % N_UNITS]!;
                const candidates = [null, ...unitIds.filter((u) => !inSubtree(model, u, unit))];
                const parentId = candidates[op.parent % candidates.length]!;
                model.units.get(unit)!.parentId = parentId;
                await fx.unit({ id: unit, parentId });
                break;
              }
              case 'identity': {
                const id = identityIds[op.target % N_IDENTITIES]!;
                const unitId = op.unit === null ? null : unitIds[op.unit % N_UNITS]!;
                model.identities.set(id, { status: op.status, unitId });
                await fx.identity({ id, status: op.status, unitId });
                break;
              }
              case 'role': {
                const i = op.target % N_ROLES;
                const role = roleSpec(op, i, permIds, roleIds);
                model.roles.set(roleIds[i]!, role);
                await fx.role({ id: roleIds[i]!, ...role });
                break;
              }
              case 'add':
                await addAssignment(fx, model, op.spec);
                break;
              case 'clock':
                clock = op.at;
                break;
            }
            await compare(tenantId, model);
          }
        }),
        { numRuns: backend === 'sqlite' ? 100 : 25, endOnFailure: true },
      );

      async function compare(tenantId: string, model: MutableModel): Promise<void> {
        await engine.syncNow(tenantId);
        await uncached.syncNow(tenantId);
        const { index } = await engine.at(tenantId);
        const small = (await uncached.at(tenantId)).index;
        const ref: ReferenceModel = model;
        const contexts: AccessContext[] = [
          { type: 'all', id: null },
          ...[...model.units.keys()].map((id): AccessContext => ({ type: 'orgUnit', id })),
          ...[...model.identities.keys()].slice(0, 2).map((id): AccessContext => ({ type: 'identity', id })),
        ];
        for (const identityId of model.identities.keys()) {
          const slot = index.identities.find(identityId);
          for (const permissionId of model.permissions.keys()) {
            const permSlot = index.perms.find(permissionId);
            for (const context of contexts) {
              const asked = askContext(index, context);
              const expected = checkAccess(ref, identityId, permissionId, context, clock);
              const actual = checkSlots(index, slot, permSlot, asked, clock, 'assigned');
              expect(checkSlots(small, small.identities.find(identityId), small.perms.find(permissionId), askContext(small, context), clock, 'assigned')).toBe(expected);
              if (actual !== expected) {
                throw new Error(`check(${identityId}, ${permissionId}, ${JSON.stringify(context)}) at ${new Date(clock).toISOString()}: engine ${actual}, reference ${expected}\n${JSON.stringify({ ...model, identities: [...model.identities], units: [...model.units], roles: [...model.roles] })}`);
              }
              const chains = explain(index, slot, permSlot, asked, clock, 'assigned').chains.map((c) => (c.via.kind === 'assignment' ? c.via.assignmentId : '')).sort();
              expect([...new Set(chains)]).toEqual(explainAccess(ref, identityId, permissionId, context, clock));
            }
          }
          const listed = listAccess(index, slot, clock, 'assigned').map((h) => [h.permissionId, h.via.map((v) => (v.kind === 'assignment' ? v.assignmentId : '')).sort()]);
          const grouped = new Map<string, string[]>();
          for (const g of effectiveGrants(ref, identityId, clock)) grouped.set(g.permissionId, [...(grouped.get(g.permissionId) ?? []), g.assignmentId].sort());
          expect(new Map(listed as [string, string[]][])).toEqual(grouped);
        }
        for (const permissionId of model.permissions.keys()) {
          const all: string[] = [];
          let after: string | null = null;
          for (;;) {
            const page = holders(index, index.perms.find(permissionId), clock, 'assigned', after, 2);
            all.push(...page.items.map((h) => index.identities.get(h.identity).id));
            if (page.nextAfter === null) break;
            after = page.nextAfter;
          }
          expect(all).toEqual(permissionHolders(ref, permissionId, clock));
        }
      }
    });
  });
}

function roleSpec(spec: { perms: number[]; includes: number[] }, i: number, permIds: string[], roleIds: string[]) {
  return {
    permissionIds: [...new Set(spec.perms.map((n) => permIds[n % permIds.length]!))],
    // Only lower-numbered roles may be included: no cycles, as the role service guarantees.
    includedRoleIds: i === 0 ? [] : [...new Set(spec.includes.map((n) => roleIds[n % i]!))],
  };
}

function inSubtree(model: MutableModel, unit: string, root: string): boolean {
  for (let u: string | null = unit, d = 0; u !== null && d < 50; u = model.units.get(u)?.parentId ?? null, d += 1) if (u === root) return true;
  return false;
}

async function addAssignment(fx: AccessFixtures, model: MutableModel, given: AssignmentSpec, tx?: Parameters<AccessFixtures['assignment']>[1]): Promise<void> {
  let spec = given;
  const units = [...model.units.keys()];
  const identities = [...model.identities.keys()];
  const perms = [...model.permissions.keys()];
  const roles = [...model.roles.keys()];
  const id = `${units[0]!.replace(/-u0$/, '')}-a${model.assignments.length}`;
  let resourceType: 'permission' | 'role' = spec.toRole ? 'role' : 'permission';
  let resourceId = spec.toRole ? roles[spec.resource % roles.length]! : perms[spec.resource % perms.length]!;
  let delegatedFromId: string | null = null;
  let delegatorId: string | null = null;
  let assigneeType: 'identity' | 'orgUnit' = spec.toUnit ? 'orgUnit' : 'identity';
  let assigneeId = spec.toUnit ? units[spec.assignee % units.length]! : identities[spec.assignee % identities.length]!;
  if (spec.delegate && model.assignments.length) {
    const source = model.assignments[spec.delegate.source % model.assignments.length]!;
    delegatedFromId = source.id;
    delegatorId = source.assigneeType === 'identity' ? source.assigneeId : identities[spec.delegate.delegator % identities.length]!;
    assigneeType = 'identity';
    assigneeId = identities[spec.assignee % identities.length]!;
    // Delegations start active and open-ended more often, so that many of them count.
    spec = { ...spec, state: spec.state === 'revoked' ? 'revoked' : 'active', from: spec.from !== null && spec.from > T0 ? spec.from : null };
    if (spec.delegate?.sameResource) {
      resourceType = source.resourceType;
      resourceId = source.resourceId;
    }
  }
  const contextId =
    spec.context === 'orgUnit' ? units[spec.contextRef % units.length]! : spec.context === 'identity' ? identities[spec.contextRef % identities.length]! : null;
  const context: AccessContext = { type: spec.context as AccessContext['type'], id: contextId };
  const fact: AssignmentFact = {
    id,
    assigneeType,
    assigneeId,
    resourceType,
    resourceId,
    context,
    state: spec.state,
    validFrom: spec.from,
    validTo: spec.to,
    delegatedFromId,
    delegatorId,
  };
  model.assignments.push(fact);
  await fx.assignment(
    {
      id,
      assigneeType,
      assigneeId,
      resourceType,
      resourceId,
      contextType: context.type,
      contextId,
      state: spec.state,
      validFrom: spec.from === null ? null : new Date(spec.from).toISOString(),
      validTo: spec.to === null ? null : new Date(spec.to).toISOString(),
      delegatedFromId,
      delegatorId,
    },
    tx,
  );
}
