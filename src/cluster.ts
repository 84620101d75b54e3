/**
 * Several server processes on one port (GRANTORY_WORKERS, node:cluster). The primary starts
 * every worker at once, so they load the server in parallel. The first worker applies the
 * migrations, binds the port, bootstraps, and runs the background jobs and the import worker
 * (one process owns them); as soon as it listens the primary prints the one "listening" line
 * and the node serves. The other workers wait for the first to have listened before they open
 * the database, then build their access index and compile their route schemas, and only then
 * join the port — so a request never reaches a worker that is not ready, and `/readyz` says
 * ready as soon as one worker serves. The primary says on stderr when all of them serve.
 * Connections are spread over the listening workers by the primary (round-robin on Linux).
 *
 * Each worker has its own access index (built from the database) and its own connection(s)
 * to the database. What makes the workers agree:
 *
 * - freshness: a credential is looked up in the database on every request together with its
 *   tenant's revision, and the worker's index catches up to that revision before the rights
 *   are computed — so a deleted key, a revoked token or a removed right is refused on the
 *   next request, by whichever worker answers it (docs/architecture.md);
 * - rate limits: counted across workers — on PostgreSQL in the database (which also spans
 *   nodes), on SQLite by the primary, which the workers send their counts to every 100 ms
 *   (services/kernel/rate-counters.ts);
 * - metrics: the worker that answers `/metrics` asks the primary, which gathers every
 *   worker's registry with prom-client's `AggregatorRegistry` (counters and histograms
 *   summed), so a scrape shows the whole node.
 *
 * A worker that dies after start is replaced. The first worker failing to start stops the
 * whole server; another failing to join is reported and the node goes on with the others.
 */
import cluster, { type Worker } from 'node:cluster';
import { AggregatorRegistry, type Registry } from 'prom-client';
import type { Config } from './config.ts';
import { createRateTotals, type RateTransport } from './services/kernel/index.ts';
import type { RateLimitCount } from './store/store.ts';

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

type ToPrimary =
  | { grantory: 'listening'; url: string; line: string }
  | { grantory: 'waiting' }
  | { grantory: 'rate'; id: number; rows: RateLimitCount[] }
  | { grantory: 'metrics'; id: number };
type ToWorker =
  | { grantory: 'rate'; id: number; totals: RateLimitCount[] }
  | { grantory: 'metrics'; id: number; text: string | null; error: string | null }
  | { grantory: 'go' };

const WORKER_INDEX = 'GRANTORY_WORKER_INDEX';

/** Whether this process is a worker of a Grantory cluster (and which: 1 is the first). */
export function workerIndex(): number | null {
  if (cluster.isPrimary) return null;
  const n = Number(process.env[WORKER_INDEX]);
  return Number.isInteger(n) && n > 0 ? n : null;
}

/**
 * Runs the primary: resolves with a stop function once the first worker listens (the others
 * join when ready); rejects when the first worker fails to start.
 */
