/**
 * The store contract: one Kysely database over SQLite (embedded default) or PostgreSQL,
 * migrations, and the write protocol every service uses. Every query is made through a
 * {@link TenantDb} or a {@link WriteTx}, both of which carry the tenant, so no code path
 * reads or writes rows without one.
 *
 * ```ts
 * const store = await openStore({ dataDir: './data' });
 * await store.migrate();
 * const { value, revision } = await store.write(tenantId, meta, async (tx) => {
 *   await tx.db.insertInto('roles').values({...}).execute();
 *   tx.audit({ action: 'role.create', targetType: 'role', targetId: id, after: role });
 *   return role;
 * });
 * ```
 */
import { randomBytes, randomUUID } from 'node:crypto';
import { mkdirSync, accessSync, constants as fsConstants } from 'node:fs';
import { join, resolve } from 'node:path';
import SQLiteDatabase from 'better-sqlite3';
import pg from 'pg';
import {
  Kysely,
  Migrator,
  PostgresDialect,
  SqliteDialect,
  sql,
  type CompiledQuery,
  type LogEvent,
  type Transaction,
} from 'kysely';
import { canonicalJson } from '../domain/canonical-json.ts';
import { GENESIS_HASH, hashAuditEvent, type ChainedAuditEvent } from '../domain/audit-chain.ts';
import { AppError } from '../domain/errors.ts';
import { migrationProvider } from './migrations/index.ts';
import { TenantScopePlugin } from './tenant-scope.ts';
import type { Database } from './schema.ts';

export type Dialect = 'sqlite' | 'postgres';

export interface StoreOptions {
  /** `postgres://...` selects PostgreSQL; otherwise SQLite under `dataDir`. */
  databaseUrl?: string | undefined;
  dataDir: string;
  /** PostgreSQL schema to use (tests give each app its own). Created when missing. */
  pgSchema?: string | undefined;
  /** SQLite `synchronous` pragma; FULL (the default) makes every commit durable. */
  sqliteSynchronous?: 'FULL' | 'NORMAL' | undefined;
  /** Called with each query's duration in milliseconds (metrics). */
  onQuery?: ((ms: number, failed: boolean) => void) | undefined;
}

/** Who did a write and from where: recorded on its audit event. */
export interface WriteMeta {
  actorType: 'identity' | 'api_key' | 'client' | 'app_key' | 'system' | 'anonymous';
  actorId: string | null;
  actorName: string | null;
  onBehalfOfId?: string | null;
  /** The identity on whose authority a credential acts, when it is not `onBehalfOfId`. */
  authorityId?: string | null;
  requestId?: string | null;
  sourceIp?: string | null;
  userAgent?: string | null;
  origin?: string | null;
}

export interface AuditInput {
  action: string;
  targetType: string;
  targetId: string | null;
  before?: unknown;
  after?: unknown;
}

/**
 * A read scope: the tenant and the database handle every repository call receives. The
 * handle applies the tenant to every query it builds (`tenant-scope.ts`): another tenant's
 * rows are neither seen nor changed, even by a query without a `tenant_id` filter.
 */
export interface TenantDb {
  readonly tenantId: string;
  readonly db: Kysely<Database> | Transaction<Database>;
}

/** The scope of one write transaction. */
export interface WriteTx extends TenantDb {
  readonly db: Transaction<Database>;
  /** The revision this write will commit as. */
  readonly revision: number;
  /** The transaction's wall-clock time, ISO 8601 UTC; use it for every timestamp written. */
  readonly now: string;
  /** Appends an audit event (committed with the change, hash-chained). */
  audit(event: AuditInput): void;
  /** Records a change-feed entry for an entity (followers such as the access index read these). */
  change(entity: string, entityId: string, op: 'create' | 'update' | 'delete'): void;
  /** The next per-tenant integer for `name` (e.g. the `number` of identities). */
  nextNumber(name: string): Promise<number>;
  /**
   * SQLite only (null on PostgreSQL): cached prepared statements on this transaction's own
   * connection, for bulk writes where building and compiling each query costs more than
   * running it (an import inserting a million grants). Usable only inside the write.
   */
  readonly sqlite: SqliteStatements | null;
}

