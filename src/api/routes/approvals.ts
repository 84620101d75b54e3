/** `/approvals`: the caller's inbox of open approval tasks, and deciding one. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { approvalInbox, decideApprovalTask } from '../../services/workflow/index.ts';
import { actorOf, sendWritten } from '../request-context.ts';
import { AUTHENTICATED } from '../route-auth.ts';
import { IdParams, Written } from '../schemas.ts';
import { CommentBody, InboxItem } from './workflow-schemas.ts';

const tags = ['Approvals'];
const Decided = Type.Object({
  taskId: Type.String(),
  kind: Type.String(),
  subjectId: Type.String({ description: 'The access request or personnel event' }),
  outcome: Type.String({ description: 'approved (the last step), rejected, or open (more approvals or steps to come)' }),
});

export function registerApprovalRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;

  app.get(
    '/approvals',
    {
      config: AUTHENTICATED,
      schema: {
        tags,
        summary: "The caller's open approval tasks, oldest due first",
        querystring: Type.Object({ kind: Type.Optional(Type.Union([Type.Literal('access_request'), Type.Literal('personnel_event')])), limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000, default: 1000 })) }, { additionalProperties: false }),
        response: { 200: Type.Object({ items: Type.Array(InboxItem) }) },
      },
    },
    async (request) => approvalInbox(sd, actorOf(request), request.query),
  );

  for (const decision of ['approve', 'reject'] as const) {
    app.post(
      `/approvals/:id/${decision}`,
      {
        config: AUTHENTICATED,
        schema: {
          tags,
          summary: `${decision === 'approve' ? 'Approve' : 'Reject'} one of the caller's tasks`,
          description: "The same as deciding its request or event. Another's or an unknown task is 404; a task no longer open (decided, withdrawn when its step was decided) is 409.",
          params: IdParams,
          body: CommentBody,
          response: { 200: Written(Decided) },
        },
      },
      async (request, reply) => {
        const { value, revision } = await decideApprovalTask(sd, actorOf(request), request.params.id, decision, request.body?.comment ?? null);
        return sendWritten(reply, 200, { taskId: request.params.id, ...value }, revision);
      },
    );
  }
}
