/**
 * Access review campaigns: create (a draft), read, list, close, and the progress of a
 * running one. Starting a campaign (the snapshot of its items) is in `snapshot.ts`.
 *
 * ```ts
 * const { value } = await createReview(deps, actor, { name: 'Q1 Payroll', scope: { applicationIds: [payroll] }, reviewer: { type: 'manager' } });
 * await startReview(deps, actor, value.id);
 * ```
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical-json.ts';
import { CronError, parseCron } from '../../domain/cron.ts';
import { AppError } from '../../domain/errors.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import { cancelJobs, openPager, scheduleJob, writeAs, type Actor, type Page } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import {
  DEFAULT_DECISIONS,
  REVIEWER_KINDS,
  REVIEW_SPACES,
  REVIEW_STATUSES,
  invalid,
  isRisk,
  requireManage,
  requireReadAll,
  reviewRow,
  reviewView,
  type ReviewRow,
  type ReviewScope,
  type ReviewView,
  type ReviewerKind,
} from './model.ts';
import { applyDefaultDecision } from './decisions.ts';

export const RECUR_JOB = 'access_review.recur';
export const REMIND_JOB = 'access_review.remind';
export const DEADLINE_JOB = 'access_review.deadline';
const DAY = 86_400_000;
const MAX_LIST = 200;

export interface CreateReviewInput {
  name: string;
  description?: string | null | undefined;
  scope?: ReviewScope | undefined;
  space?: string | undefined;
  reviewer: { type: string; id?: string | null | undefined };
  fallbackReviewerId?: string | null | undefined;
  dueAt?: string | undefined;
  dueDays?: number | undefined;
  defaultDecision?: string | undefined;
  reminderDays?: number[] | undefined;
  schedule?: string | null | undefined;
}

async function requireIds(scope: TenantDb, table: 'applications' | 'org_units' | 'identities', ids: readonly string[], field: string): Promise<void> {
  if (!ids.length) return;
  const found = new Set((await scope.db.selectFrom(table).select('id').where('id', 'in', [...ids]).execute()).map((r) => r.id));
  ids.forEach((id, i) => {
    if (!found.has(id)) throw invalid(`${field}[${i}]`, `names no existing ${table === 'org_units' ? 'organization unit' : table.slice(0, -1)} (${id})`);
  });
}

/** Checks a campaign's definition; returns the row fields it sets. */
async function checkDefinition(deps: ServiceDeps, scope: TenantDb, actor: Actor, input: CreateReviewInput) {
  const name = input.name.trim();
  if (!name) throw invalid('name', 'must not be empty');
  const s = input.scope ?? {};
  if (s.minRisk !== undefined && !isRisk(s.minRisk)) throw invalid('scope.minRisk', 'must be low, medium, high or critical');
  await requireIds(scope, 'applications', s.applicationIds ?? [], 'scope.applicationIds');
  await requireIds(scope, 'org_units', s.orgUnitIds ?? [], 'scope.orgUnitIds');
  const space = input.space ?? 'provisioned';
  if (!(REVIEW_SPACES as readonly string[]).includes(space)) throw invalid('space', 'must be provisioned or assigned');
  const kind = input.reviewer.type;
  if (!(REVIEWER_KINDS as readonly string[]).includes(kind)) throw invalid('reviewer.type', 'must be manager, application_owner or identity');
  const reviewerId = input.reviewer.id ?? null;
  if (kind === 'identity' && !reviewerId) throw invalid('reviewer.id', 'is required when reviewer.type is identity');
  if (kind !== 'identity' && reviewerId) throw invalid('reviewer.id', 'is only given when reviewer.type is identity');
  if (reviewerId) await requireIds(scope, 'identities', [reviewerId], 'reviewer.id');
  const fallback = input.fallbackReviewerId ?? actor.caller.identityId;
  if (!fallback) throw invalid('fallbackReviewerId', 'is required: items whose reviewer cannot be found, or who would review their own access, go to this identity');
  await requireIds(scope, 'identities', [fallback], 'fallbackReviewerId');
  const decision = input.defaultDecision ?? 'none';
  if (!(DEFAULT_DECISIONS as readonly string[]).includes(decision)) throw invalid('defaultDecision', 'must be none, revoke or certify');
  const reminders = [...new Set(input.reminderDays ?? [7, 1])].sort((a, b) => b - a);
  if (reminders.some((d) => !Number.isInteger(d) || d < 1 || d > 365)) throw invalid('reminderDays', 'must be whole days between 1 and 365');
  let dueDays = input.dueDays ?? 14;
  let dueAt: string | null = null;
  if (input.dueAt !== undefined) {
    const at = Date.parse(input.dueAt);
    if (Number.isNaN(at)) throw invalid('dueAt', 'must be an ISO 8601 date-time');
    if (at <= deps.now().getTime()) throw invalid('dueAt', 'must be in the future');
    dueAt = new Date(at).toISOString();
    dueDays = Math.max(1, Math.ceil((at - deps.now().getTime()) / DAY));
  }
  if (!Number.isInteger(dueDays) || dueDays < 1 || dueDays > 366) throw invalid('dueDays', 'must be whole days between 1 and 366');
  const schedule = input.schedule ?? null;
  if (schedule !== null) {
    try {
      parseCron(schedule);
    } catch (e) {
      if (e instanceof CronError) throw invalid('schedule', `is not a valid cron expression: ${e.message}`);
      throw e;
    }
  }
  const cleanScope: ReviewScope = {
    ...(s.applicationIds?.length ? { applicationIds: [...new Set(s.applicationIds)] } : {}),
    ...(s.orgUnitIds?.length ? { orgUnitIds: [...new Set(s.orgUnitIds)] } : {}),
    ...(s.minRisk ? { minRisk: s.minRisk } : {}),
  };
  return {
    name,
    description: input.description ?? null,
    scope: canonicalJson(cleanScope),
    space,
    reviewer: canonicalJson({ type: kind as ReviewerKind, ...(reviewerId ? { id: reviewerId } : {}) }),
    fallback_reviewer_id: fallback,
    due_days: dueDays,
    due_at: dueAt,
    default_decision: decision,
    reminder_days: JSON.stringify(reminders),
    schedule,
  };
}

