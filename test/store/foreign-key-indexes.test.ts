/**
 * Foreign keys and the indexes their checks need. Deleting a row makes the database look for
 * the rows that refer to it — `where <child columns> = ?`, without the tenant — and only an
 * index led by those columns answers that without reading the whole child table (of every
 * tenant), once per row deleted. `assignments.delegated_from_id` was indexed after
 * `tenant_id` only, and every assignment deleted read every assignment (issue 20, migration
 * 0030). Runs on the run's backend; the SQLite plans are checked where its planner decides
 * without statistics.
 */
import { CompiledQuery } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { TEST_BACKEND, openTestStore, type TestStore } from '../support/harness.ts';

/**
 * Foreign keys (child table and columns) without an index led by their columns, indexed after
 * `tenant_id` at most: deleting one of their parents (an identity, application, role,
 * permission, API key, import, review, ...) reads the whole child table. Found by this test
 * (2026-12-03); those parents are deleted one at a time, not a stream of them per write as
 * assignments are, and are left for changes of their own. A foreign key added without such an
 * index fails the test; one indexed since must leave the list.
 */
const NOT_YET_INDEXED: readonly string[] = [
  'account_resolutions(application_id)',
  'account_resolutions(identity_id)',
  'accounts(application_id)',
  'accounts(identity_id)',
  'api_keys(identity_id)',
  'application_keys(application_id)',
  'event_sink_dead_letters(sink_id)',
  'grants(permission_id)',
  'identities(manager_id)',
  'identities(org_unit_id)',
  'identity_passwords(identity_id)',
  'import_changes(import_id)',
  'imports(application_id)',
  'oauth_clients(application_id)',
  'oauth_clients(identity_id)',
  'org_units(manager_id)',
  'org_units(parent_id)',
  'permissions(application_id)',
  'personnel_event_paused(event_id)',
  'review_items(review_id)',
  'role_includes(included_role_id)',
  'role_includes(role_id)',
  'role_permissions(permission_id)',
  'role_permissions(role_id)',
  'sessions(api_key_id)',
  'sessions(identity_id)',
  'unmatched_accounts(application_id)',
];

let ts: TestStore;
beforeAll(async () => {
  ts = await openTestStore();
  await ts.store.migrate();
});
afterAll(async () => ts.dispose());

async function rows<R>(query: string, parameters: unknown[] = []): Promise<R[]> {
  return (await ts.store.read('').db.executeQuery(CompiledQuery.raw(query, parameters))).rows as R[];
}

interface ForeignKey {
  table: string;
  columns: string[];
}

/** Every foreign key of the schema and the columns of every index (in index order), by table. */
async function schema(): Promise<{ foreignKeys: ForeignKey[]; indexes: Map<string, string[][]> }> {
  const foreignKeys: ForeignKey[] = [];
  const indexes = new Map<string, string[][]>();
  const addIndex = (table: string, columns: string[]) => indexes.set(table, [...(indexes.get(table) ?? []), columns]);
  if (TEST_BACKEND === 'postgres') {
    const columnsOf = (relation: string, keys: string) =>
      `array(select a.attname::text from unnest(${keys}) with ordinality k(attnum, n) join pg_attribute a on a.attrelid = ${relation} and a.attnum = k.attnum order by k.n)`;
    for (const r of await rows<{ table: string; columns: string[] }>(
      `select t.relname as table, ${columnsOf('c.conrelid', 'c.conkey')} as columns
       from pg_constraint c join pg_class t on t.oid = c.conrelid
       where c.contype = 'f' and t.relnamespace = current_schema()::regnamespace`,
    )) {
      foreignKeys.push({ table: r.table, columns: r.columns });
    }
    for (const r of await rows<{ table: string; columns: string[] }>(
      `select t.relname as table, ${columnsOf('i.indrelid', 'i.indkey::int2[]')} as columns
       from pg_index i join pg_class t on t.oid = i.indrelid
       where t.relnamespace = current_schema()::regnamespace`,
    )) {
      addIndex(r.table, r.columns);
    }
  } else {
    const tables = await rows<{ name: string }>(`select name from sqlite_master where type = 'table' and name not like 'sqlite%' and name not like 'kysely%'`);
    for (const { name } of tables) {
      const byId = new Map<number, string[]>();
      for (const fk of await rows<{ id: number; from: string }>(`select id, "from" from pragma_foreign_key_list(?) order by id, seq`, [name])) {
        byId.set(fk.id, [...(byId.get(fk.id) ?? []), fk.from]);
      }
      for (const columns of byId.values()) foreignKeys.push({ table: name, columns });
      for (const index of await rows<{ name: string }>(`select name from pragma_index_list(?)`, [name])) {
        addIndex(name, (await rows<{ name: string }>(`select name from pragma_index_info(?) order by seqno`, [index.name])).map((c) => c.name));
      }
    }
  }
  return { foreignKeys, indexes };
}

describe('foreign keys', () => {
  it('each has an index led by its columns (except the ones listed as not yet indexed)', async () => {
    const { foreignKeys, indexes } = await schema();
    expect(foreignKeys.length).toBeGreaterThan(10);
    const unindexed = foreignKeys
      .filter((fk) => !(indexes.get(fk.table) ?? []).some((index) => fk.columns.every((c) => index.slice(0, fk.columns.length).includes(c))))
      .map((fk) => `${fk.table}(${fk.columns.join(', ')})`)
      .sort();
    expect(unindexed).toEqual([...NOT_YET_INDEXED].sort());
  });
});

const sqliteOnly = TEST_BACKEND === 'sqlite' ? describe : () => undefined;
const pgOnly = TEST_BACKEND === 'postgres' ? describe : () => undefined;

sqliteOnly('the delegations of an assignment (SQLite query plans)', () => {
  const planOf = async (query: string, parameters: unknown[]) =>
    (await rows<{ detail: string }>(`explain query plan ${query}`, parameters)).map((r) => r.detail).join(' | ');

  it('are found by index when an assignment is deleted (the foreign-key check) and when a tenant lists them', async () => {
    // The look-up SQLite's foreign-key check makes for each assignment deleted, both ways round.
    expect(await planOf('select 1 from assignments where delegated_from_id = ?', ['a'])).toMatch(/SEARCH assignments USING (COVERING )?INDEX assignments_delegations \(delegated_from_id=\?\)/);
    expect(await planOf('select 1 from assignments where ? = delegated_from_id', ['a'])).toMatch(/SEARCH assignments USING (COVERING )?INDEX assignments_delegations \(delegated_from_id=\?\)/);
    expect(await planOf('select * from assignments where tenant_id = ? and delegated_from_id = ?', ['t', 'a'])).toMatch(
      /SEARCH assignments USING INDEX assignments_delegations \(delegated_from_id=\? AND tenant_id=\?\)/,
    );
  });
});

pgOnly('the delegations of an assignment (PostgreSQL query plans)', () => {
  it('can be found by index when an assignment is deleted (the foreign-key check)', async () => {
    const plan = await ts.store.read('').db.transaction().execute(async (trx) => {
      // Without seq scans PostgreSQL shows the index it would use on a table large enough.
      await trx.executeQuery(CompiledQuery.raw('set local enable_seqscan = off'));
      const { rows: lines } = await trx.executeQuery(CompiledQuery.raw('explain select 1 from only assignments x where delegated_from_id = $1 for key share of x', ['a']));
      return (lines as Record<string, string>[]).map((r) => Object.values(r).join(' ')).join(' | ');
    });
    expect(plan).toMatch(/assignments_delegations/);
  });
});
