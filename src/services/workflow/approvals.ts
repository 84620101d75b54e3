/**
 * Approvals: a subject's ordered steps and each approver's task, opened inside the subject's
 * create write, decided one task at a time, escalated by scheduler jobs.
 *
 * - The policy is resolved once, when the subject opens (`mostSpecificPolicy`; none: the
 *   application owner approves; personnel events without a policy naming their type are
 *   approved at once). Its steps and their approvers are stored with the subject, so later
 *   policy changes do not move an approval under way.
 * - A step is decided when `min(quorum, its approvers)` approve (a quorum larger than the
 *   approvers a step resolved to would never be reached); one rejection rejects the subject.
 * - A step whose approvers are all excluded (the requester, a target) or nobody escalates at
 *   once to its escalation target, else to the holders of `approve-requests`.
 * - Decisions re-read the task and step inside the write; a tenant's writes are serialized,
 *   so of two approvers deciding a one-approver step at once one counts, the other gets 409.
 */
import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../../domain/errors.ts';
import { DEFAULT_STEPS, autoApproves, mostSpecificPolicy, policyForEventType, type PolicyStep } from '../../domain/approval-policy.ts';
import type { Database } from '../../store/schema.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import { cancelJobs, scheduleJob, type Actor } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { approversOf, eligible, escalationTargets } from './approvers.ts';
import { auditTargetType, recordActivity, type SubjectKind } from './journal.ts';
import { allPolicies } from './policies.ts';
import { escalationJobKind, type ApprovalStepView, type ApprovalSubject } from './subject.ts';

const DAY_MS = 86_400_000;

type StepRow = Database['approval_steps'];
type TaskRow = Database['approval_tasks'];

const stepOf = (row: StepRow): PolicyStep => {
  const spec = JSON.parse(row.approver) as { approver: PolicyStep['approver']; id: string | null };
  return { name: row.name, approver: spec.approver, id: spec.id, quorum: Number(row.quorum), dueDays: row.due_days === null ? null : Number(row.due_days), escalateTo: row.escalate_to ? (JSON.parse(row.escalate_to) as PolicyStep['escalateTo']) : null };
};

/**
 * Inside the subject's create write: resolves the policy, writes the steps and tasks, opens
 * the first step and schedules its escalation. `approved`: nothing to approve (auto-approve,
 * or a personnel event no policy names).
 */
export async function openApproval(deps: ServiceDeps, tx: WriteTx, subject: ApprovalSubject): Promise<{ outcome: 'approved' | 'open'; steps: ApprovalStepView[]; policyId: string | null }> {
  const policies = await allPolicies(tx);
  const policy = subject.kind === 'personnel_event' ? (subject.personnelEventType ? policyForEventType(policies, subject.personnelEventType) : null) : mostSpecificPolicy(policies, subject.resources);
  const ref = { kind: subject.kind, id: subject.id };
  if (!policy && subject.kind === 'personnel_event' && !subject.unnamedEventSteps?.length) {
    await recordActivity(tx, null, ref, 'No approval policy names this event type: approved at once');
    return { outcome: 'approved', steps: [], policyId: null };
  }
  if (policy && subject.kind === 'access_request' && autoApproves(policy.autoApprove, subject.resources)) {
    await recordActivity(tx, null, ref, `Approved at once by policy "${policy.name}" (risk at or below ${policy.autoApprove})`, { policyId: policy.id });
    return { outcome: 'approved', steps: [], policyId: policy.id };
  }
  const unnamed = subject.kind === 'personnel_event' ? subject.unnamedEventSteps : undefined;
  const steps = policy?.steps ?? unnamed ?? DEFAULT_STEPS;
  const why = policy
    ? `Approval by policy "${policy.name}": ${steps.map((s) => s.name).join(', then ')}`
    : unnamed
      ? `No approval policy names this event type and HR events are not approved at once: ${steps.map((s) => s.name).join(', then ')}`
      : 'No approval policy applies: the application owner approves';
  await recordActivity(tx, null, ref, why, { policyId: policy?.id ?? null });
  for (const [position, step] of steps.entries()) {
    const row: StepRow = {
      id: randomUUID(),
      tenant_id: tx.tenantId,
      subject_kind: subject.kind,
      subject_id: subject.id,
      position,
      name: step.name,
      approver: JSON.stringify({ approver: step.approver, id: step.id }),
      quorum: step.quorum,
      due_days: step.dueDays,
      escalate_to: step.escalateTo ? JSON.stringify(step.escalateTo) : null,
      status: 'waiting',
      due_at: null,
      opened_at: null,
      decided_at: null,
      escalated_at: null,
      subject: JSON.stringify(subject),
    };
    await tx.db.insertInto('approval_steps').values(row).execute();
    let approvers = await eligible(tx, await approversOf(deps, tx, step, subject), subject);
    let via = 'policy';
    if (!approvers.length) {
      approvers = await escalationTargets(deps, tx, step.escalateTo, steps, subject);
      via = 'escalation';
      await recordActivity(tx, null, ref, `Step "${step.name}": nobody but the requester or a target may decide it; it goes to ${approvers.length ? `${approvers.length} escalation approver(s)` : 'nobody (no eligible approver: cancel the request or change the policy)'}`);
      if (approvers.length) row.escalated_at = tx.now;
      await tx.db.updateTable('approval_steps').set({ escalated_at: row.escalated_at }).where('id', '=', row.id).execute();
    }
    for (const approverId of approvers) {
      await tx.db.insertInto('approval_tasks').values({ id: randomUUID(), tenant_id: tx.tenantId, step_id: row.id, subject_kind: subject.kind, subject_id: subject.id, approver_id: approverId, status: 'waiting', via, due_at: null, comment: null, decided_at: null, created_at: tx.now }).execute();
    }
  }
  await openStep(tx, subject.kind, subject.id, 0);
  return { outcome: 'open', steps: await approvalSteps(tx, ref), policyId: policy?.id ?? null };
}

