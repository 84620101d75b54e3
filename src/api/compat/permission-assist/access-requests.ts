/**
 * Permission Assist access requests (COMPAT.md §2): `GET /api/access-requests` (filters
 * `identityId`, `applicationId`, `status`, `type`, case-insensitive; 50 a page from `?page=1`)
 * and `GET /api/access-requests/{id}` in the vendor's shapes. The status mapping is written
 * in docs/access-requests.md ("Permission Assist profile"): pending → Pending, open → Open, scheduled →
 * Scheduled, completed → Completed, rejected and failed → Resolved, canceled → Canceled
 * (Snoozed is never produced; filtering on it finds nothing).
 */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../../deps.ts';
import { AppError } from '../../../domain/errors.ts';
import { actorOf } from '../../request-context.ts';
import { AUTHENTICATED } from '../../route-auth.ts';
import { getAccessRequest, listAccessRequestsByPage, type AccessRequestSummary, type AccessRequestView } from '../../../services/requests/index.ts';
import { PA_PAGE_SIZE, paPage } from './mapping.ts';

const tags = ['Permission Assist profile'];
const open = { additionalProperties: true };

export const PA_REQUEST_STATUS: Record<string, string> = {
  pending: 'Pending',
  open: 'Open',
  scheduled: 'Scheduled',
  completed: 'Completed',
  rejected: 'Resolved',
  failed: 'Resolved',
  canceled: 'Canceled',
};
/** The native statuses a vendor status filter names (lower-cased; `cancelled` accepted too). */
const NATIVE_STATUSES: Record<string, string[]> = {
  pending: ['pending'],
  open: ['open'],
  scheduled: ['scheduled'],
  completed: ['completed'],
  resolved: ['rejected', 'failed'],
  canceled: ['canceled'],
  cancelled: ['canceled'],
  snoozed: ['snoozed'],
};
const ACTIONS = ['add', 'change', 'remove', 'suspend', 'restore'];
const PROVISIONING: Record<string, string> = { not_needed: 'Not Needed', pending: 'Pending', provisioned: 'Provisioned', verified: 'Verified', failed: 'Failed' };
const capitalized = (s: string) => s.charAt(0).toUpperCase() + s.slice(1);

const PaAccessRequest = Type.Object(
  {
    id: Type.String(),
    kind: Type.Literal('Access Request'),
    number: Type.Integer(),
    action: Type.String({ description: 'Add, Change, Remove, Suspend, Restore' }),
    status: Type.String({ description: 'Pending, Open, Resolved, Completed, Canceled, Scheduled (Snoozed is never produced)' }),
    reporter: Type.Union([Type.String(), Type.Null()]),
    assignee: Type.Union([Type.String(), Type.Null()]),
    target: Type.Object({ type: Type.String({ description: 'User or Group' }), name: Type.Union([Type.String(), Type.Null()]), affectedIdentity: Type.Union([Type.Object({ id: Type.String(), name: Type.Union([Type.String(), Type.Null()]) }), Type.Null()]) }),
    createdDate: Type.String(),
    updatedDate: Type.String(),
  },
  open,
);

const PaAccessRequestDetail = Type.Intersect([
  PaAccessRequest,
  Type.Object(
    {
      privileges: Type.Array(Type.Object({}, open)),
      activityLog: Type.Array(Type.Object({}, open)),
      comments: Type.Array(Type.Object({}, open)),
      approvalHistory: Type.Array(Type.Object({}, open)),
      provisioningStatus: Type.String(),
      provisioning: Type.Object({}, open),
      relatedReviewItems: Type.Array(Type.Object({}, open)),
    },
    open,
  ),
]);

function toPaRequest(r: AccessRequestSummary, assignee: string | null) {
  return {
    id: r.id,
    kind: 'Access Request' as const,
    number: r.number,
    action: capitalized(r.action),
    status: PA_REQUEST_STATUS[r.status] ?? 'Pending',
    reporter: r.requesterName,
    assignee,
    target: {
      type: r.target.type === 'identity' ? 'User' : 'Group',
      name: r.target.name,
      affectedIdentity: r.target.type === 'identity' ? { id: r.target.id, name: r.target.name } : null,
    },
    justification: r.justification,
    neededOn: r.validFrom,
    neededUntil: r.validTo,
    completedOn: r.status === 'completed' ? r.closedAt : null,
    createdDate: r.createdAt,
    updatedDate: r.updatedAt,
  };
}

