/** `/assignments` (with pause, resume, revoke and delegate) and `/assignment-rules`. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { changeAssignmentState, createAssignment, delegateAssignment, getAssignment, listAssignments, type StateAction, createAssignmentRule, deleteAssignmentRule, getAssignmentRule, listAssignmentRules, updateAssignmentRule } from '../../services/access/index.ts';
import { actorOf, sendWritten } from '../request-context.ts';
import { AUTHENTICATED, needs } from '../route-auth.ts';
import { SodExceptionBody } from './sod.ts';
import { Assignee, Assignment, AssignmentRule, Context, DateTime, Id, Resource, Revision, RuleBody, RuleCondition } from './access-schemas.ts';

const IdParams = Type.Object({ id: Id });
const Written = (schema: typeof Assignment) => Type.Intersect([schema, Type.Object({ revision: Revision })]);
const Reason = Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()]));

export function registerAssignmentRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.post(
    '/assignments',
    {
      config: needs('manage-users'),
      schema: {
        tags: ['Access'],
        summary: 'Assign a permission or role to an identity or organization unit',
        description:
          'Checked against the separation-of-duties policies on effective access (roles and unit inheritance included): a conflict with a `block` policy is a 409 `conflict` ' +
          '(`reason: sod_conflict`, naming the policy and the conflicting access); with a `require_exception` policy a 409 (`reason: sod_exception_required`) unless the body carries ' +
          '`sodException {reason, expiresAt}` (needs approve-requests), which is then recorded and audited.',
        body: Type.Object(
          {
            assignee: Assignee,
            resource: Resource,
            context: Type.Optional(Context),
            source: Type.Optional(Type.Union([Type.Literal('direct'), Type.Literal('request')])),
            validFrom: Type.Optional(Type.Union([DateTime, Type.Null()])),
            validTo: Type.Optional(Type.Union([DateTime, Type.Null()])),
            reason: Reason,
            sodException: Type.Optional(SodExceptionBody),
          },
          { additionalProperties: false },
        ),
        response: { 201: Written(Assignment) },
      },
    },
    async (request, reply) => {
      const { assignment, revision } = await createAssignment(sd, actorOf(request), request.body);
      return sendWritten(reply, 201, assignment, revision);
    },
  );
  app.get(
    '/assignments',
    {
      config: AUTHENTICATED,
      schema: {
        tags: ['Access'],
        summary: 'List assignments (cursor-paged, ordered by id)',
        description:
          'With manage-users or read-permissions-any-application: any assignments of the tenant. Without them, a caller acting as an identity lists its own: ' +
          '`assigneeId` must be its identity (and `assigneeType` identity or absent), e.g. to choose one to delegate; any other filter is a 403.',
        querystring: Type.Object({
          assigneeType: Type.Optional(Type.Union([Type.Literal('identity'), Type.Literal('orgUnit')])),
          assigneeId: Type.Optional(Id),
          resourceType: Type.Optional(Type.Union([Type.Literal('permission'), Type.Literal('role')])),
          resourceId: Type.Optional(Id),
          state: Type.Optional(Type.Union([Type.Literal('active'), Type.Literal('paused'), Type.Literal('revoked')])),
          source: Type.Optional(Type.Union([Type.Literal('direct'), Type.Literal('rule'), Type.Literal('delegation'), Type.Literal('request')])),
          ruleId: Type.Optional(Id),
          delegatedFromId: Type.Optional(Id),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500 })),
          cursor: Type.Optional(Type.String({ maxLength: 400 })),
        }),
        response: {
          200: Type.Object({
            items: Type.Array(Type.Intersect([Assignment, Type.Object({ resourceName: Type.Union([Type.String(), Type.Null()], { description: "The permission's or role's name" }) })])),
            nextCursor: Type.Union([Type.String(), Type.Null()]),
          }),
        },
      },
    },
    async (request) => listAssignments(sd, actorOf(request), request.query),
  );
  app.get(
    '/assignments/:id',
    {
      config: AUTHENTICATED,
      schema: { tags: ['Access'], summary: 'An assignment (managers, readers of access, or its delegator)', params: IdParams, response: { 200: Assignment } },
    },
    async (request) => getAssignment(sd, actorOf(request), request.params.id),
  );
  for (const action of ['pause', 'resume', 'revoke'] as StateAction[]) {
    app.post(
      `/assignments/:id/${action}`,
      {
        config: AUTHENTICATED,
        schema: {
          tags: ['Access'],
          summary: `${action[0]!.toUpperCase()}${action.slice(1)} an assignment (manage-users, or the delegator of a delegation)`,
          params: IdParams,
          body: Type.Optional(Type.Object({ reason: Reason }, { additionalProperties: false })),
          response: { 200: Written(Assignment) },
        },
      },
      async (request, reply) => {
        const { assignment, revision } = await changeAssignmentState(sd, actorOf(request), request.params.id, action, request.body?.reason);
        return sendWritten(reply, 200, assignment, revision);
      },
    );
  }
  app.post(
    '/assignments/:id/delegate',
    {
      config: AUTHENTICATED,
      schema: {
        tags: ['Access'],
        summary: "Delegate what this assignment gives the caller's identity to another identity",
        description:
          'Self-service delegation: only a delegable permission (or a role whose permissions are all delegable), no wider than the source in context and time. ' +
          "The delegation counts only while the source counts for the delegator.",
        params: IdParams,
        body: Type.Object(
          {
            assigneeId: Id,
            resource: Type.Optional(Resource),
            context: Type.Optional(Context),
            validFrom: Type.Optional(Type.Union([DateTime, Type.Null()])),
            validTo: Type.Optional(Type.Union([DateTime, Type.Null()])),
            reason: Reason,
          },
          { additionalProperties: false },
        ),
        response: { 201: Written(Assignment) },
      },
    },
    async (request, reply) => {
      const { assignment, revision } = await delegateAssignment(sd, actorOf(request), request.params.id, request.body);
      return sendWritten(reply, 201, assignment, revision);
    },
  );

  // ---- assignment rules ----
  const RuleWritten = Type.Intersect([AssignmentRule, Type.Object({ revision: Revision })]);
  app.post(
    '/assignment-rules',
    {
      config: needs('manage-users'),
      schema: { tags: ['Access'], summary: 'Create an assignment rule (applied at once to matching identities)', body: RuleBody, response: { 201: RuleWritten } },
    },
    async (request, reply) => {
      const { rule, revision } = await createAssignmentRule(sd, actorOf(request), request.body);
      return sendWritten(reply, 201, rule, revision);
    },
  );
  app.get(
    '/assignment-rules',
    {
      config: needs('manage-users', 'read-permissions-any-application'),
      schema: { tags: ['Access'], summary: 'List assignment rules', response: { 200: Type.Object({ items: Type.Array(AssignmentRule) }) } },
    },
    async (request) => ({ items: await listAssignmentRules(sd, actorOf(request)) }),
  );
  app.get(
    '/assignment-rules/:id',
    {
      config: needs('manage-users', 'read-permissions-any-application'),
      schema: { tags: ['Access'], summary: 'An assignment rule', params: IdParams, response: { 200: AssignmentRule } },
    },
    async (request) => getAssignmentRule(sd, actorOf(request), request.params.id),
  );
  app.patch(
    '/assignment-rules/:id',
    {
      config: needs('manage-users'),
      schema: {
        tags: ['Access'],
        summary: 'Change an assignment rule (re-evaluated at once)',
        params: IdParams,
        body: Type.Object(
          {
            name: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
            description: Type.Optional(Type.Union([Type.String({ maxLength: 2000 }), Type.Null()])),
            condition: Type.Optional(RuleCondition),
            resources: Type.Optional(Type.Array(Resource, { minItems: 1, maxItems: 50 })),
            context: Type.Optional(Context),
            enabled: Type.Optional(Type.Boolean()),
          },
          { additionalProperties: false },
        ),
        response: { 200: RuleWritten },
      },
    },
    async (request, reply) => {
      const { rule, revision } = await updateAssignmentRule(sd, actorOf(request), request.params.id, request.body);
      return sendWritten(reply, 200, rule, revision);
    },
  );
  app.delete(
    '/assignment-rules/:id',
    {
      config: needs('manage-users'),
      schema: { tags: ['Access'], summary: 'Delete an assignment rule; its assignments are revoked', params: IdParams, response: { 200: Type.Object({ revision: Revision }) } },
    },
    async (request, reply) => {
      const { revision } = await deleteAssignmentRule(sd, actorOf(request), request.params.id);
      return sendWritten(reply, 200, {}, revision);
    },
  );
}
