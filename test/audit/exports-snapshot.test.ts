/**
 * An effective-permission export is a snapshot at the revision it announces: writes that the
 * access index applies while a slowly read export is under way (an identity's assignment
 * revoked, its e-mail changed, a delegation's source revoked, a new identity, a role or unit
 * renamed) do not show in it. Each export is compared with the whole export taken at the
 * same revision before the writes, in both spaces and every format; a fresh export after the
 * writes differs from it, so the writes did reach the index.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { AccessSpace } from '../../src/domain/access.ts';
import type { ExportFormat } from '../../src/domain/export-format.ts';
import { exportEffectivePermissions } from '../../src/services/audit/index.ts';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

const IDENTITIES = 200;
/** A long e-mail makes each row large, so the export is many chunks and is read while writes land. */
const padded = (i: number, tag = '') => `${'x'.repeat(1500)}${tag}.user${i}@example.com`;

let t: TestApp;
let fx: AccessFixtures;
const ids: string[] = [];
const direct = new Map<string, string>();
let role = '';
let unit = '';
let p0 = '';
let p1 = '';
let app = '';

beforeAll(async () => {
  t = await createTestApp();
  fx = new AccessFixtures(t.store, t.tenantId);
  await fx.batch(async (tx) => {
    app = await fx.application({ name: 'ledger', kind: 'managed' }, tx);
    p0 = await fx.permission({ applicationId: app, name: 'read', delegable: true }, tx);
    p1 = await fx.permission({ applicationId: app, name: 'post', delegable: true }, tx);
    role = await fx.role({ name: 'Clerk', permissionIds: [p1] }, tx);
    const root = await fx.unit({ name: 'Acme' }, tx);
    unit = await fx.unit({ name: 'Finance', parentId: root }, tx);
    await fx.assignment({ assigneeType: 'orgUnit', assigneeId: root, resourceType: 'role', resourceId: role }, tx);
    for (let i = 0; i < IDENTITIES; i += 1) {
      const id = await fx.identity({ email: padded(i), unitId: i % 2 ? unit : null }, tx);
      ids.push(id);
      direct.set(id, await fx.assignment({ assigneeId: id, resourceId: p0, contextType: i % 3 ? 'all' : 'orgUnit', contextId: i % 3 ? null : unit }, tx));
    }
  });
  await t.access.syncNow(t.tenantId);
});

afterAll(async () => {
  await t.close();
});

async function exportOf(space: AccessSpace, format: ExportFormat) {
  return exportEffectivePermissions(t.services.deps, systemActor(t.tenantId, 'test'), { filter: {}, space, format });
}

async function drain(chunks: AsyncIterator<string>, first = ''): Promise<string> {
  let out = first;
  for (let next = await chunks.next(); !next.done; next = await chunks.next()) out += next.value;
  return out;
}

/** Identities the export reaches late (the index's slot order), so writes to them land before they are read. */
async function late(): Promise<string[]> {
  const { index } = await t.access.at(t.tenantId);
  return ids.filter((id) => index.identities.find(id) >= IDENTITIES / 2);
}

/**
 * Takes the whole export, then reads one chunk of a second export at the same revision, runs
 * `writes` and lets the index apply them, and reads the rest: equal to the first.
 */
async function snapshotHolds(space: AccessSpace, format: ExportFormat, writes: () => Promise<void>): Promise<void> {
  // Every earlier write applied: the two exports below start at the same revision.
  await t.access.syncNow(t.tenantId);
  const before = await exportOf(space, format);
  const reference = await drain(before.chunks[Symbol.asyncIterator]());
  const slow = await exportOf(space, format);
  expect(slow.revision).toBe(before.revision);
  const chunks = slow.chunks[Symbol.asyncIterator]();
  const first = await chunks.next();
  expect(first.done).toBe(false);
  await writes();
  expect(await t.access.syncNow(t.tenantId)).toBeGreaterThan(slow.revision!);
  expect(await drain(chunks, first.value as string)).toBe(reference);
  const after = await exportOf(space, format);
  expect(await drain(after.chunks[Symbol.asyncIterator]())).not.toBe(reference);
}

describe('an effective-permission export is a snapshot at its revision', () => {
  let round = 0;
  for (const space of ['assigned', 'provisioned'] as const) {
    for (const format of ['ndjson', 'csv', 'json'] as const) {
      it(`identities changed while a ${space} ${format} export runs show as they were`, async () => {
        round += 1;
        const [revoked, renamed, moved, delegate, ...rest] = (await late()).slice(round * 5);
        expect(rest.length).toBeGreaterThan(0);
        const source = ids[round]!;
        const delegation = await fx.assignment({ assigneeId: delegate!, resourceId: p0, delegatedFromId: direct.get(source)!, delegatorId: source });
        await t.access.syncNow(t.tenantId);
        await snapshotHolds(space, format, async () => {
          await fx.setAssignmentState(direct.get(revoked!)!, 'revoked');
          await fx.identity({ id: renamed!, email: padded(round, 'renamed') });
          await fx.identity({ id: moved!, unitId: null, status: 'terminated' });
          // The delegation's source is revoked: the delegate (read later) loses it too.
          await fx.setAssignmentState(direct.get(source)!, 'revoked');
          await fx.assignment({ assigneeId: await fx.identity({ email: 'new@example.com' }), resourceId: p1 });
        });
        await fx.setAssignmentState(delegation, 'revoked');
      });
    }
    it(`a catalog and unit change while a ${space} export runs does not show`, async () => {
      round += 1;
      await snapshotHolds(space, 'ndjson', async () => {
        await fx.role({ id: role, name: `Clerk ${round}`, permissionIds: [p0] });
        await fx.unit({ id: unit, name: `Finance ${round}` });
        await fx.assignment({ assigneeId: ids[IDENTITIES - 1]!, resourceId: p1, contextType: 'identity', contextId: randomUUID() });
      });
    });
  }
});
