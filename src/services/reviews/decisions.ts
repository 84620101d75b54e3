/**
 * Reviewers' decisions: `certify`, `revoke` or `modify` (shorten the validity) one item or
 * many at once, and delegate an item to someone else. Only the item's reviewer decides it
 * (403 for anyone else), never about their own access, and only while the campaign is
 * active (409 once closed). A decision is final.
 *
 * A `revoke` opens a `remove` access request for the identity's own assignment behind the
 * item, in the same write as the decision, and the two are linked both ways (the item's
 * `requestId`, the request's `relatedReviewItems`); `modify` opens a `change` request with
 * the new `validTo`. When no assignment of the identity's own gives the access (it is
 * observed by an import only, inherited from a unit or given by a rule), the item records a
 * manual remediation saying what has to change instead.
 */
import { AppError, isAppError, notFound } from '../../domain/errors.ts';
import type { HeldVia } from '../../engine/queries.ts';
import type { WriteTx } from '../../store/store.ts';
import { systemActor, writeAs, type Actor } from '../kernel/index.ts';
import { openAccessRequest } from '../requests/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { REVIEW_MANAGE_RIGHTS, invalid, itemView, type Decision, type ItemRow, type ItemView, type ItemWhy, type ReviewRow } from './model.ts';

export const MAX_BULK = 500;

export interface DecisionInput {
  decision: Decision;
  comment?: string | null | undefined;
  validTo?: string | null | undefined;
}

const mayManage = (actor: Actor) => REVIEW_MANAGE_RIGHTS.some((r) => actor.caller.rights.has(r));

function checkInput(deps: ServiceDeps, input: DecisionInput): void {
  if (input.decision === 'modify') {
    if (!input.validTo) throw invalid('validTo', 'is required for modify (the new end of validity)');
    const at = Date.parse(input.validTo);
    if (Number.isNaN(at)) throw invalid('validTo', 'must be an ISO 8601 date-time');
    if (at <= deps.now().getTime()) throw invalid('validTo', 'must be in the future');
  } else if (input.validTo) throw invalid('validTo', 'is only given with modify');
  if (input.comment && input.comment.length > 2000) throw invalid('comment', 'must be at most 2000 characters');
}

async function itemRow(tx: WriteTx, id: string): Promise<ItemRow> {
  const row = await tx.db.selectFrom('review_items').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('review item', id);
  return row;
}

async function activeReview(tx: WriteTx, id: string): Promise<ReviewRow> {
  const review = await tx.db.selectFrom('access_reviews').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
  if (review.status !== 'active') throw new AppError('conflict', `access review ${review.id} is ${review.status}; decisions are taken while it is active`, { details: { reviewStatus: review.status } });
  return review;
}

/** Who may act on the item (decide, delegate): its reviewer, or for an item nobody can review, a campaign manager — never the identity under review. */
function requireReviewerOf(actor: Actor, item: ItemRow): void {
  const me = actor.caller.identityId;
  if (me !== null && item.identity_id === me) throw new AppError('forbidden', 'nobody reviews their own access', { details: { reason: 'own_access' } });
  if (me !== null && item.reviewer_id === me) return;
  if (item.reviewer_id === null && mayManage(actor)) return;
  throw new AppError('forbidden', `review item ${item.id} is not assigned to the caller; only its reviewer decides it`, { details: { reason: 'not_reviewer' } });
}

/** The identity's own assignments behind the item that a request can change (not a rule's, not a unit's). */
function ownAssignments(item: ItemRow): string[] {
  const why = JSON.parse(item.why) as ItemWhy;
  return (why.via as HeldVia[])
    .filter((v): v is Extract<HeldVia, { kind: 'assignment' }> => v.kind === 'assignment' && v.assignee.type === 'identity' && v.assignee.id === item.identity_id && v.source !== 'rule')
    .map((v) => v.assignmentId);
}

function manualReason(item: ItemRow): string {
  const why = JSON.parse(item.why) as ItemWhy;
  if (why.kind === 'orphan') return 'an orphan account: disable or delete the account in the application';
  if (why.kind === 'observed') return 'observed by import, not assigned: remove the grant in the application';
  return `no assignment of the identity's own gives it (${why.text}): change the unit assignment or assignment rule, or remove it in the application`;
}

/**
 * Inside a write: opens the access request that carries out a revoke or modify decision
 * (or records why it must be done by hand). Returns the request id and remediation.
 */
