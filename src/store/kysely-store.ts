/** The {@link Store} over one Kysely database (SQLite or PostgreSQL) and a second one that reads the last commit. */
import { randomUUID } from 'node:crypto';
import SQLiteDatabase from 'better-sqlite3';
import type pg from 'pg';
import {
  Kysely,
  Migrator,
  sql,
  type CompiledQuery,
} from 'kysely';
import { GENESIS_HASH } from '../domain/audit-chain.ts';
import { migrationProvider } from './migrations/index.ts';
import { TenantScopePlugin } from './tenant-scope.ts';
import type { Database } from './schema.ts';
import { runWrite } from './write-protocol.ts';
import { type Dialect, type RateLimitCount, type SqliteStatements, type Store, type TenantDb, type WriteMeta, type WriteTx, USAGE_RESOLUTION_MS } from './store.ts';

const SCAN_BATCH = 10_000;

/**
 * The drivers under Kysely, for {@link Store.scan}: on SQLite the read-only connection that
 * `committed` reads through (`reader`), beside the one writes use.
 */
export type RawDriver = { sqlite: SQLiteDatabase.Database; reader: SQLiteDatabase.Database } | { pool: pg.Pool };

export class KyselyStore implements Store {
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
      // On the read-only connection (WAL: it reads the last commit, one snapshot for the
      // statement), so requests and writes go on through the other one meanwhile. The scan
      // holds the read-only connection's Kysely lock while the statement iterates
      // (better-sqlite3 refuses other statements on it meanwhile): what reads the last
      // commit — a write's rights guard — waits for it; between batches the event loop runs.
      await this.committedDb.connection().execute(async () => {
        const stmt = raw.reader.prepare(query.sql).raw(true);
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

  /** The compiled revision query by number of tenants (it runs for nearly every request: compiled once). */
  private readonly revisionQueries = new Map<number, CompiledQuery<{ id: string; revision: number | string }>>();

  async tenantRevisions(tenantIds: readonly string[]): Promise<Map<string, number>> {
    const revisions = new Map<string, number>();
    if (tenantIds.length === 0) return revisions;
    let query = this.revisionQueries.get(tenantIds.length);
    if (!query) {
      query = this.db.selectFrom('tenants').select(['id', 'revision']).where('id', 'in', tenantIds).compile();
      if (this.revisionQueries.size < 64) this.revisionQueries.set(tenantIds.length, query);
    }
    const { rows } = await this.db.executeQuery<{ id: string; revision: number | string }>({ ...query, parameters: tenantIds });
    for (const row of rows) revisions.set(row.id, Number(row.revision));
    return revisions;
  }

  async createTenant(name: string, now: string): Promise<string> {
    const id = randomUUID();
    await this.db
      .insertInto('tenants')
      .values({ id, name, revision: 0, audit_seq: 0, audit_head_hash: GENESIS_HASH, created_at: now, settings: '{}', history_from_rev: null, history_from_time: null })
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

  async findSessionByHash(secretHash: string) {
    const row = await this.db
      .selectFrom('sessions')
      .innerJoin('tenants', 'tenants.id', 'sessions.tenant_id')
      .selectAll('sessions')
      .select('tenants.revision as tenant_revision')
      .where('sessions.secret_hash', '=', secretHash)
      .executeTakeFirst();
    return row && { ...row, tenant_revision: Number(row.tenant_revision) };
  }

  async touchSession(tenantId: string, id: string, now: string, expiresAt: string): Promise<boolean> {
    const staleBefore = new Date(Date.parse(now) - USAGE_RESOLUTION_MS).toISOString();
    const result = await this.db
      .updateTable('sessions')
      .set({ last_seen_at: now, expires_at: expiresAt })
      .where('tenant_id', '=', tenantId)
      .where('id', '=', id)
      .where('last_seen_at', '<', staleBefore)
      .executeTakeFirst();
    return Number(result.numUpdatedRows) > 0;
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

  async addRateLimitCounts(rows: readonly RateLimitCount[]): Promise<RateLimitCount[]> {
    const totals: RateLimitCount[] = [];
    const windows = new Map(rows.map((r) => [r.key, r.windowMs]));
    for (let i = 0; i < rows.length; i += 500) {
      const chunk = rows.slice(i, i + 500);
      const returned = await this.db
        .insertInto('rate_limit_counters')
        .values(chunk.map((r) => ({ key: r.key, window_start: r.windowStart, expires_at: r.windowStart + r.windowMs, count: r.count })))
        .onConflict((oc) =>
          oc.column('key').doUpdateSet((eb) => {
            // A later window replaces the stored one; the same window adds up; an earlier one changes nothing.
            const later = (column: 'window_start' | 'expires_at') =>
              eb.case().when(eb.ref('excluded.window_start'), '>', eb.ref('rate_limit_counters.window_start')).then(eb.ref(`excluded.${column}`)).else(eb.ref(`rate_limit_counters.${column}`)).end();
            return {
              count: eb
                .case()
                .when(eb.ref('excluded.window_start'), '=', eb.ref('rate_limit_counters.window_start'))
                .then(eb(eb.ref('rate_limit_counters.count'), '+', eb.ref('excluded.count')))
                .when(eb.ref('excluded.window_start'), '>', eb.ref('rate_limit_counters.window_start'))
                .then(eb.ref('excluded.count'))
                .else(eb.ref('rate_limit_counters.count'))
                .end(),
              window_start: later('window_start'),
              expires_at: later('expires_at'),
            };
          }),
        )
        .returning(['key', 'window_start', 'count'])
        .execute();
      for (const r of returned) totals.push({ key: r.key, windowStart: Number(r.window_start), windowMs: windows.get(r.key) ?? 0, count: Number(r.count) });
    }
    return totals;
  }

  async deleteEndedRateLimitCounts(now: number): Promise<void> {
    await this.db.deleteFrom('rate_limit_counters').where('expires_at', '<', now).execute();
  }

  async listSigningKeys() {
    return this.db.selectFrom('signing_keys').selectAll().orderBy('created_at').orderBy('kid').execute();
  }

  write<T>(tenantId: string, meta: WriteMeta, fn: (tx: WriteTx) => Promise<T>): Promise<{ value: T; revision: number }> {
    return runWrite(this.db, this.statements, tenantId, meta, fn);
  }

  async close(): Promise<void> {
    await this.committedDb.destroy();
    await this.db.destroy();
  }
}
