/**
 * `/access-reviews` and `/review-items`: access review campaigns (certifications). Running
 * campaigns needs manage-reviews; reading every campaign, item and report also read-audit;
 * a reviewer needs no right to list and decide its own items.
 */
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyReply } from 'fastify';
import type { App, RouteDeps } from '../deps.ts';
import {
  DECISIONS,
  DEFAULT_DECISIONS,
  MAX_BULK,
  REVIEWER_KINDS,
  REVIEW_MANAGE_RIGHTS,
  REVIEW_READ_RIGHTS,
  REVIEW_SPACES,
  REVIEW_STATUSES,
  closeReview,
  createReview,
  decideItem,
  decideItems,
  delegateItem,
  getReview,
  listReviewItems,
  listReviews,
  reviewProgress,
  reviewReport,
  startReview,
  type ReviewReport,
} from '../../services/reviews/index.ts';
import { errorResponses } from '../error-responses.ts';
import { actorOf, sendWritten } from '../request-context.ts';
import { AUTHENTICATED, needs } from '../route-auth.ts';
import { IdParams, IdempotencyHeaders, ListQuery, Nullable, PageOf, Written } from '../schemas.ts';
import { DateTime, Id, NullableDateTime } from './access-schemas.ts';

const tags = ['Access reviews'];
const literals = <T extends string>(values: readonly T[], description?: string) => Type.Union(values.map((v) => Type.Literal(v)), description ? { description } : {});
const Risk = literals(['low', 'medium', 'high', 'critical']);
const Comment = Type.String({ maxLength: 2000 });

const Scope = Type.Object(
  {
    applicationIds: Type.Optional(Type.Array(Id, { maxItems: 200 })),
    orgUnitIds: Type.Optional(Type.Array(Id, { maxItems: 200, description: 'Identities of these units and the units below them' })),
    minRisk: Type.Optional(Risk),
  },
  { additionalProperties: false },
);
const Reviewer = Type.Object(
  { type: literals(REVIEWER_KINDS, "`manager`: the identity's manager; `application_owner`: the application's first owner; `identity`: the one named by `id`"), id: Type.Optional(Nullable(Id)) },
  { additionalProperties: false },
);

const Review = Type.Object({
  id: Type.String(),
  number: Type.Integer(),
  name: Type.String(),
  description: Nullable(Type.String()),
  scope: Scope,
  space: literals(REVIEW_SPACES),
  reviewer: Type.Object({ type: literals(REVIEWER_KINDS), id: Nullable(Type.String()) }),
  fallbackReviewerId: Nullable(Type.String()),
  dueDays: Type.Integer(),
  dueAt: NullableDateTime,
  defaultDecision: literals(DEFAULT_DECISIONS),
  reminderDays: Type.Array(Type.Integer()),
  schedule: Nullable(Type.String()),
  recurrenceOf: Nullable(Type.String()),
  status: literals(REVIEW_STATUSES),
  itemCount: Type.Integer(),
  startedAt: NullableDateTime,
  startRevision: Nullable(Type.Integer({ description: 'The revision of the access index the items were snapshotted at' })),
  closedAt: NullableDateTime,
  closeReason: Nullable(Type.String()),
  createdBy: Type.String(),
  createdAt: DateTime,
  updatedAt: DateTime,
  version: Type.Integer(),
});

const CreateReview = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200 }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    scope: Type.Optional(Scope),
    space: Type.Optional(literals(REVIEW_SPACES, '`provisioned` (default): what applications really hold, drift and orphan accounts included; `assigned`: what assignments give')),
    reviewer: Reviewer,
    fallbackReviewerId: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64, description: "Reviews the items whose reviewer is missing or is the identity under review; default: the caller's identity" }))),
    dueAt: Type.Optional(Type.String({ format: 'date-time', description: 'The deadline; or give dueDays (default 14) counted from the start' })),
    dueDays: Type.Optional(Type.Integer({ minimum: 1, maximum: 366 })),
    defaultDecision: Type.Optional(literals(DEFAULT_DECISIONS, 'What open items get at the deadline (default none: they stay undecided)')),
    reminderDays: Type.Optional(Type.Array(Type.Integer({ minimum: 1, maximum: 365 }), { maxItems: 10, description: 'Days before the due date to remind reviewers with open items (default [7, 1]); the last one also escalates to the fallback reviewer' })),
    schedule: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200, description: 'Cron (UTC, 5 fields): a copy of this campaign is started on each occurrence, e.g. quarterly `0 6 1 1,4,7,10 *`' }))),
  },
  { additionalProperties: false },
);

