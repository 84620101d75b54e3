/**
 * Reading access requests. Who sees a request: its requester, its target identity, anyone who
 * has (or had) an approval task on it, and holders of `manage-users` or `approve-requests`
 * (who see every request). For anyone else it does not exist (404), like another tenant's.
 */
import { notFound } from '../../domain/errors.ts';
import type { TenantDb } from '../../store/store.ts';
import { openPager, type Actor, type Page } from '../kernel/index.ts';
import { approvalSteps, journalOf, openApproverNames } from '../workflow/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { requestRef, toSummary, type AccessRequestSummary, type AccessRequestView, type RequestRow } from './model.ts';

export const seesEveryRequest = (actor: Actor): boolean => actor.caller.rights.has('manage-users') || actor.caller.rights.has('approve-requests');

/** The request row when the actor may see it; 404 otherwise. */
export async function visibleRow(scope: TenantDb, actor: Actor, id: string): Promise<RequestRow> {
  const row = await scope.db.selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('access request', id);
  if (seesEveryRequest(actor)) return row;
  const me = actor.caller.identityId;
  if (me && (row.requester_id === me || (row.target_type === 'identity' && row.target_id === me))) return row;
  if (me) {
    const task = await scope.db.selectFrom('approval_tasks').select('id').where('subject_id', '=', id).where('approver_id', '=', me).executeTakeFirst();
    if (task) return row;
  }
  throw notFound('access request', id);
}

async function namesOf(scope: TenantDb, rows: RequestRow[]): Promise<Map<string, string>> {
  const { db } = scope;
  const names = new Map<string, string>();
  const ids = (type: string, pick: (r: RequestRow) => string | null) => [...new Set(rows.filter((r) => pick(r) !== null && (type === '' || r.target_type === type || r.resource_type === type)).map((r) => pick(r)!))];
  const identityIds = ids('identity', (r) => (r.target_type === 'identity' ? r.target_id : null));
  const unitIds = ids('orgUnit', (r) => (r.target_type === 'orgUnit' ? r.target_id : null));
  const permIds = ids('permission', (r) => (r.resource_type === 'permission' ? r.resource_id : null));
  const roleIds = ids('role', (r) => (r.resource_type === 'role' ? r.resource_id : null));
  if (identityIds.length) for (const i of await db.selectFrom('identities').select(['id', 'display_name', 'username', 'email', 'first_name', 'last_name']).where('id', 'in', identityIds).execute()) names.set(i.id, i.display_name ?? ([i.first_name, i.last_name].filter(Boolean).join(' ') || (i.username ?? i.email ?? i.id)));
  if (unitIds.length) for (const u of await db.selectFrom('org_units').select(['id', 'name']).where('id', 'in', unitIds).execute()) names.set(u.id, u.name);
  if (permIds.length) for (const p of await db.selectFrom('permissions').select(['id', 'name']).where('id', 'in', permIds).execute()) names.set(p.id, p.name);
  if (roleIds.length) for (const r of await db.selectFrom('roles').select(['id', 'name']).where('id', 'in', roleIds).execute()) names.set(r.id, r.name);
  return names;
}

export async function summaries(scope: TenantDb, rows: RequestRow[]): Promise<AccessRequestSummary[]> {
  const names = await namesOf(scope, rows);
  return rows.map((r) => toSummary(r, { target: names.get(r.target_id) ?? null, resource: names.get(r.resource_id) ?? null }));
}

/** The full view: steps, comments, activity, provisioning, SoD findings. */
export async function requestView(scope: TenantDb, id: string): Promise<AccessRequestView> {
  const row = await scope.db.selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  return fullView(scope, row);
}

export async function fullView(scope: TenantDb, row: RequestRow): Promise<AccessRequestView> {
  const [summary] = await summaries(scope, [row]);
  const story = await journalOf(scope, requestRef(row.id));
  return { ...summary!, steps: await approvalSteps(scope, requestRef(row.id)), comments: story.comments, activity: story.activity, relatedReviewItems: await relatedReviewItems(scope, row.id) };
}