async function remediate(deps: ServiceDeps, tx: WriteTx, requester: Actor, item: ItemRow, decision: Decision, validTo: string | null): Promise<{ requestId: string | null; remediation: string }> {
  if (decision === 'certify') return { requestId: null, remediation: JSON.stringify({ status: 'none' }) };
  const [assignmentId] = ownAssignments(item);
  if (!assignmentId || item.identity_id === null) return { requestId: null, remediation: JSON.stringify({ status: 'manual', reason: manualReason(item) }) };
  try {
    const input = decision === 'revoke' ? { action: 'remove' as const, assignmentId } : { action: 'change' as const, assignmentId, validTo };
    const requestId = await openAccessRequest(deps, tx, requester, { ...input, justification: `access review item ${item.id}: ${decision}` });
    return { requestId, remediation: JSON.stringify({ status: 'request_opened' }) };
  } catch (e) {
    // A refusal of the request (already being removed, no longer active, ...) leaves the decision standing, with the reason.
    if (isAppError(e) && e.status < 500) return { requestId: null, remediation: JSON.stringify({ status: 'manual', reason: e.message }) };
    throw e;
  }
}

/**
 * The reviewer's request actor: the reviewer asks, as if it held `approve-requests` for
 * this one request — a reviewer may ask to remove or shorten the access it reviews, whoever
 * holds it. The request still goes through its approval policy.
 */
function requesterOf(actor: Actor): Actor {
  return { ...actor, caller: { ...actor.caller, rights: new Set([...actor.caller.rights, 'approve-requests']) } };
}

async function decideIn(deps: ServiceDeps, tx: WriteTx, actor: Actor, item: ItemRow, input: DecisionInput): Promise<ItemRow> {
  requireReviewerOf(actor, item);
  if (item.decision !== null) throw new AppError('conflict', `review item ${item.id} is decided already (${item.decision}); a decision is final`, { details: { decision: item.decision } });
  if (input.decision === 'modify' && item.permission_id === null) throw new AppError('unprocessable', 'an account without a permission cannot be modified; certify or revoke it', { details: { reason: 'nothing_to_modify' } });
  const validTo = input.decision === 'modify' ? new Date(Date.parse(input.validTo!)).toISOString() : null;
  const { requestId, remediation } = await remediate(deps, tx, requesterOf(actor), item, input.decision, validTo);
  const updated = await tx.db
    .updateTable('review_items')
    .set({ decision: input.decision, comment: input.comment ?? null, valid_to: validTo, decided_by: actor.caller.identityId ?? actor.caller.id, decided_by_name: actor.caller.name, decided_at: tx.now, request_id: requestId, remediation, version: item.version + 1 })
    .where('id', '=', item.id)
    .where('decision', 'is', null)
    .returningAll()
    .executeTakeFirst();
  if (!updated) throw new AppError('conflict', `review item ${item.id} was decided meanwhile`);
  tx.audit({
    action: 'reviewItem.decide',
    targetType: 'reviewItem',
    targetId: item.id,
    before: { decision: null },
    after: { reviewId: item.review_id, identityId: item.identity_id, permissionId: item.permission_id, decision: input.decision, comment: updated.comment, validTo, requestId, remediation: JSON.parse(remediation) as unknown },
  });
  tx.change('review_item', item.id, 'update');
  return updated;
}

export async function decideItem(deps: ServiceDeps, actor: Actor, id: string, input: DecisionInput): Promise<{ value: ItemView; revision: number }> {
  checkInput(deps, input);
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const item = await itemRow(tx, id);
    await activeReview(tx, item.review_id);
    return decideIn(deps, tx, actor, item, input);
  });
  await deps.access?.syncNow(actor.caller.tenantId).catch(() => undefined);
  return { value: itemView(value), revision };
}

export interface BulkResult {
  id: string;
  status: number;
  code: string | null;
  message: string | null;
  item: ItemView | null;
}

/**
 * Decides many items at once with one decision and comment, in one write. Each item is
 * checked on its own: those the caller may not decide (or already decided, or of a closed
 * campaign) are reported with their status and code, the rest are decided.
 */