/** Opens the step at `position`: its tasks become open, its due date is set and its escalation scheduled. */
async function openStep(tx: WriteTx, kind: SubjectKind, subjectId: string, position: number): Promise<StepRow | null> {
  const step = await tx.db.selectFrom('approval_steps').selectAll().where('subject_kind', '=', kind).where('subject_id', '=', subjectId).where('position', '=', position).executeTakeFirst();
  if (!step) return null;
  const dueAt = step.due_days !== null ? new Date(Date.parse(tx.now) + Number(step.due_days) * DAY_MS).toISOString() : null;
  await tx.db.updateTable('approval_steps').set({ status: 'open', opened_at: tx.now, due_at: dueAt }).where('id', '=', step.id).execute();
  await tx.db.updateTable('approval_tasks').set({ status: 'open', due_at: dueAt }).where('step_id', '=', step.id).where('status', '=', 'waiting').execute();
  if (dueAt) await scheduleJob(tx, { kind: escalationJobKind(kind), subjectId, key: step.id, dueAt });
  return { ...step, status: 'open', opened_at: tx.now, due_at: dueAt };
}

/** A subject's steps with their approvers, in order. */
export async function approvalSteps(scope: TenantDb, subject: { kind: SubjectKind; id: string }): Promise<ApprovalStepView[]> {
  const { db } = scope;
  const steps = await db.selectFrom('approval_steps').selectAll().where('subject_kind', '=', subject.kind).where('subject_id', '=', subject.id).orderBy('position').execute();
  if (!steps.length) return [];
  const tasks = await db.selectFrom('approval_tasks').selectAll().where('subject_id', '=', subject.id).orderBy('created_at').orderBy('approver_id').execute();
  const ids = [...new Set(tasks.map((t) => t.approver_id))];
  const names = new Map<string, string | null>();
  if (ids.length) {
    for (const i of await db.selectFrom('identities').select(['id', 'display_name', 'username', 'email']).where('id', 'in', ids).execute()) names.set(i.id, i.display_name ?? i.username ?? i.email);
  }
  return steps.map((s) => {
    const own = tasks.filter((t) => t.step_id === s.id);
    const deciding = own.filter((t) => t.status === (s.status === 'rejected' ? 'rejected' : 'approved')).sort((a, b) => (a.decided_at ?? '').localeCompare(b.decided_at ?? ''));
    const last = s.status === 'approved' || s.status === 'rejected' ? (deciding[deciding.length - 1] ?? null) : null;
    const spec = JSON.parse(s.approver) as { approver: string; id: string | null };
    return {
      id: s.id,
      position: Number(s.position),
      name: s.name,
      approver: { kind: spec.approver, id: spec.id },
      quorum: Number(s.quorum),
      status: s.status,
      approvers: own.map((t) => ({ identityId: t.approver_id, name: names.get(t.approver_id) ?? null, status: t.status, via: t.via, decidedAt: t.decided_at, comment: t.comment })),
      decision: s.status === 'approved' || s.status === 'rejected' ? s.status : null,
      decidedBy: last?.approver_id ?? null,
      decidedAt: s.decided_at,
      comment: last?.comment ?? null,
      dueAt: s.due_at,
      escalatedAt: s.escalated_at,
    };
  });
}

