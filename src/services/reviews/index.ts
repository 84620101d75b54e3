/**
 * Access reviews (certification campaigns): a campaign snapshots who holds what in its
 * scope when it starts; reviewers certify, revoke or modify each item; revocations become
 * access requests; reminders, escalation, the deadline and recurrence run on the durable
 * scheduler; the report is CSV or PDF.
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { closeReview, createReview, getReview, listReviews, reviewProgress } from './campaigns.ts';
export type { CreateReviewInput, ReviewProgress } from './campaigns.ts';
export { MAX_BULK, decideItem, decideItems, delegateItem } from './decisions.ts';
export type { BulkResult, DecisionInput } from './decisions.ts';
export { listReviewItems } from './items.ts';
export type { ItemFilter } from './items.ts';
export { DECISIONS, DEFAULT_DECISIONS, REVIEWER_KINDS, REVIEW_MANAGE_RIGHTS, REVIEW_READ_RIGHTS, REVIEW_SPACES, REVIEW_STATUSES } from './model.ts';
export type { ItemView, ReviewView } from './model.ts';
export { PDF_MAX_ITEMS, reviewReport } from './report.ts';
export type { ReviewReport } from './report.ts';
export { REVIEW_JOB_HANDLERS } from './jobs.ts';
export { startReview } from './snapshot.ts';
