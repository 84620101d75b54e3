import type { Kysely } from 'kysely';
import { seedFacts } from '../fact-history.ts';
import type { Database } from '../schema.ts';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * Access history (docs/history.md): every version of the facts effective access is computed
 * from, valid from one revision until the one that replaced it, and the ids each version
 * refers to. Tenants that exist already have their history begin now: their current facts
 * are recorded as valid from their current revision.
 */
export async function up(db: Db): Promise<void> {
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
  // The audit events of one revision (the write behind a change of access).
  await db.schema.createIndex('audit_events_revision').on('audit_events').columns(['tenant_id', 'revision']).execute();
  const typed = db as unknown as Kysely<Database>;
  const now = new Date().toISOString();
  for (const t of await typed.selectFrom('tenants').select(['id', 'revision']).execute()) await seedFacts(typed, t.id, Number(t.revision), now);
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('audit_events_revision').execute();
  await db.schema.dropTable('access_fact_refs').execute();
  await db.schema.dropTable('access_facts').execute();
}