/** Inside a write: withdraws the subject's undecided steps and tasks and cancels their escalations. */
export async function closeApproval(tx: WriteTx, subject: { kind: SubjectKind; id: string }, reason: 'canceled' | 'rejected' | 'approved'): Promise<void> {
  await tx.db.updateTable('approval_tasks').set({ status: 'withdrawn', decided_at: tx.now }).where('subject_id', '=', subject.id).where('status', 'in', ['open', 'waiting']).execute();
  await tx.db.updateTable('approval_steps').set({ status: 'withdrawn', decided_at: tx.now }).where('subject_kind', '=', subject.kind).where('subject_id', '=', subject.id).where('status', 'in', ['open', 'waiting']).execute();
  await cancelJobs(tx, { subjectId: subject.id, kind: escalationJobKind(subject.kind) });
  void reason;
}

export type Decision = 'approve' | 'reject';

/** Which task a decision is about: a task of the inbox, or the caller's task in a subject's open step. */
export type DecisionTarget = { taskId: string } | { subject: { kind: SubjectKind; id: string; requesterId: string | null; targetIdentityIds: string[] } };

/**
 * Inside a write: the actor's decision on a task. Refused with 403 when the actor is the
 * requester or a target or has no task in the open step, 409 when the task or its step is
 * already decided (or the subject is closed). The step's outcome (next step, the subject's
 * approval or rejection through `deps.approvalOutcomes`) happens in the same write.
 */
export async function decideTask(deps: ServiceDeps, tx: WriteTx, actor: Actor, target: DecisionTarget, decision: Decision, comment: string | null): Promise<{ kind: SubjectKind; subjectId: string; outcome: 'approved' | 'rejected' | 'open' }> {
  const me = actor.caller.identityId;
  if (!me) throw new AppError('forbidden', 'only a credential that acts as an identity can decide an approval');
  let task: TaskRow | undefined;
  if ('taskId' in target) {
    task = await tx.db.selectFrom('approval_tasks').selectAll().where('id', '=', target.taskId).executeTakeFirst();
    if (!task || task.approver_id !== me) throw notFound('approval task', target.taskId);
  } else {
    const s = target.subject;
    if (s.requesterId === me || s.targetIdentityIds.includes(me)) throw new AppError('forbidden', 'nobody approves or rejects their own request or one that targets themselves');
    const open = await tx.db.selectFrom('approval_steps').select('id').where('subject_kind', '=', s.kind).where('subject_id', '=', s.id).where('status', '=', 'open').executeTakeFirst();
    const mine = await tx.db.selectFrom('approval_tasks').selectAll().where('subject_id', '=', s.id).where('approver_id', '=', me).orderBy('created_at', 'desc').execute();
    if (!open) throw new AppError('conflict', 'the approval is closed: no step is open', { details: { reason: 'closed' } });
    task = mine.find((t) => t.step_id === open.id);
    if (!task) {
      // Decided (or withdrawn when its step was decided, also by a concurrent approver): 409.
      if (mine.some((t) => t.status !== 'waiting')) throw new AppError('conflict', 'the caller has already decided, or the step it was an approver of has been decided', { details: { reason: 'decided' } });
      throw new AppError('forbidden', 'the caller is not an approver of the open step');
    }
  }
  if (task.status !== 'open') throw new AppError('conflict', `this approval task is ${task.status}; only an open task can be decided`, { details: { taskStatus: task.status } });
  const step = await tx.db.selectFrom('approval_steps').selectAll().where('id', '=', task.step_id).executeTakeFirstOrThrow();
  if (step.status !== 'open') throw new AppError('conflict', `step "${step.name}" is ${step.status}`, { details: { stepStatus: step.status } });
  const subject = { kind: task.subject_kind as SubjectKind, id: task.subject_id };
  const status = decision === 'approve' ? 'approved' : 'rejected';
  await tx.db.updateTable('approval_tasks').set({ status, decided_at: tx.now, comment }).where('id', '=', task.id).execute();
  tx.audit({ action: `approval.${decision}`, targetType: auditTargetType(subject.kind), targetId: subject.id, after: { taskId: task.id, step: step.name, decision: status, comment } });
  await recordActivity(tx, actor, subject, `${decision === 'approve' ? 'Approved' : 'Rejected'} step "${step.name}"${comment ? `: ${comment}` : ''}`, { stepId: step.id, taskId: task.id });

  if (decision === 'reject') {
    await tx.db.updateTable('approval_steps').set({ status: 'rejected', decided_at: tx.now }).where('id', '=', step.id).execute();
    await closeApproval(tx, subject, 'rejected');
    await outcomeHandler(deps, subject.kind).rejected(deps, tx, subject.id, comment);
    return { ...subjectRef(subject), outcome: 'rejected' };
  }
  const tasks = await tx.db.selectFrom('approval_tasks').select(['status']).where('step_id', '=', step.id).execute();
  const approvals = tasks.filter((t) => t.status === 'approved').length;
  const needed = Math.min(Number(step.quorum), tasks.filter((t) => t.status !== 'withdrawn').length);
  if (approvals < needed) return { ...subjectRef(subject), outcome: 'open' };
  await tx.db.updateTable('approval_steps').set({ status: 'approved', decided_at: tx.now }).where('id', '=', step.id).execute();
  await tx.db.updateTable('approval_tasks').set({ status: 'withdrawn', decided_at: tx.now }).where('step_id', '=', step.id).where('status', '=', 'open').execute();
  await cancelJobs(tx, { subjectId: subject.id, kind: escalationJobKind(subject.kind), key: step.id });
  await recordActivity(tx, null, subject, `Step "${step.name}" approved (${approvals} of ${needed} needed)`);
  const next = await openStep(tx, subject.kind, subject.id, Number(step.position) + 1);
  if (next) {
    await recordActivity(tx, null, subject, `Step "${next.name}" opened${next.due_at ? `, due ${next.due_at}` : ''}`);
    return { ...subjectRef(subject), outcome: 'open' };
  }
  await outcomeHandler(deps, subject.kind).approved(deps, tx, subject.id, { actor, comment });
  return { ...subjectRef(subject), outcome: 'approved' };
}

