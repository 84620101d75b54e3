/**
 * Cooperative cancellation of the imports this process is running. A cancel request
 * signals the running import here at once, before its own write: the import checks the
 * signal as rows stream and between the chunks of its apply transaction, so it stops even
 * while that transaction holds the database (a write such as the cancel's status change
 * waits for it). An import running on another node sees the `Canceling` status instead,
 * which it reads while parsing and before applying.
 *
 * ```ts
 * const signal = trackRunning(tenantId, importId);
 * try { await checkCanceled(signal, 'while applying'); ... } finally { untrackRunning(tenantId, importId); }
 * signalCancel(tenantId, importId); // from the cancel request
 * ```
 */
import { setImmediate as yieldToEventLoop } from 'node:timers/promises';
import { ImportCanceled } from './snapshot.ts';

const running = new Map<string, AbortController>();
const key = (tenantId: string, importId: string) => `${tenantId}\u0000${importId}`;

/** Registers an import this process starts running; returns its cancel signal. */
export function trackRunning(tenantId: string, importId: string): AbortSignal {
  const controller = new AbortController();
  running.set(key(tenantId, importId), controller);
  return controller.signal;
}

export function untrackRunning(tenantId: string, importId: string): void {
  running.delete(key(tenantId, importId));
}

/** Signals the import if this process runs it; true when it did. */
export function signalCancel(tenantId: string, importId: string): boolean {
  const controller = running.get(key(tenantId, importId));
  if (!controller) return false;
  controller.abort();
  return true;
}

/**
 * A cancel point: lets the event loop run (a cancel request arriving over HTTP is handled
 * there; a transaction of queries that answer at once would otherwise never give it a
 * turn), then throws {@link ImportCanceled} if the import was signalled.
 */
export async function checkCanceled(signal: AbortSignal | undefined, where: string): Promise<void> {
  if (!signal) return;
  await yieldToEventLoop();
  if (signal.aborted) throw new ImportCanceled(`canceled ${where}`);
}
