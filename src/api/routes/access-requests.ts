/** `/access-requests`: ask for access, approve or reject it, cancel it, comment on it. */
import type { App, RouteDeps } from '../deps.ts';
import { cancelAccessRequest, commentOnAccessRequest, createAccessRequest, decideAccessRequest, getAccessRequest, listAccessRequests } from '../../services/requests/index.ts';
import { actorOf, sendWritten } from '../request-context.ts';
import { AUTHENTICATED } from '../route-auth.ts';
import { IdParams, IdempotencyHeaders, PageOf, Written } from '../schemas.ts';
import { CommentBody, CommentRequired, CreateRequest, RequestDetail, RequestListQuery, RequestSummary } from './workflow-schemas.ts';

const tags = ['Access requests'];

export function registerAccessRequestRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;

  app.post(
    '/access-requests',
    {
      config: AUTHENTICATED,
      schema: {
        tags,
        summary: 'Request access (add, change, remove, suspend, restore)',
        description:
          'For oneself, a direct report, a unit one manages, or anyone with `manage-users` or `approve-requests`. `add` needs `resource` and `targetIdentityId` or `targetOrgUnitId`, and a requestable permission or role (422 otherwise); ' +
          'the other actions name the assignment by `assignmentId` or by target, resource and context. A request that would change nothing is 422 with `reason` ' +
          '(already held, no such assignment, ...). The approval steps come from the most specific approval policy; a request nothing needs to approve is carried out at once.',
        headers: IdempotencyHeaders,
        body: CreateRequest,
        response: { 201: Written(RequestDetail) },
      },
    },
    async (request, reply) => {
      const { value, revision } = await createAccessRequest(sd, actorOf(request), request.body as Parameters<typeof createAccessRequest>[2]);
      reply.header('location', `/api/v1/access-requests/${value.id}`);
      return sendWritten(reply, 201, value, revision);
    },
  );

  app.get(
    '/access-requests',
    {
      config: AUTHENTICATED,
      schema: { tags, summary: 'List access requests (newest first, cursor-paged)', description: 'Holders of `manage-users` or `approve-requests` see every request; others their own (as requester or target).', querystring: RequestListQuery, response: { 200: PageOf(RequestSummary) } },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return listAccessRequests(sd, actorOf(request), filter, { limit, cursor });
    },
  );

  app.get(
    '/access-requests/:id',
    { config: AUTHENTICATED, schema: { tags, summary: 'One access request with its steps, comments, activity and provisioning', params: IdParams, response: { 200: RequestDetail } } },
    async (request) => getAccessRequest(sd, actorOf(request), request.params.id),
  );

  for (const decision of ['approve', 'reject'] as const) {
    app.post(
      `/access-requests/:id/${decision}`,
      {
        config: AUTHENTICATED,
        schema: {
          tags,
          summary: decision === 'approve' ? "Approve the caller's task in the open step" : 'Reject the request',
          description: 'Only a current approver of the open step, never the requester or the target (403). A closed request, or a step already decided (also by a concurrent call), is 409.',
          params: IdParams,
          body: CommentBody,
          response: { 200: Written(RequestDetail) },
        },
      },
      async (request, reply) => {
        const { value, revision } = await decideAccessRequest(sd, actorOf(request), request.params.id, decision, request.body?.comment ?? null);
        return sendWritten(reply, 200, value, revision);
      },
    );
  }

  app.post(
    '/access-requests/:id/cancel',
    { config: AUTHENTICATED, schema: { tags, summary: 'Cancel a pending or scheduled request', description: 'The requester, or a holder of `manage-users` or `approve-requests`. Otherwise closed: 409.', params: IdParams, body: CommentBody, response: { 200: Written(RequestDetail) } } },
    async (request, reply) => {
      const { value, revision } = await cancelAccessRequest(sd, actorOf(request), request.params.id, request.body?.comment ?? null);
      return sendWritten(reply, 200, value, revision);
    },
  );

  app.post(
    '/access-requests/:id/comments',
    { config: AUTHENTICATED, schema: { tags, summary: 'Comment on a request', params: IdParams, body: CommentRequired, response: { 201: Written(RequestDetail) } } },
    async (request, reply) => {
      const { value, revision } = await commentOnAccessRequest(sd, actorOf(request), request.params.id, request.body.comment);
      return sendWritten(reply, 201, value, revision);
    },
  );
}
