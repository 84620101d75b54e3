/**
 * Permission Assist personnel events (COMPAT.md §2): list, read, and create onboarding,
 * offboarding, role transition and leave of absence events from HR systems, in the vendor's
 * shapes. They are Grantory's personnel events (src/services/personnel): the same stages,
 * scheduler and record; an event created with a token has the token's name as its reporter.
 */
import { Type, type Static } from '@sinclair/typebox';
import type { App, RouteDeps } from '../../deps.ts';
import { AppError } from '../../../domain/errors.ts';
import { actorOf } from '../../request-context.ts';
import { needs } from '../../route-auth.ts';
import { createPersonnelEvent, getPersonnelEvent, listPersonnelEvents, type EventDetail, type EventType, type IdentityChanges } from '../../../services/personnel/index.ts';
import { paPage, PA_PAGE_SIZE } from './mapping.ts';

const tags = ['Permission Assist profile'];
const NEEDS = needs('manage-personnel-events');
const Guid = Type.String({ minLength: 1, maxLength: 64, description: 'GUID' });
const Text = Type.Union([Type.String(), Type.Null()]);
const Field = (maxLength = 200) => Type.Optional(Type.Union([Type.String({ maxLength }), Type.Null()]));
const DateText = Type.String({ minLength: 1, maxLength: 40, description: '2026-03-15 (midnight in the tenant time zone) or a full ISO 8601 time' });

const TYPES: Record<EventType, string> = { onboard: 'Onboard', offboard: 'Offboard', role_transition: 'Role Transition', leave_of_absence: 'Absence' };
const STATUSES: Record<string, string> = { pending_approval: 'Pending', scheduled: 'Scheduled', in_progress: 'In Progress', completed: 'Completed', canceled: 'Canceled', failed: 'Failed' };
const STAGE_STATUSES: Record<string, string> = { pending: 'Pending', in_progress: 'In Progress', completed: 'Completed', failed: 'Failed', canceled: 'Canceled' };
const PA_IDENTITY_TYPES: Record<string, string> = { employee: 'employee', serviceaccount: 'service', vendor: 'vendor', temporary: 'contractor', contractor: 'contractor' };

const identityFields = {
  email: Type.Optional(Type.Union([Type.String({ maxLength: 254, format: 'email' }), Type.Null()])),
  supervisorId: Type.Optional(Type.Union([Guid, Type.Null()])),
  company: Field(),
  division: Field(),
  department: Field(),
  office: Field(),
  title: Field(),
  identityType: Field(50),
  orgUnitId: Type.Optional(Type.Union([Guid, Type.Null()], { description: 'Grantory extension: the organization unit' })),
};
const PaJoiner = Type.Object({ firstName: Type.String({ minLength: 1, maxLength: 200 }), lastName: Type.String({ minLength: 1, maxLength: 200 }), ...identityFields }, { additionalProperties: false });
const PaChanges = Type.Object({ firstName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), lastName: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })), ...identityFields }, { additionalProperties: false });
const comment = Type.Optional(Type.Union([Type.String({ maxLength: 4000 }), Type.Null()]));
const BODIES = {
  onboard: Type.Object({ identity: PaJoiner, effectiveDate: DateText, comment }, { additionalProperties: false }),
  offboard: Type.Object({ identityId: Guid, effectiveDate: DateText, comment }, { additionalProperties: false }),
  'role-transition': Type.Object({ identityId: Guid, effectiveDate: DateText, endDate: Type.Optional(Type.Union([DateText, Type.Null()])), identity: PaChanges, comment }, { additionalProperties: false }),
  'leave-of-absence': Type.Object({ identityId: Guid, effectiveDate: DateText, endDate: Type.Optional(Type.Union([DateText, Type.Null()])), comment }, { additionalProperties: false }),
} as const;
const TYPE_OF: Record<keyof typeof BODIES, EventType> = { onboard: 'onboard', offboard: 'offboard', 'role-transition': 'role_transition', 'leave-of-absence': 'leave_of_absence' };

const open = { additionalProperties: true };
const Entry = Type.Object({ date: Type.String(), user: Text, text: Type.String() });
export const PaPersonnelEvent = Type.Object(
  {
    id: Type.String(),
    kind: Type.Literal('Personnel Event'),
    number: Type.Integer(),
    type: Type.String({ description: 'Onboard, Offboard, Role Transition or Absence' }),
    status: Type.String({ description: 'Pending, Scheduled, In Progress, Completed, Canceled or Failed' }),
    reporter: Text,
    affectedIdentity: Text,
    affectedIdentityId: Text,
    neededOn: Type.String(),
    neededUntil: Text,
    completedOn: Text,
    createdDate: Type.String(),
    updatedDate: Type.String(),
    stages: Type.Array(Type.Object({ name: Type.String(), status: Type.String(), startedOn: Text, completedOn: Text, detail: Type.Union([Type.Object({}, open), Type.Null()]) })),
    activity: Type.Array(Entry),
    comments: Type.Array(Entry),
  },
  open,
);

