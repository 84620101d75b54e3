/**
 * Delivery of the audit trail to event sinks, after commit and never in a write's path.
 * One {@link deliverPending} pass, for every sink of every tenant that is due:
 *
 * 1. claims the sink with a lease (several nodes may run the job; one delivers a sink),
 * 2. re-tries its re-queued dead letters once each,
 * 3. sends the events after its cursor in `seq` order, a batch at a time, moving the
 *    cursor past each accepted event and storing it every 100 accepted events, at the end
 *    of each batch and before a failure is recorded (at-least-once: a crash before the
 *    cursor is stored re-sends those events, which carry their ids for de-duplication),
 * 4. on a failure the receiver may recover from (network, timeout, 5xx, 408, 429) keeps
 *    the cursor and retries later with exponential backoff; after `maxAttempts` failures
 *    in a row the sink is suspended (an audited `event_sink.suspend`), nothing skipped,
 *    until `POST /event-sinks/{id}/retry`;
 * 5. an event the receiver refuses for good (another 4xx; too large for a datagram) is a
 *    poison payload: it goes to the sink's dead letters and delivery continues.
 *
 * The cursor, attempts and dead letters are delivery bookkeeping, written directly and not
 * audited: auditing them would feed the trail back into itself. Configuration changes
 * and suspensions are audited writes.
 */
import { hostname } from 'node:os';
import { createSocket } from 'node:dgram';
import { connect, type Socket } from 'node:net';
import { toOcsf } from '../../domain/ocsf.ts';
import { webhookHeaders } from '../../domain/standard-webhooks.ts';
import { octetCounted, syslogMessage } from '../../domain/syslog.ts';
import type { Database } from '../../store/schema.ts';
import type { TenantDb } from '../../store/store.ts';
import { systemActor, writeMeta } from '../kernel/index.ts';
import { toAuditEventView, type AuditEventView } from './trail.ts';
import { sinkConfigOf, sinkSecret, type SinkConfig, type SyslogConfig } from './event-sinks.ts';
import type { ServiceDeps } from '../deps.ts';

export interface DeliveryOptions {
  /** This node's name in sink leases. */
  owner: string;
  /** Events sent per sink per pass. */
  batchSize: number;
  /** Consecutive failures before a sink is suspended. */
  maxAttempts: number;
  baseBackoffMs: number;
  maxBackoffMs: number;
  /** Per request / connection. */
  timeoutMs: number;
  leaseMs: number;
  productVersion: string;
}

export const DEFAULT_DELIVERY_OPTIONS: DeliveryOptions = {
  owner: `${hostname()}:${process.pid}`,
  batchSize: 100,
  maxAttempts: 12,
  baseBackoffMs: 1000,
  maxBackoffMs: 5 * 60_000,
  timeoutMs: 10_000,
  leaseMs: 60_000,
  productVersion: '0.1.0',
};

/** A failed send: `permanent` when retrying the same payload cannot succeed. */
export class DeliveryError extends Error {
  constructor(
    message: string,
    readonly permanent: boolean,
  ) {
    super(message);
  }
}

type SinkRow = Database['event_sinks'];

/** The cursor is stored after this many accepted events, and at the end of each batch. */
const CURSOR_SAVE_EVERY = 100;

/** The exponential backoff after `attempts` failures, with ±20 % jitter, capped. */
export function backoffMs(attempts: number, options: Pick<DeliveryOptions, 'baseBackoffMs' | 'maxBackoffMs'>): number {
  const raw = Math.min(options.maxBackoffMs, options.baseBackoffMs * 2 ** Math.max(0, attempts - 1));
  return Math.round(raw * (0.8 + Math.random() * 0.4));
}

function payloadOf(sink: SinkRow, event: AuditEventView, options: DeliveryOptions): unknown {
  return sink.format === 'ocsf' ? toOcsf(event, { version: options.productVersion }) : event;
}