export async function decideItems(deps: ServiceDeps, actor: Actor, input: DecisionInput & { itemIds: string[] }): Promise<{ value: { results: BulkResult[]; decided: number }; revision: number }> {
  checkInput(deps, input);
  const ids = [...new Set(input.itemIds)];
  if (!ids.length) throw invalid('itemIds', 'must name at least one item');
  if (ids.length > MAX_BULK) throw invalid('itemIds', `must name at most ${MAX_BULK} items`);
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const rows = new Map((await tx.db.selectFrom('review_items').selectAll().where('id', 'in', ids).execute()).map((r) => [r.id, r]));
    const reviews = new Map<string, ReviewRow | AppError>();
    const results: BulkResult[] = [];
    for (const id of ids) {
      const item = rows.get(id);
      try {
        if (!item) throw notFound('review item', id);
        if (!reviews.has(item.review_id)) reviews.set(item.review_id, await activeReview(tx, item.review_id).catch((e: unknown) => (isAppError(e) ? e : Promise.reject(e))));
        const review = reviews.get(item.review_id);
        if (review instanceof AppError) throw review;
        const decided = await decideIn(deps, tx, actor, item, input);
        results.push({ id, status: 200, code: null, message: null, item: itemView(decided) });
      } catch (e) {
        if (!isAppError(e) || e.status >= 500) throw e;
        results.push({ id, status: e.status, code: e.code, message: e.message, item: null });
      }
    }
    const decided = results.filter((r) => r.status === 200).length;
    // A write records at least one audit event; when nothing was decided, the refusals are the record.
    if (!decided) tx.audit({ action: 'reviewItem.decideRefused', targetType: 'reviewItem', targetId: ids[0]!, after: { refused: results.map((r) => ({ id: r.id, code: r.code })) } });
    return { results, decided };
  });
  await deps.access?.syncNow(actor.caller.tenantId).catch(() => undefined);
  return { value, revision };
}

/** Hands an open item to another reviewer (its reviewer, or a campaign manager, may). */
export async function delegateItem(deps: ServiceDeps, actor: Actor, id: string, input: { to: string; comment?: string | null | undefined }): Promise<{ value: ItemView; revision: number }> {
  if (input.comment && input.comment.length > 2000) throw invalid('comment', 'must be at most 2000 characters');
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const item = await itemRow(tx, id);
    await activeReview(tx, item.review_id);
    const me = actor.caller.identityId;
    if (!(me !== null && item.reviewer_id === me) && !mayManage(actor)) throw new AppError('forbidden', `review item ${item.id} is not assigned to the caller; only its reviewer (or a campaign manager) delegates it`, { details: { reason: 'not_reviewer' } });
    if (item.decision !== null) throw new AppError('conflict', `review item ${item.id} is decided already`);
    if (input.to === item.identity_id) throw new AppError('unprocessable', 'nobody reviews their own access: the item is about that identity', { errors: [{ field: 'to', message: 'is the identity under review' }] });
    const target = await tx.db.selectFrom('identities').select(['id', 'status']).where('id', '=', input.to).executeTakeFirst();
    if (!target) throw invalid('to', `names no existing identity (${input.to})`);
    if (target.status !== 'active') throw new AppError('unprocessable', `identity ${input.to} is ${target.status}; items are delegated to active identities`, { errors: [{ field: 'to', message: `is ${target.status}` }] });
    const updated = await tx.db
      .updateTable('review_items')
      .set({ reviewer_id: input.to, delegated_by: me ?? actor.caller.id, reviewer_reason: 'delegated', version: item.version + 1 })
      .where('id', '=', item.id)
      .where('decision', 'is', null)
      .returningAll()
      .executeTakeFirstOrThrow();
    tx.audit({ action: 'reviewItem.delegate', targetType: 'reviewItem', targetId: item.id, before: { reviewerId: item.reviewer_id }, after: { reviewerId: input.to, comment: input.comment ?? null } });
    tx.change('review_item', item.id, 'update');
    return updated;
  });
  return { value: itemView(value), revision };
}

/**
 * Inside a write: gives every open item of the campaign its default decision (the deadline,
 * or a close that asks for it). `revoke` opens the requests as a decision by a reviewer
 * would, asked by the system. Returns how many items it decided.
 */
export async function applyDefaultDecision(deps: ServiceDeps, tx: WriteTx, review: ReviewRow): Promise<number> {
  const decision = review.default_decision;
  if (decision !== 'certify' && decision !== 'revoke') return 0;
  const open = await tx.db.selectFrom('review_items').selectAll().where('review_id', '=', review.id).where('decision', 'is', null).orderBy('position').execute();
  const system = systemActor(tx.tenantId, `access review ${review.name}: default decision`);
  const comment = 'no decision by the due date: the campaign\'s default decision';
  for (const item of open) {
    const { requestId, remediation } = await remediate(deps, tx, system, item, decision, null);
    await tx.db
      .updateTable('review_items')
      .set({ decision, comment, decided_by: 'system', decided_by_name: system.caller.name, decided_at: tx.now, request_id: requestId, remediation, version: item.version + 1 })
      .where('id', '=', item.id)
      .execute();
  }
  if (open.length) tx.audit({ action: 'accessReview.defaultDecision', targetType: 'accessReview', targetId: review.id, after: { decision, items: open.length } });
  return open.length;
}
