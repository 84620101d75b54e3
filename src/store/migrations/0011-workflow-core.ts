import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * The workflow core shared by access requests and personnel events: the durable scheduler's
 * job table, the tenant's settings (time zone and workflow choices), the journal of comments
 * and activity on workflow subjects, and the manager of an organization unit (an approver).
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('scheduled_jobs')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('job_key', 'text', (c) => c.notNull())
    .addColumn('due_at', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('last_error', 'text')
    .addColumn('payload', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('done_at', 'text')
    .addUniqueConstraint('scheduled_jobs_key', ['tenant_id', 'kind', 'subject_id', 'job_key'])
    .execute();
  await db.schema.createIndex('scheduled_jobs_due').on('scheduled_jobs').columns(['tenant_id', 'status', 'due_at']).execute();
  await db.schema.createIndex('scheduled_jobs_subject').on('scheduled_jobs').columns(['tenant_id', 'subject_id']).execute();

  await db.schema.alterTable('tenants').addColumn('settings', 'text', (c) => c.notNull().defaultTo('{}')).execute();

  await db.schema
    .createTable('workflow_entries')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('subject_kind', 'text', (c) => c.notNull())
    .addColumn('subject_id', 'text', (c) => c.notNull())
    .addColumn('seq', 'integer', (c) => c.notNull())
    .addColumn('entry', 'text', (c) => c.notNull())
    .addColumn('at', 'text', (c) => c.notNull())
    .addColumn('actor_type', 'text', (c) => c.notNull())
    .addColumn('actor_id', 'text')
    .addColumn('actor_name', 'text')
    .addColumn('actor_identity_id', 'text')
    .addColumn('text', 'text', (c) => c.notNull())
    .addColumn('detail', 'text')
    .execute();
  await db.schema.createIndex('workflow_entries_subject').on('workflow_entries').columns(['tenant_id', 'subject_id', 'seq']).execute();

  await db.schema.alterTable('org_units').addColumn('manager_id', 'text', (c) => c.references('identities.id')).execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.alterTable('org_units').dropColumn('manager_id').execute();
  await db.schema.dropTable('workflow_entries').execute();
  await db.schema.alterTable('tenants').dropColumn('settings').execute();
  await db.schema.dropTable('scheduled_jobs').execute();
}
