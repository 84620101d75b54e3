/**
 * The store contract: one Kysely database over SQLite (embedded default) or PostgreSQL,
 * migrations, and the write protocol every service uses. `open.ts` opens it (the SQLite and
 * PostgreSQL specifics), `kysely-store.ts` implements it, `write-protocol.ts` is the write. Every query is made through a
 * {@link TenantDb} or a {@link WriteTx}, both of which carry the tenant, so no code path
 * reads or writes rows without one.
 *
 * ```ts
 * const store = await openStore({ dataDir: './data' }); // from './open.ts'
 * await store.migrate();
 * const { value, revision } = await store.write(tenantId, meta, async (tx) => {
 *   await tx.db.insertInto('roles').values({...}).execute();
 *   tx.audit({ action: 'role.create', targetType: 'role', targetId: id, after: role });
 *   return role;
 * });
 * ```
 */
import {
  Kysely,
  type CompiledQuery,
  type Transaction,
} from 'kysely';
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
  actorType: 'identity' | 'api_key' | 'client' | 'app_key' | 'session' | 'system' | 'anonymous';
  actorId: string | null;
  actorName: string | null;
  onBehalfOfId?: string | null;
  /** The identity on whose authority a credential acts, when it is not `onBehalfOfId`. */
  authorityId?: string | null;
  requestId?: string | null;
  sourceIp?: string | null;
  sourcePort?: number | null;
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
  /** Whether this write has recorded a change-feed entry for any of `entities` so far. */
  hasChanged(entities: readonly string[]): boolean;
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
export const USAGE_RESOLUTION_MS = 60_000;

/** Whether a use at `now` should be recorded (saves the write on every other request). */
export function credentialUsageIsStale(lastUsedAt: string | null, now: string): boolean {
  return lastUsedAt === null || Date.parse(lastUsedAt) < Date.parse(now) - USAGE_RESOLUTION_MS;
}

/** One key's count in one fixed window (epoch milliseconds). */
export interface RateLimitCount {
  key: string;
  windowStart: number;
  windowMs: number;
  count: number;
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
  /**
   * The committed revision of each of these tenants, in one query (a tenant that does not
   * exist is absent from the map). What a cached credential is checked against: every change
   * to a credential is a write, and every write raises its tenant's revision.
   */
  tenantRevisions(tenantIds: readonly string[]): Promise<Map<string, number>>;
  createTenant(name: string, now: string): Promise<string>;
  /**
   * Finds an API key by the hash of its secret, in any tenant: authentication is how a
   * request's tenant is learnt, so this is the one credential read made without a tenant.
   */
  findApiKeyByHash(keyHash: string): Promise<WithTenantRevision<Database['api_keys']> | undefined>;
  /** Finds an OAuth client by its public `client_id`, in any tenant (how a token request's tenant is learnt). */
  findClientByClientId(clientId: string): Promise<WithTenantRevision<Database['oauth_clients']> | undefined>;
  /** Finds a session by the keyed hash of its secret, in any tenant (how a session cookie's tenant is learnt). */
  findSessionByHash(secretHash: string): Promise<WithTenantRevision<Database['sessions']> | undefined>;
  /**
   * Records a session's use: `last_seen_at` and its sliding idle expiry (at most once a
   * minute, like {@link Store.touchCredential}; usage metadata, not audited). True when it wrote.
   */
  touchSession(tenantId: string, id: string, now: string, expiresAt: string): Promise<boolean>;
  /** Finds an application key by the hash of its secret, in any tenant. */
  findApplicationKeyByHash(keyHash: string): Promise<Database['application_keys'] | undefined>;
  /** Records that a credential was used (at most once a minute; usage metadata, not audited). */
  touchCredential(table: 'api_keys' | 'application_keys' | 'oauth_clients', tenantId: string, id: string, now: string): Promise<void>;
  /**
   * Adds counts to shared rate-limit counters (one statement) and returns each key's total
   * in its window. A row of an earlier window is restarted at the given window; a count for
   * a window older than the stored one leaves the row as it is (and returns the stored
   * window, which the caller ignores).
   */
  addRateLimitCounts(rows: readonly RateLimitCount[]): Promise<RateLimitCount[]>;
  /** Deletes the rate-limit counters of windows that ended before `now` (epoch milliseconds). */
  deleteEndedRateLimitCounts(now: number): Promise<void>;
  /** The server's token-signing keys (server-wide, not per tenant), oldest first. */
  listSigningKeys(): Promise<Database['signing_keys'][]>;
  /**
   * Streams the rows of a (compiled) read query as arrays of column values, in batches, from
   * one consistent snapshot, with the driver's raw row mode: no object per row and no
   * paging. For bulk reads (building the access index), not for request paths. It reads
   * beside the connections requests use (SQLite: the read-only connection of `committed`;
   * PostgreSQL: a connection of the pool), so requests are served while it runs.
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

export function isUniqueViolation(e: unknown): boolean {
  const err = e as { code?: string };
  return err?.code === '23505' || err?.code === 'SQLITE_CONSTRAINT_UNIQUE' || err?.code === 'SQLITE_CONSTRAINT_PRIMARYKEY';
}

