/** `/audit-events` (the filtered, cursor-paged trail) and `/audit-checkpoints` (signed heads). */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { listAuditEvents, createCheckpoint, listCheckpoints, verifyTenantAudit, lastAuditVerification } from '../../services/audit/index.ts';
import { actorOf, sendWritten } from '../request-context.ts';
import { needs } from '../route-auth.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);

export const AuditEvent = Type.Object({
  id: Type.String({ description: 'Unique event id (use it to de-duplicate deliveries)' }),
  seq: Type.Integer({ description: "Position in the tenant's hash chain, from 1" }),
  time: Type.String({ format: 'date-time' }),
  revision: Type.Integer({ description: 'The write (change-feed revision) that recorded it' }),
  action: Type.String({ description: 'e.g. identity.create, assignment.revoke, access.denied, auth.failure' }),
  targetType: Type.String(),
  targetId: Nullable(Type.String()),
  actor: Type.Object({
    type: Type.String({ description: 'api_key, client, app_key, system, anonymous' }),
    id: Nullable(Type.String()),
    name: Nullable(Type.String({ description: 'The credential or token name' })),
  }),
  onBehalfOfId: Nullable(Type.String({ description: 'The identity the credential acts for' })),
  authorityId: Nullable(
    Type.String({ description: 'The identity on whose authority the credential acts (its creator), when it is not onBehalfOfId; null otherwise' }),
  ),
  requestId: Nullable(Type.String()),
  sourceIp: Nullable(Type.String()),
  sourcePort: Type.Union([Type.Integer({ minimum: 0, maximum: 65535 }), Type.Null()], {
    description: "The caller's TCP source port; null when unknown (behind a trusted proxy, or events recorded before it was kept)",
  }),
  userAgent: Nullable(Type.String()),
  origin: Nullable(Type.String({ description: 'The caller-supplied cxOrigin header' })),
  before: Type.Unknown({ description: 'The object before the change (parsed JSON), or null' }),
  after: Type.Unknown({ description: 'The object after the change (parsed JSON), or null' }),
  prevHash: Type.String({ description: 'Hash of the previous event (64 zeros for the first)' }),
  hash: Type.String({ description: 'SHA-256 over prevHash and this event in canonical JSON' }),
});

export const AuditFilterQuery = {
  from: Type.Optional(Type.String({ format: 'date-time', description: 'Events at or after this time' })),
  to: Type.Optional(Type.String({ format: 'date-time', description: 'Events before this time' })),
  actorId: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
  authorityId: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Events of credentials acting for another identity on this identity\'s authority' })),
  action: Type.Optional(Type.String({ minLength: 1, maxLength: 200, description: 'Exact action, or a prefix ending in * (identity.*)' })),
  targetType: Type.Optional(Type.String({ minLength: 1, maxLength: 100 })),
  targetId: Type.Optional(Type.String({ minLength: 1, maxLength: 300 })),
};

export const Checkpoint = Type.Object({
  tenant: Type.String(),
  seq: Type.Integer(),
  hash: Type.String(),
  time: Type.String({ format: 'date-time' }),
  keyId: Type.String(),
  signature: Type.String({ description: 'Base64 Ed25519 signature over canonical JSON {hash, seq, tenant, time}' }),
});

export const CheckpointList = Type.Object({
  tenant: Type.Object({ id: Type.String(), name: Type.String() }),
  publicKeys: Type.Array(Type.Object({ keyId: Type.String(), algorithm: Type.String(), publicKey: Type.String({ description: 'SPKI PEM' }) })),
  items: Type.Array(Checkpoint),
});

const VerificationProblem = Type.Union([
  Type.Object({
    kind: Type.String({ description: 'hash_mismatch, broken_link, gap, checkpoint_mismatch, truncated or bad_checkpoint' }),
    seq: Type.Integer({ description: 'The first event at fault' }),
    message: Type.String(),
  }),
  Type.Null(),
]);

/** What a verification found: the route's answer and each recorded verification. */
const VerificationResult = {
  ok: Type.Boolean({ description: 'true when every event, link, the head and every signed checkpoint verified' }),
  events: Type.Integer({ description: 'Events checked (up to the first broken one)' }),
  headSeq: Type.Integer({ description: 'The last event that verified' }),
  headHash: Type.String({ description: "That event's hash" }),
  checkpoints: Type.Integer({ description: 'Signed checkpoints whose signature and hash matched the chain' }),
  problem: VerificationProblem,
  durationMs: Type.Integer(),
};

