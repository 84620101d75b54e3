/**
 * Reading a tenant table's rows by primary key, many ids at once.
 *
 * On SQLite, which has no table statistics here, `tenant_id = ? and id in (three or more ids)`
 * — the tenant filter is on every query of a tenant handle — is planned as a walk of every
 * row of the tenant through one of the indexes led by `tenant_id` (an equality on an index's
 * first column looks more selective than a list on the primary key): 80-100 ms per query on
 * 100,000 assignments, whatever the number of ids. One id at a time is always a primary-key
 * lookup ({@link idChunks}); {@link selectByIds} reads any number in one statement whose plan
 * is a primary-key lookup per id. PostgreSQL plans from statistics and takes {@link PG_CHUNK}
 * at a time.
 *
 * ```ts
 * for (const part of idChunks(tx.db, ids)) rows.push(...(await tx.db.selectFrom('assignments').selectAll().where('id', 'in', part).execute()));
 * const rows = await selectByIds(tx.db, tx.tenantId, 'assignments', ['id', 'resource_type', 'resource_id'], ids);
 * ```
 */
import { SqliteAdapter, sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';

const PG_CHUNK = 500;
/** Ids per statement of {@link selectByIds} on SQLite (one JSON parameter: the SQL text stays the same). */
const SQLITE_CHUNK = 2000;

const isSqlite = (db: Kysely<Database>) => db.getExecutor().adapter instanceof SqliteAdapter;

export function idChunks(db: Kysely<Database>, ids: Iterable<string>): string[][] {
  const list = [...new Set(ids)];
  if (isSqlite(db)) return list.map((id) => [id]);
  const out: string[][] = [];
  for (let i = 0; i < list.length; i += PG_CHUNK) out.push(list.slice(i, i + PG_CHUNK));
  return out;
}

/** The tenant tables whose primary key is a text `id`. */
export type IdTable = { [T in keyof Database]: Database[T] extends { id: string; tenant_id: string } ? T : never }[keyof Database];

/**
 * The rows of `table` (the tenant's) whose id is one of `ids`, with `columns` (any order; an
 * id without a row is left out). Raw SQL that names the tenant itself, so it reads the same
 * on a tenant handle and on an unscoped one (migrations).
 *
 * On SQLite the ids are one JSON parameter walked by `json_each`, on the left of a
 * `cross join` with the table: SQLite keeps the left table of a cross join as the outer
 * loop, so each id is one primary-key lookup whatever the planner thinks of the tenant filter
 * (test/store/id-lookups-plan.test.ts checks the plan), and the SQL text is the same for any
 * number of ids — one compiled statement, reused.
 */
export async function selectByIds<T extends IdTable, C extends keyof Database[T] & string>(
  db: Kysely<Database>,
  tenantId: string,
  table: T,
  columns: readonly C[],
  ids: Iterable<string>,
): Promise<Pick<Database[T], C>[]> {
  const list = [...new Set(ids)];
  const out: Pick<Database[T], C>[] = [];
  if (isSqlite(db)) {
    const selected = sql.join(columns.map((c) => sql.ref(`t.${c}`)));
    for (let i = 0; i < list.length; i += SQLITE_CHUNK) {
      const wanted = JSON.stringify(list.slice(i, i + SQLITE_CHUNK));
      const query = sql<Pick<Database[T], C>>`select ${selected} from json_each(${wanted}) as wanted cross join ${sql.table(table)} as t where t.id = wanted.value and t.tenant_id = ${tenantId}`;
      out.push(...(await query.execute(db)).rows);
    }
    return out;
  }
  const selected = sql.join(columns.map((c) => sql.ref(c)));
  for (let i = 0; i < list.length; i += PG_CHUNK) {
    const part = list.slice(i, i + PG_CHUNK);
    const query = sql<Pick<Database[T], C>>`select ${selected} from ${sql.table(table)} where tenant_id = ${tenantId} and id in (${sql.join(part)})`;
    out.push(...(await query.execute(db)).rows);
  }
  return out;
}
