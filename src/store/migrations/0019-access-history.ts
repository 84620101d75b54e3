import type { Kysely } from 'kysely';
import { createHistoryV1Tables, seedFactsV1 } from './history-v1.ts';
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
  await createHistoryV1Tables(db);
  // The audit events of one revision (the write behind a change of access).
  await db.schema.createIndex('audit_events_revision').on('audit_events').columns(['tenant_id', 'revision']).execute();
  const typed = db as unknown as Kysely<Database>;
  const now = new Date().toISOString();
  for (const t of await typed.selectFrom('tenants').select(['id', 'revision']).execute()) await seedFactsV1(db, t.id, Number(t.revision), now);
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('audit_events_revision').execute();
  await db.schema.dropTable('access_fact_refs').execute();
  await db.schema.dropTable('access_facts').execute();
}
