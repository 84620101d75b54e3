/**
 * The Approve stage of a personnel event. Without an approval policy that names the event's
 * type the event is approved at once — HR is the source of truth — and its effect stage is
 * scheduled for the effective date. {@link openEventApproval} is the one place where the
 * approvals core (`openApproval` of src/services/workflow) plugs in: it then returns `open`
 * for an event a policy names, and {@link approvePersonnelEvent} /
 * {@link rejectPersonnelEvent} are its outcome handlers.
 */
import { AppError } from '../../domain/errors.ts';
import type { WriteTx } from '../../store/store.ts';
import { scheduleJob, tenantSettings } from '../kernel/index.ts';
import { openApproval, recordActivity } from '../workflow/index.ts';
import type { ApprovalOutcomeHandler, ServiceDeps } from '../deps.ts';
import { eventRow, saveEvent } from './event-rows.ts';
import { firstEffectStage, STAGE_JOB, SUBJECT_KIND, type EventRow, type EventType, type Stage } from './model.ts';

/**
 * The approval of an event no policy names when the tenant does not approve HR events at
 * once (`personnelEvents.autoApproveHr: false`): the affected identity's manager (for an
 * onboarding, the new hire's supervisor); with nobody there, the step escalates to the holders
 * of approve-requests.
 */
const MANAGER_STEP = [{ name: 'Manager', approver: 'manager', id: null, quorum: 1, dueDays: 3, escalateTo: null }] as const;

/**
 * Inside the event's create write: opens its approval through the approval policies that name
 * its type. Approved at once (HR is the source of truth) when none does and the tenant
 * auto-approves HR events; otherwise the event waits in `pending_approval` with its Approve
 * stage in progress, and {@link approvePersonnelEvent} / {@link rejectPersonnelEvent} finish it.
 */
export async function openEventApproval(deps: ServiceDeps, tx: WriteTx, row: EventRow, requesterId: string | null): Promise<EventRow> {
  const settings = await tenantSettings(tx);
  const changes = JSON.parse(row.changes) as { managerId?: string | null };
  const targets = row.identity_id ? [row.identity_id] : [];
  const opened = await openApproval(deps, tx, {
    kind: SUBJECT_KIND,
    id: row.id,
    requesterId,
    targetIdentityIds: targets,
    resources: [],
    personnelEventType: row.type as EventType,
    unnamedEventSteps: settings.personnelEvents.autoApproveHr ? undefined : MANAGER_STEP.map((s) => ({ ...s })),
    newHireManagerId: targets.length === 0 ? (changes.managerId ?? null) : null,
  });
  if (opened.outcome === 'approved') {
    return approveRow(tx, row, opened.policyId ? 'approved at once by its approval policy' : 'no approval policy names this event type: approved at once (HR is the source of truth)');
  }
  const stages = (JSON.parse(row.stages) as Stage[]).map((s) =>
    s.name === 'Approve' ? { ...s, status: 'in_progress' as const, startedAt: tx.now, detail: { policyId: opened.policyId, steps: opened.steps.map((st) => st.name) } } : s,
  );
  return saveEvent(tx, row, { stages });
}

async function approveRow(tx: WriteTx, row: EventRow, why: string): Promise<EventRow> {
  const stages = (JSON.parse(row.stages) as Stage[]).map((s) =>
    s.name === 'Approve' ? { ...s, status: 'completed' as const, startedAt: s.startedAt ?? row.created_at, completedAt: tx.now, detail: { outcome: 'approved', reason: why } } : s,
  );
  const next = await saveEvent(tx, row, { status: 'scheduled', stages });
  const stage = firstEffectStage(row.type as EventType);
  await scheduleJob(tx, { kind: STAGE_JOB, subjectId: row.id, key: stage, dueAt: row.effective_at, payload: { stage } });
  await recordActivity(tx, null, { kind: SUBJECT_KIND, id: row.id }, `Approved: ${why}. ${stage} is scheduled for ${row.effective_at}`);
  return next;
}

/** Approval outcome: the last step approved the event. */
export async function approvePersonnelEvent(_deps: ServiceDeps, tx: WriteTx, eventId: string): Promise<void> {
  const row = await eventRow(tx, eventId);
  if (!row || row.status !== 'pending_approval') throw new AppError('conflict', `personnel event ${eventId} is not waiting for approval`);
  await approveRow(tx, row, 'the approval steps approved it');
}

/** Approval outcome: a step rejected the event; nothing of it takes effect. */
export async function rejectPersonnelEvent(_deps: ServiceDeps, tx: WriteTx, eventId: string, comment: string | null): Promise<void> {
  const row = await eventRow(tx, eventId);
  if (!row || row.status !== 'pending_approval') throw new AppError('conflict', `personnel event ${eventId} is not waiting for approval`);
  const stages = (JSON.parse(row.stages) as Stage[]).map((s) => {
    if (s.name === 'Approve') return { ...s, status: 'failed' as const, completedAt: tx.now, detail: { outcome: 'rejected', comment } };
    return { ...s, status: 'canceled' as const };
  });
  await saveEvent(tx, row, { status: 'failed', stages });
  await recordActivity(tx, null, { kind: SUBJECT_KIND, id: row.id }, `Rejected${comment ? `: ${comment}` : ''}`);
}

/** The approvals core's outcome handlers for personnel events (registered in services/index.ts). */
export const PERSONNEL_EVENT_OUTCOMES: ApprovalOutcomeHandler = { approved: approvePersonnelEvent, rejected: rejectPersonnelEvent };
