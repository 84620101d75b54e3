import { SqliteAdapter, sql, type Kysely } from 'kysely';
import { ENTITY_CODE, insertVersions, internIds, mentionedIds } from '../fact-history.ts';
import type { FactEntity, FactRow } from '../fact-rows.ts';
import type { Database } from '../schema.ts';
import type { HistoryV1Tables } from './history-v1.ts';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

const PAGE = 2000;

/**
 * Compact access history (docs/history.md, "How it is recorded"): the versions of 0019
 * (`access_facts`: tenant, kind and id as text, the row as JSON with its column names) and
 * their refs (`access_fact_refs`: one row per referred id, repeating the version's key) are
 * converted into
 * - `access_history_keys`: every id the history mentions, once per tenant, as an integer key;
 * - `access_history_versions`: `(key, entity, from_rev, to_rev, data)`, the row positional with its
 *   ids as keys (on SQLite a WITHOUT ROWID table: the primary key is the table);
 * - `access_history_refs`: `(ref_key, entity, from_rev, key)`, the primary key alone.
 * A tenant whose history began after it was created (it existed before 0019) keeps that
 * instant in `tenants.history_began_time`. The old tables are dropped.
 *
 * Also: the index of review items by access request keeps only the items that have one.
 */
export async function up(db: Db): Promise<void> {
  const sqlite = db.getExecutor().adapter instanceof SqliteAdapter;
  const withoutRowid = <T extends { modifyEnd: (s: ReturnType<typeof sql.raw>) => T }>(b: T): T => (sqlite ? b.modifyEnd(sql.raw(' without rowid')) : b);
  await db.schema
    .createTable('access_history_keys')
    .addColumn('key', sqlite ? 'integer' : 'bigserial', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('access_history_keys_id').unique().on('access_history_keys').columns(['tenant_id', 'entity_id']).execute();
  await withoutRowid(
    db.schema
      .createTable('access_history_versions')
      .addColumn('key', 'bigint', (c) => c.notNull())
      .addColumn('entity', 'smallint', (c) => c.notNull())
      .addColumn('from_rev', 'bigint', (c) => c.notNull())
      .addColumn('to_rev', 'bigint')
      .addColumn('data', 'text', (c) => c.notNull())
      .addPrimaryKeyConstraint('access_history_versions_pk', ['key', 'entity', 'from_rev']),
  ).execute();
  await withoutRowid(
    db.schema
      .createTable('access_history_refs')
      .addColumn('ref_key', 'bigint', (c) => c.notNull())
      .addColumn('entity', 'smallint', (c) => c.notNull())
      .addColumn('from_rev', 'bigint', (c) => c.notNull())
      .addColumn('key', 'bigint', (c) => c.notNull())
      .addPrimaryKeyConstraint('access_history_refs_pk', ['ref_key', 'entity', 'from_rev', 'key']),
  ).execute();
  await db.schema.alterTable('tenants').addColumn('history_began_time', 'text').execute();

  const typed = db as unknown as Kysely<Database & HistoryV1Tables>;
  for (const { id: tenantId } of await typed.selectFrom('tenants').select('id').orderBy('id').execute()) {
    const first = await typed.selectFrom('access_facts').select(['from_rev', 'from_time']).where('tenant_id', '=', tenantId).orderBy('from_rev').limit(1).executeTakeFirst();
    if (first !== undefined && Number(first.from_rev) > 1) await typed.updateTable('tenants').set({ history_began_time: first.from_time }).where('id', '=', tenantId).execute();
    await convertTenant(typed, tenantId);
  }
  await db.schema.dropTable('access_fact_refs').execute();
  await db.schema.dropIndex('access_facts_revision').execute();
  await db.schema.dropTable('access_facts').execute();

  // Review items are looked up by request only for the few a revoke turned into one: an index
  // of the others (every item of a campaign, a million at a start) was a null key per item.
  await db.schema.dropIndex('review_items_request').execute();
  await db.schema.createIndex('review_items_request').on('review_items').columns(['tenant_id', 'request_id']).where(sql.ref('request_id'), 'is not', null).execute();
}

/** Copies one tenant's versions a page at a time, in primary-key order. */
async function convertTenant(db: Kysely<Database & HistoryV1Tables>, tenantId: string): Promise<void> {
  type Cursor = { entity: string; entity_id: string; from_rev: number };
  let cursor: Cursor | null = null;
  for (;;) {
    const after: Cursor | null = cursor;
    const page: { entity: string; entity_id: string; from_rev: number; to_rev: number | null; data: string }[] = await db
      .selectFrom('access_facts')
      .select(['entity', 'entity_id', 'from_rev', 'to_rev', 'data'])
      .where('tenant_id', '=', tenantId)
      .$if(after !== null, (q) => q.where((eb) => eb(eb.refTuple('entity', 'entity_id', 'from_rev'), '>', eb.tuple(after!.entity, after!.entity_id, after!.from_rev))))
      .orderBy('entity')
      .orderBy('entity_id')
      .orderBy('from_rev')
      .limit(PAGE)
      .execute();
    if (page.length === 0) return;
    const byEntity = new Map<FactEntity, { row: FactRow; fromRev: number; toRev: number | null }[]>();
    for (const v of page) {
      const entity = v.entity as FactEntity;
      if (!(entity in ENTITY_CODE)) throw new Error(`access history: unknown fact kind ${v.entity}`);
      const list = byEntity.get(entity) ?? [];
      list.push({ row: JSON.parse(v.data) as FactRow, fromRev: Number(v.from_rev), toRev: v.to_rev === null ? null : Number(v.to_rev) });
      byEntity.set(entity, list);
    }
    for (const [entity, versions] of byEntity) {
      const keyOf = await internIds(db as unknown as Kysely<Database>, tenantId, versions.flatMap((v) => mentionedIds(entity, v.row)));
      await insertVersions(db as unknown as Kysely<Database>, entity, versions, keyOf);
    }
    const last = page[page.length - 1]!;
    cursor = { entity: last.entity, entity_id: last.entity_id, from_rev: Number(last.from_rev) };
  }
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
