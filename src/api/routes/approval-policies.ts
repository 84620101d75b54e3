/** `/approval-policies`: which approval steps an access request (or a personnel event) goes through. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { POLICY_READ_RIGHTS, createApprovalPolicy, deleteApprovalPolicy, getApprovalPolicy, listApprovalPolicies, updateApprovalPolicy } from '../../services/workflow/index.ts';
import { actorOf, sendWritten } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { IdParams, IdempotencyHeaders, PageOf, RevisionOnly, Written } from '../schemas.ts';
import { CreatePolicy, PatchPolicy, Policy } from './workflow-schemas.ts';

const tags = ['Approval policies'];
const rules =
  'Steps run in order; each names its approver kind (`manager`, `application_owner`, `identity`, `org_unit_manager`, `role_holders` — the last three with an `id`), ' +
  'a `quorum` (default 1), `dueDays` and `escalateTo` (`{identityId}` or `{step}`, another step\'s approvers). No steps, an unknown approver kind, a missing or unknown `id`, ' +
  'a quorum below 1 or escalations that form a cycle are 400 naming the field. The most specific policy applies: one naming the permission, then the role, ' +
  'then the application, then one with only `minRisk`, then a catch-all (no `appliesTo`); without one the application owner approves. ' +
  'Writing needs `manage-roles`; reading `manage-roles` or `approve-requests`.';

export function registerApprovalPolicyRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;

  app.post(
    '/approval-policies',
    { config: needs('manage-roles'), schema: { tags, summary: 'Create an approval policy', description: rules, headers: IdempotencyHeaders, body: CreatePolicy, response: { 201: Written(Policy) } } },
    async (request, reply) => {
      const { value, revision } = await createApprovalPolicy(sd, actorOf(request), { ...request.body, appliesTo: request.body.appliesTo ?? {} } as Parameters<typeof createApprovalPolicy>[2]);
      reply.header('location', `/api/v1/approval-policies/${value.id}`);
      return sendWritten(reply, 201, value, revision);
    },
  );

  app.get(
    '/approval-policies',
    {
      config: needs(...POLICY_READ_RIGHTS),
      schema: { tags, summary: 'List approval policies (by name, cursor-paged)', querystring: Type.Object({ limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 500, default: 50 })), cursor: Type.Optional(Type.String({ minLength: 1, maxLength: 1024 })) }, { additionalProperties: false }), response: { 200: PageOf(Policy) } },
    },
    async (request) => listApprovalPolicies(sd, actorOf(request), request.query),
  );

  app.get(
    '/approval-policies/:id',
    { config: needs(...POLICY_READ_RIGHTS), schema: { tags, summary: 'Get an approval policy', params: IdParams, response: { 200: Policy } } },
    async (request) => getApprovalPolicy(sd, actorOf(request), request.params.id),
  );

  app.patch(
    '/approval-policies/:id',
    { config: needs('manage-roles'), schema: { tags, summary: 'Change an approval policy', description: `Only the fields sent change; \`steps\` replaces the list. Requests already open keep the steps they started with. ${rules}`, params: IdParams, body: PatchPolicy, response: { 200: Written(Policy) } } },
    async (request, reply) => {
      const { value, revision } = await updateApprovalPolicy(sd, actorOf(request), request.params.id, request.body as Parameters<typeof updateApprovalPolicy>[3]);
      return sendWritten(reply, 200, value, revision);
    },
  );

  app.delete(
    '/approval-policies/:id',
    { config: needs('manage-roles'), schema: { tags, summary: 'Delete an approval policy', description: 'Requests already open keep the steps they started with.', params: IdParams, response: { 200: RevisionOnly } } },
    async (request, reply) => {
      const { revision } = await deleteApprovalPolicy(sd, actorOf(request), request.params.id);
      return sendWritten(reply, 200, {}, revision);
    },
  );
}
