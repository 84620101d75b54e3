/**
 * The effect stages of personnel events, run by the durable scheduler (job kind
 * `personnel_event.stage`, one job per stage, due on the effective date — a leave's Restore
 * on its end date). Each job runs inside the write that marks it done, so a stage's
 * changes, its audit events and "done" commit together or not at all: with two nodes, or
 * after a crash, a stage runs once.
 *
 * - Provision (onboarding): creates the identity; the assignment rules give its birthright.
 * - Deprovision (offboarding): identity `terminated`, every assignment revoked, the
 *   delegations it granted stop, its connected-application accounts are listed for
 *   deprovisioning (drift shows what they still hold), its moves and leaves not yet in
 *   effect are canceled.
 * - Transition (role transition): the identity's fields, unit and manager change and the rules
 *   re-evaluate; rule access no longer justified is kept for review until the end date (then
 *   removed by a `Review` job) or removed at once, per the tenant's setting.
 * - Suspend / Restore (leave): identity `on_leave`, its active assignments paused and
 *   recorded; at return exactly those that are still paused are resumed.
 * - Verify: checked first in the effect stage's own write; completes when imports confirm the
 *   change (see verify.ts), otherwise shows what is outstanding and checks again every hour.
 *
 * A stage that cannot apply (the joiner's username was taken meanwhile, the new unit was
 * deleted, ...) changes nothing and fails the event, with the reason in the stage's detail.
 */
import type { WriteTx } from '../../store/store.ts';
import type { Right } from '../../domain/rights.ts';
import { delegationRowsFrom, holdForReview, identityAssignmentRows, pauseIdentityAssignments, resumeAssignments, revokeAssignments, revokeIdentityAssignments } from '../access/index.ts';
import { cancelJobs, scheduleJob, tenantSettings, withRightsGuard } from '../kernel/index.ts';
import { recordActivities, recordActivity, type ActivityLine } from '../workflow/index.ts';
import type { JobFailureHandler, JobHandler, ScheduledJob, ServiceDeps } from '../deps.ts';
import { eventRow, saveEvent } from './event-rows.ts';
import { changedRow, identityProblem, identityRow, insertJoiner, joinerRow, updateIdentityRow } from './identity-writes.ts';
import { accountsToDeprovision, computePreview } from './preview.ts';
import { outstandingFor } from './verify.ts';
import { displayName, STAGE_JOB, SUBJECT_KIND, type EventRow, type IdentityChanges, type PreviewAccount, type Stage, type StageName } from './model.ts';

/** How long Verify waits before it checks the imports again. */
export const VERIFY_RECHECK_MS = 60 * 60 * 1000;

type Effect = { detail: Record<string, unknown>; identityId?: string; identityName?: string | null; next?: { stage: StageName | 'Review'; dueAt: string } | null } | { failed: string };

const cause = (row: EventRow) => ({ personnelEventId: row.id, personnelEventNumber: Number(row.number), personnelEventType: row.type });
const label = (row: EventRow) => `personnel event #${row.number}`;

async function ruleAssignmentIds(tx: WriteTx, identityId: string): Promise<Set<string>> {
  return new Set((await identityAssignmentRows(tx, identityId, ['active'])).filter((a) => a.source === 'rule').map((a) => a.id));
}

async function provision(deps: ServiceDeps, tx: WriteTx, row: EventRow): Promise<Effect> {
  const joiner = joinerRow(tx.tenantId, JSON.parse(row.changes) as IdentityChanges, tx.now);
  const problem = await identityProblem(tx, joiner);
  if (problem) return { failed: problem };
  const identity = await insertJoiner(deps, tx, joiner, cause(row));
  const added = [...(await ruleAssignmentIds(tx, identity.id))];
  return { detail: { identityId: identity.id, added }, identityId: identity.id, identityName: displayName(identity) ?? identity.subject };
}

