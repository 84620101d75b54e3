/** `/sod-policies`, `/sod-violations` and `/sod-exceptions`: separation of duties. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { etagOf } from '../../domain/etag.ts';
import { MAX_SOD_SETS, MAX_SOD_SET_SIZE } from '../../domain/sod.ts';
import {
  SOD_READ_RIGHTS,
  createSodException,
  createSodPolicy,
  deleteSodPolicy,
  getSodException,
  getSodPolicy,
  listSodExceptions,
  listSodPolicies,
  listSodViolations,
  summarizeSodViolations,
  revokeSodException,
  updateSodPolicy,
} from '../../services/sod/index.ts';
import { actorOf, sendWithEtag, sendWritten } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { IdParams, IdempotencyHeaders, IfMatchHeaders, ListQuery, PageOf, RevisionOnly, Written } from '../schemas.ts';
import { ContextOut, DateTime, Id, Resource, Revision } from './access-schemas.ts';

const tags = ['Separation of duties'];

const Mode = Type.Union([Type.Literal('block'), Type.Literal('require_exception')], {
  description: '`block`: a write that would create the conflict is refused (409); `require_exception`: refused unless it carries an approved exception',
});
const Severity = Type.Union([Type.Literal('low'), Type.Literal('medium'), Type.Literal('high'), Type.Literal('critical')]);
const Sets = Type.Array(Type.Array(Resource, { maxItems: MAX_SOD_SET_SIZE }), {
  maxItems: MAX_SOD_SETS,
  description: 'At least two sets of resources; holding one resource of every set (in contexts that meet) is a conflict',
});
const Name = Type.String({ minLength: 1, maxLength: 200 });
const Description = Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]);

const Policy = Type.Object({
  id: Type.String(),
  name: Type.String(),
  description: Type.Union([Type.String(), Type.Null()]),
  conflicting: Type.Array(Type.Array(Resource)),
  mode: Mode,
  severity: Severity,
  enabled: Type.Boolean(),
  createdAt: DateTime,
  updatedAt: DateTime,
  version: Type.Integer(),
});

const CreatePolicy = Type.Object(
  { name: Name, description: Type.Optional(Description), conflicting: Sets, mode: Type.Optional(Mode), severity: Type.Optional(Severity), enabled: Type.Optional(Type.Boolean()) },
  { additionalProperties: false },
);
const PatchPolicy = Type.Partial(CreatePolicy, { additionalProperties: false });

const PolicyRef = Type.Object({ id: Type.String(), name: Type.String(), mode: Mode, severity: Severity });
const Via = Type.Object({
  assignmentId: Type.Union([Type.String(), Type.Null()], { description: 'null for access that is only proposed' }),
  proposed: Type.Boolean(),
  source: Type.String(),
  assignee: Type.Object({ type: Type.Union([Type.Literal('identity'), Type.Literal('orgUnit')]), id: Type.String() }),
  assigned: Resource,
  context: ContextOut,
});
const Held = Type.Object({
  resource: Type.Object({ type: Type.Union([Type.Literal('permission'), Type.Literal('role')]), id: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }),
  via: Type.Array(Via),
});
/** Who recorded or revoked an exception. */
const ExceptionActor = Type.Object({ id: Type.String(), name: Type.Union([Type.String(), Type.Null()]), identityId: Type.Union([Type.String(), Type.Null()]) });
const SodException = Type.Object({
  id: Type.String(),
  policyId: Type.String(),
  identityId: Type.String(),
  reason: Type.String(),
  expiresAt: DateTime,
  approvedBy: ExceptionActor,
  subject: Type.Object({ type: Type.String(), id: Type.Union([Type.String(), Type.Null()]) }),
  createdAt: DateTime,
  revoked: Type.Union(
    [
      Type.Object({
        at: DateTime,
        by: ExceptionActor,
        reason: Type.Union([Type.String(), Type.Null()]),
      }),
      Type.Null(),
    ],
    { description: 'Revoked before it expired (POST /sod-exceptions/{id}/revoke): it no longer mitigates; null while not revoked' },
  ),
});
const Violation = Type.Object({
  policy: PolicyRef,
  identity: Type.Object({
    id: Type.String(),
    subject: Type.String(),
    username: Type.Union([Type.String(), Type.Null()]),
    displayName: Type.Union([Type.String(), Type.Null()]),
    status: Type.String(),
  }),
  conflicting: Type.Array(Type.Object({ set: Type.Integer({ description: 'Position of the set in the policy' }), held: Type.Array(Held) })),
  exception: Type.Union([SodException, Type.Null()], { description: 'The unexpired exception that mitigates the violation' }),
});

