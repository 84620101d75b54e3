/**
 * Group commit (SQLite): writes that queue while another runs commit together, each in a
 * savepoint of one transaction, one commit for the group. What must hold on every backend —
 * distinct consecutive revisions, a valid audit chain, a failing write undoing only itself,
 * the rights guard judging each write against the state it started from — is checked on
 * both; that fewer commits than writes happened, only on SQLite (PostgreSQL commits each
 * write on its own connection).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AppError } from '../../src/domain/errors.ts';
import { canonicalJson } from '../../src/domain/canonical-json.ts';
import { verifyAuditTrail } from '../../src/services/audit/trail.ts';
import { writeAs } from '../../src/services/kernel/rights-guard.ts';
import type { Actor } from '../../src/services/kernel/actor.ts';
import { GROUP_MAX_WRITES } from '../../src/store/group-commit.ts';
import { WriteMustRunAlone, type Store, type WriteMeta, type WriteTx } from '../../src/store/store.ts';
import { createTestApp, TEST_BACKEND, type TestApp } from '../support/harness.ts';
import { callerWith } from '../support/escalation-fixtures.ts';

const META: WriteMeta = { actorType: 'system', actorId: null, actorName: 'group commit test' };
const sqlite = TEST_BACKEND === 'sqlite';

async function insertRole(tx: WriteTx, name: string): Promise<string> {
  const id = randomUUID();
  await tx.db
    .insertInto('roles')
    .values({ id, tenant_id: tx.tenantId, number: await tx.nextNumber('roles'), name, description: null, system: 0, created_at: tx.now, updated_at: tx.now, version: 1 })
    .execute();
  tx.audit({ action: 'role.create', targetType: 'role', targetId: id, after: { name } });
  tx.change('role', id, 'create');
  return id;
}

async function roleNames(store: Store, tenantId: string, prefix: string): Promise<string[]> {
  const rows = await store.read(tenantId).db.selectFrom('roles').select('name').where('name', 'like', `${prefix}%`).orderBy('name').execute();
  return rows.map((r) => r.name);
}

async function chainIsValid(t: TestApp): Promise<void> {
  const report = (await verifyAuditTrail(t.store)).find((r) => r.tenantId === t.tenantId);
  expect(report?.problem).toBeNull();
  expect(report?.events).toBeGreaterThan(0);
}

/** The actor of an API key whose identity holds no Grantory right. */
function powerless(tenantId: string, identityId: string): Actor {
  return {
    caller: { tenantId, kind: 'api_key', id: randomUUID(), name: 'powerless', identityId, authorityId: null, scopes: null, rights: new Set(), applicationId: null },
    meta: { requestId: null, sourceIp: null, sourcePort: null, userAgent: null, origin: null },
  };
}

