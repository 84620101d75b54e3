/**
 * Background jobs of a Grantory node: signed audit checkpoints at an interval, event
 * delivery to sinks, pruning access history past its retention (hourly, when set), and the durable scheduler's due jobs (src/services/kernel/scheduler.ts). Each job runs, then waits its interval (never two runs of one job at
 * once); a failed run is reported and the job goes on. `stop()` waits for running work.
 *
 * ```ts
 * const jobs = startJobs(services.deps, { checkpointIntervalMs: 3_600_000, deliveryIntervalMs: 1000 });
 * await jobs.stop();
 * ```
 */
import { hostname } from 'node:os';
import { randomBytes } from 'node:crypto';
import type { ServiceDeps } from '../services/deps.ts';
import { pruneAccessHistory } from '../services/access/index.ts';
import { listTenants, runDueJobs } from '../services/kernel/index.ts';
import { checkpointIfChanged, DEFAULT_DELIVERY_OPTIONS, deliverPending, type DeliveryOptions } from '../services/audit/index.ts';

export interface JobsOptions {
  /** 0 disables scheduled checkpoints. */
  checkpointIntervalMs: number;
  /** 0 disables delivery to event sinks. */
  deliveryIntervalMs: number;
  delivery?: Partial<DeliveryOptions>;
  /** How often the scheduler looks for due jobs; 0 disables it on this node. */
  schedulerIntervalMs?: number;
  /** How long a node's claim on a job keeps other nodes off it (a crashed node's jobs run again after it). */
  schedulerLeaseMs?: number;
  /** Days of access history kept; older versions are pruned every hour (0 or absent: kept). */
  historyRetentionDays?: number;
  onError?: (job: string, e: unknown) => void;
}

/** How often access history is pruned when a retention is set. */
export const HISTORY_PRUNE_INTERVAL_MS = 3_600_000;

export interface Jobs {
  stop(): Promise<void>;
}

/** Runs `work` every `intervalMs` after each run ends (the first run now if `immediate`), until stopped. */
export function every(intervalMs: number, work: () => Promise<unknown>, onError: (e: unknown) => void, immediate = true): Jobs {
  let stopped = false;
  let timer: NodeJS.Timeout | null = null;
  let running: Promise<void> | null = null;
  const run = () => {
    timer = null;
    running = work()
      .then(() => undefined, onError)
      .finally(() => {
        running = null;
        if (!stopped) {
          timer = setTimeout(run, intervalMs);
          timer.unref();
        }
      });
  };
  timer = setTimeout(run, immediate ? 0 : intervalMs);
  timer.unref();
  return {
    async stop() {
      stopped = true;
      if (timer) clearTimeout(timer);
      await running;
    },
  };
}

export function startJobs(deps: ServiceDeps, options: JobsOptions): Jobs {
  const report = (job: string) => (e: unknown) => options.onError?.(job, e);
  const jobs: Jobs[] = [];
  if (options.checkpointIntervalMs > 0) {
    jobs.push(
      every(
        options.checkpointIntervalMs,
        async () => {
          for (const tenant of await listTenants(deps)) {
            try {
              await checkpointIfChanged(deps, tenant.id);
            } catch (e) {
              report('audit-checkpoint')(e);
            }
          }
        },
        report('audit-checkpoint'),
        false,
      ),
    );
  }
  if (options.deliveryIntervalMs > 0) {
    const delivery = { ...DEFAULT_DELIVERY_OPTIONS, ...options.delivery };
    jobs.push(every(options.deliveryIntervalMs, () => deliverPending(deps, delivery, report('event-delivery')), report('event-delivery')));
  }
  const schedulerIntervalMs = options.schedulerIntervalMs ?? 1000;
  if (schedulerIntervalMs > 0) {
    const node = `${hostname()}:${process.pid}:${randomBytes(4).toString('hex')}`;
    const run = () => runDueJobs(deps, { node, ...(options.schedulerLeaseMs ? { leaseMs: options.schedulerLeaseMs } : {}) });
    jobs.push(every(schedulerIntervalMs, run, report('scheduler')));
  }
  const retentionDays = options.historyRetentionDays ?? 0;
  if (retentionDays > 0) {
    jobs.push(
      every(
        HISTORY_PRUNE_INTERVAL_MS,
        async () => {
          for (const tenant of await listTenants(deps)) {
            try {
              await pruneAccessHistory(deps, tenant.id, retentionDays);
            } catch (e) {
              report('history-retention')(e);
            }
          }
        },
        report('history-retention'),
      ),
    );
  }
  return {
    async stop() {
      await Promise.all(jobs.map((j) => j.stop()));
    },
  };
}
