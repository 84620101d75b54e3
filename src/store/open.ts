/**
 * Opens the store a configuration names: SQLite under a data directory (WAL, synchronous
 * FULL, foreign keys, a cache of compiled statements) or PostgreSQL (a pool, a schema of its
 * own when asked, and a second small pool for reads of the last commit).
 */
import { mkdirSync, accessSync, constants as fsConstants } from 'node:fs';
import { join, resolve } from 'node:path';
import SQLiteDatabase from 'better-sqlite3';
import type pg from 'pg';
import {
  Kysely,
  PostgresDialect,
  SqliteAdapter,
  SqliteDialect,
  type LogEvent,
} from 'kysely';
import type { Database } from './schema.ts';
import { KyselyStore, type RawDriver } from './kysely-store.ts';
import { StoreOpenError, type SqliteStatements, type Store, type StoreOptions, type Dialect } from './store.ts';

/**
 * SQLite runs DDL inside transactions, but Kysely's SQLite adapter says it does not, so its
 * migrator would apply every statement on its own: one synced commit each, about a second on
 * an empty database with synchronous FULL. Saying it does makes the pending migrations one
 * transaction: one sync, and a failing migration leaves nothing half-applied. Only Kysely's
 * migrator reads this flag.
 */
class TransactionalDdlSqliteAdapter extends SqliteAdapter {
  override get supportsTransactionalDdl(): boolean {
    return true;
  }
}

class GrantorySqliteDialect extends SqliteDialect {
  override createAdapter(): SqliteAdapter {
    return new TransactionalDdlSqliteAdapter();
  }
}

export async function openStore(options: StoreOptions): Promise<Store> {
  const url = options.databaseUrl;
  const isPg = !!url && /^postgres(ql)?:\/\//.test(url);
  const log = options.onQuery
    ? (e: LogEvent) => options.onQuery?.(e.queryDurationMillis, e.level === 'error')
    : undefined;
  let db: Kysely<Database>;
  let dialect: Dialect;
  let migrationSchema: string | undefined;
  let raw: RawDriver;
  let statements: SqliteStatements | null = null;
  let committed: Kysely<Database>;
  if (isPg) {
    dialect = 'postgres';
    // The PostgreSQL driver is loaded only by a server that uses it.
    const { default: driver } = await import('pg');
    const pool = new driver.Pool({ ...poolOptions(driver, url, options.pgSchema), max: 10 });
    pool.on('error', () => {
      // An idle client lost its connection; the pool replaces it on next use.
    });
    try {
      const client = await pool.connect();
      try {
        if (options.pgSchema) await client.query(`create schema if not exists ${quoteIdent(options.pgSchema)}`);
        // Kysely looks for its migration tables in every schema unless told which one: name
        // the schema this connection works in, so stores in sibling schemas never mix them up.
        const current = await client.query<{ schema: string | null }>('select current_schema() as schema');
        migrationSchema = current.rows[0]?.schema ?? undefined;
      } finally {
        client.release();
      }
    } catch (e) {
      await pool.end().catch(() => undefined);
      const where = safeUrl(url);
      throw new StoreOpenError('DATABASE_URL', `cannot connect to PostgreSQL at ${where}: ${(e as Error).message}`);
    }
    db = new Kysely<Database>({ dialect: new PostgresDialect({ pool }), ...(log ? { log } : {}) });
    // A pool of its own: a write holding a connection of the main pool never waits for
    // another connection of that pool (which concurrent writes could all be holding).
    const committedPool = new driver.Pool({ ...poolOptions(driver, url, options.pgSchema), max: 4 });
    committedPool.on('error', () => undefined);
    committed = new Kysely<Database>({ dialect: new PostgresDialect({ pool: committedPool }), ...(log ? { log } : {}) });
    raw = { pool };
  } else {
    if (url) throw new StoreOpenError('DATABASE_URL', `unsupported database URL (expected postgres://...): ${safeUrl(url)}`);
    dialect = 'sqlite';
    const dir = resolve(options.dataDir);
    try {
      mkdirSync(dir, { recursive: true });
      accessSync(dir, fsConstants.W_OK);
    } catch (e) {
      throw new StoreOpenError('GRANTORY_DATA_DIR', `${dir} is not a writable directory (${(e as NodeJS.ErrnoException).code ?? (e as Error).message})`);
    }
    let sqlite: SQLiteDatabase.Database;
    try {
      sqlite = new SQLiteDatabase(join(dir, 'grantory.db'));
      sqlite.pragma('journal_mode = WAL');
      sqlite.pragma(`synchronous = ${options.sqliteSynchronous ?? 'FULL'}`);
      sqlite.pragma('foreign_keys = ON');
      sqlite.pragma('busy_timeout = 5000');
    } catch (e) {
      throw new StoreOpenError('GRANTORY_DATA_DIR', `cannot open the database in ${dir}: ${(e as Error).message}`);
    }
    const cache = new StatementCache(sqlite);
    db = new Kysely<Database>({ dialect: new GrantorySqliteDialect({ database: cache }), ...(log ? { log } : {}) });
    // A second, read-only connection: in WAL mode it reads the last commit while a write
    // transaction is open on the first.
    let reader: SQLiteDatabase.Database;
    try {
      reader = new SQLiteDatabase(join(dir, 'grantory.db'), { readonly: true, fileMustExist: true });
      reader.pragma('busy_timeout = 5000');
    } catch (e) {
      sqlite.close();
      throw new StoreOpenError('GRANTORY_DATA_DIR', `cannot open the database in ${dir}: ${(e as Error).message}`);
    }
    committed = new Kysely<Database>({ dialect: new SqliteDialect({ database: new StatementCache(reader) }), ...(log ? { log } : {}) });
    raw = { sqlite, reader };
    statements = sqliteStatements(cache);
  }
  return new KyselyStore(db, committed, dialect, raw, migrationSchema, statements);
}

