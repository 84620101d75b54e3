/**
 * Bulk inserts for the import's apply: rows are buffered and written many to a statement.
 * On SQLite the statements are prepared once and run on the write's own connection
 * ({@link WriteTx.sqlite}), skipping query building and SQL compilation for each batch; on
 * PostgreSQL they are plain parameterised statements. Either way they run inside the
 * caller's transaction, so they commit or roll back with the rest of the import.
 *
 * Raw SQL is not scoped by the write's handle (`store/tenant-scope.ts`), so the same rule is
 * kept here: the columns must include `tenant_id` and every row must carry the write's
 * tenant, or {@link TenantScopeViolation} is thrown (and the write rolls back).
 * An `onConflict` clause must name `tenant_id` in its conflict target, so an upsert only
 * meets a row of the tenant.
 *
 * ```ts
 * const accounts = bulkInsert(tx, 'accounts', ['id', 'tenant_id', ...]);
 * const grants = bulkInsert(tx, 'grants', ['id', 'account_id', ...], { after: accounts });
 * await accounts.push([id, tx.tenantId, ...]);
 * await grants.end(); // flushes `accounts` first: a grant never precedes its account
 * ```
 */
import { CompiledQuery } from 'kysely';
import type { Database } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import { TenantScopeViolation } from '../../store/tenant-scope.ts';

export interface BulkInsert {
  /** Adds one row (values in the order of the columns). */
  push(values: unknown[]): Promise<void>;
  /** Writes every buffered row. */
  end(): Promise<void>;
}

/** SQLite: rows per prepared statement (a statement per size is compiled once). */
const SQLITE_ROWS = 100;
/** PostgreSQL: at most this many bound parameters a statement (its limit is 65,535). */
const PG_PARAMETERS = 16_000;

const quote = (name: string) => `"${name.replace(/"/g, '""')}"`;

export function bulkInsert(
  tx: WriteTx,
  table: keyof Database & string,
  columns: readonly string[],
  options: { after?: BulkInsert; onConflict?: string } = {},
): BulkInsert {
  const tenantColumn = columns.indexOf('tenant_id');
  if (tenantColumn < 0) throw new TenantScopeViolation(`bulk insert into ${table} without tenant_id (tenant ${tx.tenantId})`);
  if (options.onConflict !== undefined && !/^on conflict \([^)]*\btenant_id\b[^)]*\)/i.test(options.onConflict.trim())) {
    throw new TenantScopeViolation(`bulk insert into ${table}: the conflict target must include tenant_id (tenant ${tx.tenantId})`);
  }
  const sqlite = tx.sqlite;
  const rowsPerStatement = sqlite ? SQLITE_ROWS : Math.max(1, Math.floor(PG_PARAMETERS / columns.length));
  const head = `insert into ${quote(table)} (${columns.map(quote).join(', ')}) values `;
  const tail = options.onConflict ? ` ${options.onConflict}` : '';
  const statement = (rows: number): string => {
    let n = 0;
    const tuple = () => `(${columns.map(() => (sqlite ? '?' : `$${(n += 1)}`)).join(', ')})`;
    return head + Array.from({ length: rows }, tuple).join(', ') + tail;
  };
  const full = statement(rowsPerStatement);
  let params: unknown[] = [];
  let rows = 0;
  const flush = async () => {
    if (!rows) return;
    await options.after?.end();
    if (sqlite) {
      if (rows === rowsPerStatement) sqlite.run(full, params);
      else {
        // The rest, one row a statement: one cached statement instead of a new one per size.
        const one = statement(1);
        for (let i = 0; i < rows; i += 1) sqlite.run(one, params.slice(i * columns.length, (i + 1) * columns.length));
      }
    } else {
      await tx.db.executeQuery(CompiledQuery.raw(rows === rowsPerStatement ? full : statement(rows), params));
    }
    params = [];
    rows = 0;
  };
  return {
    async push(values) {
      if (values.length !== columns.length) throw new Error(`bulk insert into ${table}: ${values.length} values for ${columns.length} columns`);
      if (values[tenantColumn] !== tx.tenantId) throw new TenantScopeViolation(`bulk insert into ${table} with another tenant_id (tenant ${tx.tenantId})`);
      for (const v of values) params.push(v);
      rows += 1;
      if (rows === rowsPerStatement) await flush();
    },
    end: flush,
  };
}