export async function startPrimary(config: Config, io: Io): Promise<{ close(): Promise<void>; url: string }> {
  const totals = createRateTotals();
  const aggregator = new AggregatorRegistry();
  const workers = new Map<number, Worker>();
  let stopping = false;
  let url = '';
  // Workers after the first wait for it (migrations applied, tenant bootstrapped) before they
  // touch the database.
  let firstListened = false;
  const waitingForFirst: Worker[] = [];
  const go = (worker: Worker): void => {
    const message: ToWorker = { grantory: 'go' };
    if (worker.isConnected()) worker.send(message);
  };

  const fork = (index: number): Promise<string> =>
    new Promise((resolve, reject) => {
      const worker = cluster.fork({ [WORKER_INDEX]: String(index) });
      workers.set(index, worker);
      let listening = false;
      worker.on('message', (message: ToPrimary) => {
        if (message?.grantory === 'listening') {
          listening = true;
          url = message.url;
          if (index === 1 && !firstListened) {
            firstListened = true;
            for (const waiting of waitingForFirst.splice(0)) go(waiting);
          }
          resolve(message.line);
        } else if (message?.grantory === 'waiting') {
          if (firstListened) go(worker);
          else waitingForFirst.push(worker);
        } else if (message?.grantory === 'rate') {
          const reply: ToWorker = { grantory: 'rate', id: message.id, totals: totals.add(message.rows) };
          if (worker.isConnected()) worker.send(reply);
        } else if (message?.grantory === 'metrics') {
          const answer = (text: string | null, error: string | null) => {
            const reply: ToWorker = { grantory: 'metrics', id: message.id, text, error };
            if (worker.isConnected()) worker.send(reply);
          };
          aggregator.clusterMetrics().then(
            (text) => answer(text, null),
            (e: unknown) => answer(null, (e as Error).message),
          );
        }
      });
      worker.on('exit', (code, signal) => {
        if (workers.get(index) === worker) workers.delete(index);
        if (!listening) return reject(new Error(`worker ${index} exited (${code ?? signal}) before listening`));
        // A worker that ended cleanly was stopped (a signal to the process group), not lost.
        if (stopping || code === 0) return;
        io.err(`grantory: worker ${index} exited (${code ?? signal}); starting a new one`);
        fork(index).catch((e: unknown) => io.err(`grantory: ${(e as Error).message}`));
      });
    });

  const stopAll = async (): Promise<void> => {
    stopping = true;
    const exits = [...workers.values()].map((w) => new Promise<void>((r) => (w.isDead() ? r() : w.once('exit', () => r()))));
    for (const w of workers.values()) if (!w.isDead()) w.process.kill('SIGTERM');
    await Promise.all(exits);
  };

  // All at once: the first bootstraps (and shows a generated administrator key once) and
  // serves; the others load meanwhile and join when ready.
  const first = fork(1);
  const others = Promise.allSettled(Array.from({ length: config.workers - 1 }, (_, i) => fork(i + 2)));
  try {
    io.out(`${await first} (${config.workers} workers)`);
  } catch (e) {
    await stopAll();
    throw e;
  }
  void others.then((results) => {
    if (stopping) return;
    const failed = results.filter((r): r is PromiseRejectedResult => r.status === 'rejected');
    for (const { reason } of failed) io.err(`grantory: ${(reason as Error).message}; serving with the other workers`);
    io.err(`grantory: ${config.workers - failed.length} of ${config.workers} workers serving`);
  });
  return { close: stopAll, url };
}

/** A worker after the first: resolves once the first worker listens (the database is migrated and bootstrapped). */
export function firstWorkerListening(): Promise<void> {
  return new Promise((resolve) => {
    const onMessage = (message: ToWorker): void => {
      if (message?.grantory !== 'go') return;
      process.off('message', onMessage);
      resolve();
    };
    process.on('message', onMessage);
    const waiting: ToPrimary = { grantory: 'waiting' };
    process.send?.(waiting);
  });
}

/** A worker's rate-limit transport: the primary keeps the totals (SQLite). */
export function primaryRateTransport(): RateTransport {
  let next = 0;
  const waiting = new Map<number, (totals: RateLimitCount[]) => void>();
  process.on('message', (message: ToWorker) => {
    if (message.grantory !== 'rate') return;
    waiting.get(message.id)?.(message.totals);
    waiting.delete(message.id);
  });
  return {
    add: (rows) =>
      new Promise((resolve, reject) => {
        const id = (next += 1);
        waiting.set(id, resolve);
        const sent: ToPrimary = { grantory: 'rate', id, rows: [...rows] };
        process.send!(sent, undefined, undefined, (e) => {
          if (e) {
            waiting.delete(id);
            reject(e);
          }
        });
      }),
  };
}

/**
 * A worker's `/metrics` text: answers the primary's requests for this worker's `registry`
 * (prom-client's cluster protocol), and asks the primary for the sum over every worker.
 */
export function clusterExposition(registry: Registry): () => Promise<string> {
  AggregatorRegistry.setRegistries([registry]);
  // Constructing one in a worker makes prom-client answer the primary's requests.
  new AggregatorRegistry();
  let next = 0;
  const waiting = new Map<number, { resolve: (text: string) => void; reject: (e: Error) => void }>();
  process.on('message', (message: ToWorker) => {
    if (message?.grantory !== 'metrics') return;
    const pending = waiting.get(message.id);
    waiting.delete(message.id);
    if (message.text !== null) pending?.resolve(message.text);
    else pending?.reject(new Error(`the workers' metrics could not be gathered: ${message.error ?? 'unknown error'}`));
  });
  return () =>
    new Promise((resolve, reject) => {
      const id = (next += 1);
      waiting.set(id, { resolve, reject });
      const sent: ToPrimary = { grantory: 'metrics', id };
      process.send!(sent, undefined, undefined, (e) => {
        if (e) {
          waiting.delete(id);
          reject(e);
        }
      });
    });
}

/** Tells the primary that this worker listens (the primary prints the line once). */
export function announceListening(url: string, line: string): void {
  const message: ToPrimary = { grantory: 'listening', url, line };
  process.send?.(message);
}