describe('group commit', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.dispose());

  /** Commits since `before` (SQLite: the group commit's count). */
  const commitsSince = (before: { commits: number }) => t.store.writeStats().commits - before.commits;

  it('commits concurrent writes together, each with its own revision and audit event on a valid chain', async () => {
    const before = t.store.writeStats();
    const head = (await t.store.tenantRevisions([t.tenantId])).get(t.tenantId)!;
    const results = await Promise.all(Array.from({ length: 20 }, (_, i) => t.store.write(t.tenantId, META, (tx) => insertRole(tx, `gc-many-${String(i).padStart(2, '0')}`))));
    const revisions = results.map((r) => r.revision).sort((a, b) => a - b);
    expect(new Set(revisions).size).toBe(20);
    expect(revisions[19]! - revisions[0]!).toBe(19);
    expect(revisions[0]).toBeGreaterThan(head);
    expect(await roleNames(t.store, t.tenantId, 'gc-many-')).toHaveLength(20);
    // One change-feed row per write, at its revision.
    const changes = await t.store.read(t.tenantId).db.selectFrom('changes').select('revision').where('revision', 'in', revisions).execute();
    expect(changes.map((c) => Number(c.revision)).sort((a, b) => a - b)).toEqual(revisions);
    const stats = t.store.writeStats();
    expect(stats.writes - before.writes).toBe(20);
    // The 20 writes were queued before the first began: they share transactions on SQLite (one,
    // unless the group's time bound cut it on a slow machine).
    if (sqlite) expect(commitsSince(before)).toBeLessThanOrEqual(10);
    else expect(commitsSince(before)).toBe(20);
    await chainIsValid(t);
  });

  it('undoes only the write that fails; the others of its group commit', async () => {
    await t.store.write(t.tenantId, META, (tx) => insertRole(tx, 'gc-taken'));
    const before = t.store.writeStats();
    const outcomes = await Promise.allSettled(
      ['a', 'b', 'c', 'd', 'e'].map((n) =>
        t.store.write(t.tenantId, META, async (tx) => {
          await insertRole(tx, `gc-fail-${n}`);
          if (n === 'c') throw new AppError('conflict', 'refused on purpose');
          // A constraint violation after its own insert: the write is undone to its savepoint.
          if (n === 'd') await insertRole(tx, 'gc-taken');
        }),
      ),
    );
    expect(outcomes.map((o) => o.status)).toEqual(['fulfilled', 'fulfilled', 'rejected', 'rejected', 'fulfilled']);
    expect((outcomes[2] as PromiseRejectedResult).reason).toBeInstanceOf(AppError);
    expect(await roleNames(t.store, t.tenantId, 'gc-fail-')).toEqual(['gc-fail-a', 'gc-fail-b', 'gc-fail-e']);
    const revisions = outcomes.flatMap((o) => (o.status === 'fulfilled' ? [o.value.revision] : [])).sort((x, y) => x - y);
    expect(revisions[1]).toBe(revisions[0]! + 1);
    expect(revisions[2]).toBe(revisions[1]! + 1);
    if (sqlite) expect(commitsSince(before)).toBeLessThan(3);
    else expect(commitsSince(before)).toBe(3);
    await chainIsValid(t);
  });

  it('bounds a group by its number of writes', async () => {
    const before = t.store.writeStats();
    const n = GROUP_MAX_WRITES + 3;
    await Promise.all(Array.from({ length: n }, (_, i) => t.store.write(t.tenantId, META, (tx) => insertRole(tx, `gc-bound-${i}`))));
    if (sqlite) expect(commitsSince(before)).toBeGreaterThanOrEqual(2);
    if (sqlite) expect(commitsSince(before)).toBeLessThan(n / 2);
    else expect(commitsSince(before)).toBe(n);
  });

  it('commits a write asked to be alone by itself, after the group before it', async () => {
    const before = t.store.writeStats();
    const order: string[] = [];
    const write = (name: string, alone: boolean) =>
      t.store.write(
        t.tenantId,
        META,
        async (tx) => {
          order.push(name);
          return insertRole(tx, `gc-alone-${name}`);
        },
        { alone },
      );
    await Promise.all([write('1', false), write('2', false), write('3', true), write('4', false)]);
    // In the order they came (PostgreSQL runs them side by side, in any order).
    if (sqlite) expect(order).toEqual(['1', '2', '3', '4']);
    else expect(order.sort()).toEqual(['1', '2', '3', '4']);
    // 1 and 2 together (unless the time bound cut them), 3 by itself, 4 after it.
    if (sqlite) expect(commitsSince(before)).toBeGreaterThanOrEqual(3);
    expect(commitsSince(before)).toBeLessThanOrEqual(4);
  });

  it('runs a write that needs the state it started from again once the earlier writes are committed', async () => {
    const before = t.store.writeStats();
    let runs = 0;
    // The second write is asked for while the first runs: on SQLite it queues behind it and
    // joins its group; on PostgreSQL it waits for the first's lock on the tenant.
    let second!: Promise<{ value: string[]; revision: number }>;
    await t.store.write(t.tenantId, META, async (tx) => {
      second = t.store.write(t.tenantId, META, async (tx) => {
        runs += 1;
        if (tx.pending.size > 0) throw new WriteMustRunAlone('test');
        await insertRole(tx, 'gc-rerun-second');
        // The committed state is the one this write started from: the first write's role is in it.
        return roleNames({ read: (id: string) => t.store.committed(id) } as unknown as Store, t.tenantId, 'gc-rerun-');
      });
      return insertRole(tx, 'gc-rerun-first');
    });
    expect((await second).value).toEqual(['gc-rerun-first']);
    expect(runs).toBe(sqlite ? 2 : 1);
    expect(t.store.writeStats().rerun - before.rerun).toBe(sqlite ? 1 : 0);
    expect(commitsSince(before)).toBe(2);
    await chainIsValid(t);
  });

  it('judges a grouped write against the state it started from: no right comes back through a write committed with its removal', async () => {
    const holder = await callerWith(t, 'gc:holder', ['manage-users']);
    const weak = await callerWith(t, 'gc:weak', []);
    const setStatus = (status: string) => async (tx: WriteTx) => {
      await tx.db.updateTable('identities').set({ status, updated_at: tx.now }).where('id', '=', holder.identityId).execute();
      tx.audit({ action: 'identity.update', targetType: 'identity', targetId: holder.identityId, after: { status } });
      tx.change('identity', holder.identityId, 'update');
    };
    const before = t.store.writeStats();
    // The first write takes the right away (the holder is no longer active); the second, by an
    // actor holding no right, gives it back. Judged against the last commit (the holder still
    // active) it would change nothing; judged against the state it started from, it is a gain.
    // The second is asked for while the first runs (so it comes after it on both backends).
    let giveBack!: Promise<unknown>;
    await t.store.write(t.tenantId, META, async (tx) => {
      giveBack = writeAs(t.services.deps, powerless(t.tenantId, weak.identityId), setStatus('active'));
      await setStatus('terminated')(tx);
    });
    const [second] = await Promise.allSettled([giveBack]);
    expect(second!.status).toBe('rejected');
    expect(((second as PromiseRejectedResult).reason as AppError).code).toBe('forbidden');
    const row = await t.store.read(t.tenantId).db.selectFrom('identities').select('status').where('id', '=', holder.identityId).executeTakeFirstOrThrow();
    expect(row.status).toBe('terminated');
    expect(t.store.writeStats().rerun - before.rerun).toBe(sqlite ? 1 : 0);
  });

  it('groups identity creates by an actor without rights without running any of them again (a first push)', async () => {
    const weak = await callerWith(t, 'gc:pusher', []);
    const before = t.store.writeStats();
    await Promise.all(
      Array.from({ length: 10 }, () =>
        writeAs(t.services.deps, powerless(t.tenantId, weak.identityId), async (tx) => {
          const id = randomUUID();
          await tx.db
            .insertInto('identities')
            .values({
              id, tenant_id: tx.tenantId, number: await tx.nextNumber('identities'), subject: `s-${id}`, username: `u-${id}`, email: null, first_name: null, last_name: null,
              display_name: null, employee_number: null, type: 'employee', status: 'active', manager_id: null, org_unit_id: null, attributes: canonicalJson({}),
              created_at: tx.now, updated_at: tx.now, version: 1,
            })
            .execute();
          tx.audit({ action: 'identity.create', targetType: 'identity', targetId: id, after: { id } });
          tx.change('identity', id, 'create');
        }),
      ),
    );
    expect(t.store.writeStats().rerun - before.rerun).toBe(0);
    if (sqlite) expect(commitsSince(before)).toBeLessThan(10);
    else expect(commitsSince(before)).toBe(10);
    await chainIsValid(t);
  });
});
