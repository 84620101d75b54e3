/**
 * Tenant isolation by construction, on every backend of this run: queries written WITHOUT a
 * tenant filter, through `store.read(A)` or a write of A, see and change only A's rows —
 * selects, joins, subqueries, updates, deletes — and an insert carrying another tenant (or
 * none) is refused. Two tenants hold look-alike data, plus rows of B that point at A's rows
 * (foreign keys reach across tenants), which is what an unfiltered join or subquery would leak.
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Database } from '../../src/store/schema.ts';
import type { Store, WriteMeta, WriteTx } from '../../src/store/store.ts';
import { HAS_TENANT_COLUMN, TENANT_TABLES, TenantScopeViolation } from '../../src/store/tenant-scope.ts';
import { bulkInsert } from '../../src/services/imports/bulk.ts';
import { CONTRACT_BACKENDS, openTestTenants, type TestStore } from '../support/harness.ts';

const META: WriteMeta = { actorType: 'system', actorId: null, actorName: 'tenant scope test' };
const NOW = '2026-12-01T10:00:00.000Z';

function roleRow(tx: WriteTx, name: string, number: number): Database['roles'] {
  return { id: randomUUID(), tenant_id: tx.tenantId, number, name, description: null, system: 0, created_at: tx.now, updated_at: tx.now, version: 1 };
}

/** Writes roles `<p>1`, `<p>2`, `<p>3` and the inclusion `<p>1` includes `<p>2`; returns the ids by name. */
async function seed(store: Store, tenantId: string, prefix: string): Promise<Record<string, string>> {
  const { value } = await store.write(tenantId, META, async (tx) => {
    const rows = [1, 2, 3].map((i) => roleRow(tx, `${prefix}${i}`, i));
    await tx.db.insertInto('roles').values(rows).execute();
    await tx.db.insertInto('role_includes').values({ tenant_id: tx.tenantId, role_id: rows[0]!.id, included_role_id: rows[1]!.id }).execute();
    tx.audit({ action: 'test.seed', targetType: 'role', targetId: null });
    return Object.fromEntries(rows.map((r) => [r.name, r.id]));
  });
  return value;
}

