import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * Access reviews (issue 20): campaigns and the items a campaign snapshots when it starts.
 * An item is a copy of what was held then (identity × permission, why, flags) so that the
 * review and its report stay what the reviewers saw, whatever changes afterwards.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('access_reviews')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('number', 'bigint', (c) => c.notNull())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('description', 'text')
    .addColumn('scope', 'text', (c) => c.notNull())
    .addColumn('space', 'text', (c) => c.notNull())
    .addColumn('reviewer', 'text', (c) => c.notNull())
    .addColumn('fallback_reviewer_id', 'text')
    .addColumn('due_days', 'integer', (c) => c.notNull())
    .addColumn('due_at', 'text')
    .addColumn('default_decision', 'text', (c) => c.notNull())
    .addColumn('reminder_days', 'text', (c) => c.notNull())
    .addColumn('schedule', 'text')
    .addColumn('recurrence_of', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('item_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('started_at', 'text')
    .addColumn('start_revision', 'bigint')
    .addColumn('start_audit_seq', 'bigint')
    .addColumn('closed_at', 'text')
    .addColumn('close_reason', 'text')
    .addColumn('close_audit_seq', 'bigint')
    .addColumn('created_by', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('access_reviews_number', ['tenant_id', 'number'])
    .addUniqueConstraint('access_reviews_name', ['tenant_id', 'name'])
    .execute();
  await db.schema.createIndex('access_reviews_status').on('access_reviews').columns(['tenant_id', 'status', 'number']).execute();

  await db.schema
    .createTable('review_items')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('review_id', 'text', (c) => c.notNull().references('access_reviews.id'))
    .addColumn('position', 'integer', (c) => c.notNull())
    .addColumn('identity_id', 'text')
    .addColumn('identity_name', 'text')
    .addColumn('account_id', 'text')
    .addColumn('account_name', 'text')
    .addColumn('application_id', 'text', (c) => c.notNull())
    .addColumn('application_name', 'text', (c) => c.notNull())
    .addColumn('permission_id', 'text')
    .addColumn('permission_name', 'text')
    .addColumn('risk', 'text', (c) => c.notNull())
    .addColumn('why', 'text', (c) => c.notNull())
    .addColumn('observed_at', 'text')
    .addColumn('drift', 'integer', (c) => c.notNull())
    .addColumn('sod', 'integer', (c) => c.notNull())
    .addColumn('orphan', 'integer', (c) => c.notNull())
    .addColumn('reviewer_id', 'text')
    .addColumn('assigned_reviewer_id', 'text')
    .addColumn('reviewer_reason', 'text', (c) => c.notNull())
    .addColumn('delegated_by', 'text')
    .addColumn('decision', 'text')
    .addColumn('comment', 'text')
    .addColumn('valid_to', 'text')
    .addColumn('decided_by', 'text')
    .addColumn('decided_by_name', 'text')
    .addColumn('decided_at', 'text')
    .addColumn('request_id', 'text')
    .addColumn('remediation', 'text')
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('review_items_position', ['tenant_id', 'review_id', 'position'])
    .execute();
  // A reviewer's items in snapshot order (the reviewer's inbox), and the request link.
  await db.schema.createIndex('review_items_reviewer').on('review_items').columns(['tenant_id', 'review_id', 'reviewer_id', 'position']).execute();
  await db.schema.createIndex('review_items_request').on('review_items').columns(['tenant_id', 'request_id']).execute();
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