async function sendWebhook(sink: SinkRow, url: string, event: AuditEventView, options: DeliveryOptions, now: Date): Promise<void> {
  const body = JSON.stringify({ type: event.action, timestamp: event.time, data: payloadOf(sink, event, options) });
  let response: Response;
  try {
    response = await fetch(url, {
      method: 'POST',
      headers: { 'content-type': 'application/json', 'user-agent': `Grantory/${options.productVersion}`, ...webhookHeaders(sink.secret ?? '', event.id, now, body) },
      body,
      redirect: 'manual',
      signal: AbortSignal.timeout(options.timeoutMs),
    });
  } catch (e) {
    const cause = (e as { cause?: { code?: string } }).cause?.code;
    throw new DeliveryError(`POST ${url} failed: ${cause ?? (e as Error).message}`, false);
  }
  await response.body?.cancel().catch(() => undefined);
  if (response.status >= 200 && response.status < 300) return;
  const retryable = response.status >= 500 || response.status === 408 || response.status === 429 || (response.status >= 300 && response.status < 400);
  throw new DeliveryError(`POST ${url} answered ${response.status}`, !retryable);
}

function syslogLine(sink: SinkRow, config: SyslogConfig, event: AuditEventView, options: DeliveryOptions): string {
  const warning = event.action === 'access.denied' || event.action.startsWith('auth.');
  return syslogMessage({
    facility: config.facility,
    severity: warning ? 4 : 5,
    time: event.time,
    hostname: config.hostname ?? hostname(),
    appName: config.appName,
    procId: '-',
    msgId: event.action,
    // 32473 is the enterprise number reserved for documentation (RFC 5612).
    structuredData: [['grantory@32473', { tenant: sink.tenant_id, seq: String(event.seq), id: event.id, action: event.action }]],
    message: JSON.stringify(payloadOf(sink, event, options)),
  });
}

const MAX_DATAGRAM = 65_000;

function sendUdp(config: SyslogConfig, messages: string[], options: DeliveryOptions): Promise<void> {
  return new Promise((resolveSend, reject) => {
    const socket = createSocket(config.host.includes(':') ? 'udp6' : 'udp4');
    const timer = setTimeout(() => {
      socket.close();
      reject(new DeliveryError(`syslog udp ${config.host}:${config.port}: timed out`, false));
    }, options.timeoutMs);
    socket.once('error', (e) => {
      clearTimeout(timer);
      socket.close();
      reject(new DeliveryError(`syslog udp ${config.host}:${config.port}: ${e.message}`, false));
    });
    let index = 0;
    const next = () => {
      if (index >= messages.length) {
        clearTimeout(timer);
        socket.close();
        resolveSend();
        return;
      }
      socket.send(Buffer.from(messages[index++]!, 'utf8'), config.port, config.host, (e) => {
        if (e) {
          clearTimeout(timer);
          socket.close();
          reject(new DeliveryError(`syslog udp ${config.host}:${config.port}: ${e.message}`, false));
        } else next();
      });
    };
    next();
  });
}

function sendTcp(config: SyslogConfig, messages: string[], options: DeliveryOptions): Promise<void> {
  return new Promise((resolveSend, reject) => {
    let settled = false;
    const fail = (socket: Socket, message: string) => {
      if (settled) return;
      settled = true;
      socket.destroy();
      reject(new DeliveryError(`syslog tcp ${config.host}:${config.port}: ${message}`, false));
    };
    const socket = connect({ host: config.host, port: config.port });
    socket.setTimeout(options.timeoutMs, () => fail(socket, 'timed out'));
    socket.once('error', (e) => fail(socket, e.message));
    socket.once('connect', () => {
      socket.end(Buffer.concat(messages.map(octetCounted)));
    });
    // Everything was written and the peer closed its side: the messages were received.
    socket.once('close', (hadError) => {
      if (settled) return;
      if (hadError) return fail(socket, 'the connection failed');
      settled = true;
      resolveSend();
    });
    socket.on('data', () => undefined);
    socket.once('end', () => socket.destroySoon());
  });
}

interface Bookkeeping {
  delivered(seq: number): Promise<void>;
  deadLetter(event: AuditEventView, error: string, attempts: number): Promise<void>;
  failed(error: string): Promise<void>;
}

