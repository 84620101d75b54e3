/**
 * The access engine: one {@link TenantIndex} per tenant, built from the store at start and
 * kept current by following the change feed. Each sync reads the tenant's committed
 * revision, then the change-feed entries after the applied revision up to it, and re-reads
 * only the entities they name. Syncs run on a timer (other nodes' writes), on demand when a
 * read asks for a `minRevision` this node has not applied yet (read-your-writes across
 * nodes), and after this node's own writes.
 *
 * ```ts
 * const engine = new AccessEngine(store, { clock: () => Date.now() });
 * await engine.start();
 * const { index, revision } = await engine.at(tenantId, minRevision);
 * checkSlots(index, index.identities.find(id), permSlot, askContext(index, undefined), engine.now(), 'assigned');
 * ```
 */
import { AppError } from '../domain/errors.ts';
import { isRight, type Right } from '../domain/rights.ts';
import type { Store } from '../store/store.ts';
import { followedEntity, loadAll, reloadEntities, type FollowedEntity } from './loader.ts';
import { everywherePerms } from './effective.ts';
import { NONE } from './nodes.ts';
import { DEFAULT_CACHE_BYTES } from './index-graph.ts';
import { TenantIndex, type IndexChanges } from './tenant-index.ts';

export interface AccessEngineOptions {
  /** Milliseconds since the epoch; validity windows are judged against it. */
  clock?: () => number;
  /** How often to follow the change feed for writes made through other nodes (ms; 0 = never). */
  pollIntervalMs?: number;
  /** Above this many changed entities in one sync, the tenant's index is rebuilt instead. */
  rebuildThreshold?: number;
  /** Memory for each tenant's cached effective sets (bytes; default {@link DEFAULT_CACHE_BYTES}). */
  cacheBytes?: number;
}

interface TenantState {
  tenantId: string;
  index: TenantIndex;
  applied: number;
  running: Promise<void> | null;
  queued: Promise<void> | null;
}

/** Order in which changed entities are re-read (referenced things first). */
const RELOAD_ORDER: FollowedEntity[] = ['unit', 'application', 'permission', 'role', 'identity', 'assignment', 'account'];

export const DEFAULT_WAIT_MS = 5000;

export class AccessEngine {
  private readonly tenants = new Map<string, TenantState>();
  private readonly building = new Map<string, Promise<TenantState>>();
  private readonly warmers: ((tenantId: string, index: TenantIndex) => void)[] = [];
  private timer: NodeJS.Timeout | null = null;
  private started = false;
  readonly clock: () => number;

  constructor(
    private readonly store: Store,
    private readonly options: AccessEngineOptions = {},
  ) {
    this.clock = options.clock ?? (() => Date.now());
  }

  /** Builds every tenant's index, then follows the change feed. */
  async start(): Promise<void> {
    for (const t of await this.store.listTenants()) await this.tenantState(t.id);
    this.started = true;
    const every = this.options.pollIntervalMs ?? 200;
    if (every > 0) {
      this.timer = setInterval(() => void this.syncAll().catch(() => undefined), every);
      this.timer.unref();
    }
  }

  /** Readiness: null when every known tenant's index is built, else why not. */
  notReadyReason(): string | null {
    return this.started ? null : 'the access index is being built';
  }

  stop(): void {
    if (this.timer) clearInterval(this.timer);
    this.timer = null;
  }

  now(): number {
    return this.clock();
  }

  /** The tenant's index once it has applied `minRevision` (waiting up to `timeoutMs`). */
  async at(tenantId: string, minRevision?: number, timeoutMs = DEFAULT_WAIT_MS): Promise<{ index: TenantIndex; revision: number }> {
    const t = await this.tenantState(tenantId);
    if (minRevision !== undefined && t.applied < minRevision) await this.waitForRevision(tenantId, minRevision, timeoutMs);
    return { index: t.index, revision: t.applied };
  }

