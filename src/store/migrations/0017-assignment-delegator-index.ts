import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * The delegations an identity granted, found by `delegator_id`: an offboarding stops them and
 * its preview lists them. Without this index each was a scan of every assignment of the
 * tenant (a million on a large one), once in the preview and once in the stage.
 */
export async function up(db: Db): Promise<void> {
  await db.schema.createIndex('assignments_delegator').on('assignments').columns(['tenant_id', 'delegator_id']).execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropIndex('assignments_delegator').execute();
}