/** The access review items whose decision opened this request (the other half of the item's `requestId`). */
async function relatedReviewItems(scope: TenantDb, requestId: string): Promise<Record<string, unknown>[]> {
  const rows = await scope.db
    .selectFrom('review_items')
    .innerJoin('access_reviews', 'access_reviews.id', 'review_items.review_id')
    .select(['review_items.id', 'review_items.review_id', 'access_reviews.name', 'review_items.decision', 'review_items.comment', 'review_items.decided_by_name', 'review_items.decided_at'])
    .where('review_items.request_id', '=', requestId)
    .orderBy('review_items.id')
    .execute();
  return rows.map((r) => ({ id: r.id, reviewId: r.review_id, reviewName: r.name, decision: r.decision, comment: r.comment, decidedBy: r.decided_by_name, decidedAt: r.decided_at }));
}

export async function getAccessRequest(deps: ServiceDeps, actor: Actor, id: string): Promise<AccessRequestView> {
  const scope = deps.store.read(actor.caller.tenantId);
  return fullView(scope, await visibleRow(scope, actor, id));
}

export interface RequestFilter {
  /** One status, or several (the Permission Assist profile's Resolved is rejected or failed). */
  status?: string | string[] | undefined;
  targetIdentityId?: string | undefined;
  targetOrgUnitId?: string | undefined;
  applicationId?: string | undefined;
  requesterId?: string | undefined;
  action?: string | undefined;
}

/** Newest first. Without `manage-users` or `approve-requests`, only the caller's own requests (as requester or target). */
export async function listAccessRequests(deps: ServiceDeps, actor: Actor, filter: RequestFilter, page: { limit?: number | undefined; cursor?: string | undefined }): Promise<Page<AccessRequestSummary>> {
  const scope = deps.store.read(actor.caller.tenantId);
  const pager = await openPager<number>(deps, scope.tenantId, 'access-requests', { ...filter, own: !seesEveryRequest(actor) }, page);
  let q = filtered(scope, actor, filter);
  if (pager.after !== null) q = q.where('number', '<', pager.after);
  const rows = await q.orderBy('number', 'desc').limit(pager.limit + 1).execute();
  const result = pager.page(rows, (r) => Number(r.number), (r) => r);
  return { items: await summaries(scope, result.items), nextCursor: result.nextCursor };
}

/** The filtered query (shared with the Permission Assist profile's page-numbered list). */
export function filtered(scope: TenantDb, actor: Actor, filter: RequestFilter) {
  let q = scope.db.selectFrom('access_requests').selectAll();
  if (typeof filter.status === 'string') q = q.where('status', '=', filter.status);
  else if (filter.status?.length) q = q.where('status', 'in', filter.status);
  if (filter.action) q = q.where('action', '=', filter.action);
  if (filter.targetIdentityId) q = q.where('target_type', '=', 'identity').where('target_id', '=', filter.targetIdentityId);
  if (filter.targetOrgUnitId) q = q.where('target_type', '=', 'orgUnit').where('target_id', '=', filter.targetOrgUnitId);
  if (filter.applicationId) q = q.where('application_id', '=', filter.applicationId);
  if (filter.requesterId) q = q.where('requester_id', '=', filter.requesterId);
  if (!seesEveryRequest(actor)) {
    const me = actor.caller.identityId ?? '';
    q = q.where((eb) => eb.or([eb('requester_id', '=', me), eb.and([eb('target_type', '=', 'identity'), eb('target_id', '=', me)])]));
  }
  return q;
}

/**
 * A page by number (Permission Assist: `?page=` from 1), the total, and for each request on
 * the page the names of the approvers its open tasks wait for (by request id).
 */
export async function listAccessRequestsByPage(
  deps: ServiceDeps,
  actor: Actor,
  filter: RequestFilter,
  offset: number,
  limit: number,
): Promise<{ items: AccessRequestSummary[]; total: number; waitingFor: Map<string, string[]> }> {
  const scope = deps.store.read(actor.caller.tenantId);
  const rows = await filtered(scope, actor, filter).orderBy('number', 'desc').offset(offset).limit(limit).execute();
  const count = await filtered(scope, actor, filter).clearSelect().select((eb) => eb.fn.countAll<number>().as('n')).executeTakeFirst();
  const waitingFor = await openApproverNames(scope, rows.map((r) => r.id));
  return { items: await summaries(scope, rows), total: Number(count?.n ?? 0), waitingFor };
}