function toPaEvent(e: EventDetail): Static<typeof PaPersonnelEvent> {
  const entry = (x: EventDetail['activity'][number]) => ({ date: x.at, user: x.actor.name, text: x.text });
  return {
    id: e.id,
    kind: 'Personnel Event',
    number: e.number,
    type: TYPES[e.type],
    status: STATUSES[e.status] ?? e.status,
    reporter: e.reporter.name,
    affectedIdentity: e.identityName,
    affectedIdentityId: e.identityId,
    neededOn: e.effectiveDate,
    neededUntil: e.endDate,
    completedOn: e.completedAt,
    createdDate: e.createdAt,
    updatedDate: e.updatedAt,
    stages: e.stages.map((s) => ({ name: s.name, status: STAGE_STATUSES[s.status] ?? s.status, startedOn: s.startedAt, completedOn: s.completedAt, detail: s.detail })),
    activity: e.activity.map(entry),
    comments: e.comments.map(entry),
  };
}

/** The vendor's identity fields as Grantory's: the descriptive ones are attributes. */
function changesOf(given: Static<typeof PaChanges> | undefined): IdentityChanges | undefined {
  if (!given) return undefined;
  const attributes: Record<string, string | null> = {};
  for (const k of ['company', 'division', 'department', 'office', 'title'] as const) if (given[k] !== undefined) attributes[k] = given[k] || null;
  let type: string | undefined;
  if (given.identityType) {
    type = PA_IDENTITY_TYPES[given.identityType.toLowerCase().replace(/[\s_-]/g, '')] ?? 'other';
  }
  return {
    firstName: given.firstName,
    lastName: given.lastName,
    email: given.email,
    managerId: given.supervisorId,
    orgUnitId: given.orgUnitId,
    type,
    attributes: Object.keys(attributes).length ? attributes : undefined,
  };
}

function typeFilter(value: string | undefined): EventType | undefined {
  if (value === undefined) return undefined;
  const key = value.toLowerCase().replace(/[\s_-]/g, '');
  const found = (Object.keys(TYPES) as EventType[]).find((t) => TYPES[t].toLowerCase().replace(/\s/g, '') === key || t.replace(/_/g, '') === key || (t === 'leave_of_absence' && key === 'leaveofabsence'));
  if (!found) throw new AppError('validation_failed', 'type must be Onboard, Offboard, Role Transition or Absence', { errors: [{ field: 'type', message: 'must be Onboard, Offboard, Role Transition or Absence' }] });
  return found;
}

function statusFilter(value: string | undefined): string | undefined {
  if (value === undefined) return undefined;
  const key = value.toLowerCase().replace(/[\s_-]/g, '');
  const found = Object.keys(STATUSES).find((s) => STATUSES[s]!.toLowerCase().replace(/\s/g, '') === key || s.replace(/_/g, '') === key);
  if (!found) throw new AppError('validation_failed', `status must be one of ${Object.values(STATUSES).join(', ')}`, { errors: [{ field: 'status', message: `must be one of ${Object.values(STATUSES).join(', ')}` }] });
  return found;
}

export function registerPaPersonnelEventRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.get(
    '/api/personnel-events',
    {
      config: NEEDS,
      schema: {
        tags,
        summary: 'Personnel events (Permission Assist)',
        querystring: Type.Object({
          page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
          pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: PA_PAGE_SIZE })),
          identityId: Type.Optional(Guid),
          type: Type.Optional(Type.String({ maxLength: 50, description: 'Onboard, Offboard, Role Transition or Absence (case-insensitive)' })),
          status: Type.Optional(Type.String({ maxLength: 50, description: 'case-insensitive' })),
        }),
        response: { 200: Type.Object({ items: Type.Array(PaPersonnelEvent), totalCount: Type.Integer(), page: Type.Integer(), pageSize: Type.Integer(), totalPages: Type.Integer() }) },
      },
    },
    async (request) => {
      const page = request.query.page ?? 1;
      const size = request.query.pageSize ?? PA_PAGE_SIZE;
      const { items, total } = await listPersonnelEvents(sd, actorOf(request), {
        identityId: request.query.identityId,
        type: typeFilter(request.query.type),
        status: statusFilter(request.query.status),
        offset: (page - 1) * size,
        limit: size,
      });
      return paPage(items.map(toPaEvent), total, page, size);
    },
  );
  app.get(
    '/api/personnel-events/:id',
    { config: NEEDS, schema: { tags, summary: 'One personnel event with its stages, activity and comments (Permission Assist)', params: Type.Object({ id: Guid }), response: { 200: PaPersonnelEvent } } },
    async (request) => toPaEvent(await getPersonnelEvent(sd, actorOf(request), request.params.id)),
  );
  for (const path of Object.keys(BODIES) as (keyof typeof BODIES)[]) {
    app.post(
      `/api/personnel-events/${path}`,
      { config: NEEDS, schema: { tags, summary: `Create a ${path.replace(/-/g, ' ')} personnel event (Permission Assist)`, body: BODIES[path], response: { 201: PaPersonnelEvent } } },
      async (request, reply) => {
        const body = request.body as { identityId?: string; identity?: Static<typeof PaChanges>; effectiveDate: string; endDate?: string | null; comment?: string | null };
        const result = await createPersonnelEvent(sd, actorOf(request), {
          type: TYPE_OF[path],
          identityId: body.identityId,
          identity: changesOf(body.identity),
          effectiveDate: body.effectiveDate,
          endDate: body.endDate,
          comment: body.comment,
        });
        if ('dryRun' in result) throw new AppError('internal_error', 'a dry run was not asked for');
        return reply.status(201).send(toPaEvent(result.event));
      },
    );
  }
}