  /**
   * The tenant's index at a revision it has fully applied (at least `minRevision`), with a
   * record of what changes in it from then on: between two syncs, so that no change is
   * half-applied. A reader uses the index for what `changes` leaves untouched and the
   * history at `revision` for the rest; it calls `close()` when done.
   */
  async snapshot(tenantId: string, minRevision?: number): Promise<{ index: TenantIndex; revision: number; changes: IndexChanges; close: () => void }> {
    await this.at(tenantId, minRevision);
    const t = await this.tenantState(tenantId);
    for (let pending = t.running ?? t.queued; pending !== null; pending = t.running ?? t.queued) await pending.catch(() => undefined);
    // No sync is under way: the index holds exactly the revision applied.
    const index = t.index;
    const changes = index.watch();
    return { index, revision: t.applied, changes, close: () => index.unwatch(changes) };
  }

  /**
   * Calls `use` with the tenant's index at a quiet point — no sync half-applied, so the index
   * holds exactly `revision` — synchronously, and returns what it returns.
   */
  async settled<R>(tenantId: string, use: (index: TenantIndex, revision: number) => R): Promise<R> {
    const t = await this.tenantState(tenantId);
    for (let pending = t.running ?? t.queued; pending !== null; pending = t.running ?? t.queued) await pending.catch(() => undefined);
    return use(t.index, t.applied);
  }

  /**
   * Registers work to start in the background whenever a tenant's index is built or has
   * applied a sync (e.g. a kept answer's full pass, when a change invalidated it); called at
   * once for the indexes already built. `warm` must return quickly and catch its own errors.
   */
  addWarmer(warm: (tenantId: string, index: TenantIndex) => void): void {
    this.warmers.push(warm);
    for (const t of this.tenants.values()) warm(t.tenantId, t.index);
  }

  private warm(t: TenantState): void {
    for (const w of this.warmers) w(t.tenantId, t.index);
  }

  /** The revision this node has applied for the tenant. */
  async appliedRevision(tenantId: string): Promise<number> {
    return (await this.tenantState(tenantId)).applied;
  }

  /**
   * Waits until the index has applied `min`; throws `unprocessable` (422) at once when `min`
   * is beyond every revision the tenant has committed (waiting would never end), and
   * `not_ready` (503, Retry-After) when this node has not caught up after `timeoutMs`.
   */
  async waitForRevision(tenantId: string, min: number, timeoutMs = DEFAULT_WAIT_MS): Promise<number> {
    const t = await this.tenantState(tenantId);
    if (t.applied >= min) return t.applied;
    const head = (await this.headRevision(tenantId)) ?? 0;
    if (head < min) {
      const message = `minRevision ${min} is beyond the tenant's head revision ${head}: no such revision has been committed`;
      throw new AppError('unprocessable', message, { errors: [{ field: 'minRevision', message: `is beyond the head revision ${head}` }], details: { headRevision: head } });
    }
    const deadline = Date.now() + timeoutMs;
    const notReady = () =>
      new AppError('not_ready', `this node has applied revision ${t.applied}, not yet ${min}; retry shortly`, {
        details: { appliedRevision: t.applied, retryAfter: 1 },
      });
    while (t.applied < min) {
      const left = deadline - Date.now();
      if (left <= 0) throw notReady();
      // A slow sync does not stretch the wait past the deadline (it goes on in the background).
      let timer: NodeJS.Timeout | undefined;
      await Promise.race([this.sync(t), new Promise((r) => (timer = setTimeout(r, left)))]).finally(() => clearTimeout(timer));
      if (t.applied >= min) break;
      if (Date.now() >= deadline) throw notReady();
      await new Promise((r) => setTimeout(r, 25));
    }
    return t.applied;
  }

  /** Catches up with every write committed so far (one small query when nothing changed). */
  async syncNow(tenantId: string): Promise<number> {
    const t = await this.tenantState(tenantId);
    await this.sync(t);
    return t.applied;
  }

