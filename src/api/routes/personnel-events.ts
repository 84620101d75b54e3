/**
 * `/personnel-events`: joiner, mover, leaver and leave of absence from HR systems and scripts.
 * Right: manage-personnel-events.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { etagOf } from '../../domain/etag.ts';
import { ATTRIBUTE_LIMITS, IDENTITY_TYPES } from '../../services/directory/index.ts';
import {
  cancelPersonnelEvent,
  changeLeaveReturn,
  commentOnPersonnelEvent,
  createPersonnelEvent,
  EVENT_STATUSES,
  EVENT_TYPES,
  getPersonnelEvent,
  pagePersonnelEvents,
  previewPersonnelEvent,
  type CreateEventInput,
  type EventType,
} from '../../services/personnel/index.ts';
import { actorOf, sendWithEtag, sendWritten } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { IdempotencyHeaders, IdParams, IfMatchHeaders, ListQuery, Nullable, PageOf, Timestamp, Written } from '../schemas.ts';

const TAGS = ['Personnel events'];
const NEEDS = needs('manage-personnel-events');
const Id = (description: string) => Type.String({ minLength: 1, maxLength: 64, description });
const Text = (maxLength: number, description: string) => Type.String({ minLength: 1, maxLength, description });
const open = { additionalProperties: true };
const Json = Type.Object({}, open);

const DateField = (description: string) =>
  Type.String({ minLength: 10, maxLength: 40, description: `${description}: a plain date (midnight in the tenant's time zone) or a full ISO 8601 time`, examples: ['2026-03-15', '2026-03-15T08:00:00+01:00'] });
const AttributeChanges = Type.Record(Type.String({ pattern: ATTRIBUTE_LIMITS.keyPattern }), Nullable(Type.String({ maxLength: ATTRIBUTE_LIMITS.maxValueLength })), {
  maxProperties: ATTRIBUTE_LIMITS.maxCount,
  description: 'Merged into the identity\'s attributes (title, department, office, ...); null removes one',
});
const personFields = {
  displayName: Type.Optional(Nullable(Text(200, 'Name to show'))),
  email: Type.Optional(Nullable(Type.String({ format: 'email', maxLength: 254 }))),
  username: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 200, pattern: '^\\S+$' }))),
  employeeNumber: Type.Optional(Nullable(Type.String({ minLength: 1, maxLength: 64, pattern: '^\\S+$' }))),
  type: Type.Optional(Type.Union(IDENTITY_TYPES.map((t) => Type.Literal(t)))),
  managerId: Type.Optional(Nullable(Id('The manager (an identity)'))),
  orgUnitId: Type.Optional(Nullable(Id('The organization unit'))),
  attributes: Type.Optional(AttributeChanges),
};
const Joiner = Type.Object({ firstName: Text(200, 'Given name'), lastName: Text(200, 'Family name'), ...personFields }, { additionalProperties: false, description: 'The joiner' });
const Changes = Type.Object(
  { firstName: Type.Optional(Text(200, 'Given name')), lastName: Type.Optional(Text(200, 'Family name')), ...personFields },
  { additionalProperties: false, description: 'The identity fields that change (at least one)' },
);
const comment = Type.Optional(Nullable(Text(4000, 'Shown in the activity log')));
const effectiveDate = DateField('When the event takes effect');

const BODIES = {
  onboard: Type.Object({ identity: Joiner, effectiveDate, comment }, { additionalProperties: false }),
  offboard: Type.Object({ identityId: Id('The leaver'), effectiveDate, comment }, { additionalProperties: false }),
  'role-transition': Type.Object(
    { identityId: Id('The mover'), effectiveDate, endDate: Type.Optional(Nullable(DateField('End of the review period of access the move no longer justifies'))), changes: Changes, comment },
    { additionalProperties: false },
  ),
  'leave-of-absence': Type.Object({ identityId: Id('Who goes on leave'), effectiveDate, endDate: Type.Optional(Nullable(DateField('The expected return'))), comment }, { additionalProperties: false }),
} as const;
const TYPE_OF: Record<keyof typeof BODIES, EventType> = { onboard: 'onboard', offboard: 'offboard', 'role-transition': 'role_transition', 'leave-of-absence': 'leave_of_absence' };

const Stage = Type.Object({
  name: Type.String({ description: 'Approve, Provision, Deprovision, Transition, Suspend, Restore or Verify' }),
  status: Type.String({ description: 'pending, in_progress, completed, failed or canceled' }),
  startedAt: Nullable(Timestamp),
  completedAt: Nullable(Timestamp),
  detail: Nullable(Json),
});
const Item = Type.Object({}, { ...open, description: 'An assignment or rule grant: assignmentId, resource {type, id, name}, application, context, source, rule' });
export const PreviewSchema = Type.Object(
  {
    identity: Type.Object({ before: Nullable(Json), after: Nullable(Json) }),
    added: Type.Array(Item),
    paused: Type.Array(Item),
    restored: Type.Array(Item),
    revoked: Type.Array(Item),
    review: Type.Array(Item),
    reviewUntil: Nullable(Timestamp),
    delegationsStopped: Type.Array(Item),
    accountsToDeprovision: Type.Array(Json),
    unjustifiedAccess: Nullable(Type.String()),
    computedAt: Timestamp,
  },
  { description: 'What the event will change (or, once it took effect, what it was going to change)' },
);
const Entry = Type.Object(
  {
    id: Type.String(),
    at: Timestamp,
    actor: Type.Object({ type: Type.String(), id: Nullable(Type.String()), name: Nullable(Type.String()), identityId: Nullable(Type.String()) }),
    text: Type.String(),
    detail: Type.Unknown(),
  },
  { description: 'A comment or an activity entry' },
);
export const EventSchema = Type.Object(
  {
    id: Type.String(),
    number: Type.Integer(),
    type: Type.String({ description: EVENT_TYPES.join(', ') }),
    status: Type.String({ description: EVENT_STATUSES.join(', ') }),
    identityId: Nullable(Type.String({ description: 'Null for an onboarding until Provision created the identity' })),
    identityName: Nullable(Type.String()),
    effectiveDate: Timestamp,
    endDate: Nullable(Timestamp),
    changes: Json,
    comment: Nullable(Type.String()),
    stages: Type.Array(Stage),
    reporter: Type.Object({ type: Type.String(), id: Nullable(Type.String()), name: Nullable(Type.String()) }),
    completedAt: Nullable(Timestamp),
    createdAt: Timestamp,
    updatedAt: Timestamp,
    version: Type.Integer({ description: 'Incremented by every change of the event; the ETag is its quoted value (If-Match on PATCH)' }),
    comments: Type.Array(Entry),
    activity: Type.Array(Entry),
  },
  { description: 'A personnel event' },
);
const Created = Type.Intersect([EventSchema, Type.Object({ preview: PreviewSchema })]);
const DryRun = Type.Object({ dryRun: Type.Literal(true), preview: PreviewSchema });
const CreateQuery = Type.Object({ dryRun: Type.Optional(Type.Boolean({ description: 'true: validate and return the preview; nothing is written' })) }, { additionalProperties: false });
const ListEventsQuery = Type.Object(
  {
    ...ListQuery,
    identityId: Type.Optional(Id('Events of this identity')),
    type: Type.Optional(Type.Union(EVENT_TYPES.map((t) => Type.Literal(t)))),
    status: Type.Optional(Type.Union(EVENT_STATUSES.map((t) => Type.Literal(t)))),
  },
  { additionalProperties: false },
);

function toInput(path: keyof typeof BODIES, body: Record<string, unknown>): CreateEventInput {
  const b = body as Partial<Static<(typeof BODIES)['role-transition']>> & { identity?: Static<typeof Joiner> };
  return {
    type: TYPE_OF[path],
    identityId: b.identityId,
    identity: path === 'onboard' ? b.identity : path === 'role-transition' ? b.changes : undefined,
    effectiveDate: b.effectiveDate ?? '',
    endDate: b.endDate,
    comment: b.comment,
  };
}

/** Each create route's summary (what the event is called, and who it is for). */
const CREATE_SUMMARY: Record<keyof typeof BODIES, string> = {
  onboard: 'Create an onboarding event (a joiner)',
  offboard: 'Create an offboarding event (a leaver)',
  'role-transition': 'Create a role-transition event (a mover)',
  'leave-of-absence': 'Create a leave-of-absence event',
};