async function deprovision(deps: ServiceDeps, tx: WriteTx, row: EventRow): Promise<Effect> {
  const identity = row.identity_id ? await identityRow(tx, row.identity_id) : undefined;
  if (!identity) return { failed: `identity ${row.identity_id} no longer exists` };
  const reason = `offboarding (${label(row)})`;
  // Delegations first: once their source is revoked they no longer count anyway.
  const delegationsStopped = await revokeAssignments(tx, await delegationRowsFrom(tx, identity.id), reason, cause(row));
  // Terminated: the rules take their assignments back in the same write (audited per rule).
  await updateIdentityRow(deps, tx, identity, changedRow(identity, {}, 'terminated', tx.now), cause(row));
  const revoked = await revokeIdentityAssignments(tx, identity.id, reason, cause(row));
  const accounts = await accountsToDeprovision(tx, identity.id);
  const canceledEvents = await cancelLaterEvents(tx, row);
  return { detail: { status: 'terminated', revoked, delegationsStopped, accountsToDeprovision: accounts, canceledEvents } };
}

/** The identity's moves and leaves that have not taken effect yet are canceled: a leaver neither moves nor goes on leave. */
async function cancelLaterEvents(tx: WriteTx, offboarding: EventRow): Promise<number[]> {
  // By the identity's index, the status checked here: an identity has a few events, while the
  // status index (which SQLite, without statistics, prefers) leads to every scheduled event of the tenant.
  const open = new Set(['pending_approval', 'scheduled']);
  const later = (await tx.db.selectFrom('personnel_events').selectAll().where('identity_id', '=', offboarding.identity_id).where('id', '!=', offboarding.id).execute()).filter((e) => open.has(e.status));
  for (const other of later) {
    await cancelJobs(tx, { subjectId: other.id });
    const stages = (JSON.parse(other.stages) as Stage[]).map((s) => (s.status === 'pending' || s.status === 'in_progress' ? { ...s, status: 'canceled' as const, completedAt: tx.now } : s));
    await saveEvent(tx, other, { status: 'canceled', stages });
    await recordActivity(tx, null, { kind: SUBJECT_KIND, id: other.id }, `Canceled: the identity was offboarded (${label(offboarding)})`);
  }
  return later.map((e) => Number(e.number));
}

async function transition(deps: ServiceDeps, tx: WriteTx, row: EventRow): Promise<Effect> {
  const identity = row.identity_id ? await identityRow(tx, row.identity_id) : undefined;
  if (!identity) return { failed: `identity ${row.identity_id} no longer exists` };
  if (identity.status === 'terminated') return { failed: 'the identity is terminated' };
  const next = changedRow(identity, JSON.parse(row.changes) as IdentityChanges, undefined, tx.now);
  const problem = await identityProblem(tx, next);
  if (problem) return { failed: problem };
  const mode = (await tenantSettings(tx)).personnelEvents.unjustifiedAccess;
  const before = await ruleAssignmentIds(tx, identity.id);
  // Which rule assignments the rules will take back: evaluate on a copy of what the write does.
  const plan = await computePreview(tx, { type: 'role_transition', identityId: identity.id, changes: JSON.parse(row.changes) as IdentityChanges, endAt: row.end_at }, mode, tx.now);
  const unjustified = [...plan.review, ...plan.revoked].map((i) => i.assignmentId).filter((id): id is string => id !== null);
  const reason = `role transition (${label(row)})`;
  let review: string[] = [];
  if (mode === 'review') review = await holdForReview(tx, unjustified, row.end_at, `kept for review after ${reason}${row.end_at ? ` until ${row.end_at}` : ''}`, cause(row));
  await updateIdentityRow(deps, tx, identity, next, cause(row));
  const after = await ruleAssignmentIds(tx, identity.id);
  const added = [...after].filter((id) => !before.has(id));
  const revoked = mode === 'remove' ? unjustified : [];
  const delegationsStopped = mode === 'remove' ? await revokeAssignments(tx, await delegationRowsFrom(tx, identity.id, revoked), reason, cause(row)) : [];
  const nextJob = mode === 'review' && review.length && row.end_at ? { stage: 'Review' as const, dueAt: row.end_at } : null;
  return { detail: { changes: JSON.parse(row.changes) as unknown, added, revoked, review, reviewUntil: mode === 'review' ? row.end_at : null, delegationsStopped }, next: nextJob };
}