function toPaDetail(v: AccessRequestView) {
  const open = v.steps.find((s) => s.status === 'open');
  const assignee = open ? open.approvers.filter((a) => a.status === 'open').map((a) => a.name ?? a.identityId).join(', ') || null : null;
  return {
    ...toPaRequest(v, assignee),
    privileges: [{ id: v.resource.id, kind: v.resource.type === 'role' ? 'Role' : 'Permission', name: v.resource.name, applicationId: v.applicationId, context: v.context, validFrom: v.validFrom, validTo: v.validTo }],
    activityLog: v.activity.map((e) => ({ date: e.at, actor: e.actor.name, message: e.text })),
    comments: v.comments.map((e) => ({ date: e.at, author: e.actor.name, text: e.text })),
    approvalHistory: v.steps.flatMap((s) =>
      s.approvers.filter((a) => a.status === 'approved' || a.status === 'rejected').map((a) => ({ step: s.name, approver: a.name ?? a.identityId, decision: capitalized(a.status), date: a.decidedAt, comment: a.comment })),
    ),
    provisioningStatus: PROVISIONING[v.provisioning.status] ?? v.provisioning.status,
    provisioning: v.provisioning,
    relatedReviewItems: v.relatedReviewItems,
  };
}

function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field} ${message}`, { errors: [{ field, message }] });
}

export async function registerPaAccessRequests(app: App, deps: RouteDeps): Promise<void> {
  const sd = deps.services.deps;
  const Guid = Type.String({ minLength: 1, maxLength: 64, description: 'GUID' });

  app.get(
    '/api/access-requests',
    {
      config: AUTHENTICATED,
      schema: {
        tags,
        summary: 'Access requests, newest first (Permission Assist)',
        description: 'Filters are case-insensitive: `status` (Pending, Open, Resolved, Completed, Canceled, Scheduled, Snoozed), `type` (Add, Change, Remove, Suspend, Restore), `identityId` (the affected identity), `applicationId`.',
        querystring: Type.Object({
          page: Type.Optional(Type.Integer({ minimum: 1, maximum: 1_000_000, default: 1 })),
          pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 100, default: PA_PAGE_SIZE })),
          identityId: Type.Optional(Guid),
          applicationId: Type.Optional(Guid),
          status: Type.Optional(Type.String({ maxLength: 40 })),
          type: Type.Optional(Type.String({ maxLength: 40 })),
        }),
        response: { 200: Type.Object({ items: Type.Array(PaAccessRequest), totalCount: Type.Integer(), page: Type.Integer(), pageSize: Type.Integer(), totalPages: Type.Integer() }) },
      },
    },
    async (request) => {
      const q = request.query;
      const page = q.page ?? 1;
      const size = q.pageSize ?? PA_PAGE_SIZE;
      const status = q.status === undefined ? undefined : NATIVE_STATUSES[q.status.toLowerCase()];
      if (q.status !== undefined && !status) throw invalid('status', 'must be one of Pending, Open, Resolved, Completed, Canceled, Scheduled, Snoozed');
      const action = q.type?.toLowerCase();
      if (action !== undefined && !ACTIONS.includes(action)) throw invalid('type', 'must be one of Add, Change, Remove, Suspend, Restore');
      const actor = actorOf(request);
      const { items, total, waitingFor } = await listAccessRequestsByPage(sd, actor, { status, action, targetIdentityId: q.identityId?.toLowerCase(), applicationId: q.applicationId?.toLowerCase() }, (page - 1) * size, size);
      return paPage(items.map((r) => toPaRequest(r, waitingFor.get(r.id)?.join(', ') ?? null)), total, page, size);
    },
  );

  app.get(
    '/api/access-requests/:id',
    { config: AUTHENTICATED, schema: { tags, summary: 'One access request with privileges, activity log, comments, approval history and provisioning status (Permission Assist)', params: Type.Object({ id: Guid }), response: { 200: PaAccessRequestDetail } } },
    async (request) => toPaDetail(await getAccessRequest(sd, actorOf(request), request.params.id.toLowerCase())),
  );
}