/** Prepared statements run on the write's connection, inside its transaction. */
export interface SqliteStatements {
  /** Runs `sql` (prepared once per store, then reused) with positional parameters. */
  run(sql: string, params: readonly unknown[]): void;
  /** Sets a pragma for the rest of this connection's life (e.g. `cache_size = -65536`); returns the old value. */
  pragma(name: string, value?: string | number): unknown;
}

/**
 * A credential row with its tenant's revision read in the same query: everything committed
 * up to it is what the caller's rights must reflect (the access index waits for it), so a
 * request needs no separate read of the revision.
 */
export type WithTenantRevision<T> = T & { tenant_revision: number };

/** `lastUsedAt` is kept to the minute: a credential used within the last minute is not written again. */
const USAGE_RESOLUTION_MS = 60_000;

/** Whether a use at `now` should be recorded (saves the write on every other request). */
export function credentialUsageIsStale(lastUsedAt: string | null, now: string): boolean {
  return lastUsedAt === null || Date.parse(lastUsedAt) < Date.parse(now) - USAGE_RESOLUTION_MS;
}

export interface Store {
  readonly dialect: Dialect;
  /** Migrations that exist in code but are not applied yet. */
  pendingMigrations(): Promise<string[]>;
  migrate(): Promise<string[]>;
  ping(): Promise<void>;
  read(tenantId: string): TenantDb;
  /**
   * The tenant's last committed state, on a connection of its own: usable from inside a
   * write (whose own changes it does not see) to compare a write's effect with the state
   * before it. A tenant's writes are serialized, so while a write runs this is the state
   * its transaction started from. Read-only; keep its queries few and small.
   */
  committed(tenantId: string): TenantDb;
  write<T>(tenantId: string, meta: WriteMeta, fn: (tx: WriteTx) => Promise<T>): Promise<{ value: T; revision: number }>;
  /** Tenants are the one table read without a tenant: it is how a tenant is found. */
  findTenantByName(name: string): Promise<{ id: string; name: string; revision: number } | undefined>;
  listTenants(): Promise<{ id: string; name: string; revision: number }[]>;
  createTenant(name: string, now: string): Promise<string>;
  /**
   * Finds an API key by the hash of its secret, in any tenant: authentication is how a
   * request's tenant is learnt, so this is the one credential read made without a tenant.
   */
  findApiKeyByHash(keyHash: string): Promise<WithTenantRevision<Database['api_keys']> | undefined>;
  /**
   * A per-tenant random secret (32 bytes, base64url) named `name`, created on first use and
   * the same for every node. Key material, not business data: not audited.
   */
  tenantSecret(tenantId: string, name: string): Promise<Buffer>;
  /** Finds an OAuth client by its public `client_id`, in any tenant (how a token request's tenant is learnt). */
  findClientByClientId(clientId: string): Promise<WithTenantRevision<Database['oauth_clients']> | undefined>;
  /** Finds an application key by the hash of its secret, in any tenant. */
  findApplicationKeyByHash(keyHash: string): Promise<Database['application_keys'] | undefined>;
  /** Records that a credential was used (at most once a minute; usage metadata, not audited). */
  touchCredential(table: 'api_keys' | 'application_keys' | 'oauth_clients', tenantId: string, id: string, now: string): Promise<void>;
  /** The server's token-signing keys (server-wide, not per tenant), oldest first. */
  listSigningKeys(): Promise<Database['signing_keys'][]>;
  /**
   * Streams the rows of a (compiled) read query as arrays of column values, in batches, from
   * one consistent snapshot, with the driver's raw row mode: no object per row and no
   * paging. For bulk reads (building the access index), not for request paths.
   */
  scan(query: CompiledQuery, onRows: (rows: unknown[][]) => void, batchSize?: number): Promise<void>;
  close(): Promise<void>;
}

