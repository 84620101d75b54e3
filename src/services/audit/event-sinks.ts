/**
 * Event sinks: where the audit trail is pushed (webhooks, syslog). Configuration changes
 * are audited writes (`manage-system-settings`); each sink keeps its own durable cursor
 * (the last delivered event's `seq`), its retry state and its dead letters, which the
 * delivery job (src/jobs/delivery.ts, {@link ./delivery.ts}) advances after commit.
 *
 * A webhook's `whsec_` secret is returned once, by {@link createEventSink}. It is stored
 * encrypted with the server secret (signing needs it back: {@link sinkSecret}).
 */
import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../../domain/errors.ts';
import { generateWebhookSecret } from '../../domain/standard-webhooks.ts';
import type { Database } from '../../store/schema.ts';
import { isUniqueViolation } from '../../store/store.ts';
import { requireRight, type Actor, writeAs } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';

export type SinkFormat = 'grantory' | 'ocsf';
export type SinkStatus = 'active' | 'retrying' | 'suspended';

export interface WebhookConfig {
  url: string;
}

export interface SyslogConfig {
  host: string;
  port: number;
  transport: 'tcp' | 'udp';
  /** RFC 5424 facility, 0-23; default 13 (log audit). */
  facility: number;
  /** HOSTNAME field; default the server's host name. */
  hostname?: string | undefined;
  /** APP-NAME field; default `grantory`. */
  appName: string;
}

export type SinkConfig = { type: 'webhook'; webhook: WebhookConfig } | { type: 'syslog'; syslog: SyslogConfig };

export interface CreateEventSinkInput {
  name: string;
  type: 'webhook' | 'syslog';
  format?: SinkFormat | undefined;
  webhook?: { url: string } | undefined;
  syslog?: { host: string; port: number; transport?: 'tcp' | 'udp' | undefined; facility?: number | undefined; hostname?: string | undefined; appName?: string | undefined } | undefined;
  /** `now` (default): events recorded from now on; `beginning`: the whole trail. */
  startAt?: 'now' | 'beginning' | undefined;
}

export interface DeadLetterView {
  seq: number;
  eventId: string;
  error: string;
  attempts: number;
  requeued: boolean;
  failedAt: string;
}

export interface EventSinkView {
  id: string;
  name: string;
  type: 'webhook' | 'syslog';
  format: SinkFormat;
  webhook?: WebhookConfig;
  syslog?: SyslogConfig;
  status: SinkStatus;
  /** The `seq` of the last event delivered (or dead-lettered). */
  cursor: number;
  /** Consecutive failed attempts of the current event. */
  attempts: number;
  nextAttemptAt: string | null;
  lastError: string | null;
  lastDeliveredAt: string | null;
  deadLetterCount: number;
  createdAt: string;
  updatedAt: string;
}

export interface EventSinkDetail extends EventSinkView {
  /** The tenant's newest event `seq`: `head - cursor` events wait for delivery. */
  head: number;
  deadLetters: DeadLetterView[];
}

export function sinkConfigOf(row: Database['event_sinks']): SinkConfig {
  const config = JSON.parse(row.config) as WebhookConfig | SyslogConfig;
  return row.kind === 'webhook' ? { type: 'webhook', webhook: config as WebhookConfig } : { type: 'syslog', syslog: config as SyslogConfig };
}

