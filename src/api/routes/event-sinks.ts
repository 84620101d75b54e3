/** `/event-sinks`: where the audit trail is pushed (webhooks, syslog), and their delivery state. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { createEventSink, deleteEventSink, getEventSink, listEventSinks, retryEventSink } from '../../services/audit/index.ts';
import { actorOf, sendWritten } from '../request-context.ts';
import { needs } from '../route-auth.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Format = Type.Union([Type.Literal('grantory'), Type.Literal('ocsf')], { description: 'grantory: the audit event as in GET /audit-events; ocsf: an OCSF 1.3 event (docs/siem.md)' });

const Webhook = Type.Object({ url: Type.String({ maxLength: 2000, description: 'http(s) URL; receives Standard Webhooks signed POSTs' }) });
const Syslog = Type.Object({
  host: Type.String({ minLength: 1, maxLength: 255 }),
  port: Type.Integer({ minimum: 1, maximum: 65535 }),
  transport: Type.Union([Type.Literal('tcp'), Type.Literal('udp')], { description: 'tcp: octet-counting framing (RFC 6587); udp: RFC 5426' }),
  facility: Type.Integer({ minimum: 0, maximum: 23 }),
  hostname: Type.Optional(Type.String({ maxLength: 255 })),
  appName: Type.String({ maxLength: 48 }),
});

const Sink = Type.Object({
  id: Type.String(),
  name: Type.String(),
  type: Type.Union([Type.Literal('webhook'), Type.Literal('syslog')]),
  format: Format,
  webhook: Type.Optional(Webhook),
  syslog: Type.Optional(Syslog),
  status: Type.Union([Type.Literal('active'), Type.Literal('retrying'), Type.Literal('suspended')], {
    description: 'retrying: the receiver failed, the next attempt is at nextAttemptAt; suspended: it failed too often, POST .../retry resumes',
  }),
  cursor: Type.Integer({ description: 'seq of the last event delivered or dead-lettered' }),
  attempts: Type.Integer({ description: 'Consecutive failed attempts' }),
  nextAttemptAt: Nullable(Type.String({ format: 'date-time' })),
  lastError: Nullable(Type.String()),
  lastDeliveredAt: Nullable(Type.String({ format: 'date-time' })),
  deadLetterCount: Type.Integer(),
  createdAt: Type.String({ format: 'date-time' }),
  updatedAt: Type.String({ format: 'date-time' }),
});

const DeadLetter = Type.Object({
  seq: Type.Integer(),
  eventId: Type.String(),
  error: Type.String(),
  attempts: Type.Integer(),
  requeued: Type.Boolean({ description: 'Re-queued by a retry; tried again on the next pass' }),
  failedAt: Type.String({ format: 'date-time' }),
});

const CreateSink = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    type: Type.Union([Type.Literal('webhook'), Type.Literal('syslog')]),
    format: Type.Optional(Format),
    webhook: Type.Optional(Type.Object({ url: Type.String({ minLength: 1, maxLength: 2000 }) }, { additionalProperties: false })),
    syslog: Type.Optional(
      Type.Object(
        {
          host: Type.String({ minLength: 1, maxLength: 255 }),
          port: Type.Integer({ minimum: 1, maximum: 65535 }),
          transport: Type.Optional(Type.Union([Type.Literal('tcp'), Type.Literal('udp')])),
          facility: Type.Optional(Type.Integer({ minimum: 0, maximum: 23, description: 'Default 13 (log audit)' })),
          hostname: Type.Optional(Type.String({ minLength: 1, maxLength: 255 })),
          appName: Type.Optional(Type.String({ minLength: 1, maxLength: 48 })),
        },
        { additionalProperties: false },
      ),
    ),
    startAt: Type.Optional(Type.Union([Type.Literal('now'), Type.Literal('beginning')], { description: 'now (default): events from now on; beginning: the whole trail' })),
  },
  { additionalProperties: false },
);

const Id = Type.Object({ id: Type.String({ maxLength: 64 }) });

export function registerEventSinkRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.post(
    '/event-sinks',
    {
      config: needs('manage-system-settings'),
      schema: {
        tags: ['Event delivery'],
        summary: 'Configure a sink that receives every audit event (a webhook secret is shown once)',
        body: CreateSink,
        response: { 201: Type.Intersect([Sink, Type.Object({ secret: Type.Optional(Type.String({ description: 'whsec_...: verify webhook-signature with it' })), revision: Type.Integer() })]) },
      },
    },
    async (request, reply) => {
      const { sink, revision } = await createEventSink(sd, actorOf(request), request.body);
      return sendWritten(reply, 201, sink, revision);
    },
  );
  app.get(
    '/event-sinks',
    { config: needs('manage-system-settings'), schema: { tags: ['Event delivery'], summary: 'List sinks with their delivery state', response: { 200: Type.Object({ items: Type.Array(Sink) }) } } },
    async (request) => ({ items: await listEventSinks(sd, actorOf(request)) }),
  );
  app.get(
    '/event-sinks/:id',
    {
      config: needs('manage-system-settings'),
      schema: {
        tags: ['Event delivery'],
        summary: 'A sink: status, cursor, the head of the trail, last error and dead letters',
        params: Id,
        response: { 200: Type.Intersect([Sink, Type.Object({ head: Type.Integer(), deadLetters: Type.Array(DeadLetter) })]) },
      },
    },
    async (request) => getEventSink(sd, actorOf(request), request.params.id),
  );
  app.delete(
    '/event-sinks/:id',
    { config: needs('manage-system-settings'), schema: { tags: ['Event delivery'], summary: 'Delete a sink (delivery stops)', params: Id, response: { 200: Type.Object({ revision: Type.Integer() }) } } },
    async (request, reply) => {
      const { revision } = await deleteEventSink(sd, actorOf(request), request.params.id);
      return sendWritten(reply, 200, {}, revision);
    },
  );
  app.post(
    '/event-sinks/:id/retry',
    {
      config: needs('manage-system-settings'),
      schema: {
        tags: ['Event delivery'],
        summary: 'Resume a suspended or retrying sink now and re-queue its dead letters',
        params: Id,
        response: { 200: Type.Object({ requeued: Type.Integer(), revision: Type.Integer() }) },
      },
    },
    async (request, reply) => {
      const { requeued, revision } = await retryEventSink(sd, actorOf(request), request.params.id);
      return sendWritten(reply, 200, { requeued }, revision);
    },
  );
}