/** A configuration or environment problem found while opening the store. */
export class StoreOpenError extends Error {
  constructor(
    readonly setting: string,
    message: string,
  ) {
    super(message);
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
    const pool = new pg.Pool({ ...poolOptions(url, options.pgSchema), max: 10 });
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
    const committedPool = new pg.Pool({ ...poolOptions(url, options.pgSchema), max: 4 });
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
    db = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(sqlite) }), ...(log ? { log } : {}) });
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
    committed = new Kysely<Database>({ dialect: new SqliteDialect({ database: cachingStatements(reader) }), ...(log ? { log } : {}) });
    raw = { sqlite };
    statements = sqliteStatements(sqlite);
  }
  return new KyselyStore(db, committed, dialect, raw, migrationSchema, statements);
}

function poolOptions(url: string, pgSchema: string | undefined): pg.PoolConfig {
  return {
    connectionString: url,
    connectionTimeoutMillis: 5000,
    // bigint columns hold revisions and sequence numbers well below 2^53.
    types: { getTypeParser: (oid: number, format?: 'text' | 'binary') => (oid === 20 ? (v: string) => Number(v) : pg.types.getTypeParser(oid, format)) } as pg.CustomTypesConfig,
    ...(pgSchema ? { options: `-c search_path=${quoteIdent(pgSchema)}` } : {}),
  };
}

/** How many compiled statements Kysely's SQLite connection keeps (least recently used go first). */
const STATEMENT_CACHE_SIZE = 500;

/**
 * The database as Kysely's SQLite driver sees it, with compiled statements kept by their SQL
 * text: the driver prepares every query anew, and compiling is as costly as running the
 * small queries a request makes (the credential lookup, a check's reads). Sharing a
 * statement is safe because the driver runs one query at a time on its one connection
 * (a streamed query holds the connection until it ends), and SQLite recompiles a statement
 * by itself after a schema change.
 */
function cachingStatements(sqlite: SQLiteDatabase.Database): { prepare(sql: string): SQLiteDatabase.Statement; close(): void } {
  const cache = new Map<string, SQLiteDatabase.Statement>();
  return {
    prepare(text) {
      let statement = cache.get(text);
      if (statement) {
        cache.delete(text);
      } else {
        statement = sqlite.prepare(text);
        if (cache.size >= STATEMENT_CACHE_SIZE) cache.delete(cache.keys().next().value!);
      }
      cache.set(text, statement);
      return statement;
    },
    close() {
      cache.clear();
      sqlite.close();
    },
  };
}

/**
 * SQLite has one connection, and a write holds it for its whole transaction (Kysely's
 * driver serialises access), so statements run on it directly are part of that transaction.
 */
function sqliteStatements(sqlite: SQLiteDatabase.Database): SqliteStatements {
  const cache = new Map<string, SQLiteDatabase.Statement>();
  return {
    run(text, params) {
      let statement = cache.get(text);
      if (!statement) {
        statement = sqlite.prepare(text);
        if (cache.size >= 100) cache.clear();
        cache.set(text, statement);
      }
      statement.run(...params);
    },
    pragma(name, value) {
      const old = sqlite.pragma(name, { simple: true });
      if (value !== undefined) sqlite.pragma(`${name} = ${value}`);
      return old;
    },
  };
}

/** The driver under Kysely, for {@link Store.scan}. */
type RawDriver = { sqlite: SQLiteDatabase.Database } | { pool: pg.Pool };

const SCAN_BATCH = 10_000;

class KyselyStore implements Store {
  constructor(
    private readonly db: Kysely<Database>,
    private readonly committedDb: Kysely<Database>,
    readonly dialect: Dialect,
    private readonly raw: RawDriver,
    private readonly migrationSchema?: string,
    private readonly statements: SqliteStatements | null = null,
  ) {}