function poolOptions(driver: typeof import('pg').default, url: string, pgSchema: string | undefined): pg.PoolConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: 5000,
    // bigint columns hold revisions and sequence numbers well below 2^53.
    types: { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 ? (v: string) => Number(v) : driver.types.getTypeParser(oid, format)) } as pg.CustomTypesConfig,
    ...(pgSchema ? { options: `-c search_path=${quoteIdent(pgSchema)}` } : {}),
  };
}

/** How many compiled statements Kysely's SQLite connection keeps (least recently used go first). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * A connection's compiled statements, kept by their SQL text (the last 500 used): Kysely's
 * driver prepares every query anew, and compiling is as costly as running the small queries
 * a request makes (the credential lookup, a check's reads). One cache per connection serves
 * both Kysely and a write's `tx.sqlite`. Sharing a statement is safe because one query runs
 * at a time on a connection (Kysely's driver serialises access; `tx.sqlite` runs inside the
 * write that holds it; a streamed query holds the connection until it ends), and SQLite
 * recompiles a statement by itself after a schema change.
 */
class StatementCache {
  private readonly cache = new Map<string, SQLiteDatabase.Statement>();

  constructor(readonly sqlite: SQLiteDatabase.Database) {}

  prepare(text: string): SQLiteDatabase.Statement {
    let statement = this.cache.get(text);
    if (statement) {
      this.cache.delete(text);
    } else {
      statement = this.sqlite.prepare(text);
      if (this.cache.size >= STATEMENT_CACHE_SIZE) this.cache.delete(this.cache.keys().next().value!);
    }
    this.cache.set(text, statement);
    return statement;
  }

  close(): void {
    this.cache.clear();
    this.sqlite.close();
  }
}

/**
 * SQLite has one connection for writes, and a write holds it for its whole transaction
 * (Kysely's driver serialises access), so statements run on it directly are part of that
 * transaction. They come from the connection's one statement cache.
 */
function sqliteStatements(statements: StatementCache): SqliteStatements {
  return {
    run(text, params) {
      statements.prepare(text).run(...params);
    },
    pragma(name, value) {
      const old = statements.sqlite.pragma(name, { simple: true });
      if (value !== undefined) statements.sqlite.pragma(`${name} = ${value}`);
      return old;
    },
  };
}

function quoteIdent(s: string): string {
  if (!/^[A-Za-z_][A-Za-z0-9_]{0,62}$/.test(s)) throw new StoreOpenError('pgSchema', `invalid schema name ${s}`);
  return `"${s}"`;
}

function safeUrl(url: string): string {
  try {
    const u = new URL(url);
    return `${u.hostname}:${u.port || '5432'}${u.pathname}`;
  } catch {
    return '(unparseable URL)';
  }
}