export function registerSodRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;

  app.post(
    '/sod-policies',
    {
      config: needs('manage-roles'),
      schema: {
        tags,
        summary: 'Create a separation-of-duties policy',
        description:
          'Names are unique in the tenant (409 naming `name`). `conflicting` needs at least two non-empty sets; an unknown resource is a 400 naming it (`conflicting[1][0].id`). ' +
          'Defaults: `mode` block, `severity` medium, `enabled` true.',
        headers: IdempotencyHeaders,
        body: CreatePolicy,
        response: { 201: Written(Policy) },
      },
    },
    async (request, reply) => {
      const { policy, revision } = await createSodPolicy(sd, actorOf(request), request.body);
      reply.header('etag', etagOf(policy.version)).header('location', `/api/v1/sod-policies/${policy.id}`);
      return sendWritten(reply, 201, policy, revision);
    },
  );

  app.get(
    '/sod-policies',
    {
      config: needs(...SOD_READ_RIGHTS),
      schema: {
        tags,
        summary: 'List separation-of-duties policies',
        description: 'In name order, cursor-paged. Filter: `enabled`.',
        querystring: Type.Object({ ...ListQuery, enabled: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: PageOf(Policy) },
      },
    },
    async (request) => {
      const { limit, cursor, enabled } = request.query;
      return listSodPolicies(sd, actorOf(request), { enabled }, { limit, cursor });
    },
  );

  app.get(
    '/sod-policies/:id',
    { config: needs(...SOD_READ_RIGHTS), schema: { tags, summary: 'Get a separation-of-duties policy (with its ETag)', params: IdParams, response: { 200: Policy } } },
    async (request, reply) => {
      const policy = await getSodPolicy(sd, actorOf(request), request.params.id);
      return sendWithEtag(reply, policy, policy.version);
    },
  );

  app.patch(
    '/sod-policies/:id',
    {
      config: needs('manage-roles'),
      schema: {
        tags,
        summary: 'Change a separation-of-duties policy',
        description: 'Only the fields sent change; `conflicting` replaces the sets. Existing access is not changed: violations it now makes are listed by `GET /sod-violations`.',
        params: IdParams,
        headers: IfMatchHeaders,
        body: PatchPolicy,
        response: { 200: Written(Policy) },
      },
    },
    async (request, reply) => {
      const { policy, revision } = await updateSodPolicy(sd, actorOf(request), request.params.id, request.body, request.headers['if-match']);
      reply.header('etag', etagOf(policy.version));
      return sendWritten(reply, 200, policy, revision);
    },
  );

  app.delete(
    '/sod-policies/:id',
    {
      config: needs('manage-roles'),
      schema: { tags, summary: 'Delete a separation-of-duties policy (and the exceptions recorded against it)', params: IdParams, headers: IfMatchHeaders, response: { 200: RevisionOnly } },
    },
    async (request, reply) => {
      const { revision } = await deleteSodPolicy(sd, actorOf(request), request.params.id, request.headers['if-match']);
      return sendWritten(reply, 200, {}, revision);
    },
  );

  app.get(
    '/sod-violations',
    {
      config: needs(...SOD_READ_RIGHTS),
      schema: {
        tags,
        summary: 'Current separation-of-duties violations in the tenant',
        description:
          'Every identity whose effective access (roles, unit inheritance and delegations included) breaks an enabled policy now, with the held access of each set and the assignments behind it, ' +
          'and the unexpired exception that mitigates it. Answered by the access index; ordered by policy id, then identity id; cursor-paged. `minRevision` waits (bounded) until this node has applied that revision.',
        querystring: Type.Object(
          { ...ListQuery, policyId: Type.Optional(Id), identityId: Type.Optional(Id), minRevision: Type.Optional(Type.Integer({ minimum: 0 })) },
          { additionalProperties: false },
        ),
        response: { 200: Type.Intersect([PageOf(Violation), Type.Object({ revision: Revision })]) },
      },
    },
    async (request) => listSodViolations(sd, actorOf(request), request.query),
  );

  const Counted = Type.Object({ total: Type.Integer({ minimum: 0 }), unmitigated: Type.Integer({ minimum: 0, description: 'Without an unexpired exception' }) });
  app.get(
    '/sod-violations/summary',
    {
      config: needs(...SOD_READ_RIGHTS),
      schema: {
        tags,
        summary: 'Separation-of-duties violations counted (what GET /sod-violations lists, without its rows)',
        description:
          'The violations of every page of `GET /sod-violations`, counted: in all, per severity and per enabled policy (policies with none included), each also without the ones an unexpired exception mitigates, ' +
          'and the number of identities involved. The violations are kept per access index and re-evaluated only for the identities each change touches (wholly when a policy changes).',
        querystring: Type.Object({ minRevision: Type.Optional(Type.Integer({ minimum: 0 })) }, { additionalProperties: false }),
        response: {
          200: Type.Object({
            total: Type.Integer({ minimum: 0 }),
            unmitigated: Type.Integer({ minimum: 0 }),
            identities: Type.Integer({ minimum: 0, description: 'Identities with at least one violation' }),
            bySeverity: Type.Object({ low: Counted, medium: Counted, high: Counted, critical: Counted }),
            byPolicy: Type.Array(Type.Intersect([Type.Object({ policy: PolicyRef }), Counted])),
            revision: Revision,
          }),
        },
      },
    },
    async (request) => summarizeSodViolations(sd, actorOf(request), request.query),
  );

  app.get(
    '/sod-exceptions',
    {
      config: needs(...SOD_READ_RIGHTS),
      schema: {
        tags,
        summary: 'List separation-of-duties exceptions',
        description:
          'Every exception recorded in the tenant — with an assignment (`sodException`), at the last approval of an access request (the approver\'s comment), or ahead with `POST /sod-exceptions` — ' +
          'newest first, cursor-paged. Filters: `policyId`, `identityId`, `active` (true: unexpired only; false: expired only). An expired exception no longer mitigates; it stays on record.',
        querystring: Type.Object({ ...ListQuery, policyId: Type.Optional(Id), identityId: Type.Optional(Id), active: Type.Optional(Type.Boolean()) }, { additionalProperties: false }),
        response: { 200: PageOf(SodException) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return listSodExceptions(sd, actorOf(request), filter, { limit, cursor });
    },
  );

  app.get(
    '/sod-exceptions/:id',
    { config: needs(...SOD_READ_RIGHTS), schema: { tags, summary: 'Get a separation-of-duties exception', params: IdParams, response: { 200: SodException } } },
    async (request) => getSodException(sd, actorOf(request), request.params.id),
  );

  app.post(
    '/sod-exceptions',
    {
      config: needs('approve-requests'),
      schema: {
        tags,
        summary: 'Record a separation-of-duties exception ahead of a change',
        description:
          'For a `require_exception` policy and one identity: while it lasts, a write that would give the identity that conflict passes — also on paths that cannot carry an exception themselves ' +
          '(a role\'s contents changed, a move into a unit, a delegation). An unknown policy or identity, or a `block` policy, is a 400 naming the field; `expiresAt` must be in the future. ' +
          'Audited as `sodException.create`.',
        headers: IdempotencyHeaders,
        body: Type.Object(
          {
            policyId: Id,
            identityId: Id,
            reason: Type.String({ minLength: 1, maxLength: 2000, examples: ['quarter-end close, approved by the CFO'] }),
            expiresAt: Type.String({ format: 'date-time', description: 'When the exception ends (in the future)' }),
          },
          { additionalProperties: false },
        ),
        response: { 201: Written(SodException) },
      },
    },
    async (request, reply) => {
      const { exception, revision } = await createSodException(sd, actorOf(request), request.body);
      reply.header('location', `/api/v1/sod-exceptions/${exception.id}`);
      return sendWritten(reply, 201, exception, revision);
    },
  );

  app.post(
    '/sod-exceptions/:id/revoke',
    {
      config: needs('approve-requests'),
      schema: {
        tags,
        summary: 'Revoke a separation-of-duties exception before it expires',
        description:
          'From this write on the exception no longer mitigates: a write that would add access to its conflict is refused again, and `GET /sod-violations` lists the conflict without it. ' +
          'Access given while it lasted stays (revoke or review that access). The exception stays on record with `revoked {at, by, reason}`. ' +
          'An exception already revoked or expired is a 409. Audited as `sodException.revoke`.',
        params: IdParams,
        body: Type.Optional(
          Type.Object({ reason: Type.Optional(Type.String({ maxLength: 2000, examples: ['the audit season ended early'] })) }, { additionalProperties: false }),
        ),
        response: { 200: Written(SodException) },
      },
    },
    async (request, reply) => {
      const { exception, revision } = await revokeSodException(sd, actorOf(request), request.params.id, { reason: request.body?.reason });
      return sendWritten(reply, 200, exception, revision);
    },
  );
}

/** The body field of writes that may carry an approved exception (POST /assignments). */
export const SodExceptionBody = Type.Object(
  {
    reason: Type.String({ minLength: 1, maxLength: 2000 }),
    expiresAt: Type.String({ format: 'date-time', description: 'When the exception ends (in the future)' }),
  },
  { additionalProperties: false, description: 'An approved exception for the require_exception policies this write would break (the caller needs approve-requests)' },
);
