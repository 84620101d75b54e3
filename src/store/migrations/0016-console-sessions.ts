import type { Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * Console sign-in (src/services/credentials/passwords.ts and sessions.ts):
 *
 * - `identity_passwords`: an identity's local password as an argon2id hash (PHC string),
 *   with the failed sign-ins that count towards its lockout. Deleted with the identity.
 * - `sessions`: signed-in sessions, stored by the keyed hash of their secret only (the
 *   secret lives in the browser's cookie). A session made from an API key refers to it and
 *   ends with it; every session ends with its identity.
 */
export async function up(db: Db): Promise<void> {
  await db.schema
    .createTable('identity_passwords')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('identity_id', 'text', (c) => c.notNull().references('identities.id').onDelete('cascade'))
    .addColumn('password_hash', 'text', (c) => c.notNull())
    .addColumn('updated_at', 'text', (c) => c.notNull())
    .addColumn('updated_by', 'text')
    .addColumn('failed_count', 'integer', (c) => c.notNull().defaultTo(0))
    .addColumn('failure_window_start', 'text')
    .addColumn('locked_until', 'text')
    .addPrimaryKeyConstraint('identity_passwords_pk', ['tenant_id', 'identity_id'])
    .execute();

  await db.schema
    .createTable('sessions')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('identity_id', 'text', (c) => c.notNull().references('identities.id').onDelete('cascade'))
    .addColumn('api_key_id', 'text', (c) => c.references('api_keys.id').onDelete('cascade'))
    .addColumn('method', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text')
    .addColumn('secret_hash', 'text', (c) => c.notNull().unique())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('last_seen_at', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('absolute_expires_at', 'text', (c) => c.notNull())
    .addColumn('user_agent', 'text')
    .addColumn('ip', 'text')
    .execute();
  await db.schema.createIndex('sessions_identity').on('sessions').columns(['tenant_id', 'identity_id', 'created_at']).execute();
  await db.schema.createIndex('sessions_expiry').on('sessions').columns(['tenant_id', 'absolute_expires_at']).execute();
}

export async function down(db: Db): Promise<void> {
  await db.schema.dropTable('sessions').execute();
  await db.schema.dropTable('identity_passwords').execute();
}
