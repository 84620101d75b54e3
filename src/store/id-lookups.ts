/**
 * Reading a tenant table's rows by primary key, many ids at once: the chunks to put in
 * `where('id', 'in', chunk)`.
 *
 * On SQLite, which has no table statistics here, `tenant_id = ? and id in (three or more ids)`
 * — the tenant filter is on every query of a tenant handle — is planned as a walk of every
 * row of the tenant through one of the indexes led by `tenant_id` (an equality on an index's
 * first column looks more selective than a list on the primary key): 80-100 ms per query on
 * 100,000 assignments, whatever the number of ids. One id at a time is always a primary-key
 * lookup. PostgreSQL plans from statistics and takes {@link PG_CHUNK} at a time.
 *
 * ```ts
 * for (const part of idChunks(tx.db, ids)) rows.push(...(await tx.db.selectFrom('assignments').selectAll().where('id', 'in', part).execute()));
 * ```
 */
import { SqliteAdapter, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

const PG_CHUNK = 500;

export function idChunks(db: Kysely<Database>, ids: Iterable<string>): string[][] {
  const list = [...new Set(ids)];
  if (db.getExecutor().adapter instanceof SqliteAdapter) return list.map((id) => [id]);
  const out: string[][] = [];
  for (let i = 0; i < list.length; i += PG_CHUNK) out.push(list.slice(i, i + PG_CHUNK));
  return out;
}
