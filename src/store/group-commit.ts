/**
 * Group commit on SQLite (docs/architecture.md, "Group commit"): the writes that queue while
 * another write runs are committed together — each in a savepoint of one transaction, one
 * `COMMIT` (one fsync with `synchronous=FULL`) for all of them, every caller answered only
 * after that commit.
 *
 * - Each write is the whole write protocol (`runWriteIn`): its own revision, audit events on
 *   the tenant's hash chain, change-feed rows. They run one after another on the one write
 *   connection, so the revisions and the chain advance exactly as if each had committed alone.
 * - A write that throws rolls back to its savepoint: nothing of it remains, its caller gets the
 *   error, the others commit. If SQLite rolled back the whole transaction (an I/O error, a full
 *   disk), or the commit fails, every caller of the group gets the error: none was answered.
 * - Before the commit, the group lets the event loop turn once (`setImmediate`): the writes
 *   of requests under way join it. A write arriving alone is committed after that one turn.
 * - A group takes at most {@link GROUP_MAX_WRITES} writes and no new one once it is
 *   {@link GROUP_MAX_MS} old; a write with `alone` (an import's batch) is committed by itself,
 *   after the group before it is committed.
 * - `Store.committed` (the read-only connection) does not see the earlier writes of a group:
 *   each write is told what the earlier writes of its tenant changed (`tx.pending`); a write
 *   that needs the committed state to be its own starting state throws
 *   {@link WriteMustRunAlone}, is undone, and runs again as its tenant's first write of the
 *   next transaction, after the group so far is committed.
 *
 * ```ts
 * const group = new GroupCommit(db, statements, () => sqlite.inTransaction);
 * const { value, revision } = await group.write(tenantId, meta, async (tx) => { ... });
 * ```
 */
import { sql, type Kysely } from 'kysely';
import type { Database } from './schema.ts';
import { WriteMustRunAlone, type SqliteStatements, type WriteMeta, type WriteOptions, type WriteStats, type WriteTx } from './store.ts';
import { NOTHING_PENDING, runWriteIn, type WriteDone } from './write-protocol.ts';

/** At most this many writes share a commit. */
export const GROUP_MAX_WRITES = 64;
/** No write joins a group that has been open this long (milliseconds). */
export const GROUP_MAX_MS = 50;

interface Queued {
  tenantId: string;
  meta: WriteMeta;
  fn: (tx: WriteTx) => Promise<unknown>;
  alone: boolean;
  resolve: (result: { value: unknown; revision: number }) => void;
  reject: (error: unknown) => void;
}

export class GroupCommit {
  private readonly queue: Queued[] = [];
  private running = false;
  private readonly stats: WriteStats = { writes: 0, commits: 0, rerun: 0 };

  constructor(
    private readonly db: Kysely<Database>,
    private readonly statements: SqliteStatements | null,
    /** Whether the write connection is inside a transaction (false once SQLite rolled it back). */
    private readonly inTransaction: () => boolean,
  ) {}

  write<T>(tenantId: string, meta: WriteMeta, fn: (tx: WriteTx) => Promise<T>, options: WriteOptions = {}): Promise<{ value: T; revision: number }> {
    return new Promise((resolve, reject) => {
      this.queue.push({ tenantId, meta, fn, alone: options.alone ?? false, resolve: resolve as Queued['resolve'], reject });
      if (!this.running) void this.drain();
    });
  }

  writeStats(): WriteStats {
    return { ...this.stats };
  }

  private async drain(): Promise<void> {
    this.running = true;
    try {
      while (this.queue.length > 0) await this.commitGroup();
    } finally {
      this.running = false;
    }
  }

  /** Runs the writes at the head of the queue in one transaction and answers their callers. */
  private async commitGroup(): Promise<void> {
    const started = performance.now();
    // Writes taken from the queue and not answered (with an error) yet.
    const taken = new Set<Queued>();
    const done: { write: Queued; result: WriteDone<unknown> }[] = [];
    // Why the transaction was rolled back as a whole (what Kysely's rollback throws then is not).
    let cause: unknown;
    let begun = false;
    try {
      await this.db.transaction().execute(async (trx) => {
        begun = true;
        // Tenant -> entity -> ids changed by the group's writes so far.
        const pending = new Map<string, Map<string, Set<string>>>();
        for (let n = 1; ; n += 1) {
          // A request reaches its write in a turn of the event loop, and a write runs in
          // microtasks: before committing, one turn lets the writes of requests under way join.
          if (this.queue.length === 0 && n > 1) await new Promise((resolve) => setImmediate(resolve));
          if (this.queue.length === 0) break;
          const write = this.queue[0]!;
          if (n > 1 && (write.alone || n > GROUP_MAX_WRITES || performance.now() - started >= GROUP_MAX_MS)) break;
          this.queue.shift();
          taken.add(write);
          const before = pending.get(write.tenantId) ?? NOTHING_PENDING;
          const savepoint = sql.raw(`grantory_write_${n}`);
          await sql`savepoint ${savepoint}`.execute(trx);
          try {
            const result = await runWriteIn(trx, this.statements, write.tenantId, write.meta, write.fn, before);
            await sql`release ${savepoint}`.execute(trx);
            done.push({ write, result });
            const tenant = pending.get(write.tenantId) ?? pending.set(write.tenantId, new Map()).get(write.tenantId)!;
            for (const [entity, ids] of result.changed) {
              const seen = tenant.get(entity) ?? tenant.set(entity, new Set()).get(entity)!;
              for (const id of ids) seen.add(id);
            }
          } catch (e) {
            if (!this.inTransaction()) {
              cause = e;
              throw e;
            }
            await sql`rollback to ${savepoint}`.execute(trx);
            await sql`release ${savepoint}`.execute(trx);
            taken.delete(write);
            if (e instanceof WriteMustRunAlone && before.size > 0) {
              // Run again first in the next transaction, once the earlier writes are committed.
              this.queue.unshift(write);
              this.stats.rerun += 1;
              break;
            }
            write.reject(e);
          }
          if (write.alone) break;
        }
      });
    } catch (e) {
      // Rolled back or not committed: nothing of the group remains, and no caller was answered
      // yet. (A transaction that could not even begin fails the write at the head of the queue.)
      if (!begun && this.queue.length > 0) taken.add(this.queue.shift()!);
      for (const write of taken) write.reject(cause ?? e);
      return;
    }
    if (done.length > 0) {
      this.stats.commits += 1;
      this.stats.writes += done.length;
    }
    for (const { write, result } of done) write.resolve({ value: result.value, revision: result.revision });
  }
}
