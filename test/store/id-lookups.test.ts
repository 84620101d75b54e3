/**
 * Reads by primary key of many ids at once (src/store/id-lookups.ts), and the offboarding's
 * revocation of an identity's assignments with one statement: on every backend of this run,
 * exactly the tenant's rows of the ids asked for; on SQLite, whose planner has no statistics
 * here, plans that look each id up by primary key (and the identity's assignments up by the
 * assignee index) instead of walking every assignment of the tenant.
 */
import { randomUUID } from 'node:crypto';
import { CompiledQuery, type KyselyPlugin } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { revokeIdentityAssignments } from '../../src/services/access/index.ts';
import { selectByIds } from '../../src/store/id-lookups.ts';
import type { Database } from '../../src/store/schema.ts';
import type { Store, WriteMeta, WriteTx } from '../../src/store/store.ts';
import { directAssignmentRow } from '../support/catalog.ts';
import { CONTRACT_BACKENDS, openTestTenants, type TestStore } from '../support/harness.ts';

const META: WriteMeta = { actorType: 'system', actorId: null, actorName: 'id lookups test' };
const NOW = '2026-12-01T10:00:00.000Z';

/** Writes `n` assignments of each of `people` (the last two of each: paused, revoked); returns them. */
async function seed(store: Store, tenantId: string, people: string[], n: number): Promise<Database['assignments'][]> {
  const { value } = await store.write(tenantId, META, async (tx) => {
    const rows = people.flatMap((p) => Array.from({ length: n }, (_, i) => directAssignmentRow(tx, p, { type: 'permission', id: randomUUID() }, i === n - 1 ? 'revoked' : i === n - 2 ? 'paused' : 'active')));
    await tx.db.insertInto('assignments').values(rows).execute();
    tx.audit({ action: 'test.seed', targetType: 'assignment', targetId: null });
    return rows;
  });
  return value;
}

/** A write scope whose statements are also compiled into `seen` (as run, tenant filter included). */
function watched(tx: WriteTx, seen: CompiledQuery[]): WriteTx {
  const executor = tx.db.getExecutor();
  const spy: KyselyPlugin = {
    transformQuery: (args) => {
      seen.push(executor.compileQuery(args.node, args.queryId));
      return args.node;
    },
    transformResult: async (args) => args.result,
  };
  return { ...tx, db: tx.db.withPlugin(spy) };
}