/** Sends `events` in order; reports each success, poison and the first recoverable failure. */
async function sendBatch(sink: SinkRow, config: SinkConfig, events: AuditEventView[], options: DeliveryOptions, book: Bookkeeping, now: () => Date): Promise<void> {
  if (config.type === 'webhook') {
    for (const event of events) {
      try {
        await sendWebhook(sink, config.webhook.url, event, options, now());
        await book.delivered(event.seq);
      } catch (e) {
        const error = e instanceof DeliveryError ? e : new DeliveryError((e as Error).message, true);
        if (!error.permanent) return book.failed(error.message);
        await book.deadLetter(event, error.message, sink.attempts + 1);
      }
    }
    return;
  }
  const syslog = config.syslog;
  const lines: { event: AuditEventView; line: string }[] = [];
  for (const event of events) {
    const line = syslogLine(sink, syslog, event, options);
    if (syslog.transport === 'udp' && Buffer.byteLength(line) > MAX_DATAGRAM) {
      // Flush what precedes the poison event so that order is kept.
      if (lines.length && !(await flushSyslog(syslog, lines, options, book))) return;
      lines.length = 0;
      await book.deadLetter(event, `the message is ${Buffer.byteLength(line)} bytes, more than a UDP datagram carries`, 1);
      continue;
    }
    lines.push({ event, line });
  }
  if (lines.length) await flushSyslog(syslog, lines, options, book);
}

async function flushSyslog(config: SyslogConfig, lines: { event: AuditEventView; line: string }[], options: DeliveryOptions, book: Bookkeeping): Promise<boolean> {
  try {
    await (config.transport === 'udp' ? sendUdp : sendTcp)(config, lines.map((l) => l.line), options);
  } catch (e) {
    await book.failed((e as Error).message);
    return false;
  }
  await book.delivered(lines[lines.length - 1]!.event.seq);
  return true;
}

async function claim(scope: TenantDb, sink: SinkRow, options: DeliveryOptions, now: Date): Promise<boolean> {
  const until = new Date(now.getTime() + options.leaseMs).toISOString();
  const result = await scope.db
    .updateTable('event_sinks')
    .set({ lease_owner: options.owner, lease_until: until })
    .where('id', '=', sink.id)
    .where((eb) => eb.or([eb('lease_until', 'is', null), eb('lease_until', '<', now.toISOString()), eb('lease_owner', '=', options.owner)]))
    .executeTakeFirst();
  return Number(result.numUpdatedRows) === 1;
}