  /** Grantory rights an identity holds (permissions of the built-in application, context `all`). */
  rightsOf(index: TenantIndex, identityId: string): Set<Right> {
    const rights = new Set<Right>();
    const identity = index.identities.find(identityId);
    if (identity === NONE) return rights;
    for (const p of everywherePerms(index.effective(identity, this.now()).data)) {
      const perm = index.perms.get(p);
      if (perm.app !== NONE && index.apps.get(perm.app).builtin && isRight(perm.name)) rights.add(perm.name);
    }
    return rights;
  }

  private async syncAll(): Promise<void> {
    for (const t of this.tenants.values()) await this.sync(t);
  }

  private async tenantState(tenantId: string): Promise<TenantState> {
    const known = this.tenants.get(tenantId);
    if (known) return known;
    let pending = this.building.get(tenantId);
    if (!pending) {
      pending = this.build(tenantId).finally(() => this.building.delete(tenantId));
      this.building.set(tenantId, pending);
    }
    return pending;
  }

  private async build(tenantId: string): Promise<TenantState> {
    const { index, revision } = await this.buildIndex(tenantId);
    const t: TenantState = { tenantId, index, applied: revision, running: null, queued: null };
    this.tenants.set(tenantId, t);
    this.warm(t);
    return t;
  }

  private async buildIndex(tenantId: string): Promise<{ index: TenantIndex; revision: number }> {
    // The revision is read first: everything committed up to it is in the rows read after;
    // later writes are re-applied from the change feed (re-reading an entity is idempotent).
    const revision = await this.headRevision(tenantId);
    if (revision === null) throw new AppError('not_found', `tenant ${tenantId} does not exist`);
    const index = new TenantIndex(tenantId, this.options.cacheBytes ?? DEFAULT_CACHE_BYTES);
    await loadAll(this.store, tenantId, index);
    return { index, revision };
  }

  private async headRevision(tenantId: string): Promise<number | null> {
    const row = await this.store.read(tenantId).db.selectFrom('tenants').select('revision').where('id', '=', tenantId).executeTakeFirst();
    return row ? Number(row.revision) : null;
  }

  /** Coalesced: callers that arrive before a queued sync starts share it. */
  private sync(t: TenantState): Promise<void> {
    if (t.queued) return t.queued;
    const previous = t.running ?? Promise.resolve();
    const p: Promise<void> = previous
      .catch(() => undefined)
      .then(async () => {
        if (t.queued === p) t.queued = null;
        t.running = p;
        try {
          await this.runSync(t);
        } finally {
          if (t.running === p) t.running = null;
        }
        this.warm(t);
      });
    t.queued = p;
    return p;
  }

  private async runSync(t: TenantState): Promise<void> {
    const head = await this.headRevision(t.tenantId);
    if (head === null || head <= t.applied) return;
    const limit = this.options.rebuildThreshold ?? 100_000;
    const scope = this.store.read(t.tenantId);
    const rows = await scope.db
      .selectFrom('changes')
      .select(['entity', 'entity_id'])
      .where('revision', '>', t.applied)
      .where('revision', '<=', head)
      .orderBy('revision')
      .limit(limit + 1)
      .execute();
    if (rows.length > limit) {
      const rebuilt = await this.buildIndex(t.tenantId);
      t.index = rebuilt.index;
      t.applied = rebuilt.revision;
      return;
    }
    const byEntity = new Map<FollowedEntity, Set<string>>();
    for (const r of rows) {
      const entity = followedEntity(r.entity);
      if (!entity) continue;
      let ids = byEntity.get(entity);
      if (!ids) byEntity.set(entity, (ids = new Set()));
      ids.add(r.entity_id);
    }
    for (const entity of RELOAD_ORDER) {
      const ids = byEntity.get(entity);
      if (ids) await reloadEntities(scope, t.index, entity, [...ids]);
    }
    t.applied = head;
  }
}