describe.each(CONTRACT_BACKENDS)('reads by id and set-based revocation on %s', (backend) => {
  let ts: TestStore;
  let store: Store;
  let tenantA: string;
  let tenantB: string;
  let rowsA: Database['assignments'][];
  let rowsB: Database['assignments'][];

  beforeAll(async () => {
    let tenants: string[];
    ({ ts, tenantIds: tenants } = await openTestTenants(backend, ['tenant-a', 'tenant-b'], NOW));
    store = ts.store;
    [tenantA, tenantB] = tenants as [string, string];
    rowsA = await seed(store, tenantA, ['ada', 'bob', 'cy'], 6);
    rowsB = await seed(store, tenantB, ['ada'], 6);
  });
  afterAll(async () => ts.dispose());

  it('reads the rows of the ids asked for, of the tenant named only, each once', async () => {
    const { db } = store.read(tenantA);
    const wanted = [rowsA[0]!.id, rowsA[7]!.id, rowsA[7]!.id, rowsA[17]!.id, rowsB[0]!.id, randomUUID()];
    const rows = await selectByIds(db, tenantA, 'assignments', ['id', 'state', 'assignee_id'], wanted);
    expect(rows.map((r) => r.id).sort()).toEqual([rowsA[0]!.id, rowsA[7]!.id, rowsA[17]!.id].sort());
    expect(rows.find((r) => r.id === rowsA[17]!.id)).toEqual({ id: rowsA[17]!.id, state: 'revoked', assignee_id: 'cy' });
    expect(await selectByIds(db, tenantA, 'assignments', ['id'], [])).toEqual([]);
    expect((await selectByIds(store.read(tenantB).db, tenantB, 'assignments', ['id'], wanted)).map((r) => r.id)).toEqual([rowsB[0]!.id]);
  });

  it('reads thousands of ids', async () => {
    const ids = [...rowsA.map((r) => r.id), ...Array.from({ length: 4500 }, () => randomUUID())];
    expect((await selectByIds(store.read(tenantA).db, tenantA, 'assignments', ['id'], ids)).length).toBe(rowsA.length);
  });

  it("revokes exactly the identity's assignments not revoked yet, each audited, with one update", async () => {
    const seen: CompiledQuery[] = [];
    const { value: revoked } = await store.write(tenantA, META, async (tx) => revokeIdentityAssignments(watched(tx, seen), 'bob', 'offboarding', { personnelEventId: 'e-1' }));
    const bob = rowsA.filter((r) => r.assignee_id === 'bob' && r.state !== 'revoked');
    expect([...revoked].sort()).toEqual(bob.map((r) => r.id).sort());
    expect(seen.filter((q) => /^update/i.test(q.sql))).toHaveLength(1);
    const { db } = store.read(tenantA);
    const after = await db.selectFrom('assignments').select(['assignee_id', 'state', 'version', 'reason']).where('id', 'in', rowsA.map((r) => r.id)).execute();
    for (const a of after.filter((r) => r.assignee_id === 'bob')) expect(a.state).toBe('revoked');
    expect(after.filter((r) => r.assignee_id === 'bob' && r.reason === 'offboarding').map((r) => Number(r.version))).toEqual(bob.map(() => 2));
    expect(after.filter((r) => r.assignee_id !== 'bob' && r.state === 'revoked')).toHaveLength(2);
    expect((await store.read(tenantB).db.selectFrom('assignments').select('state').where('state', '=', 'revoked').execute()).length).toBe(1);
    const audits = await db.selectFrom('audit_events').select(['target_id', 'before', 'after']).where('action', '=', 'assignment.revoke').execute();
    expect(audits.map((a) => a.target_id).sort()).toEqual(bob.map((r) => r.id).sort());
    const paused = bob.find((r) => r.state === 'paused')!;
    const audit = audits.find((a) => a.target_id === paused.id)!;
    expect(JSON.parse(audit.before!)).toMatchObject({ state: 'paused' });
    expect(JSON.parse(audit.after!)).toMatchObject({ state: 'revoked', cause: { personnelEventId: 'e-1' } });
    // Nothing left to revoke: no update, nothing audited by it.
    expect((await store.write(tenantA, META, async (tx) => {
      const value = await revokeIdentityAssignments(tx, 'bob', 'offboarding', {});
      tx.audit({ action: 'test.none', targetType: 'assignment', targetId: null });
      return value;
    })).value).toEqual([]);
  });

  // SQLite's planner, without statistics, is the one that would walk the tenant's rows.
  const sqliteOnly = backend === 'sqlite' ? it : () => undefined;
  sqliteOnly('plans each id as a primary-key lookup, and the revocation through the assignee index (SQLite)', async () => {
    const plans = await store.write(tenantA, META, async (tx) => {
      const seen: CompiledQuery[] = [];
      const scope = watched(tx, seen);
      await selectByIds(scope.db, tenantA, 'assignments', ['id', 'resource_type', 'resource_id'], rowsA.map((r) => r.id));
      await selectByIds(scope.db, tenantA, 'identities', ['id', 'status', 'org_unit_id'], [randomUUID(), randomUUID(), randomUUID()]);
      await revokeIdentityAssignments(scope, 'cy', 'offboarding', {});
      tx.audit({ action: 'test.plan', targetType: 'assignment', targetId: null });
      const planOf = async (q: CompiledQuery) => {
        const { rows } = await tx.db.executeQuery(CompiledQuery.raw(`explain query plan ${q.sql}`, [...q.parameters]));
        return (rows as { detail: string }[]).map((r) => r.detail).join(' | ');
      };
      const byIds = seen.filter((q) => /json_each/.test(q.sql));
      const update = seen.find((q) => /^update/i.test(q.sql))!;
      return { byIds: await Promise.all(byIds.map(planOf)), update: await planOf(update) };
    });
    expect(plans.value.byIds).toHaveLength(2);
    for (const plan of plans.value.byIds) {
      expect(plan).toMatch(/SCAN wanted VIRTUAL TABLE/);
      expect(plan).toMatch(/SEARCH t USING INDEX sqlite_autoindex_\w+ \(id=\?\)/);
    }
    expect(plans.value.update).toMatch(/USING INDEX assignments_assignee \(tenant_id=\? AND assignee_type=\? AND assignee_id=\?\)/);
  });
});