/** Creates a campaign as a draft; with a `schedule`, a copy of it is started on each occurrence. */
export async function createReview(deps: ServiceDeps, actor: Actor, input: CreateReviewInput): Promise<{ value: ReviewView; revision: number }> {
  requireManage(actor);
  const scope = deps.store.read(actor.caller.tenantId);
  const def = await checkDefinition(deps, scope, actor, input);
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const clash = await tx.db.selectFrom('access_reviews').select('id').where('name', '=', def.name).executeTakeFirst();
    if (clash) throw new AppError('conflict', `an access review named "${def.name}" exists already`, { errors: [{ field: 'name', message: 'is taken' }] });
    const row: ReviewRow = {
      id: randomUUID(),
      tenant_id: tx.tenantId,
      number: await tx.nextNumber('access_reviews'),
      ...def,
      recurrence_of: null,
      status: 'draft',
      item_count: 0,
      started_at: null,
      start_revision: null,
      start_audit_seq: null,
      closed_at: null,
      close_reason: null,
      close_audit_seq: null,
      created_by: actor.caller.name,
      created_at: tx.now,
      updated_at: tx.now,
      version: 1,
    };
    await tx.db.insertInto('access_reviews').values(row).execute();
    tx.audit({ action: 'accessReview.create', targetType: 'accessReview', targetId: row.id, after: reviewView(row) });
    tx.change('access_review', row.id, 'create');
    if (row.schedule) await scheduleRecurrence(tx, row);
    return row;
  });
  return { value: reviewView(value), revision };
}

/** Schedules the next occurrence of a recurring campaign (after the write's time). */
export async function scheduleRecurrence(tx: WriteTx, row: ReviewRow): Promise<void> {
  if (!row.schedule) return;
  const next = parseCron(row.schedule).next(new Date(tx.now));
  // One job per occurrence (keyed by its time): the running occurrence schedules the next without re-dating itself.
  await scheduleJob(tx, { kind: RECUR_JOB, subjectId: row.id, key: next.toISOString(), dueAt: next.toISOString() });
}

export async function getReview(deps: ServiceDeps, actor: Actor, id: string): Promise<ReviewView> {
  requireReadAll(actor);
  return reviewView(await reviewRow(deps.store.read(actor.caller.tenantId), id));
}

export async function listReviews(deps: ServiceDeps, actor: Actor, filter: { status?: string | undefined }, page: { limit?: number | undefined; cursor?: string | undefined }): Promise<Page<ReviewView>> {
  requireReadAll(actor);
  if (filter.status !== undefined && !(REVIEW_STATUSES as readonly string[]).includes(filter.status)) throw invalid('status', 'must be draft, active or closed');
  const scope = deps.store.read(actor.caller.tenantId);
  const pager = await openPager<number>(deps, scope.tenantId, 'access-reviews', { status: filter.status ?? null }, { ...page, limit: Math.min(page.limit ?? 50, MAX_LIST) });
  let q = scope.db.selectFrom('access_reviews').selectAll();
  if (filter.status !== undefined) q = q.where('status', '=', filter.status);
  if (pager.after !== null) q = q.where('number', '<', pager.after);
  const rows = await q.orderBy('number', 'desc').limit(pager.limit + 1).execute();
  return pager.page(rows, (r) => Number(r.number), reviewView);
}

