import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * Separation of duties (issue 13, point 5).
 *
 * 1. `sod_policies`: conflicting sets of permissions and roles (canonical JSON in
 *    `conflicting`), the `mode` (`block` | `require_exception`), `severity` and `enabled`;
 *    names are unique per tenant.
 * 2. `sod_exceptions`: an approved exception that lets one identity hold the conflicting
 *    access of one policy until `expires_at` (who approved it, why, and what it was
 *    recorded for: an assignment or an access request). Rows stay after they expire: they
 *    are the record; only unexpired ones mitigate.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('sod_policies')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('conflicting', 'text', (c) => c.notNull())
    .addColumn('mode', 'text', (c) => c.notNull())
    .addColumn('severity', 'text', (c) => c.notNull())
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('sod_policies_name', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('sod_exceptions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('policy_id', 'text', (c) => c.notNull())
    .addColumn('identity_id', 'text', (c) => c.notNull())
    .addColumn('reason', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('approved_by', 'text', (c) => c.notNull())
    .addColumn('approved_by_name', 'text')
    .addColumn('approver_identity_id', 'text')
    .addColumn('subject_type', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .execute();
  await db.schema.createIndex('sod_exceptions_policy_identity').on('sod_exceptions').columns(['tenant_id', 'policy_id', 'identity_id', 'expires_at']).execute();
  await db.schema.createIndex('sod_exceptions_identity').on('sod_exceptions').columns(['tenant_id', 'identity_id']).execute();
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
