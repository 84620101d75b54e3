/** The server secret as a migration finds it, for migrations that encrypt stored secrets. */
import { readFileSync } from 'node:fs';
import { dirname, join } from 'node:path';
import { sql, SqliteAdapter, type Kysely } from 'kysely';
import { createServerSecrets, SECRET_KEY_FILE, type ServerSecrets } from '../../domain/server-secrets.ts';

/** What `ServerSecrets.encrypt` produces: `v1.<iv>.<ciphertext>.<tag>` in base64url. */
export const SEALED = /^v1\.[A-Za-z0-9_-]+\.[A-Za-z0-9_-]*\.[A-Za-z0-9_-]+$/;

/**
 * The server secret rows are to be encrypted with, found as the server finds it:
 * `GRANTORY_SECRET_KEY`, else (embedded SQLite) the `secret.key` generated beside the
 * database. `why` starts the error when there is none ("migration 0008 encrypts ...").
 */
export async function migrationSecrets(db: Kysely<unknown>, why: string): Promise<ServerSecrets> {
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
        throw new Error(`${why}, and cannot read ${path}: ${(e as Error).message}`);
      }
    }
  }
  throw new Error(`${why}: set GRANTORY_SECRET_KEY (the value the server runs with)`);
}