describe.each(CONTRACT_BACKENDS)('tenant scope on %s', (backend) => {
  let ts: TestStore;
  let store: Store;
  let tenantA: string;
  let tenantB: string;
  let a: Record<string, string>;
  let b: Record<string, string>;

  beforeAll(async () => {
    let tenants: string[];
    ({ ts, tenantIds: tenants } = await openTestTenants(backend, ['tenant-a', 'tenant-b'], NOW));
    store = ts.store;
    [tenantA, tenantB] = tenants as [string, string];
    a = await seed(store, tenantA, 'a');
    b = await seed(store, tenantB, 'b');
    // Rows of B that point at A's roles: B's `b3` includes A's `a3`, and B's `a1` (a role of B
    // that shares its name with one of A's) is included by nothing.
    await store.write(tenantB, META, async (tx) => {
      await tx.db.insertInto('role_includes').values({ tenant_id: tenantB, role_id: b.b3!, included_role_id: a.a3! }).execute();
      await tx.db.insertInto('roles').values(roleRow(tx, 'a1', 4)).execute();
      tx.audit({ action: 'test.seed', targetType: 'role', targetId: null });
    });
  });
  afterAll(async () => ts.dispose());

  const names = (rows: { name: string }[]) => rows.map((r) => r.name).sort();

  it('a select without a tenant filter sees only the tenant of its handle', async () => {
    expect(names(await store.read(tenantA).db.selectFrom('roles').select('name').execute())).toEqual(['a1', 'a2', 'a3']);
    expect(names(await store.read(tenantB).db.selectFrom('roles').select('name').execute())).toEqual(['a1', 'b1', 'b2', 'b3']);
    // Looking up another tenant's row by its id finds nothing.
    expect(await store.read(tenantA).db.selectFrom('roles').select('name').where('id', '=', b.b1!).executeTakeFirst()).toBeUndefined();
    // An explicit filter on another tenant is ANDed with the scope: nothing.
    expect(await store.read(tenantA).db.selectFrom('roles').select('name').where('tenant_id', '=', tenantB).execute()).toEqual([]);
  });

  it('scopes every table of a join, and keeps the rows of a left join', async () => {
    const { db } = store.read(tenantA);
    // B's inclusion of A's `a3` joins on A's role id: unfiltered, it would appear here.
    const inner = await db
      .selectFrom('role_includes as i')
      .innerJoin('roles as r', 'r.id', 'i.included_role_id')
      .select(['r.name', 'i.tenant_id'])
      .execute();
    expect(inner).toEqual([{ name: 'a2', tenant_id: tenantA }]);
    const left = await db
      .selectFrom('roles')
      .leftJoin('role_includes', 'role_includes.included_role_id', 'roles.id')
      .select(['roles.name', 'role_includes.role_id'])
      .orderBy('roles.name')
      .execute();
    expect(left).toEqual([
      { name: 'a1', role_id: null },
      { name: 'a2', role_id: a.a1 },
      { name: 'a3', role_id: null },
    ]);
    // Joining by name reaches B's role named `a1` only without the scope.
    const byName = await db.selectFrom('roles as mine').innerJoin('roles as other', 'other.name', 'mine.name').select('other.id').execute();
    expect(byName.map((r) => r.id).sort()).toEqual([a.a1, a.a2, a.a3].sort());
  });

  it('scopes subqueries in where, exists and selections, also under a table without tenant_id', async () => {
    const { db } = store.read(tenantA);
    const included = await db
      .selectFrom('roles')
      .select('name')
      .where('id', 'in', (eb) => eb.selectFrom('role_includes').select('included_role_id'))
      .execute();
    expect(names(included)).toEqual(['a2']);
    const includingSomething = await db
      .selectFrom('roles')
      .select('name')
      .where(({ exists, selectFrom }) => exists(selectFrom('role_includes').select('role_id').whereRef('role_includes.role_id', '=', 'roles.id')))
      .execute();
    expect(names(includingSomething)).toEqual(['a1']);
    // `tenants` has no tenant_id: every tenant is listed, and the count beside it is A's.
    const counts = await db
      .selectFrom('tenants')
      .select((eb) => ['tenants.name', eb.selectFrom('roles').select(eb.fn.countAll<number>().as('n')).as('roles')])
      .where('tenants.id', 'in', [tenantA, tenantB])
      .orderBy('tenants.name')
      .execute();
    expect(counts.map((c) => [c.name, Number(c.roles)])).toEqual([
      ['tenant-a', 3],
      ['tenant-b', 3],
    ]);
  });

  it('scopes the tables inside a common table expression and a joined subquery; a reference to the expression is not a table', async () => {
    const { db } = store.read(tenantA);
    // The expression is named like a tenant table (`grants`) but has no tenant_id of its own:
    // a filter on it would be an SQL error.
    const viaCte = await db
      .with('grants', (q) => q.selectFrom('role_includes').select('included_role_id as id'))
      .selectFrom('roles')
      .innerJoin('grants', 'grants.id', 'roles.id')
      .select('roles.name')
      .execute();
    expect(names(viaCte)).toEqual(['a2']);
    const viaJoinedSubquery = await db
      .selectFrom('roles')
      .innerJoin((eb) => eb.selectFrom('role_includes').select('role_id').as('inc'), (join) => join.onRef('inc.role_id', '=', 'roles.id'))
      .select('roles.name')
      .execute();
    expect(names(viaJoinedSubquery)).toEqual(['a1']);
  });

  it('an update and a delete without a tenant filter change only the rows of the write tenant', async () => {
    const { value } = await store.write(tenantA, META, async (tx) => {
      const updated = await tx.db.updateTable('roles').set({ description: 'touched' }).executeTakeFirst();
      const deleted = await tx.db.deleteFrom('role_includes').executeTakeFirst();
      tx.audit({ action: 'test.touch', targetType: 'role', targetId: null });
      return { updated: Number(updated.numUpdatedRows), deleted: Number(deleted.numDeletedRows) };
    });
    expect(value).toEqual({ updated: 3, deleted: 1 });
    const bRoles = await store.read(tenantB).db.selectFrom('roles').select(['name', 'description']).execute();
    expect(bRoles.every((r) => r.description === null)).toBe(true);
    expect(await store.read(tenantB).db.selectFrom('role_includes').select('role_id').execute()).toHaveLength(2);
    const aRoles = await store.read(tenantA).db.selectFrom('roles').select('description').execute();
    expect(aRoles.map((r) => r.description)).toEqual(['touched', 'touched', 'touched']);
    // Put A's inclusion back for the other tests.
    await store.write(tenantA, META, async (tx) => {
      await tx.db.insertInto('role_includes').values({ tenant_id: tenantA, role_id: a.a1!, included_role_id: a.a2! }).execute();
      tx.audit({ action: 'test.seed', targetType: 'role', targetId: null });
    });
  });

  it('refuses an insert with another tenant_id, a computed one or none, and keeps nothing of the write', async () => {
    const attempts: ((tx: WriteTx) => Promise<unknown>)[] = [
      (tx) => tx.db.insertInto('roles').values({ ...roleRow(tx, 'foreign', 9), tenant_id: tenantB }).execute(),
      (tx) => tx.db.insertInto('roles').values([roleRow(tx, 'ok', 9), { ...roleRow(tx, 'foreign', 10), tenant_id: tenantB }]).execute(),
      (tx) => tx.db.insertInto('roles').values({ ...roleRow(tx, 'computed', 9), tenant_id: sql<string>`${tenantA}` }).execute(),
      (tx) => {
        const { tenant_id: _omitted, ...row } = roleRow(tx, 'none', 9);
        return tx.db
          .insertInto('roles')
          .values(row as Database['roles'])
          .execute();
      },
    ];
    for (const attempt of attempts) {
      const error = await store
        .write(tenantA, META, async (tx) => {
          await tx.db.insertInto('roles').values(roleRow(tx, 'before', 8)).execute();
          tx.audit({ action: 'test.insert', targetType: 'role', targetId: null });
          await attempt(tx);
        })
        .then(
          () => null,
          (e: unknown) => e,
        );
      expect(error).toBeInstanceOf(TenantScopeViolation);
    }
    const all = await store.read(tenantA).db.selectFrom('roles').select('name').execute();
    expect(names(all)).toEqual(['a1', 'a2', 'a3']);
  });

  it('refuses to move a row to another tenant by update or upsert; an upsert updates only its own tenant', async () => {
    const moves: ((tx: WriteTx) => Promise<unknown>)[] = [
      (tx) => tx.db.updateTable('roles').set({ tenant_id: tenantB }).where('id', '=', a.a1!).execute(),
      (tx) =>
        tx.db
          .insertInto('counters')
          .values({ tenant_id: tx.tenantId, name: 'roles', value: 1 })
          .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet({ tenant_id: tenantB }))
          .execute(),
    ];
    for (const move of moves) {
      await expect(
        store.write(tenantA, META, async (tx) => {
          tx.audit({ action: 'test.move', targetType: 'role', targetId: null });
          await move(tx);
        }),
      ).rejects.toBeInstanceOf(TenantScopeViolation);
    }
    // An upsert of A conflicting (on the id, unique across tenants) with a row of B leaves B's row alone.
    await store.write(tenantA, META, async (tx) => {
      await tx.db
        .insertInto('roles')
        .values({ ...roleRow(tx, 'upserted', 9), id: b.b1! })
        .onConflict((oc) => oc.column('id').doUpdateSet({ name: 'stolen' }))
        .execute();
      tx.audit({ action: 'test.upsert', targetType: 'role', targetId: null });
    });
    expect(await store.read(tenantB).db.selectFrom('roles').select('name').where('id', '=', b.b1!).executeTakeFirst()).toEqual({ name: 'b1' });
    expect(names(await store.read(tenantA).db.selectFrom('roles').select('name').execute())).toEqual(['a1', 'a2', 'a3']);
  });

  it('the raw bulk insert (prepared statements on SQLite, raw SQL on PostgreSQL) carries the write tenant or is refused', async () => {
    const columns = ['tenant_id', 'role_id', 'included_role_id'];
    // A row of the write's tenant is written, also as an upsert whose conflict target names tenant_id.
    await store.write(tenantA, META, async (tx) => {
      const rows = bulkInsert(tx, 'role_includes', columns, { onConflict: 'on conflict (tenant_id, role_id, included_role_id) do nothing' });
      await rows.push([tx.tenantId, a.a2!, a.a3!]);
      await rows.end();
      tx.audit({ action: 'test.bulk', targetType: 'role', targetId: null });
    });
    const inclusions = await store.read(tenantA).db.selectFrom('role_includes').select(['role_id', 'included_role_id']).where('role_id', '=', a.a2!).execute();
    expect(inclusions).toEqual([{ role_id: a.a2!, included_role_id: a.a3! }]);
    const refused: ((tx: WriteTx) => Promise<void>)[] = [
      async (tx) => {
        const rows = bulkInsert(tx, 'role_includes', columns);
        await rows.push([tx.tenantId, a.a3!, a.a1!]);
        await rows.push([tenantB, b.b2!, b.b1!]);
        await rows.end();
      },
      async (tx) => void bulkInsert(tx, 'role_includes', ['role_id', 'included_role_id']),
      async (tx) => void bulkInsert(tx, 'role_includes', columns, { onConflict: 'on conflict (role_id, included_role_id) do nothing' }),
    ];
    for (const attempt of refused) {
      await expect(
        store.write(tenantA, META, async (tx) => {
          tx.audit({ action: 'test.bulk', targetType: 'role', targetId: null });
          await attempt(tx);
        }),
      ).rejects.toBeInstanceOf(TenantScopeViolation);
    }
    // The first attempt's row of A (written before the refused row) went with its write.
    const after = await store.read(tenantA).db.selectFrom('role_includes').select('role_id').where('role_id', '=', a.a3!).execute();
    expect(after).toEqual([]);
    expect(await store.read(tenantB).db.selectFrom('role_includes').select('role_id').where('role_id', '=', b.b2!).execute()).toEqual([]);
    await store.write(tenantA, META, async (tx) => {
      await tx.db.deleteFrom('role_includes').where('role_id', '=', a.a2!).where('included_role_id', '=', a.a3!).execute();
      tx.audit({ action: 'test.bulk', targetType: 'role', targetId: null });
    });
  });

  it('binds the tenant as a parameter: one SQL text for every tenant (statements stay cached)', () => {
    const query = (tenant: string) => store.read(tenant).db.selectFrom('roles').innerJoin('role_includes', 'role_includes.role_id', 'roles.id').select('roles.name').compile();
    const [qa, qb] = [query(tenantA), query(tenantB)];
    expect(qa.sql).toBe(qb.sql);
    expect(qa.sql).not.toContain(tenantA);
    expect(qa.parameters).toEqual([tenantA, tenantA]);
    expect(qb.parameters).toEqual([tenantB, tenantB]);
  });

  it('knows which tables have tenant_id exactly as the migrated database does', async () => {
    const tables = await store.read(tenantA).db.introspection.getTables();
    const here = tables.filter((t) => (backend === 'postgres' ? t.schema === ts.pgSchema : true) && !t.isView);
    const actual = Object.fromEntries(here.map((t) => [t.name, t.columns.some((c) => c.name === 'tenant_id')]));
    expect(actual).toEqual({ ...HAS_TENANT_COLUMN });
    expect([...TENANT_TABLES].sort()).toEqual(
      Object.keys(actual)
        .filter((name) => actual[name])
        .sort(),
    );
  });
});
