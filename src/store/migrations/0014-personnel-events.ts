import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * Personnel events (issue 14): joiner, mover, leaver and leave of absence, each with its
 * effective date, its stages (JSON) and the preview computed when it was created; and the
 * assignments a leave paused, so that the return resumes exactly those.
 *
 * `identity_id` has no foreign key: an onboarding names its identity only once the
 * Provision stage created it, and an event stays recorded when its identity is deleted.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('personnel_events')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('number', 'bigint', (c) => c.notNull())
    .addColumn('type', 'text', (c) => c.notNull())
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('identity_id', 'text')
    .addColumn('identity_name', 'text')
    .addColumn('effective_at', 'text', (c) => c.notNull())
    .addColumn('end_at', 'text')
    .addColumn('dedupe_key', 'text', (c) => c.notNull())
    .addColumn('changes', 'text', (c) => c.notNull())
    .addColumn('comment', 'text')
    .addColumn('preview', 'text', (c) => c.notNull())
    .addColumn('stages', 'text', (c) => c.notNull())
    .addColumn('reporter_type', 'text', (c) => c.notNull())
    .addColumn('reporter_id', 'text')
    .addColumn('reporter_name', 'text')
    .addColumn('completed_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('personnel_events_number', ['tenant_id', 'number'])
    .execute();
  await db.schema.createIndex('personnel_events_identity').on('personnel_events').columns(['tenant_id', 'identity_id', 'type']).execute();
  await db.schema.createIndex('personnel_events_dedupe').on('personnel_events').columns(['tenant_id', 'dedupe_key']).execute();
  await db.schema.createIndex('personnel_events_status').on('personnel_events').columns(['tenant_id', 'status']).execute();

  await db.schema
    .createTable('personnel_event_paused')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('event_id', 'text', (c) => c.notNull().references('personnel_events.id'))
    .addColumn('assignment_id', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('personnel_event_paused_pk', ['tenant_id', 'event_id', 'assignment_id'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
