import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * Access (issue 4): the delegator of delegated assignments, assignment rules, and the
 * provisioned (IdP) space of connected applications — accounts and their grants, as
 * imports observe them or as recorded directly through the API.
 */
export async function up(db: Db): Promise<void> {
  await db.schema.alterTable('assignments').addColumn('delegator_id', 'text').execute();
  await db.schema.createIndex('assignments_rule').on('assignments').columns(['tenant_id', 'rule_id']).execute();
  await db.schema.createIndex('assignments_delegated_from').on('assignments').columns(['tenant_id', 'delegated_from_id']).execute();

  await db.schema
    .createTable('assignment_rules')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('condition', 'text', (c) => c.notNull())
    .addColumn('resources', 'text', (c) => c.notNull())
    .addColumn('context_type', 'text', (c) => c.notNull())
    .addColumn('context_id', 'text')
    .addColumn('enabled', 'integer', (c) => c.notNull().defaultTo(1))
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('assignment_rules_name', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('accounts')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('identity_id', 'text', (c) => c.references('identities.id'))
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('observed_at', 'text', (c) => c.notNull())
    .addColumn('import_id', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('accounts_name', ['tenant_id', 'application_id', 'name'])
    .execute();
  await db.schema.createIndex('accounts_identity').on('accounts').columns(['tenant_id', 'identity_id']).execute();

  await db.schema
    .createTable('grants')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('account_id', 'text', (c) => c.notNull().references('accounts.id'))
    .addColumn('permission_id', 'text', (c) => c.notNull().references('permissions.id'))
    .addColumn('context_type', 'text', (c) => c.notNull())
    .addColumn('context_id', 'text')
    .addColumn('observed_at', 'text', (c) => c.notNull())
    .addColumn('import_id', 'text')
    .execute();
  await db.schema.createIndex('grants_account').on('grants').columns(['tenant_id', 'account_id']).execute();
  await db.schema.createIndex('grants_permission').on('grants').columns(['tenant_id', 'permission_id']).execute();
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