const Via = Type.Object({}, { additionalProperties: true, description: 'An assignment (assignmentId, source, assignee, resource, context, delegatedFromId, ruleId) or an account (accountId, accountName, observedAt, importId)' });
const Item = Type.Object({
  id: Type.String(),
  reviewId: Type.String(),
  position: Type.Integer(),
  identity: Nullable(Type.Object({ id: Type.String(), name: Nullable(Type.String()) })),
  account: Nullable(Type.Object({ id: Type.String(), name: Nullable(Type.String()) })),
  application: Type.Object({ id: Type.String(), name: Type.String() }),
  permission: Nullable(Type.Object({ id: Type.String(), name: Nullable(Type.String()) })),
  risk: Type.String(),
  why: Type.Object({ kind: literals(['assigned', 'observed', 'orphan']), text: Type.String(), via: Type.Array(Via) }),
  observedAt: NullableDateTime,
  flags: Type.Object({ drift: Type.Boolean(), sodViolation: Type.Boolean(), orphan: Type.Boolean() }),
  reviewerId: Nullable(Type.String()),
  assignedReviewerId: Nullable(Type.String()),
  reviewerReason: Type.String(),
  delegatedBy: Nullable(Type.String()),
  decision: Nullable(literals(DECISIONS)),
  comment: Nullable(Type.String()),
  validTo: NullableDateTime,
  decidedBy: Nullable(Type.String()),
  decidedByName: Nullable(Type.String()),
  decidedAt: NullableDateTime,
  requestId: Nullable(Type.String({ description: 'The access request the decision opened' })),
  remediation: Nullable(Type.Object({ status: Type.String(), reason: Type.Optional(Type.String()) })),
});

const Decide = Type.Object(
  { decision: literals(DECISIONS), comment: Type.Optional(Nullable(Comment)), validTo: Type.Optional(Nullable(Type.String({ format: 'date-time', description: 'With modify: the new end of validity' }))) },
  { additionalProperties: false },
);
const BulkDecide = Type.Object(
  {
    itemIds: Type.Array(Type.String({ minLength: 1, maxLength: 64 }), { minItems: 1, maxItems: MAX_BULK }),
    decision: literals(DECISIONS),
    comment: Type.Optional(Nullable(Comment)),
    validTo: Type.Optional(Nullable(Type.String({ format: 'date-time' }))),
  },
  { additionalProperties: false },
);
const BulkResult = Type.Object({ id: Type.String(), status: Type.Integer(), code: Nullable(Type.String()), message: Nullable(Type.String()), item: Nullable(Item) });
const Progress = Type.Object({
  reviewId: Type.String(),
  status: Type.String(),
  dueAt: NullableDateTime,
  total: Type.Integer(),
  decided: Type.Integer(),
  open: Type.Integer(),
  decisions: Type.Object({ certify: Type.Integer(), revoke: Type.Integer(), modify: Type.Integer() }),
  reviewers: Type.Array(Type.Object({ reviewerId: Nullable(Type.String()), name: Nullable(Type.String()), total: Type.Integer(), decided: Type.Integer(), open: Type.Integer() })),
});

function sendReport(reply: FastifyReply, report: ReviewReport): FastifyReply {
  return reply
    .type(report.contentType)
    .header('content-disposition', `attachment; filename="${report.filename}"`)
    .header('cache-control', 'no-store')
    .send(Buffer.isBuffer(report.body) ? report.body : Readable.from(report.body));
}