  async scan(query: CompiledQuery, onRows: (rows: unknown[][]) => void, batchSize = SCAN_BATCH): Promise<void> {
    const raw = this.raw;
    if ('sqlite' in raw) {
      // Holding Kysely's (single) connection keeps every other query waiting while the
      // statement iterates (better-sqlite3 refuses other statements meanwhile); between
      // batches the event loop runs, so requests that need no query are answered.
      await this.db.connection().execute(async () => {
        const stmt = raw.sqlite.prepare(query.sql).raw(true);
        let rows: unknown[][] = [];
        for (const row of stmt.iterate(...query.parameters) as Iterable<unknown[]>) {
          rows.push(row);
          if (rows.length === batchSize) {
            onRows(rows);
            rows = [];
            await new Promise((resolve) => setImmediate(resolve));
          }
        }
        if (rows.length > 0) onRows(rows);
      });
      return;
    }
    // PostgreSQL: a cursor in a read-only repeatable-read transaction (one snapshot).
    const client = await raw.pool.connect();
    let failed = false;
    try {
      await client.query('begin isolation level repeatable read read only');
      await client.query({ text: `declare grantory_scan no scroll cursor for ${query.sql}`, values: query.parameters as unknown[] });
      for (;;) {
        const result = await client.query<unknown[]>({ text: `fetch ${Math.max(1, Math.floor(batchSize))} from grantory_scan`, rowMode: 'array' });
        if (result.rows.length > 0) onRows(result.rows);
        if (result.rows.length < batchSize) break;
      }
      await client.query('commit');
    } catch (e) {
      failed = true;
      await client.query('rollback').catch(() => undefined);
      throw e;
    } finally {
      client.release(failed);
    }
  }

  private migrator(): Migrator {
    // Unordered: migrations of one release are numbered by the issues that add them and may
    // land in any order (0010 before 0009); each runs once, whatever ran before it.
    return new Migrator({
      db: this.db,
      provider: migrationProvider,
      allowUnorderedMigrations: true,
      ...(this.migrationSchema ? { migrationTableSchema: this.migrationSchema } : {}),
    });
  }

  async pendingMigrations(): Promise<string[]> {
    const all = await this.migrator().getMigrations();
    return all.filter((m) => !m.executedAt).map((m) => m.name);
  }

  async migrate(): Promise<string[]> {
    // Kysely's migrator introspects every schema of the database; a schema dropped by
    // someone else at that moment (code 3F000 / 42P01) fails the introspection, not our
    // migration. Migrations run in a transaction on PostgreSQL, so trying again is safe.
    for (let attempt = 1; ; attempt += 1) {
      const { error, results } = await this.migrator().migrateToLatest();
      if (!error) return (results ?? []).filter((r) => r.status === 'Success').map((r) => r.migrationName);
      const code = (error as { code?: string }).code;
      if (this.dialect === 'postgres' && attempt < 3 && (code === '3F000' || code === '42P01')) continue;
      throw error instanceof Error ? error : new Error(String(error));
    }
  }

  async ping(): Promise<void> {
    await sql`select 1`.execute(this.db);
  }

  read(tenantId: string): TenantDb {
    return { tenantId, db: this.db.withPlugin(new TenantScopePlugin(tenantId)) };
  }

  committed(tenantId: string): TenantDb {
    return { tenantId, db: this.committedDb.withPlugin(new TenantScopePlugin(tenantId)) };
  }

  async findTenantByName(name: string) {
    return this.db.selectFrom('tenants').select(['id', 'name', 'revision']).where('name', '=', name).executeTakeFirst();
  }

  async listTenants() {
    return this.db.selectFrom('tenants').select(['id', 'name', 'revision']).orderBy('created_at').orderBy('id').execute();
  }

  async createTenant(name: string, now: string): Promise<string> {
    const id = randomUUID();
    await this.db
      .insertInto('tenants')
      .values({ id, name, revision: 0, audit_seq: 0, audit_head_hash: GENESIS_HASH, created_at: now })
      .execute();
    return id;
  }

