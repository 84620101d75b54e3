import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * Rate-limit counters shared by the nodes of a deployment (src/services/kernel/rate-counters.ts):
 * one row per limited key (tenant + credential, client id, address) and fixed window. Nodes
 * add their counts in batches and read back the total; rows of ended windows are deleted.
 * Not tenant data: the key names its tenant where it has one.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('rate_limit_counters')
    .addColumn('key', 'text', (c) => c.primaryKey())
    .addColumn('window_start', 'bigint', (c) => c.notNull())
    .addColumn('expires_at', 'bigint', (c) => c.notNull())
    .addColumn('count', 'bigint', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('rate_limit_counters_expiry').on('rate_limit_counters').column('expires_at').execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('rate_limit_counters').execute();
}
