import type { Kysely } from 'kysely';

type Db = Kysely<unknown>;

export async function up(db: Db): Promise<void> {
  // Per-tenant key material that never leaves the server (e.g. the key that signs list cursors).
  await db.schema
    .createTable('tenant_secrets')
    .addColumn('tenant_id', 'text', (c) => c.notNull().references('tenants.id'))
    .addColumn('name', 'text', (c) => c.notNull())
    .addColumn('value', 'text', (c) => c.notNull())
    .addColumn('created_at', 'text', (c) => c.notNull())
    .addPrimaryKeyConstraint('tenant_secrets_pk', ['tenant_id', 'name'])
    .execute();
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
