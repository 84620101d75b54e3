import { sql, type Kysely } from 'kysely';
import { migrationSecrets, SEALED } from './server-secret.ts';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;


interface SecretRow {
  table: 'audit_keys' | 'event_sinks';
  where: Record<string, string>;
  secret: string;
}

/**
 * Encryption at rest of the audit trail's keys (`audit_keys.secret`: checkpoint signing
 * keys, cursor keys) and of event sinks' webhook secrets (`event_sinks.secret`), with the
 * server secret, as the token-signing keys are. Rows written before are encrypted here;
 * rows already encrypted are left as they are, so running it again changes nothing. The
 * server secret is needed only when there is something to encrypt.
 */
export async function up(db: Db): Promise<void> {
  const plain: SecretRow[] = [];
  const keys = await sql<{ tenant_id: string; purpose: string; secret: string }>`select tenant_id, purpose, secret from audit_keys`.execute(db);
  for (const r of keys.rows) if (!SEALED.test(r.secret)) plain.push({ table: 'audit_keys', where: { tenant_id: r.tenant_id, purpose: r.purpose }, secret: r.secret });
  const sinks = await sql<{ id: string; secret: string | null }>`select id, secret from event_sinks where secret is not null`.execute(db);
  for (const r of sinks.rows) if (r.secret !== null && !SEALED.test(r.secret)) plain.push({ table: 'event_sinks', where: { id: r.id }, secret: r.secret });
  if (!plain.length) return;

  const secrets = await migrationSecrets(db, 'migration 0008 encrypts the stored audit keys and webhook secrets with the server secret');
  for (const row of plain) {
    const conditions = Object.entries(row.where).map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
    await sql`update ${sql.table(row.table)} set secret = ${secrets.encrypt(row.secret)} where ${sql.join(conditions, sql` and `)}`.execute(db);
  }
}
