import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * The audit trail's own tables: per-tenant keys (checkpoint signing, cursor signing),
 * signed checkpoints of the chain's head, event sinks with their durable delivery cursor,
 * and the sinks' dead letters. Also indexes for the audit query's filters.
 */
export async function up(db: Db): Promise<void> {
  // `secret` holds private keys and HMAC secrets; migration 0008 encrypts them at rest.
  await db.schema
    .createTable('audit_keys')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('purpose', 'text', (c) => c.notNull())
    .addColumn('id', 'text', (c) => c.notNull())
    .addColumn('public_key', 'text')
    .addColumn('secret', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_keys_pk', ['tenant_id', 'purpose'])
    .execute();

  await db.schema
    .createTable('audit_checkpoints')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('hash', 'text', (c) => c.notNull())
    .addColumn('time', 'text', (c) => c.notNull())
    .addColumn('key_id', 'text', (c) => c.notNull())
    .addColumn('signature', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('audit_checkpoints_pk', ['tenant_id', 'seq'])
    .execute();

  await db.schema
    .createTable('event_sinks')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('kind', 'text', (c) => c.notNull())
    .addColumn('format', 'text', (c) => c.notNull())
    .addColumn('config', 'text', (c) => c.notNull())
    .addColumn('secret', 'text')
    .addColumn('status', 'text', (c) => c.notNull())
    .addColumn('cursor_seq', 'bigint', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('next_attempt_at', 'text')
    .addColumn('last_error', 'text')
    .addColumn('last_delivered_at', 'text')
    .addColumn('lease_owner', 'text')
    .addColumn('lease_until', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('version', 'integer', (c) => c.notNull().defaultTo(1))
    .addUniqueConstraint('event_sinks_name', ['tenant_id', 'name'])
    .execute();

  await db.schema
    .createTable('event_sink_dead_letters')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('sink_id', 'text', (c) => c.notNull().references('event_sinks.id').onDelete('cascade'))
    .addColumn('seq', 'bigint', (c) => c.notNull())
    .addColumn('event_id', 'text', (c) => c.notNull())
    .addColumn('error', 'text', (c) => c.notNull())
    .addColumn('attempts', 'integer', (c) => c.notNull())
    .addColumn('requeued', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failed_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('event_sink_dead_letters_pk', ['tenant_id', 'sink_id', 'seq'])
    .execute();

  await db.schema.createIndex('audit_events_actor').on('audit_events').columns(['tenant_id', 'actor_id', 'seq']).execute();
  await db.schema.createIndex('audit_events_action').on('audit_events').columns(['tenant_id', 'action', 'seq']).execute();
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
