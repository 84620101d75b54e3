import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * Imports (issue 6): import records with their stored per-account diff, the accounts that
 * matched no identity (or several), and the resolutions people made for them.
 */
export async function up(db: Db): Promise<void> {
  // A foreign-key check looks children up by the referencing column alone: without this an
  // account deleted by an import scans every grant (grants_account leads with tenant_id).
  await db.schema.createIndex('grants_account_ref').on('grants').column('account_id').execute();

  await db.schema
    .createTable('imports')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('number', 'bigint', (c) => c.notNull())
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id'))
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('source', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('dry_run', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('phase', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_by_id', 'text')
    .addColumn('scheduled_for', 'text')
    .addColumn('build_start', 'text')
    .addColumn('build_end', 'text')
    .addColumn('heartbeat_at', 'text')
    .addColumn('files', 'text', (c) => c.notNull())
    .addColumn('log', 'text', (c) => c.notNull())
    .addColumn('metrics', 'text')
    .addColumn('rows_read', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('rows_total', 'bigint')
    .addColumn('bytes_read', 'bigint', (c) => c.notNull().defaultTo(0))
    .addColumn('bytes_total', 'bigint')
    .addColumn('error', 'text')
    .addColumn('held_reason', 'text')
    .addColumn('decided_by', 'text')
    .addColumn('decided_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('imports_number', ['tenant_id', 'number'])
    .addUniqueConstraint('imports_scheduled', ['tenant_id', 'application_id', 'scheduled_for'])
    .execute();
  await db.schema.createIndex('imports_application').on('imports').columns(['tenant_id', 'application_id', 'number']).execute();
  await db.schema.createIndex('imports_status').on('imports').columns(['tenant_id', 'status']).execute();

  await db.schema
    .createTable('import_changes')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('import_id', 'text', (c) => c.notNull().references('imports.id'))
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('account_name', 'text', (c) => c.notNull())
    .addColumn('op', 'text', (c) => c.notNull())
    .addColumn('match_state', 'text', (c) => c.notNull())
    .addColumn('match_rule', 'text')
    .addColumn('identity_before', 'text')
    .addColumn('identity_after', 'text')
    .addColumn('status_before', 'text')
    .addColumn('status_after', 'text')
    .addColumn('grants_added', 'text', (c) => c.notNull())
    .addColumn('grants_removed', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('import_changes_pk', ['tenant_id', 'import_id', 'seq'])
    .execute();

  await db.schema
    .createTable('unmatched_accounts')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id'))
    .addColumn('account_name', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('candidates', 'text', (c) => c.notNull())
    .addColumn('import_id', 'text', (c) => c.notNull())
    .addColumn('first_seen_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('unmatched_accounts_pk', ['tenant_id', 'application_id', 'account_name'])
    .execute();

  await db.schema
    .createTable('account_resolutions')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id'))
    .addColumn('account_name', 'text', (c) => c.notNull())
    .addColumn('resolution', 'text', (c) => c.notNull())
    .addColumn('identity_id', 'text', (c) => c.references('identities.id'))
    .addColumn('note', 'text')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('account_resolutions_pk', ['tenant_id', 'application_id', 'account_name'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
