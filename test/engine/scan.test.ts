/**
 * `Store.scan`, the raw streaming read the access index is built with: rows as arrays of
 * column values in the selected order, in batches, and the connection usable afterwards
 * (also after a failing query).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { CONTRACT_BACKENDS, createTestApp, openTestStore, TEST_BACKEND, type TestApp, type TestStore } from '../support/harness.ts';
import { sql } from 'kysely';

for (const backend of CONTRACT_BACKENDS) {
  describe(`Store.scan (${backend})`, () => {
    let ts: TestStore;
    let tenantId: string;
    beforeAll(async () => {
      ts = await openTestStore(backend);
      await ts.store.migrate();
      tenantId = await ts.store.createTenant('scan', new Date().toISOString());
      const fx = new AccessFixtures(ts.store, tenantId);
      for (let i = 0; i < 25; i += 1) await fx.unit({ id: `u${String(i).padStart(2, '0')}`, parentId: i === 0 ? null : 'u00' });
    });
    afterAll(async () => {
      await ts.dispose();
    });

    it('streams the rows as arrays in batches of the given size', async () => {
      const db = ts.store.read(tenantId).db;
      const batches: unknown[][][] = [];
      await ts.store.scan(db.selectFrom('org_units').select(['id', 'parent_id']).where('tenant_id', '=', tenantId).orderBy('id').compile(), (rows) => batches.push(rows), 10);
      expect(batches.map((b) => b.length)).toEqual([10, 10, 5]);
      const rows = batches.flat();
      expect(rows[0]).toEqual(['u00', null]);
      expect(rows[24]).toEqual(['u24', 'u00']);
    });

    it('lets other work run between batches, and answers queries made meanwhile before it ends', async () => {
      const db = ts.store.read(tenantId).db;
      const events: string[] = [];
      let query: Promise<unknown> | null = null;
      await ts.store.scan(
        db.selectFrom('org_units').select('id').where('tenant_id', '=', tenantId).orderBy('id').compile(),
        (rows) => {
          events.push(`batch ${rows.length}`);
          if (query === null) {
            setImmediate(() => events.push('timer'));
            query = db.selectFrom('org_units').select('id').where('tenant_id', '=', tenantId).execute().then((r) => events.push(`query ${r.length}`));
          }
        },
        10,
      );
      await query;
      const batches = events.flatMap((e, i) => (e.startsWith('batch') ? [i] : []));
      expect(events.indexOf('timer')).toBeGreaterThan(batches[0]!);
      expect(events.indexOf('timer')).toBeLessThan(batches[1]!);
      expect(events.filter((e) => e.startsWith('batch'))).toEqual(['batch 10', 'batch 10', 'batch 5']);
      // The scan reads beside the connection queries use (SQLite: the read-only one; PostgreSQL:
      // a connection of the pool): on SQLite the query is answered between two batches.
      expect(events).toContain('query 25');
      if (backend === 'sqlite') expect(events.indexOf('query 25')).toBeLessThan(events.indexOf('batch 5'));
    });

    it('calls back no batch for no rows, and the store keeps working after a failed scan', async () => {
      const db = ts.store.read(tenantId).db;
      let calls = 0;
      await ts.store.scan(db.selectFrom('org_units').select('id').where('tenant_id', '=', 'no such tenant').compile(), () => (calls += 1));
      expect(calls).toBe(0);
      await expect(ts.store.scan(sql`select nope from org_units`.compile(db), () => undefined)).rejects.toThrow();
      await expect(ts.store.scan(db.selectFrom('org_units').select('id').where('tenant_id', '=', tenantId).compile(), () => { throw new Error('stop'); })).rejects.toThrow('stop');
      const again: unknown[][] = [];
      await ts.store.scan(db.selectFrom('org_units').select('id').where('tenant_id', '=', tenantId).compile(), (rows) => again.push(...rows));
      expect(again).toHaveLength(25);
      expect(await db.selectFrom('org_units').select('id').where('tenant_id', '=', tenantId).execute()).toHaveLength(25);
    });
  });
}

describe(`a rebuild's scan does not stall requests (${TEST_BACKEND})`, () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => {
    await t.close();
  });

  it('answers a request while a long scan is in progress', async () => {
    const db = t.store.read(t.tenantId).db;
    const long = sql<{ x: number }>`with recursive n(x) as (select 1 union all select x + 1 from n where x < 200000) select x from n`.compile(db);
    let scanned = 0;
    let answeredAt: number | null = null;
    let request: Promise<void> | null = null;
    await t.store.scan(
      long,
      (rows) => {
        scanned += rows.length;
        request ??= t.app.inject({ method: 'GET', url: '/api/v1/identities?limit=1', headers: t.auth }).then((res) => {
          expect(res.statusCode).toBe(200);
          answeredAt = scanned;
        });
      },
      100,
    );
    await request;
    expect(scanned).toBe(200000);
    expect(answeredAt).not.toBeNull();
    expect(answeredAt!).toBeLessThan(scanned);
  });
});