export const AuditVerificationSchema = Type.Object({
  ...VerificationResult,
  notes: Type.Array(Type.String()),
  verifiedAt: Type.String({ format: 'date-time' }),
});

export const LastAuditVerificationSchema = Type.Object({
  verification: Type.Union([
    Type.Object({
      verifiedAt: Type.String({ format: 'date-time', description: 'When the verification was recorded' }),
      source: Type.Union([Type.Literal('api'), Type.Literal('cli')], { description: 'api: GET /api/v1/audit-verification (the console\'s Verify button); cli: `grantory audit verify`' }),
      actor: AuditEvent.properties.actor,
      onBehalfOfId: Nullable(Type.String({ description: 'The identity the credential acted for' })),
      ...VerificationResult,
      eventSeq: Type.Integer({ description: 'The `audit.verified` event that recorded this result' }),
    }),
    Type.Null(),
  ], { description: 'null when the trail was never verified' }),
});

export function registerAuditRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.get(
    '/audit-events',
    {
      config: needs('read-audit'),
      schema: {
        tags: ['Audit'],
        summary: 'The audit trail, filtered and cursor-paged (oldest first unless order=desc)',
        querystring: Type.Object({
          ...AuditFilterQuery,
          order: Type.Optional(Type.Union([Type.Literal('asc'), Type.Literal('desc')], { default: 'asc' })),
          limit: Type.Integer({ minimum: 1, maximum: 1000, default: 100 }),
          cursor: Type.Optional(Type.String({ maxLength: 2048, description: 'The nextCursor of the previous page' })),
        }),
        response: { 200: Type.Object({ items: Type.Array(AuditEvent), nextCursor: Nullable(Type.String()) }) },
      },
    },
    async (request) => {
      const { limit, cursor, order, ...filter } = request.query;
      return listAuditEvents(sd, actorOf(request), { filter, limit, cursor, order });
    },
  );

  app.get(
    '/audit-checkpoints',
    {
      config: needs('read-audit'),
      schema: {
        tags: ['Audit'],
        summary: 'Signed checkpoints of the audit chain (newest first) with the public key; save it for `grantory audit verify --checkpoints`',
        querystring: Type.Object({
          limit: Type.Integer({ minimum: 1, maximum: 10000, default: 1000 }),
          beforeSeq: Type.Optional(Type.Integer({ minimum: 1, maximum: Number.MAX_SAFE_INTEGER })),
        }),
        response: { 200: CheckpointList },
      },
    },
    async (request) => listCheckpoints(sd, actorOf(request), request.query),
  );

  app.get(
    '/audit-verification',
    {
      config: needs('read-audit'),
      schema: {
        tags: ['Audit'],
        summary: "Verify the tenant's whole audit trail now: every hash, every link, the head and every signed checkpoint",
        description:
          'Reads the trail from its first event in sequence order (constant memory; time grows with the trail) and answers the first broken link, as ' +
          '`grantory audit verify` does. A broken trail is a 200 with `ok: false` and the problem. The result is recorded as an `audit.verified` event ' +
          '(`GET /api/v1/audit-verification/last` answers the newest).',
        response: { 200: AuditVerificationSchema },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return verifyTenantAudit(sd, actorOf(request));
    },
  );

  app.get(
    '/audit-verification/last',
    {
      config: needs('read-audit'),
      schema: {
        tags: ['Audit'],
        summary: "The audit trail's last verification: when, by whom and its result",
        description:
          'The newest `audit.verified` event, read as a verification: each `GET /api/v1/audit-verification` and each `grantory audit verify` run records ' +
          'one. `verification` is null when the trail was never verified.',
        response: { 200: LastAuditVerificationSchema },
      },
    },
    async (request, reply) => {
      reply.header('cache-control', 'no-store');
      return { verification: await lastAuditVerification(sd, actorOf(request)) };
    },
  );

  app.post(
    '/audit-checkpoints',
    {
      config: needs('read-audit'),
      schema: {
        tags: ['Audit'],
        summary: "Sign and keep a checkpoint of the chain's head now",
        response: { 201: Type.Intersect([Checkpoint, Type.Object({ revision: Type.Integer() })]) },
      },
    },
    async (request, reply) => {
      const { checkpoint, revision } = await createCheckpoint(sd, actorOf(request));
      return sendWritten(reply, 201, checkpoint, revision);
    },
  );
}