function toView(row: Database['event_sinks'], deadLetterCount: number): EventSinkView {
  const config = sinkConfigOf(row);
  return {
    id: row.id,
    name: row.name,
    type: config.type,
    format: row.format as SinkFormat,
    ...(config.type === 'webhook' ? { webhook: config.webhook } : { syslog: config.syslog }),
    status: row.status as SinkStatus,
    cursor: Number(row.cursor_seq),
    attempts: row.attempts,
    nextAttemptAt: row.next_attempt_at,
    lastError: row.last_error,
    lastDeliveredAt: row.last_delivered_at,
    deadLetterCount,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const invalid = (field: string, message: string) => new AppError('validation_failed', `${field} ${message}`, { errors: [{ field, message }] });

function validateConfig(input: CreateEventSinkInput): SinkConfig {
  if (input.type === 'webhook') {
    if (!input.webhook || input.syslog) throw invalid('webhook', 'is required for a webhook sink (and syslog is not allowed)');
    let url: URL;
    try {
      url = new URL(input.webhook.url);
    } catch {
      throw invalid('webhook.url', 'is not a URL');
    }
    if (url.protocol !== 'https:' && url.protocol !== 'http:') throw invalid('webhook.url', 'must be an http or https URL');
    if (url.username || url.password) throw invalid('webhook.url', 'must not carry credentials (the payload is signed)');
    return { type: 'webhook', webhook: { url: url.toString() } };
  }
  if (!input.syslog || input.webhook) throw invalid('syslog', 'is required for a syslog sink (and webhook is not allowed)');
  const s = input.syslog;
  return {
    type: 'syslog',
    syslog: { host: s.host, port: s.port, transport: s.transport ?? 'tcp', facility: s.facility ?? 13, ...(s.hostname ? { hostname: s.hostname } : {}), appName: s.appName ?? 'grantory' },
  };
}

export async function createEventSink(deps: ServiceDeps, actor: Actor, input: CreateEventSinkInput): Promise<{ sink: EventSinkView & { secret?: string }; revision: number }> {
  requireRight(actor, 'manage-system-settings');
  const { tenantId } = actor.caller;
  const config = validateConfig(input);
  const secret = config.type === 'webhook' ? generateWebhookSecret() : null;
  try {
    const { value, revision } = await writeAs(deps, actor, async (tx) => {
      const head = await tx.db.selectFrom('tenants').select('audit_seq').where('id', '=', tenantId).executeTakeFirstOrThrow();
      const row: Database['event_sinks'] = {
        id: randomUUID(),
        tenant_id: tenantId,
        name: input.name,
        kind: config.type,
        format: input.format ?? 'grantory',
        config: JSON.stringify(config.type === 'webhook' ? config.webhook : config.syslog),
        secret: secret === null ? null : deps.secrets.encrypt(secret),
        status: 'active',
        // Events of this very write come after the head read here: `now` includes them.
        cursor_seq: input.startAt === 'beginning' ? 0 : Number(head.audit_seq),
        attempts: 0,
        next_attempt_at: null,
        last_error: null,
        last_delivered_at: null,
        lease_owner: null,
        lease_until: null,
        created_at: tx.now,
        updated_at: tx.now,
        version: 1,
      };
      await tx.db.insertInto('event_sinks').values(row).execute();
      const view = toView(row, 0);
      tx.audit({ action: 'event_sink.create', targetType: 'event_sink', targetId: row.id, after: view });
      tx.change('event_sink', row.id, 'create');
      return view;
    });
    return { sink: secret ? { ...value, secret } : value, revision };
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError('conflict', `an event sink named "${input.name}" exists`, { errors: [{ field: 'name', message: 'is taken' }] });
    throw e;
  }
}

async function deadLetterCounts(deps: ServiceDeps, tenantId: string): Promise<Map<string, number>> {
  const { db } = deps.store.read(tenantId);
  const rows = await db
    .selectFrom('event_sink_dead_letters')
    .select(['sink_id', (eb) => eb.fn.countAll<number>().as('n')])
    .groupBy('sink_id')
    .execute();
  return new Map(rows.map((r) => [r.sink_id, Number(r.n)]));
}

export async function listEventSinks(deps: ServiceDeps, actor: Actor): Promise<EventSinkView[]> {
  requireRight(actor, 'manage-system-settings');
  const { tenantId } = actor.caller;
  const { db } = deps.store.read(tenantId);
  const rows = await db.selectFrom('event_sinks').selectAll().orderBy('created_at').orderBy('id').limit(1000).execute();
  const counts = await deadLetterCounts(deps, tenantId);
  return rows.map((r) => toView(r, counts.get(r.id) ?? 0));
}

export async function getEventSink(deps: ServiceDeps, actor: Actor, id: string): Promise<EventSinkDetail> {
  requireRight(actor, 'manage-system-settings');
  const { tenantId } = actor.caller;
  const { db } = deps.store.read(tenantId);
  const row = await db.selectFrom('event_sinks').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('event sink', id);
  const letters = await db.selectFrom('event_sink_dead_letters').selectAll().where('sink_id', '=', id).orderBy('seq').limit(1000).execute();
  const count = (await deadLetterCounts(deps, tenantId)).get(id) ?? 0;
  const head = await db.selectFrom('tenants').select('audit_seq').where('id', '=', tenantId).executeTakeFirstOrThrow();
  return {
    ...toView(row, count),
    head: Number(head.audit_seq),
    deadLetters: letters.map((l) => ({ seq: Number(l.seq), eventId: l.event_id, error: l.error, attempts: l.attempts, requeued: l.requeued === 1, failedAt: l.failed_at })),
  };
}

export async function deleteEventSink(deps: ServiceDeps, actor: Actor, id: string): Promise<{ revision: number }> {
  requireRight(actor, 'manage-system-settings');
  return writeAs(deps, actor, async (tx) => {
    const row = await tx.db.selectFrom('event_sinks').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('event sink', id);
    await tx.db.deleteFrom('event_sink_dead_letters').where('sink_id', '=', id).execute();
    await tx.db.deleteFrom('event_sinks').where('id', '=', id).execute();
    tx.audit({ action: 'event_sink.delete', targetType: 'event_sink', targetId: id, before: toView(row, 0) });
    tx.change('event_sink', id, 'delete');
  });
}

/**
 * Resumes a sink (a suspended one too) at once, and re-queues its dead letters: the next
 * delivery pass tries each of them once more before continuing from the cursor.
 */
export async function retryEventSink(deps: ServiceDeps, actor: Actor, id: string): Promise<{ revision: number; requeued: number }> {
  requireRight(actor, 'manage-system-settings');
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const row = await tx.db.selectFrom('event_sinks').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('event sink', id);
    await tx.db
      .updateTable('event_sinks')
      .set({ status: 'active', attempts: 0, next_attempt_at: null, updated_at: tx.now, version: row.version + 1 })
      .where('id', '=', id)
      .execute();
    const requeued = await tx.db.updateTable('event_sink_dead_letters').set({ requeued: 1 }).where('sink_id', '=', id).executeTakeFirst();
    const count = Number(requeued.numUpdatedRows);
    tx.audit({ action: 'event_sink.retry', targetType: 'event_sink', targetId: id, before: { status: row.status, lastError: row.last_error }, after: { status: 'active', requeuedDeadLetters: count } });
    tx.change('event_sink', id, 'update');
    return count;
  });
  return { revision, requeued: value };
}

/** A sink's webhook secret, decrypted; a clear error when the server secret changed. */
export function sinkSecret(deps: Pick<ServiceDeps, 'secrets'>, sink: Pick<Database['event_sinks'], 'id' | 'secret'>): string | null {
  if (sink.secret === null) return null;
  try {
    return deps.secrets.decrypt(sink.secret);
  } catch {
    throw new Error(`the secret of event sink ${sink.id} cannot be decrypted: GRANTORY_SECRET_KEY is not the one it was stored with`);
  }
}