async function deliverSink(deps: ServiceDeps, scope: TenantDb, initial: SinkRow, options: DeliveryOptions): Promise<number> {
  const { db, tenantId } = scope;
  const now = () => deps.now();
  const secret = sinkSecret(deps, initial);
  if (!(await claim(scope, initial, options, now()))) return 0;
  const sink = { ...initial, secret };
  const config = sinkConfigOf(sink);
  let delivered = 0;
  let stop = false;
  const update = (set: Partial<SinkRow>) => db.updateTable('event_sinks').set(set).where('id', '=', sink.id).execute();
  // Events the receiver accepted whose cursor is not stored yet (a crash re-sends them).
  let unsaved = 0;
  const saveCursor = async () => {
    if (!unsaved) return;
    unsaved = 0;
    await update({ cursor_seq: sink.cursor_seq, attempts: 0, status: 'active', next_attempt_at: null, last_error: null, last_delivered_at: now().toISOString() });
  };

  try {
    // Re-queued dead letters: one more try each.
    const letters = await db.selectFrom('event_sink_dead_letters').selectAll().where('sink_id', '=', sink.id).where('requeued', '=', 1).orderBy('seq').limit(options.batchSize).execute();
    for (const letter of letters) {
      const row = await db.selectFrom('audit_events').selectAll().where('seq', '=', letter.seq).executeTakeFirst();
      const remove = () => db.deleteFrom('event_sink_dead_letters').where('sink_id', '=', sink.id).where('seq', '=', letter.seq).execute();
      if (!row) {
        await remove();
        continue;
      }
      let error: string | null = null;
      await sendBatch({ ...sink, attempts: letter.attempts }, config, [toAuditEventView(row)], options, {
        delivered: async () => {
          delivered += 1;
          await remove();
        },
        deadLetter: async (_e, message) => void (error = message),
        failed: async (message) => void (error = message),
      }, now);
      if (error !== null) {
        await db
          .updateTable('event_sink_dead_letters')
          .set({ requeued: 0, error, attempts: letter.attempts + 1, failed_at: now().toISOString() })
          .where('sink_id', '=', sink.id)
          .where('seq', '=', letter.seq)
          .execute();
      }
    }

    while (!stop) {
      const rows = await db.selectFrom('audit_events').selectAll().where('seq', '>', Number(sink.cursor_seq)).orderBy('seq').limit(options.batchSize).execute();
      if (!rows.length) break;
      const events: AuditEventView[] = [];
      for (const row of rows) {
        try {
          events.push(toAuditEventView(row));
        } catch (e) {
          // An event that cannot be rendered is a poison payload too; keep the order of the rest.
          if (events.length) break;
          await db.insertInto('event_sink_dead_letters').values({ tenant_id: tenantId, sink_id: sink.id, seq: Number(row.seq), event_id: row.id, error: `cannot render: ${(e as Error).message}`, attempts: 1, requeued: 0, failed_at: now().toISOString() }).execute();
          sink.cursor_seq = Number(row.seq);
          await update({ cursor_seq: sink.cursor_seq });
        }
      }
      await sendBatch(sink, config, events, options, {
        delivered: async (seq) => {
          const accepted = events.filter((e) => e.seq > Number(sink.cursor_seq) && e.seq <= seq).length;
          delivered += accepted;
          unsaved += accepted;
          sink.cursor_seq = seq;
          sink.attempts = 0;
          if (unsaved >= CURSOR_SAVE_EVERY) await saveCursor();
        },
        deadLetter: async (event, error, attempts) => {
          await saveCursor();
          await db
            .insertInto('event_sink_dead_letters')
            .values({ tenant_id: tenantId, sink_id: sink.id, seq: event.seq, event_id: event.id, error, attempts, requeued: 0, failed_at: now().toISOString() })
            .onConflict((oc) => oc.columns(['tenant_id', 'sink_id', 'seq']).doUpdateSet({ error, attempts, requeued: 0 }))
            .execute();
          sink.cursor_seq = event.seq;
          sink.attempts = 0;
          await update({ cursor_seq: event.seq, attempts: 0, last_error: error });
        },
        failed: async (error) => {
          await saveCursor();
          stop = true;
          const attempts = sink.attempts + 1;
          if (attempts >= options.maxAttempts) {
            await suspend(deps, sink, error, attempts);
          } else {
            await update({ attempts, status: 'retrying', last_error: error, next_attempt_at: new Date(now().getTime() + backoffMs(attempts, options)).toISOString() });
          }
        },
      }, now);
      await saveCursor();
      if (rows.length < options.batchSize) break;
    }
  } finally {
    // What the receiver accepted stays accepted, even when this pass ends in an error.
    await saveCursor().catch(() => undefined);
    await update({ lease_owner: null, lease_until: null });
  }
  return delivered;
}

async function suspend(deps: ServiceDeps, sink: SinkRow, error: string, attempts: number): Promise<void> {
  const tenantId = sink.tenant_id;
  await deps.store.write(tenantId, writeMeta(systemActor(tenantId, 'event delivery')), async (tx) => {
    await tx.db
      .updateTable('event_sinks')
      .set({ status: 'suspended', attempts, last_error: error, next_attempt_at: null, updated_at: tx.now })
      .where('id', '=', sink.id)
      .execute();
    tx.audit({ action: 'event_sink.suspend', targetType: 'event_sink', targetId: sink.id, after: { name: sink.name, attempts, lastError: error, cursor: Number(sink.cursor_seq) } });
    tx.change('event_sink', sink.id, 'update');
  });
}

/** One delivery pass over every due sink of every tenant (sinks in parallel). Returns events delivered. */
export async function deliverPending(deps: ServiceDeps, options: DeliveryOptions = DEFAULT_DELIVERY_OPTIONS, onError?: (e: unknown) => void): Promise<number> {
  let delivered = 0;
  for (const tenant of await deps.store.listTenants()) {
    const scope = deps.store.read(tenant.id);
    const nowIso = deps.now().toISOString();
    const sinks = await scope.db
      .selectFrom('event_sinks')
      .selectAll()
      .where('status', '<>', 'suspended')
      .where((eb) => eb.or([eb('next_attempt_at', 'is', null), eb('next_attempt_at', '<=', nowIso)]))
      .execute();
    const results = await Promise.allSettled(sinks.map((sink) => deliverSink(deps, scope, sink, options)));
    for (const r of results) {
      if (r.status === 'fulfilled') delivered += r.value;
      else onError?.(r.reason);
    }
  }
  return delivered;
}
