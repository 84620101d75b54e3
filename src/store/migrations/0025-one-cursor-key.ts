import { randomBytes } from 'node:crypto';
import { sql, type Kysely } from 'kysely';
import { migrationSecrets } from './server-secret.ts';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/**
 * One cursor key per tenant, encrypted at rest. Before, the lists sealed their cursors with a
 * key kept in plaintext in `tenant_secrets` (name `cursor`) and the audit trail with the
 * encrypted `audit_keys` row of purpose `cursor`. The encrypted key is now the only one:
 * a tenant that had both keeps its audit key (audit-event cursors a SIEM holds stay valid;
 * cursors of the other lists, short-lived pages, answer `invalid_cursor` once and are asked
 * again without a cursor); a tenant that had only the plaintext key gets it moved, encrypted
 * with the server secret, so its cursors stay valid. Then `tenant_secrets` is dropped. The
 * server secret is needed only when there is a key to move.
 */
export async function up(db: Db): Promise<void> {
  const plain = await sql<{ tenant_id: string; value: string }>`select tenant_id, value from tenant_secrets where name = 'cursor'`.execute(db);
  const sealed = await sql<{ tenant_id: string }>`select tenant_id from audit_keys where purpose = 'cursor'`.execute(db);
  const hasKey = new Set(sealed.rows.map((r) => r.tenant_id));
  const moving = plain.rows.filter((r) => !hasKey.has(r.tenant_id));
  if (moving.length) {
    const secrets = await migrationSecrets(db, 'migration 0025 moves the list cursor key into audit_keys, encrypted with the server secret');
    const now = new Date().toISOString();
    for (const r of moving) {
      const secret = secrets.encrypt(Buffer.from(r.value, 'base64url').toString('base64'));
      await sql`insert into audit_keys (tenant_id, purpose, id, public_key, secret, created_at) values (${r.tenant_id}, 'cursor', ${randomBytes(8).toString('hex')}, null, ${secret}, ${now})`.execute(db);
    }
  }
  await db.schema.dropTable('tenant_secrets').execute();
}

export async function down(): Promise<void> {
  throw new Error('Grantory migrations are forward-only');
}