/** The end of a role transition's review period: what was kept for review is removed. */
async function endReview(tx: WriteTx, row: EventRow): Promise<void> {
  const stage = (JSON.parse(row.stages) as Stage[]).find((s) => s.name === 'Transition');
  const ids = ((stage?.detail?.review as string[] | undefined) ?? []).slice();
  const rows = ids.length ? await tx.db.selectFrom('assignments').selectAll().where('id', 'in', ids).execute() : [];
  const reason = `review period of ${label(row)} ended`;
  const delegations = row.identity_id ? await delegationRowsFrom(tx, row.identity_id, ids) : [];
  const stopped = await revokeAssignments(tx, delegations, reason, cause(row));
  const revoked = await revokeAssignments(tx, rows, reason, cause(row));
  tx.audit({ action: 'personnelEvent.reviewEnded', targetType: 'personnelEvent', targetId: row.id, after: { revoked, delegationsStopped: stopped } });
  await recordActivity(tx, null, { kind: SUBJECT_KIND, id: row.id }, `Review period ended: ${revoked.length} assignment(s) kept for review removed`, { revoked, delegationsStopped: stopped });
}

async function suspend(deps: ServiceDeps, tx: WriteTx, row: EventRow): Promise<Effect> {
  const identity = row.identity_id ? await identityRow(tx, row.identity_id) : undefined;
  if (!identity) return { failed: `identity ${row.identity_id} no longer exists` };
  if (identity.status === 'terminated') return { failed: 'the identity is terminated' };
  const paused = await pauseIdentityAssignments(tx, identity.id, `leave of absence (${label(row)})`, cause(row));
  for (const assignmentId of paused) await tx.db.insertInto('personnel_event_paused').values({ tenant_id: tx.tenantId, event_id: row.id, assignment_id: assignmentId }).execute();
  if (identity.status !== 'on_leave') await updateIdentityRow(deps, tx, identity, changedRow(identity, {}, 'on_leave', tx.now), cause(row));
  return { detail: { status: 'on_leave', paused, returnOn: row.end_at }, next: row.end_at ? { stage: 'Restore', dueAt: row.end_at } : null };
}

async function restore(deps: ServiceDeps, tx: WriteTx, row: EventRow): Promise<Effect> {
  const marked = (await tx.db.selectFrom('personnel_event_paused').select('assignment_id').where('event_id', '=', row.id).execute()).map((r) => r.assignment_id);
  const restored = await resumeAssignments(tx, marked, `return from leave (${label(row)})`, cause(row));
  const identity = row.identity_id ? await identityRow(tx, row.identity_id) : undefined;
  if (identity && identity.status === 'on_leave') await updateIdentityRow(deps, tx, identity, changedRow(identity, {}, 'active', tx.now), cause(row));
  return { detail: { status: identity?.status === 'on_leave' ? 'active' : (identity?.status ?? null), restored, notRestored: marked.filter((id) => !restored.includes(id)) } };
}

const EFFECTS: Partial<Record<StageName, (deps: ServiceDeps, tx: WriteTx, row: EventRow) => Promise<Effect>>> = {
  Provision: provision,
  Deprovision: deprovision,
  Transition: transition,
  Suspend: suspend,
  Restore: restore,
};

function setStage(stages: Stage[], name: StageName, patch: Partial<Stage>): Stage[] {
  return stages.map((s) => (s.name === name ? { ...s, ...patch } : s));
}

