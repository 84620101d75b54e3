/**
 * SQLite: the handle `Store.read` gives — selects go to the read-only connection (the last
 * commit), everything else (the few unaudited statements made outside a write: a scheduler's
 * lease, raw SQL) to the write connection, through its Kysely instance and so after whatever
 * write or group of writes holds it.
 *
 * Why: the write connection is held by a write — with group commit, a group of writes — for
 * its whole transaction. Reads made on it by requests would wait for that, and the writes
 * those requests make next would reach the write queue one by one instead of together. A
 * write is answered only after its commit, so a caller's later reads include it on either
 * connection; and no read made outside a write can see another write's uncommitted rows.
 *
 * ```ts
 * const reads = new Kysely<Database>({ dialect: new SplitReadsDialect(readOnlyDb, writeDb) });
 * ```
 */
import {
  SqliteAdapter,
  SqliteIntrospector,
  SqliteQueryCompiler,
  type CompiledQuery,
  type DatabaseConnection,
  type DatabaseIntrospector,
  type Dialect,
  type DialectAdapter,
  type Driver,
  type Kysely,
  type QueryCompiler,
  type QueryResult,
} from 'kysely';
import type { Database } from './schema.ts';

export class SplitReadsDialect implements Dialect {
  constructor(
    private readonly reads: Kysely<Database>,
    private readonly writes: Kysely<Database>,
  ) {}

  createAdapter(): DialectAdapter {
    return new SqliteAdapter();
  }

  createDriver(): Driver {
    return new SplitReadsDriver(this.reads, this.writes);
  }

  createQueryCompiler(): QueryCompiler {
    return new SqliteQueryCompiler();
  }

  createIntrospector(db: Kysely<unknown>): DatabaseIntrospector {
    return new SqliteIntrospector(db);
  }
}

class SplitReadsDriver implements Driver {
  private readonly connection: DatabaseConnection;

  constructor(reads: Kysely<Database>, writes: Kysely<Database>) {
    const target = (query: CompiledQuery) => (query.query.kind === 'SelectQueryNode' ? reads : writes);
    this.connection = {
      executeQuery: <R>(query: CompiledQuery): Promise<QueryResult<R>> => target(query).executeQuery<R>(query),
      streamQuery: <R>(query: CompiledQuery, chunkSize?: number): AsyncIterableIterator<QueryResult<R>> => target(query).getExecutor().stream<R>(query, chunkSize ?? 100),
    };
  }

  async init(): Promise<void> {}

  async acquireConnection(): Promise<DatabaseConnection> {
    return this.connection;
  }

  beginTransaction(): Promise<void> {
    return Promise.reject(new Error('a read handle has no transactions: write with Store.write'));
  }

  commitTransaction(): Promise<void> {
    return this.beginTransaction();
  }

  rollbackTransaction(): Promise<void> {
    return this.beginTransaction();
  }

  async releaseConnection(): Promise<void> {}

  async destroy(): Promise<void> {}
}
