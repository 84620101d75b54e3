/**
 * The look-ups an identity provider makes before each create (`userName eq "…"`) are answered
 * through the username index, not by walking every identity of the tenant in number order
 * (which SQLite prefers for `order by number ... limit` unless told otherwise). SQLite's plan
 * is what is checked: it is the backend whose planner makes that choice without statistics.
 */
import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { scimUserQueries } from '../../src/services/scim/index.ts';
import { TEST_BACKEND, createTestApp, type TestApp } from '../support/harness.ts';

// SQLite's planner is the one that picks the number index without statistics; on PostgreSQL
// (whose choice follows table statistics) the test shows the index can answer the look-up.
const sqliteOnly = TEST_BACKEND === 'sqlite' ? describe : () => undefined;
const pgOnly = TEST_BACKEND === 'postgres' ? describe : () => undefined;

pgOnly('SCIM User look-ups (PostgreSQL query plans)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('can answer a userName look-up through the username index', async () => {
    const queries = scimUserQueries(t.services.deps, t.tenantId, { filter: 'userName eq "ada@example.com"' });
    const compiled = queries.page(100, 0).compile();
    const plan = await t.store.read(t.tenantId).db.transaction().execute(async (trx) => {
      // Without seq scans PostgreSQL shows the index it would use on a table large enough.
      await trx.executeQuery(CompiledQuery.raw('set local enable_seqscan = off'));
      const { rows } = await trx.executeQuery(CompiledQuery.raw(`explain ${compiled.sql}`, [...compiled.parameters]));
      return (rows as Record<string, string>[]).map((r) => Object.values(r).join(' ')).join(' | ');
    });
    expect(plan).toMatch(/identities_username_skeleton/);
  });
});

sqliteOnly('SCIM User look-ups (SQLite query plans)', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  const planOf = async (query: Parameters<typeof scimUserQueries>[2], which: 'page' | 'count' = 'page') => {
    const queries = scimUserQueries(t.services.deps, t.tenantId, query);
    const compiled = (which === 'page' ? queries.page(100, 0) : queries.count()).compile();
    const { rows } = await t.store.read(t.tenantId).db.executeQuery(CompiledQuery.raw(`explain query plan ${compiled.sql}`, [...compiled.parameters]));
    return (rows as { detail: string }[]).map((r) => r.detail).join(' | ');
  };

  it('finds a userName through the username index, alone or with other conditions', async () => {
    for (const filter of ['userName eq "ada@example.com"', 'userName eq "ada@example.com" and active eq true', 'userName eq "a@x" or userName eq "b@x"']) {
      expect(await planOf({ filter }), filter).toMatch(/USING INDEX identities_username_skeleton/);
    }
    expect(await planOf({ filter: 'userName eq "ada@example.com"' }, 'count')).toMatch(/USING INDEX identities_username_skeleton/);
    expect(await planOf({ filter: 'userName eq "ada@example.com"', sortBy: 'name.familyName' })).toMatch(/USING INDEX identities_username_skeleton/);
  });

  it('lists without a narrowing filter in number order from the index (no sort of every row)', async () => {
    for (const filter of [undefined, 'userName sw "ada"', 'userName eq "a@x" or title eq "Engineer"']) {
      expect(await planOf({ filter }), String(filter)).not.toMatch(/TEMP B-TREE/);
    }
  });
});
