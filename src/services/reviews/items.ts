/**
 * A campaign's items: a reviewer sees its own (no right needed); campaign managers and
 * auditors see everyone's. Keyset-paged in snapshot order on the (review, reviewer,
 * position) index, so a reviewer's first page is one index range read.
 */
import { AppError } from '../../domain/errors.ts';
import { openPager, type Actor, type Page } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { DECISIONS, REVIEW_READ_RIGHTS, invalid, itemView, mayReadAll, reviewRow, type ItemView } from './model.ts';

export interface ItemFilter {
  reviewerId?: string | undefined;
  /** `open`, `decided` or one decision. */
  state?: string | undefined;
  flag?: 'drift' | 'sod' | 'orphan' | undefined;
  applicationId?: string | undefined;
  identityId?: string | undefined;
}

const STATES = ['open', 'decided', ...DECISIONS];

export async function listReviewItems(deps: ServiceDeps, actor: Actor, reviewId: string, filter: ItemFilter, page: { limit?: number | undefined; cursor?: string | undefined }): Promise<Page<ItemView>> {
  if (filter.state !== undefined && !STATES.includes(filter.state)) throw invalid('state', `must be one of ${STATES.join(', ')}`);
  const scope = deps.store.read(actor.caller.tenantId);
  const me = actor.caller.identityId;
  let reviewerId = filter.reviewerId;
  if (!mayReadAll(actor)) {
    if (me === null) throw new AppError('forbidden', `only reviewers (identities) see their items; reading every item needs ${REVIEW_READ_RIGHTS.join(' or ')}`, { details: { requiredRights: [...REVIEW_READ_RIGHTS] } });
    if (reviewerId !== undefined && reviewerId !== me) throw new AppError('forbidden', `reading another reviewer's items needs ${REVIEW_READ_RIGHTS.join(' or ')}`, { details: { requiredRights: [...REVIEW_READ_RIGHTS] } });
    reviewerId = me;
  }
  await reviewRow(scope, reviewId);
  const pager = await openPager<number>(deps, scope.tenantId, 'review-items', { reviewId, ...filter, reviewerId: reviewerId ?? null }, page);
  let q = scope.db.selectFrom('review_items').selectAll().where('review_id', '=', reviewId);
  if (reviewerId !== undefined) q = q.where('reviewer_id', '=', reviewerId);
  if (filter.state === 'open') q = q.where('decision', 'is', null);
  else if (filter.state === 'decided') q = q.where('decision', 'is not', null);
  else if (filter.state !== undefined) q = q.where('decision', '=', filter.state);
  if (filter.flag !== undefined) q = q.where(filter.flag, '=', 1);
  if (filter.applicationId !== undefined) q = q.where('application_id', '=', filter.applicationId);
  if (filter.identityId !== undefined) q = q.where('identity_id', '=', filter.identityId);
  if (pager.after !== null) q = q.where('position', '>', pager.after);
  const rows = await q.orderBy('position').limit(pager.limit + 1).execute();
  return pager.page(rows, (r) => r.position, itemView);
}
