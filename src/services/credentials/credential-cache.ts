/**
 * A cache of what authenticating a credential read from the database (an API key's row, an
 * access token's verified claims and client), with exact invalidation: an entry is used only
 * while its tenant's revision is still the one it was read at.
 *
 * Every change to a credential — deleting or changing a key, deleting a client, revoking a
 * token — is a write, and every write raises the tenant's revision (the write protocol). So a
 * request that finds an entry reads the tenant's committed revision; equal, nothing about the
 * tenant changed since the entry was read and it is still exact; higher, the entry is dropped
 * and the credential read again. The revision read is the one query such a request makes, and
 * it is shared: the requests that arrive in one turn of the event loop wait for one
 * `select id, revision from tenants where id in (...)`, issued after the last of them arrived
 * (never one already under way, which could have started before a deletion committed). A
 * deleted key or a revoked token is therefore refused on the next request, on every worker
 * and node, as without the cache.
 *
 * Entries are keyed by a SHA-256 hash of the secret (never the secret itself; a hash of a
 * random secret cannot be presented in its place) and bounded in number; the oldest is
 * dropped first.
 */
import type { Store } from '../../store/store.ts';

interface Entry {
  value: unknown;
  revision: number;
}

interface Waiting {
  promise: Promise<number | undefined>;
  resolve: (revision: number | undefined) => void;
  reject: (error: unknown) => void;
}

export const DEFAULT_CREDENTIAL_CACHE_ENTRIES = 10_000;

export class CredentialCache {
  private readonly entries = new Map<string, Entry>();
  /** The tenants whose revision the next shared read fetches (null: no read queued). */
  private queued: Map<string, Waiting> | null = null;

  constructor(
    private readonly store: Pick<Store, 'tenantRevisions'>,
    private readonly maxEntries = DEFAULT_CREDENTIAL_CACHE_ENTRIES,
  ) {}

  /**
   * The entry stored under `key` when its tenant has not changed since it was stored (one
   * shared revision read); undefined otherwise (and a stale entry is dropped).
   */
  async fresh<T>(key: string, tenantOf: (value: T) => string): Promise<{ value: T; revision: number } | undefined> {
    const entry = this.entries.get(key);
    if (!entry) return undefined;
    const revision = await this.revisionOf(tenantOf(entry.value as T));
    // Another request may have replaced the entry while this one waited.
    const now = this.entries.get(key);
    if (now !== entry) return now && now.revision === revision ? { value: now.value as T, revision } : undefined;
    if (revision !== entry.revision) {
      this.entries.delete(key);
      return undefined;
    }
    return { value: entry.value as T, revision };
  }

  /** Stores what was read at `revision` (the tenant's revision read with it, or before it). */
  set(key: string, value: unknown, revision: number): void {
    const existing = this.entries.get(key);
    if (existing && existing.revision > revision) return;
    this.entries.delete(key);
    if (this.entries.size >= this.maxEntries) this.entries.delete(this.entries.keys().next().value as string);
    this.entries.set(key, { value, revision });
  }

  /** The number of entries (for tests and metrics). */
  get size(): number {
    return this.entries.size;
  }

  /**
   * The tenant's committed revision (undefined when the tenant does not exist), read by one
   * query shared with every request that asks in the same turn of the event loop.
   */
  revisionOf(tenantId: string): Promise<number | undefined> {
    if (!this.queued) {
      this.queued = new Map();
      setImmediate(() => this.readQueued());
    }
    let waiting = this.queued.get(tenantId);
    if (!waiting) {
      let resolve!: Waiting['resolve'];
      let reject!: Waiting['reject'];
      const promise = new Promise<number | undefined>((res, rej) => {
        resolve = res;
        reject = rej;
      });
      waiting = { promise, resolve, reject };
      this.queued.set(tenantId, waiting);
    }
    return waiting.promise;
  }

  private readQueued(): void {
    const queued = this.queued!;
    this.queued = null;
    this.store.tenantRevisions([...queued.keys()]).then(
      (revisions) => {
        for (const [tenantId, waiting] of queued) waiting.resolve(revisions.get(tenantId));
      },
      (error: unknown) => {
        for (const waiting of queued.values()) waiting.reject(error);
      },
    );
  }
}
