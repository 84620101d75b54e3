/**
 * The scheduled work of campaigns (durable scheduler jobs, each run inside the write that
 * marks it done): reminders before the due date and the escalation at the last one — audit
 * events, which the event sinks deliver — the deadline (default decision, then close), and
 * the next occurrence of a recurring campaign.
 */
import { randomUUID } from 'node:crypto';
import type { JobHandler } from '../deps.ts';
import { DEADLINE_JOB, RECUR_JOB, REMIND_JOB, closeIn, scheduleRecurrence } from './campaigns.ts';
import { reviewRow, reviewView, type ReviewRow } from './model.ts';
import { startIn } from './snapshot.ts';

const remind: JobHandler = async (_deps, tx, job) => {
  const row = await reviewRow(tx, job.subjectId);
  if (row.status !== 'active') return;
  const open = await tx.db
    .selectFrom('review_items')
    .select(['reviewer_id', (eb) => eb.fn.countAll<number>().as('n')])
    .where('review_id', '=', row.id)
    .where('decision', 'is', null)
    .groupBy('reviewer_id')
    .execute();
  if (!open.length) return;
  const reviewers = open.map((o) => ({ reviewerId: o.reviewer_id, openItems: Number(o.n) })).sort((a, b) => b.openItems - a.openItems);
  const daysBefore = (job.payload as { daysBefore?: number } | null)?.daysBefore ?? null;
  tx.audit({ action: 'accessReview.reminder', targetType: 'accessReview', targetId: row.id, after: { name: row.name, dueAt: row.due_at, daysBefore, reviewers } });
  // The last reminder before the due date also escalates to the fallback reviewer.
  const last = Math.min(...(JSON.parse(row.reminder_days) as number[]));
  if (daysBefore === last) tx.audit({ action: 'accessReview.escalation', targetType: 'accessReview', targetId: row.id, after: { name: row.name, dueAt: row.due_at, escalatedTo: row.fallback_reviewer_id, reviewers } });
};

const deadline: JobHandler = async (deps, tx, job) => {
  const row = await reviewRow(tx, job.subjectId);
  if (row.status !== 'active') return;
  await closeIn(deps, tx, row, 'deadline', true);
};

const recur: JobHandler = async (deps, tx, job) => {
  const template = await reviewRow(tx, job.subjectId);
  if (!template.schedule) return;
  const day = job.dueAt.slice(0, 10);
  let name = `${template.name} ${day}`;
  for (let n = 2; await tx.db.selectFrom('access_reviews').select('id').where('name', '=', name).executeTakeFirst(); n += 1) name = `${template.name} ${day} (${n})`;
  const copy: ReviewRow = {
    ...template,
    id: randomUUID(),
    number: await tx.nextNumber('access_reviews'),
    name,
    due_at: null,
    schedule: null,
    recurrence_of: template.id,
    status: 'draft',
    created_by: `schedule of access review ${template.name}`,
    created_at: tx.now,
    updated_at: tx.now,
    version: 1,
  };
  await tx.db.insertInto('access_reviews').values(copy).execute();
  tx.audit({ action: 'accessReview.create', targetType: 'accessReview', targetId: copy.id, after: reviewView(copy) });
  await startIn(deps, tx, copy);
  await scheduleRecurrence(tx, template);
};

export const REVIEW_JOB_HANDLERS: Readonly<Record<string, JobHandler>> = { [REMIND_JOB]: remind, [DEADLINE_JOB]: deadline, [RECUR_JOB]: recur };