type EventPatch = Parameters<typeof saveEvent>[2];

/**
 * What an effect stage changed in its event, saved with the Verify check that runs in the
 * same write (one save of the event, one append to its activity log). `accounts`: the
 * accounts to deprovision the Deprovision stage listed (not read again).
 */
interface Applied {
  patch: EventPatch;
  stages: Stage[];
  activity: ActivityLine[];
  accounts?: readonly PreviewAccount[] | undefined;
}

/** Checks the change of `row` (attempt `attempt`); `applied`: the effect stage run just before, in this write. */
async function verify(tx: WriteTx, row: EventRow, attempt: number, applied?: Applied): Promise<void> {
  const stages = applied?.stages ?? (JSON.parse(row.stages) as Stage[]);
  const identityId = applied?.patch.identity_id ?? row.identity_id;
  const given = stages.flatMap((s) => (s.name === 'Verify' ? [] : [...((s.detail?.added as string[] | undefined) ?? []), ...((s.detail?.restored as string[] | undefined) ?? [])]));
  const outstanding = await outstandingFor(tx, row.type, identityId, given, applied?.accounts);
  const startedAt = stages.find((s) => s.name === 'Verify')?.startedAt ?? tx.now;
  const activity = [...(applied?.activity ?? [])];
  const subject = { kind: SUBJECT_KIND, id: row.id };
  if (!outstanding.length) {
    await saveEvent(tx, row, { ...applied?.patch, status: 'completed', completed_at: tx.now, stages: setStage(stages, 'Verify', { status: 'completed', startedAt, completedAt: tx.now, detail: { outstanding: [], checks: attempt } }) });
    await recordActivities(tx, null, subject, [...activity, { text: 'Verified: the change is confirmed; the event is completed' }]);
    return;
  }
  const nextCheckAt = new Date(Date.parse(tx.now) + VERIFY_RECHECK_MS).toISOString();
  await saveEvent(tx, row, { ...applied?.patch, stages: setStage(stages, 'Verify', { status: 'in_progress', startedAt, detail: { outstanding, checks: attempt, nextCheckAt } }) });
  await scheduleJob(tx, { kind: STAGE_JOB, subjectId: row.id, key: `Verify-${attempt + 1}`, dueAt: nextCheckAt, payload: { stage: 'Verify', attempt: attempt + 1 } });
  if (attempt === 1) activity.push({ text: `Waiting for imports to confirm ${outstanding.length} change(s) in connected applications`, detail: { outstanding } });
  await recordActivities(tx, null, subject, activity);
}

