import { sql, type Kysely } from 'kysely';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * API security: OAuth 2.0 clients, application keys, revoked access tokens, and the
 * token-signing keys. Signing keys belong to the server, not to a tenant (one issuer and
 * one JWKS for all tenants), so `signing_keys` is, like `tenants`, a table without
 * `tenant_id`; it is only written inside an audited write of the default tenant.
 */
export async function up(db: Db): Promise<void> {
  // Stored API key hashes become keyed (HMAC with the server secret). Rows written before
  // keep `sha256` and are re-hashed the first time they are used.
  await db.schema
    .alterTable('api_keys')
    .addColumn('hash_scheme', 'text', (c) => c.notNull().defaultTo(sql`'sha256'`))
    .execute();

  await db.schema
    .createTable('oauth_clients')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('client_id', 'text', (c) => c.notNull().unique())
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('secret_hash', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text', (c) => c.notNull())
    .addColumn('application_id', 'text', (c) => c.references('applications.id'))
    .addColumn('identity_id', 'text', (c) => c.references('identities.id'))
    .addColumn('last_used_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .execute();
  await db.schema.createIndex('oauth_clients_tenant').on('oauth_clients').columns(['tenant_id', 'created_at']).execute();

  await db.schema
    .createTable('application_keys')
    .addColumn('id', 'text', (c) => c.primaryKey())
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('application_id', 'text', (c) => c.notNull().references('applications.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('key_hash', 'text', (c) => c.notNull().unique())
    .addColumn('prefix', 'text', (c) => c.notNull())
    .addColumn('scopes', 'text')
    .addColumn('expires_at', 'text')
    .addColumn('last_used_at', 'text')
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('created_by', 'text')
    .execute();
  await db.schema
    .createIndex('application_keys_application')
    .on('application_keys')
    .columns(['tenant_id', 'application_id', 'created_at'])
    .execute();

  await db.schema
    .createTable('revoked_tokens')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('jti', 'text', (c) => c.notNull())
    .addColumn('client_id', 'text', (c) => c.notNull())
    .addColumn('expires_at', 'text', (c) => c.notNull())
    .addColumn('revoked_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('revoked_tokens_pk', ['tenant_id', 'jti'])
    .execute();
  await db.schema.createIndex('revoked_tokens_expiry').on('revoked_tokens').columns(['tenant_id', 'expires_at']).execute();

  await db.schema
    .createTable('signing_keys')
    .addColumn('kid', 'text', (c) => c.primaryKey())
    .addColumn('alg', 'text', (c) => c.notNull())
    .addColumn('public_jwk', 'text', (c) => c.notNull())
    .addColumn('private_key', 'text', (c) => c.notNull())
    .addColumn('state', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addColumn('retired_at', 'text')
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