/** The tenant's audit sequence before this write appends its events. */
export async function auditSeqOf(tx: WriteTx): Promise<number> {
  const t = await tx.db.selectFrom('tenants').select('audit_seq').where('id', '=', tx.tenantId).executeTakeFirstOrThrow();
  return Number(t.audit_seq);
}

/**
 * Inside a write: closes an active campaign (open items stay undecided unless `applyDefault`,
 * then they get the campaign's default decision first) and cancels its reminders and deadline.
 */
export async function closeIn(deps: ServiceDeps, tx: WriteTx, row: ReviewRow, reason: 'manual' | 'deadline', applyDefault: boolean): Promise<ReviewRow> {
  if (row.status !== 'active') throw new AppError('conflict', `access review ${row.id} is ${row.status}; only an active campaign can be closed`, { details: { reviewStatus: row.status } });
  const applied = applyDefault ? await applyDefaultDecision(deps, tx, row) : 0;
  const seq = await auditSeqOf(tx);
  const updated = await tx.db
    .updateTable('access_reviews')
    .set({ status: 'closed', closed_at: tx.now, close_reason: reason, close_audit_seq: seq, updated_at: tx.now, version: row.version + 1 })
    .where('id', '=', row.id)
    .where('status', '=', 'active')
    .returningAll()
    .executeTakeFirst();
  if (!updated) throw new AppError('conflict', `access review ${row.id} was closed meanwhile`);
  await cancelJobs(tx, { subjectId: row.id, kind: REMIND_JOB });
  await cancelJobs(tx, { subjectId: row.id, kind: DEADLINE_JOB });
  const open = await tx.db.selectFrom('review_items').select((eb) => eb.fn.countAll<number>().as('n')).where('review_id', '=', row.id).where('decision', 'is', null).executeTakeFirstOrThrow();
  tx.audit({ action: 'accessReview.close', targetType: 'accessReview', targetId: row.id, before: { status: row.status }, after: { status: 'closed', reason, defaultDecisionApplied: applied, openItems: Number(open.n) } });
  tx.change('access_review', row.id, 'update');
  return updated;
}

export async function closeReview(deps: ServiceDeps, actor: Actor, id: string, input: { applyDefaultDecision?: boolean | undefined }): Promise<{ value: ReviewView; revision: number }> {
  requireManage(actor);
  const { value, revision } = await writeAs(deps, actor, async (tx) => closeIn(deps, tx, await reviewRow(tx, id), 'manual', input.applyDefaultDecision ?? false));
  await deps.access?.syncNow(actor.caller.tenantId).catch(() => undefined);
  return { value: reviewView(value), revision };
}

export interface ReviewProgress {
  reviewId: string;
  status: string;
  dueAt: string | null;
  total: number;
  decided: number;
  open: number;
  decisions: { certify: number; revoke: number; modify: number };
  reviewers: { reviewerId: string | null; name: string | null; total: number; decided: number; open: number }[];
}

/** Decided and open items, in total and per reviewer (most open first). */
export async function reviewProgress(deps: ServiceDeps, actor: Actor, id: string): Promise<ReviewProgress> {
  requireReadAll(actor);
  const scope = deps.store.read(actor.caller.tenantId);
  const row = await reviewRow(scope, id);
  const groups = await scope.db
    .selectFrom('review_items')
    .select(['reviewer_id', 'decision', (eb) => eb.fn.countAll<number>().as('n')])
    .where('review_id', '=', id)
    .groupBy(['reviewer_id', 'decision'])
    .execute();
  const decisions = { certify: 0, revoke: 0, modify: 0 };
  const per = new Map<string | null, { total: number; decided: number; open: number }>();
  for (const g of groups) {
    const n = Number(g.n);
    const p = per.get(g.reviewer_id) ?? { total: 0, decided: 0, open: 0 };
    p.total += n;
    if (g.decision === null) p.open += n;
    else {
      p.decided += n;
      decisions[g.decision as keyof typeof decisions] += n;
    }
    per.set(g.reviewer_id, p);
  }
  const ids = [...per.keys()].filter((k): k is string => k !== null);
  const names = new Map(
    ids.length ? (await scope.db.selectFrom('identities').select(['id', 'display_name', 'username', 'subject']).where('id', 'in', ids).execute()).map((i) => [i.id, i.display_name ?? i.username ?? i.subject]) : [],
  );
  const reviewers = [...per.entries()]
    .map(([reviewerId, p]) => ({ reviewerId, name: reviewerId === null ? null : (names.get(reviewerId) ?? null), ...p }))
    .sort((a, b) => b.open - a.open || (a.reviewerId ?? '').localeCompare(b.reviewerId ?? ''));
  const total = reviewers.reduce((s, r) => s + r.total, 0);
  const open = reviewers.reduce((s, r) => s + r.open, 0);
  return { reviewId: id, status: row.status, dueAt: row.due_at, total, decided: total - open, open, decisions, reviewers };
}

