import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * The Grantory rights of whoever created a personnel event (JSON array; null: the system,
 * every right). Its stages run later under the scheduler and may give no identity a right
 * beyond these (the rights guard of src/services/kernel/rights-guard.ts).
 */
export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('personnel_events').addColumn('creator_rights', 'text').execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.alterTable('personnel_events').dropColumn('creator_rights').execute();
}