  async findApiKeyByHash(keyHash: string) {
    const row = await this.db
      .selectFrom('api_keys')
      .innerJoin('tenants', 'tenants.id', 'api_keys.tenant_id')
      .selectAll('api_keys')
      .select('tenants.revision as tenant_revision')
      .where('api_keys.key_hash', '=', keyHash)
      .executeTakeFirst();
    return row && { ...row, tenant_revision: Number(row.tenant_revision) };
  }

  private readonly secrets = new Map<string, Buffer>();

  async tenantSecret(tenantId: string, name: string): Promise<Buffer> {
    const cacheKey = `${tenantId}\u0000${name}`;
    const cached = this.secrets.get(cacheKey);
    if (cached) return cached;
    await this.db
      .insertInto('tenant_secrets')
      .values({ tenant_id: tenantId, name, value: randomBytes(32).toString('base64url'), created_at: new Date().toISOString() })
      .onConflict((oc) => oc.columns(['tenant_id', 'name']).doNothing())
      .execute();
    const row = await this.db
      .selectFrom('tenant_secrets')
      .select('value')
      .where('tenant_id', '=', tenantId)
      .where('name', '=', name)
      .executeTakeFirstOrThrow();
    const secret = Buffer.from(row.value, 'base64url');
    this.secrets.set(cacheKey, secret);
    return secret;
  }

  async findClientByClientId(clientId: string) {
    const row = await this.db
      .selectFrom('oauth_clients')
      .innerJoin('tenants', 'tenants.id', 'oauth_clients.tenant_id')
      .selectAll('oauth_clients')
      .select('tenants.revision as tenant_revision')
      .where('oauth_clients.client_id', '=', clientId)
      .executeTakeFirst();
    return row && { ...row, tenant_revision: Number(row.tenant_revision) };
  }

  async findApplicationKeyByHash(keyHash: string) {
    return this.db.selectFrom('application_keys').selectAll().where('key_hash', '=', keyHash).executeTakeFirst();
  }

  async touchCredential(table: 'api_keys' | 'application_keys' | 'oauth_clients', tenantId: string, id: string, now: string): Promise<void> {
    const staleBefore = new Date(Date.parse(now) - USAGE_RESOLUTION_MS).toISOString();
    await this.db
      .updateTable(table)
      .set({ last_used_at: now })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where((eb) => eb.or([eb('last_used_at', 'is', null), eb('last_used_at', '<', staleBefore)]))
      .execute();
  }

  async listSigningKeys() {
    return this.db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
  }

