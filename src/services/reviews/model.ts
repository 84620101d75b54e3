/**
 * Access reviews: what a campaign and its items are, how they are stored and shown. A
 * campaign is `draft` until started, `active` while reviewers decide, `closed` after.
 */
import { RISK_LEVELS, type RiskLevel } from '../../domain/approval-policy.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import type { AccessReviewsTable, ReviewItemsTable } from '../../store/schema.ts';
import type { TenantDb } from '../../store/store.ts';
import { requireRight, type Actor } from '../kernel/index.ts';
import type { Right } from '../../domain/rights.ts';

export type ReviewRow = AccessReviewsTable;
export type ItemRow = ReviewItemsTable;

export const REVIEW_STATUSES = ['draft', 'active', 'closed'] as const;
export const REVIEW_SPACES = ['provisioned', 'assigned'] as const;
export const REVIEWER_KINDS = ['manager', 'application_owner', 'identity'] as const;
export const DEFAULT_DECISIONS = ['none', 'revoke', 'certify'] as const;
export const DECISIONS = ['certify', 'revoke', 'modify'] as const;
export type Decision = (typeof DECISIONS)[number];
export type ReviewerKind = (typeof REVIEWER_KINDS)[number];

/**
 * Who runs campaigns (create, start, close, schedule) — the holders of `manage-reviews` —
 * and who may read every campaign, its items and its report: they and auditors
 * (`read-audit`). A reviewer needs no right to see and decide its own items.
 */
export const REVIEW_MANAGE_RIGHTS: readonly Right[] = ['manage-reviews'];
export const REVIEW_READ_RIGHTS: readonly Right[] = ['manage-reviews', 'read-audit'];

export const requireManage = (actor: Actor) => requireRight(actor, ...REVIEW_MANAGE_RIGHTS);
export const requireReadAll = (actor: Actor) => requireRight(actor, ...REVIEW_READ_RIGHTS);
export const mayReadAll = (actor: Actor) => REVIEW_READ_RIGHTS.some((r) => actor.caller.rights.has(r));

export interface ReviewScope {
  applicationIds?: string[] | undefined;
  orgUnitIds?: string[] | undefined;
  minRisk?: RiskLevel | undefined;
}

export interface ReviewView {
  id: string;
  number: number;
  name: string;
  description: string | null;
  scope: ReviewScope;
  space: (typeof REVIEW_SPACES)[number];
  reviewer: { type: ReviewerKind; id: string | null };
  fallbackReviewerId: string | null;
  dueDays: number;
  dueAt: string | null;
  defaultDecision: (typeof DEFAULT_DECISIONS)[number];
  reminderDays: number[];
  schedule: string | null;
  recurrenceOf: string | null;
  status: (typeof REVIEW_STATUSES)[number];
  itemCount: number;
  startedAt: string | null;
  startRevision: number | null;
  closedAt: string | null;
  closeReason: string | null;
  createdBy: string;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export function reviewView(r: ReviewRow): ReviewView {
  const reviewer = JSON.parse(r.reviewer) as { type: ReviewerKind; id?: string | null };
  return {
    id: r.id,
    number: Number(r.number),
    name: r.name,
    description: r.description,
    scope: JSON.parse(r.scope) as ReviewScope,
    space: r.space as ReviewView['space'],
    reviewer: { type: reviewer.type, id: reviewer.id ?? null },
    fallbackReviewerId: r.fallback_reviewer_id,
    dueDays: r.due_days,
    dueAt: r.due_at,
    defaultDecision: r.default_decision as ReviewView['defaultDecision'],
    reminderDays: JSON.parse(r.reminder_days) as number[],
    schedule: r.schedule,
    recurrenceOf: r.recurrence_of,
    status: r.status as ReviewView['status'],
    itemCount: Number(r.item_count),
    startedAt: r.started_at,
    startRevision: r.start_revision === null ? null : Number(r.start_revision),
    closedAt: r.closed_at,
    closeReason: r.close_reason,
    createdBy: r.created_by,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    version: r.version,
  };
}

export interface ItemWhy {
  /** `assigned`: assignments give it (the explain chain); `observed`: an import saw it, no assignment gives it. */
  kind: 'assigned' | 'observed' | 'orphan';
  text: string;
  via: Record<string, unknown>[];
}

export interface ItemView {
  id: string;
  reviewId: string;
  position: number;
  identity: { id: string; name: string | null } | null;
  account: { id: string; name: string | null } | null;
  application: { id: string; name: string };
  permission: { id: string; name: string | null } | null;
  risk: string;
  why: ItemWhy;
  observedAt: string | null;
  flags: { drift: boolean; sodViolation: boolean; orphan: boolean };
  reviewerId: string | null;
  assignedReviewerId: string | null;
  reviewerReason: string;
  delegatedBy: string | null;
  decision: Decision | null;
  comment: string | null;
  validTo: string | null;
  decidedBy: string | null;
  decidedByName: string | null;
  decidedAt: string | null;
  requestId: string | null;
  remediation: { status: string; reason?: string } | null;
}

export function itemView(r: ItemRow): ItemView {
  return {
    id: r.id,
    reviewId: r.review_id,
    position: r.position,
    identity: r.identity_id === null ? null : { id: r.identity_id, name: r.identity_name },
    account: r.account_id === null ? null : { id: r.account_id, name: r.account_name },
    application: { id: r.application_id, name: r.application_name },
    permission: r.permission_id === null ? null : { id: r.permission_id, name: r.permission_name },
    risk: r.risk,
    why: JSON.parse(r.why) as ItemWhy,
    observedAt: r.observed_at,
    flags: { drift: r.drift === 1, sodViolation: r.sod === 1, orphan: r.orphan === 1 },
    reviewerId: r.reviewer_id,
    assignedReviewerId: r.assigned_reviewer_id,
    reviewerReason: r.reviewer_reason,
    delegatedBy: r.delegated_by,
    decision: r.decision as Decision | null,
    comment: r.comment,
    validTo: r.valid_to,
    decidedBy: r.decided_by,
    decidedByName: r.decided_by_name,
    decidedAt: r.decided_at,
    requestId: r.request_id,
    remediation: r.remediation === null ? null : (JSON.parse(r.remediation) as { status: string; reason?: string }),
  };
}

export const invalid = (field: string, message: string) => new AppError('validation_failed', `${field} ${message}`, { errors: [{ field, message }] });

export async function reviewRow(scope: TenantDb, id: string): Promise<ReviewRow> {
  const row = await scope.db.selectFrom('access_reviews').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('access review', id);
  return row;
}

export const isRisk = (s: string): s is RiskLevel => (RISK_LEVELS as readonly string[]).includes(s);