export function registerPersonnelEventRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  for (const path of Object.keys(BODIES) as (keyof typeof BODIES)[]) {
    app.post(
      `/personnel-events/${path}`,
      {
        config: NEEDS,
        schema: {
          tags: TAGS,
          summary: CREATE_SUMMARY[path],
          description:
            'Needs manage-personnel-events. 201 with the event and its preview; 200 with the existing event when the same message was sent before (same Idempotency-Key, or the same identity, type and effective date). ?dryRun=true returns only the preview and writes nothing. 400 naming the field (a date that does not exist, an end date not after the effective date); 409 naming the event in the way (an offboarded identity, a pending offboarding, an overlapping leave).',
          headers: IdempotencyHeaders,
          querystring: CreateQuery,
          body: BODIES[path],
          response: { 201: Written(Created), 200: Type.Union([Created, DryRun]) },
        },
      },
      async (request, reply) => {
        const result = await createPersonnelEvent(sd, actorOf(request), toInput(path, request.body as Record<string, unknown>), { dryRun: request.query.dryRun === true });
        if ('dryRun' in result) return reply.status(200).send(result);
        reply.header('location', `/api/v1/personnel-events/${result.event.id}`);
        reply.header('etag', etagOf(result.event.version));
        if (!result.created || result.revision === null) return reply.status(200).send({ ...result.event, preview: result.preview });
        return sendWritten(reply, 201, { ...result.event, preview: result.preview }, result.revision);
      },
    );
  }
  app.get(
    '/personnel-events',
    { config: NEEDS, schema: { tags: TAGS, summary: 'List personnel events in number order (cursor-paged)', querystring: ListEventsQuery, response: { 200: PageOf(EventSchema) } } },
    async (request) => pagePersonnelEvents(sd, actorOf(request), request.query),
  );
  app.get(
    '/personnel-events/:id',
    {
      config: NEEDS,
      schema: {
        tags: TAGS,
        summary: 'Get a personnel event with its stages, comments, activity and the preview it was created with',
        description: 'With its ETag (the event\'s `version`), for If-Match on PATCH.',
        params: IdParams,
        response: { 200: Created },
      },
    },
    async (request, reply) => {
      const event = await getPersonnelEvent(sd, actorOf(request), request.params.id);
      return sendWithEtag(reply, event, event.version);
    },
  );
  app.get(
    '/personnel-events/:id/preview',
    {
      config: NEEDS,
      schema: { tags: TAGS, summary: 'What the event will change', description: 'Recomputed from the current state until the event takes effect; afterwards the preview it was created with (the stages show what was done).', params: IdParams, response: { 200: PreviewSchema } },
    },
    async (request) => previewPersonnelEvent(sd, actorOf(request), request.params.id),
  );
  app.patch(
    '/personnel-events/:id',
    {
      config: NEEDS,
      schema: {
        tags: TAGS,
        summary: "Move a leave of absence's return date",
        description:
          'Only `endDate` of a leave of absence, while its return (Restore) has not run: the return is re-planned to the new date (a plain date is midnight in the tenant time zone; a date already past makes it due at once). ' +
          '400 naming `endDate` when it is not after the effective date or does not exist; 409 for another event type, a closed event, a return that already ran, or a leave that would overlap another (naming it). ' +
          'With `If-Match` (the ETag of a GET), 412 when the event changed since (a stage ran, the date was moved).',
        params: IdParams,
        headers: IfMatchHeaders,
        body: Type.Object({ endDate: Type.String({ minLength: 1, maxLength: 40, examples: ['2026-04-30'], description: 'The new return date: a plain date or an ISO 8601 time' }) }, { additionalProperties: false }),
        response: { 200: Written(EventSchema) },
      },
    },
    async (request, reply) => {
      const { event, revision } = await changeLeaveReturn(sd, actorOf(request), request.params.id, request.body, request.headers['if-match']);
      reply.header('etag', etagOf(event.version));
      return sendWritten(reply, 200, event, revision);
    },
  );
  app.post(
    '/personnel-events/:id/cancel',
    {
      config: NEEDS,
      schema: {
        tags: TAGS,
        summary: 'Cancel a personnel event before its effective date',
        description: '409 once the event took effect (or finished).',
        params: IdParams,
        body: Type.Optional(Type.Object({ comment }, { additionalProperties: false })),
        response: { 200: Written(EventSchema) },
      },
    },
    async (request, reply) => {
      const { event, revision } = await cancelPersonnelEvent(sd, actorOf(request), request.params.id, request.body?.comment ?? null);
      reply.header('etag', etagOf(event.version));
      return sendWritten(reply, 200, event, revision);
    },
  );
  app.post(
    '/personnel-events/:id/comments',
    {
      config: NEEDS,
      schema: { tags: TAGS, summary: 'Comment on a personnel event', params: IdParams, body: Type.Object({ comment: Text(4000, 'The comment') }, { additionalProperties: false }), response: { 201: Created } },
    },
    async (request, reply) => reply.status(201).send(await commentOnPersonnelEvent(sd, actorOf(request), request.params.id, request.body.comment)),
  );
}
