import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * Import fingerprints (issue 6): for each account an import applied, a hash of its grants
 * and the account version it was taken at, so the next import of the application compares
 * hashes instead of re-reading every grant (an account written since — any write bumps its
 * version — is read in full again). A held import records the state of the application it
 * was computed against, so a stale diff is never applied.
 *
 * Grants had two indexes on their account: `grants_account (tenant_id, account_id)` for
 * lookups and `grants_account_ref (account_id)` for foreign-key checks, which need the
 * account first. One index `(account_id, tenant_id)` serves both (and keeps a lookup by
 * tenant and account off `grants_permission`), so each inserted grant updates one index fewer.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('import_fingerprints')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('account_id', 'text', (c) => c.notNull())
    .addColumn('account_version', 'integer', (c) => c.notNull())
    .addColumn('grants_hash', 'text', (c) => c.notNull())
    .addColumn('grant_count', 'integer', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_fingerprints_pk', ['tenant_id', 'account_id'])
    .execute();
  await db.schema.alterTable('imports').addColumn('base_state', 'text').execute();
  await db.schema.createIndex('grants_by_account').on('grants').columns(['account_id', 'tenant_id']).execute();
  await db.schema.dropIndex('grants_account').execute();
  await db.schema.dropIndex('grants_account_ref').execute();
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
