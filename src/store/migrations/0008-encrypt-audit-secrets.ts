import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sql, SqliteAdapter, type Kysely } from 'kysely';
import { createServerSecrets, SECRET_KEY_FILE, type ServerSecrets } from '../../domain/server-secrets.ts';

/* Kysely migrations are untyped by design: a migration sees the schema as it was then. */
type Db = Kysely<unknown>;

/** What `ServerSecrets.encrypt` produces: `v1.<iv>.<ciphertext>.<tag>` in base64url. */
const SEALED = /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;

interface SecretRow {
  table: 'audit_keys' | 'event_sinks';
  where: Record<string, string>;
  secret: string;
}

/**
 * The server secret the rows are to be encrypted with, found as the server finds it:
 * `GRANTORY_SECRET_KEY`, else (embedded SQLite) the `secret.key` generated beside the
 * database.
 */
async function serverSecrets(db: Db): Promise<ServerSecrets> {
  const fromEnv = process.env.GRANTORY_SECRET_KEY;
  if (fromEnv) return createServerSecrets(fromEnv);
  if (db.getExecutor().adapter instanceof SqliteAdapter) {
    const { rows } = await sql<{ name: string; file: string }>`pragma database_list`.execute(db);
    const file = rows.find((r) => r.name === 'main')?.file;
    if (file) {
      const path = join(dirname(file), SECRET_KEY_FILE);
      try {
        return createServerSecrets(readFileSync(path, 'utf8').trim());
      } catch (e) {
        throw new Error(`migration 0008 encrypts the stored audit keys and webhook secrets with the server secret, and cannot read ${path}: ${(e as Error).message}`);
      }
    }
  }
  throw new Error('migration 0008 encrypts the stored audit keys and webhook secrets with the server secret: set GRANTORY_SECRET_KEY (the value the server runs with)');
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

  const secrets = await serverSecrets(db);
  for (const row of plain) {
    const conditions = Object.entries(row.where).map(([column, value]) => sql`${sql.ref(column)} = ${value}`);
    await sql`update ${sql.table(row.table)} set secret = ${secrets.encrypt(row.secret)} where ${sql.join(conditions, sql` and `)}`.execute(db);
  }
}