export function registerAccessReviewRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;

  app.post(
    '/access-reviews',
    {
      config: needs(...REVIEW_MANAGE_RIGHTS),
      schema: {
        tags,
        summary: 'Create an access review campaign (a draft)',
        description: 'Nothing is snapshotted until `POST /access-reviews/{id}/start`. Names are unique (409). Unknown applications, units or identities are a 400 naming the field.',
        headers: IdempotencyHeaders,
        body: CreateReview,
        response: { 201: Written(Review) },
      },
    },
    async (request, reply) => {
      const { value, revision } = await createReview(sd, actorOf(request), request.body);
      reply.header('location', `/api/v1/access-reviews/${value.id}`);
      return sendWritten(reply, 201, value, revision);
    },
  );

  app.get(
    '/access-reviews',
    {
      config: needs(...REVIEW_READ_RIGHTS),
      schema: { tags, summary: 'List access review campaigns', description: 'Newest first, cursor-paged. Filter: `status`.', querystring: Type.Object({ ...ListQuery, status: Type.Optional(literals(REVIEW_STATUSES)) }, { additionalProperties: false }), response: { 200: PageOf(Review) } },
    },
    async (request) => {
      const { status, limit, cursor } = request.query;
      return listReviews(sd, actorOf(request), { status }, { limit, cursor });
    },
  );

  app.get(
    '/access-reviews/:id',
    { config: needs(...REVIEW_READ_RIGHTS), schema: { tags, summary: 'Get an access review campaign', params: IdParams, response: { 200: Review } } },
    async (request) => getReview(sd, actorOf(request), request.params.id),
  );

  app.post(
    '/access-reviews/:id/start',
    {
      config: needs(...REVIEW_MANAGE_RIGHTS),
      schema: {
        tags,
        summary: 'Start a campaign: snapshot its items',
        description: 'One transaction: every identity × permission in scope with why, last observation by an import, drift / SoD / orphan flags and its reviewer, the campaign becoming active, its reminders and deadline. 409 unless a draft.',
        params: IdParams,
        response: { 200: Written(Review) },
      },
    },
    async (request, reply) => {
      const { value, revision } = await startReview(sd, actorOf(request), request.params.id);
      return sendWritten(reply, 200, value, revision);
    },
  );

  app.post(
    '/access-reviews/:id/close',
    {
      config: needs(...REVIEW_MANAGE_RIGHTS),
      schema: {
        tags,
        summary: 'Close an active campaign',
        description: 'Open items stay undecided unless `applyDefaultDecision` is true. After closing, decisions are refused (409).',
        params: IdParams,
        body: Type.Optional(Type.Object({ applyDefaultDecision: Type.Optional(Type.Boolean()) }, { additionalProperties: false })),
        response: { 200: Written(Review) },
      },
    },
    async (request, reply) => {
      const { value, revision } = await closeReview(sd, actorOf(request), request.params.id, request.body ?? {});
      return sendWritten(reply, 200, value, revision);
    },
  );

  app.get(
    '/access-reviews/:id/items',
    {
      config: AUTHENTICATED,
      schema: {
        tags,
        summary: "A campaign's items: the caller's own, or (with manage-reviews or read-audit) anyone's",
        description: 'In snapshot order, cursor-paged. Filters: `reviewerId`, `state` (open, decided, certify, revoke, modify), `flag` (drift, sod, orphan), `applicationId`, `identityId`.',
        params: IdParams,
        querystring: Type.Object(
          {
            ...ListQuery,
            reviewerId: Type.Optional(Id),
            state: Type.Optional(literals(['open', 'decided', ...DECISIONS])),
            flag: Type.Optional(literals(['drift', 'sod', 'orphan'])),
            applicationId: Type.Optional(Id),
            identityId: Type.Optional(Id),
          },
          { additionalProperties: false },
        ),
        response: { 200: PageOf(Item) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return listReviewItems(sd, actorOf(request), request.params.id, filter, { limit, cursor });
    },
  );

  app.get(
    '/access-reviews/:id/progress',
    { config: needs(...REVIEW_READ_RIGHTS), schema: { tags, summary: 'Decided and open items, in total and per reviewer', params: IdParams, response: { 200: Progress } } },
    async (request) => reviewProgress(sd, actorOf(request), request.params.id),
  );

  app.get(
    '/access-reviews/:id/report',
    {
      config: needs(...REVIEW_READ_RIGHTS),
      schema: {
        tags,
        summary: "The auditor's report: CSV (every item) or PDF",
        description: 'Scope, reviewers, every decision with who took it and when, and the signed audit checkpoint covering the campaign. A campaign not yet closed says so on the first page (first line of the CSV).',
        params: IdParams,
        querystring: Type.Object({ format: Type.Optional(literals(['csv', 'pdf'], 'Default csv')) }, { additionalProperties: false }),
        response: {
          200: {
            description: 'The report',
            content: { 'text/csv': { schema: Type.String() }, 'application/pdf': { schema: Type.String({ format: 'binary' }) } },
          },
          ...errorResponses(404),
        },
      },
    },
    async (request, reply) => {
      return sendReport(reply, await reviewReport(sd, actorOf(request), request.params.id, request.query.format ?? 'csv'));
    },
  );

  app.post(
    '/review-items/:id/decide',
    {
      config: AUTHENTICATED,
      schema: {
        tags,
        summary: 'Decide a review item: certify, revoke or modify',
        description: 'Only its reviewer (403 for anyone else, and for the identity under review); 409 when the campaign is not active or the item is decided. `revoke` opens a `remove` access request, `modify` a `change` request with `validTo`, linked to the item both ways.',
        params: IdParams,
        body: Decide,
        response: { 200: Written(Item) },
      },
    },
    async (request, reply) => {
      const { value, revision } = await decideItem(sd, actorOf(request), request.params.id, request.body);
      return sendWritten(reply, 200, value, revision);
    },
  );

  app.post(
    '/review-items/decisions',
    {
      config: AUTHENTICATED,
      schema: {
        tags,
        summary: 'Decide many review items at once',
        description: `Up to ${MAX_BULK} items, one decision and comment, one write. Each item gets its result: 200 with the item, or the status and code it was refused with (403, 404, 409).`,
        body: BulkDecide,
        response: { 200: Written(Type.Object({ results: Type.Array(BulkResult), decided: Type.Integer() })) },
      },
    },
    async (request, reply) => {
      const { value, revision } = await decideItems(sd, actorOf(request), request.body);
      return sendWritten(reply, 200, value, revision);
    },
  );

  app.post(
    '/review-items/:id/delegate',
    {
      config: AUTHENTICATED,
      schema: {
        tags,
        summary: 'Hand a review item to another reviewer',
        description: 'By its reviewer or a campaign manager; never to the identity under review (422).',
        params: IdParams,
        body: Type.Object({ to: Type.String({ minLength: 1, maxLength: 64 }), comment: Type.Optional(Nullable(Comment)) }, { additionalProperties: false }),
        response: { 200: Written(Item) },
      },
    },
    async (request, reply) => {
      const { value, revision } = await delegateItem(sd, actorOf(request), request.params.id, request.body);
      return sendWritten(reply, 200, value, revision);
    },
  );
}
