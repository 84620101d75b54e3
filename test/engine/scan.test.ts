/**
 * `Store.scan`, the raw streaming read the access index is built with: rows as arrays of
 * column values in the selected order, in batches, and the connection usable afterwards
 * (also after a failing query).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { CONTRACT_BACKENDS, openTestStore, type TestStore } from '../support/harness.ts';
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

    it('lets other work run between batches, and queries made meanwhile wait for the scan', async () => {
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
      expect(events.slice(0, 2)).toEqual(['batch 10', 'timer']);
      expect(events.filter((e) => e.startsWith('batch'))).toEqual(['batch 10', 'batch 10', 'batch 5']);
      // SQLite has one connection: the query waits for the scan. PostgreSQL's pool runs it beside.
      if (backend === 'sqlite') expect(events[events.length - 1]).toBe('query 25');
      else expect(events).toContain('query 25');
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