const subjectRef = (s: { kind: SubjectKind; id: string }) => ({ kind: s.kind, subjectId: s.id });

function outcomeHandler(deps: ServiceDeps, kind: SubjectKind) {
  const handler = deps.approvalOutcomes?.[kind];
  if (!handler) throw new AppError('internal_error', `no approval outcome handler is registered for ${kind}`);
  return handler;
}

/**
 * The escalation job of a step (kind `<subject kind>.escalate`, key = the step id), run in
 * a system write when the step's due date passes: if the step is still open, its tasks also
 * go to the escalation target (see {@link escalationTargets}); they stay open for the
 * original approvers too. A step decided meanwhile is left as it is.
 */
export async function escalateStep(deps: ServiceDeps, tx: WriteTx, job: { kind: string; subjectId: string; key: string }): Promise<void> {
  const step = await tx.db.selectFrom('approval_steps').selectAll().where('id', '=', job.key).executeTakeFirst();
  if (!step || step.status !== 'open') {
    tx.audit({ action: 'approval.escalationMoot', targetType: auditTargetType((step?.subject_kind ?? job.kind.split('.')[0]!) as SubjectKind), targetId: job.subjectId, after: { stepId: job.key, status: step?.status ?? 'missing' } });
    return;
  }
  const subject = JSON.parse(step.subject) as ApprovalSubject;
  const all = await tx.db.selectFrom('approval_steps').selectAll().where('subject_id', '=', step.subject_id).where('subject_kind', '=', step.subject_kind).orderBy('position').execute();
  const targets = await escalationTargets(deps, tx, stepOf(step).escalateTo, all.map(stepOf), subject);
  const existing = new Set((await tx.db.selectFrom('approval_tasks').select('approver_id').where('step_id', '=', step.id).execute()).map((t) => t.approver_id));
  const added = targets.filter((t) => !existing.has(t));
  for (const approverId of added) {
    await tx.db.insertInto('approval_tasks').values({ id: randomUUID(), tenant_id: tx.tenantId, step_id: step.id, subject_kind: step.subject_kind, subject_id: step.subject_id, approver_id: approverId, status: 'open', via: 'escalation', due_at: step.due_at, comment: null, decided_at: null, created_at: tx.now }).execute();
  }
  await tx.db.updateTable('approval_steps').set({ escalated_at: tx.now }).where('id', '=', step.id).execute();
  tx.audit({ action: 'approval.escalate', targetType: auditTargetType(subject.kind), targetId: step.subject_id, after: { stepId: step.id, step: step.name, dueAt: step.due_at, addedApprovers: added } });
  await recordActivity(tx, null, { kind: subject.kind, id: step.subject_id }, `Step "${step.name}" was due ${step.due_at}: escalated to ${added.length ? `${added.length} more approver(s)` : 'nobody new (no eligible escalation approver)'}`, { addedApprovers: added });
}