  async write<T>(tenantId: string, meta: WriteMeta, fn: (tx: WriteTx) => Promise<T>): Promise<{ value: T; revision: number }> {
    return this.db.transaction().execute(async (trx) => {
      // Bumping the tenant's revision first takes the tenant's row lock (PostgreSQL) or the
      // write lock (SQLite): writes of one tenant are serialized, so revisions, numbers and
      // the audit chain advance without gaps or forks.
      const head = await trx
        .updateTable('tenants')
        .set((eb) => ({ revision: eb('revision', '+', 1) }))
        .where('id', '=', tenantId)
        .returning(['revision', 'audit_seq', 'audit_head_hash'])
        .executeTakeFirst();
      if (!head) throw new AppError('not_found', `tenant ${tenantId} does not exist`);
      const now = new Date().toISOString();
      const audits: AuditInput[] = [];
      const changes = new Map<string, { entity: string; entityId: string; op: string }>();
      const tx: WriteTx = {
        tenantId,
        db: trx.withPlugin(new TenantScopePlugin(tenantId)),
        revision: head.revision,
        now,
        audit: (e) => void audits.push(e),
        change: (entity, entityId, op) => void changes.set(`${entity}\u0000${entityId}`, { entity, entityId, op }),
        nextNumber: async (name) => {
          const row = await trx
            .insertInto('counters')
            .values({ tenant_id: tenantId, name, value: 1 })
            .onConflict((oc) => oc.columns(['tenant_id', 'name']).doUpdateSet((eb) => ({ value: eb('counters.value', '+', 1) })))
            .returning('value')
            .executeTakeFirstOrThrow();
          return row.value;
        },
        sqlite: this.statements,
      };
      const value = await fn(tx);
      if (audits.length === 0) throw new Error('every write must record an audit event');

      let seq = head.audit_seq;
      let prevHash = head.audit_head_hash;
      const rows = audits.map((a) => {
        seq += 1;
        const event: ChainedAuditEvent = {
          tenantId,
          seq,
          id: randomUUID(),
          time: now,
          revision: head.revision,
          actorType: meta.actorType,
          actorId: meta.actorId,
          actorName: meta.actorName,
          onBehalfOfId: meta.onBehalfOfId ?? null,
          authorityId: meta.authorityId ?? null,
          action: a.action,
          targetType: a.targetType,
          targetId: a.targetId,
          before: a.before === undefined ? null : canonicalJson(a.before),
          after: a.after === undefined ? null : canonicalJson(a.after),
          requestId: meta.requestId ?? null,
          sourceIp: meta.sourceIp ?? null,
          userAgent: meta.userAgent ?? null,
          origin: meta.origin ?? null,
          prevHash,
        };
        const hash = hashAuditEvent(event);
        prevHash = hash;
        return toAuditRow(event, hash);
      });
      // Inserted in chunks: a large write (an import touching 100k accounts) would exceed
      // the bound-parameter limits of both backends in one statement.
      for (let i = 0; i < rows.length; i += 500) await trx.insertInto('audit_events').values(rows.slice(i, i + 500)).execute();
      const changeRows = [...changes.values()].map((c) => ({
        tenant_id: tenantId,
        revision: head.revision,
        entity: c.entity,
        entity_id: c.entityId,
        op: c.op,
      }));
      for (let i = 0; i < changeRows.length; i += 2000) await trx.insertInto('changes').values(changeRows.slice(i, i + 2000)).execute();
      await trx
        .updateTable('tenants')
        .set({ audit_seq: seq, audit_head_hash: prevHash })
        .where('id', '=', tenantId)
        .execute();
      return { value, revision: head.revision };
    });
  }

  async close(): Promise<void> {
    await this.committedDb.destroy();
    await this.db.destroy();
  }
}

function toAuditRow(e: ChainedAuditEvent, hash: string): Database['audit_events'] {
  return {
    tenant_id: e.tenantId,
    seq: e.seq,
    id: e.id,
    time: e.time,
    revision: e.revision,
    actor_type: e.actorType,
    actor_id: e.actorId,
    actor_name: e.actorName,
    on_behalf_of_id: e.onBehalfOfId,
    authority_id: e.authorityId,
    action: e.action,
    target_type: e.targetType,
    target_id: e.targetId,
    before: e.before,
    after: e.after,
    request_id: e.requestId,
    source_ip: e.sourceIp,
    user_agent: e.userAgent,
    origin: e.origin,
    prev_hash: e.prevHash,
    hash,
  };
}

/** Maps a stored audit row back to the chained event (for verification and reads). */
export function fromAuditRow(r: Database['audit_events']): ChainedAuditEvent & { hash: string } {
  return {
    tenantId: r.tenant_id,
    seq: Number(r.seq),
    id: r.id,
    time: r.time,
    revision: Number(r.revision),
    actorType: r.actor_type,
    actorId: r.actor_id,
    actorName: r.actor_name,
    onBehalfOfId: r.on_behalf_of_id,
    authorityId: r.authority_id,
    action: r.action,
    targetType: r.target_type,
    targetId: r.target_id,
    before: r.before,
    after: r.after,
    requestId: r.request_id,
    sourceIp: r.source_ip,
    userAgent: r.user_agent,
    origin: r.origin,
    prevHash: r.prev_hash,
    hash: r.hash,
  };
}

/** True when `e` is a unique-constraint violation on either backend. */
export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string };
  return err?.code === '23505' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
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
