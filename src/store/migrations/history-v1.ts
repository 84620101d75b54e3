/**
 * The access history as migrations 0019 and 0023 wrote it (before 0027 made it compact): one
 * row per fact version with the row as JSON (`access_facts`) and one row per id it refers to
 * (`access_fact_refs`). Kept here, frozen, because those migrations run before 0027 converts
 * these tables; nothing else writes them.
 */
import type { Kysely } from 'kysely';
import { FACT_ORDER, factEntity, factRefs, readFactRows, type FactEntity, type FactRow } from '../fact-rows.ts';
import type { Database } from '../schema.ts';

const CHUNK = 500;

/** The two tables of the first history format. */
export interface HistoryV1Tables {
  access_facts: { tenant_id: string; entity: string; entity_id: string; from_rev: number; from_time: string; to_rev: number | null; data: string };
  access_fact_refs: { tenant_id: string; ref_id: string; entity: string; entity_id: string; from_rev: number };
}
type Db = Kysely<Database & HistoryV1Tables>;

/** Creates the two tables (migration 0019). */
export async function createHistoryV1Tables(db: Kysely<unknown>): Promise<void> {
  await db.schema
    .createTable('access_facts')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('entity', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('from_rev', 'bigint', (c) => c.notNull())
    .addColumn('from_time', 'text', (c) => c.notNull())
    .addColumn('to_rev', 'bigint')
    .addColumn('data', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_facts_pk', ['tenant_id', 'entity', 'entity_id', 'from_rev'])
    .execute();
  await db.schema.createIndex('access_facts_revision').on('access_facts').columns(['tenant_id', 'from_rev']).execute();
  await db.schema
    .createTable('access_fact_refs')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('ref_id', 'text', (c) => c.notNull())
    .addColumn('entity', 'text', (c) => c.notNull())
    .addColumn('entity_id', 'text', (c) => c.notNull())
    .addColumn('from_rev', 'bigint', (c) => c.notNull())
    .addPrimaryKeyConstraint('access_fact_refs_pk', ['tenant_id', 'ref_id', 'entity', 'from_rev', 'entity_id'])
    .execute();
}

/** Records the new versions of the facts a write changed, in the first format. */
export async function recordFactsV1(untyped: Kysely<unknown>, tenantId: string, revision: number, time: string, changes: Iterable<{ entity: string; entityId: string }>): Promise<void> {
  const db = untyped as unknown as Db;
  const byEntity = new Map<FactEntity, Set<string>>();
  for (const c of changes) {
    const entity = factEntity(c.entity);
    if (entity !== undefined) byEntity.set(entity, (byEntity.get(entity) ?? new Set()).add(c.entityId));
  }
  for (const entity of FACT_ORDER) {
    const ids = [...(byEntity.get(entity) ?? [])];
    for (let i = 0; i < ids.length; i += CHUNK) {
      const chunk = ids.slice(i, i + CHUNK);
      await db.updateTable('access_facts').set({ to_rev: revision }).where('tenant_id', '=', tenantId).where('entity', '=', entity).where('entity_id', 'in', chunk).where('to_rev', 'is', null).execute();
      await insertVersionsV1(db, tenantId, entity, revision, time, await readFactRows(db as unknown as Kysely<Database>, tenantId, entity, chunk));
    }
  }
}

/** Records every current fact of the tenant as valid from `revision`, in the first format. */
export async function seedFactsV1(untyped: Kysely<unknown>, tenantId: string, revision: number, time: string): Promise<void> {
  const db = untyped as unknown as Db;
  const tables: Record<FactEntity, 'org_units' | 'identities' | 'applications' | 'permissions' | 'roles' | 'assignments' | 'accounts'> = {
    unit: 'org_units',
    identity: 'identities',
    application: 'applications',
    permission: 'permissions',
    role: 'roles',
    assignment: 'assignments',
    account: 'accounts',
  };
  for (const entity of FACT_ORDER) {
    const ids = (await db.selectFrom(tables[entity]).select('id').where('tenant_id', '=', tenantId).execute()).map((r) => r.id);
    for (let i = 0; i < ids.length; i += CHUNK) {
      await insertVersionsV1(db, tenantId, entity, revision, time, await readFactRows(db as unknown as Kysely<Database>, tenantId, entity, ids.slice(i, i + CHUNK)));
    }
  }
}

async function insertVersionsV1(db: Db, tenantId: string, entity: FactEntity, revision: number, time: string, rows: readonly FactRow[]): Promise<void> {
  if (rows.length === 0) return;
  await db
    .insertInto('access_facts')
    .values(rows.map((r) => ({ tenant_id: tenantId, entity, entity_id: r.id, from_rev: revision, from_time: time, to_rev: null, data: JSON.stringify(r) })))
    .execute();
  const refs = rows.flatMap((r) => factRefs(entity, r).map((ref_id) => ({ tenant_id: tenantId, ref_id, entity, entity_id: r.id, from_rev: revision })));
  for (let i = 0; i < refs.length; i += CHUNK) await db.insertInto('access_fact_refs').values(refs.slice(i, i + CHUNK)).execute();
}