/** Runs one stage of an event (the scheduler's handler for `personnel_event.stage`). */
export async function runStage(deps: ServiceDeps, tx: WriteTx, eventId: string, stage: StageName | 'Review', attempt = 1): Promise<void> {
  const row = await eventRow(tx, eventId);
  // The end of a review period comes after the event completed: it runs whatever the status.
  if (row && stage === 'Review') return endReview(tx, row);
  if (!row || stage === 'Review' || row.status === 'canceled' || row.status === 'failed' || row.status === 'completed') {
    tx.audit({ action: 'personnelEvent.stageSkipped', targetType: 'personnelEvent', targetId: eventId, after: { stage, status: row?.status ?? 'missing' } });
    return;
  }
  if (stage === 'Verify') return verify(tx, row, attempt);
  const effect = EFFECTS[stage];
  const stages = JSON.parse(row.stages) as Stage[];
  if (!effect || stages.find((s) => s.name === stage)?.status !== 'pending') {
    tx.audit({ action: 'personnelEvent.stageSkipped', targetType: 'personnelEvent', targetId: eventId, after: { stage, reason: 'not pending' } });
    return;
  }
  // The stage may give no identity a Grantory right its creator did not hold (nor remove the
  // last full administrator): a refusal fails the job at once, and nothing of the stage remains.
  // In a batch of jobs it is judged against the last commit (see withRightsGuard).
  const allowed = row.creator_rights === null ? null : new Set(JSON.parse(row.creator_rights) as Right[]);
  const result = allowed ? await withRightsGuard(deps.store, tx, allowed, (guarded) => effect(deps, guarded, row)) : await effect(deps, tx, row);
  if ('failed' in result) {
    const failed = stages.map((s) => (s.name === stage ? { ...s, status: 'failed' as const, startedAt: tx.now, completedAt: tx.now, detail: { error: result.failed } } : s.status === 'pending' ? { ...s, status: 'canceled' as const } : s));
    await saveEvent(tx, row, { status: 'failed', stages: failed });
    await recordActivity(tx, null, { kind: SUBJECT_KIND, id: row.id }, `${stage} failed: ${result.failed}`);
    return;
  }
  const applied: Applied = {
    patch: { status: 'in_progress', identity_id: result.identityId ?? row.identity_id, identity_name: result.identityName ?? row.identity_name },
    stages: setStage(stages, stage, { status: 'completed', startedAt: tx.now, completedAt: tx.now, detail: result.detail }),
    activity: [{ text: `${stage} completed`, detail: result.detail }],
    accounts: stage === 'Deprovision' ? (result.detail.accountsToDeprovision as PreviewAccount[] | undefined) : undefined,
  };
  const nextEffect = result.next && result.next.stage !== 'Review' ? result.next : null;
  if (result.next?.stage === 'Review') await scheduleJob(tx, { kind: STAGE_JOB, subjectId: row.id, key: 'Review', dueAt: result.next.dueAt, payload: { stage: 'Review' } });
  if (!nextEffect && (row.type !== 'leave_of_absence' || stage === 'Restore')) {
    // The first check runs in the same write (access in managed applications needs no wait),
    // saved with the stage: one save of the event and one append to its log for both.
    await verify(tx, row, 1, applied);
    return;
  }
  await saveEvent(tx, row, { ...applied.patch, stages: applied.stages });
  await recordActivities(tx, null, { kind: SUBJECT_KIND, id: row.id }, applied.activity);
  if (nextEffect) await scheduleJob(tx, { kind: STAGE_JOB, subjectId: row.id, key: nextEffect.stage, dueAt: nextEffect.dueAt, payload: { stage: nextEffect.stage } });
}

export const runStageJob: JobHandler = async (deps, tx, job: ScheduledJob) => {
  const payload = (job.payload ?? {}) as { stage?: StageName | 'Review'; attempt?: number };
  await runStage(deps, tx, job.subjectId, payload.stage ?? 'Verify', payload.attempt ?? 1);
};

/** A stage job that failed for good (its retries ran out): the event fails, with the error in the stage. */
export const failStageJob: JobFailureHandler = async (_deps, tx, job, error) => {
  const row = await eventRow(tx, job.subjectId);
  if (!row || row.status === 'canceled' || row.status === 'completed' || row.status === 'failed') return;
  const stage = ((job.payload ?? {}) as { stage?: string }).stage ?? 'Verify';
  const stages = (JSON.parse(row.stages) as Stage[]).map((s) =>
    s.name === stage ? { ...s, status: 'failed' as const, completedAt: tx.now, detail: { ...(s.detail ?? {}), error } } : s.status === 'pending' ? { ...s, status: 'canceled' as const } : s,
  );
  await saveEvent(tx, row, { status: 'failed', stages });
  await recordActivity(tx, null, { kind: SUBJECT_KIND, id: row.id }, `${stage} failed: ${error}`);
};

export const PERSONNEL_JOB_HANDLERS: Readonly<Record<string, JobHandler>> = { [STAGE_JOB]: runStageJob };
export const PERSONNEL_JOB_FAILURE_HANDLERS: Readonly<Record<string, JobFailureHandler>> = { [STAGE_JOB]: failStageJob };
