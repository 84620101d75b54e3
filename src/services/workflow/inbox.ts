/**
 * The inbox: the caller's open approval tasks, oldest due first (tasks without a due date
 * last, then oldest first), and deciding one — the same as deciding its request or event.
 *
 * ```ts
 * const { items } = await approvalInbox(deps, actor, {});
 * await decideApprovalTask(deps, actor, items[0].id, 'approve', 'fine');
 * ```
 */
import { AppError } from '../../domain/errors.ts';
import { sql } from 'kysely';
import type { TenantDb } from '../../store/store.ts';
import { writeAs, type Actor } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { decideTask, type Decision } from './approvals.ts';
import type { SubjectKind } from './journal.ts';

export interface InboxItem {
  id: string;
  kind: SubjectKind;
  requestId?: string;
  eventId?: string;
  step: string;
  dueAt: string | null;
  createdAt: string;
  /** policy, or escalation (the task came to the caller when the step escalated) */
  via: string;
}

const MAX_INBOX = 1000;

export async function approvalInbox(deps: ServiceDeps, actor: Actor, options: { kind?: SubjectKind | undefined; limit?: number | undefined }): Promise<{ items: InboxItem[] }> {
  const me = actor.caller.identityId;
  if (!me) return { items: [] };
  const scope = deps.store.read(actor.caller.tenantId);
  let q = scope.db
    .selectFrom('approval_tasks')
    .innerJoin('approval_steps', 'approval_steps.id', 'approval_tasks.step_id')
    .select(['approval_tasks.id', 'approval_tasks.subject_kind', 'approval_tasks.subject_id', 'approval_tasks.due_at', 'approval_tasks.created_at', 'approval_tasks.via', 'approval_steps.name'])
    .where('approval_tasks.approver_id', '=', me)
    .where('approval_tasks.status', '=', 'open');
  if (options.kind) q = q.where('approval_tasks.subject_kind', '=', options.kind);
  const rows = await q
    .orderBy(sql`case when approval_tasks.due_at is null then 1 else 0 end`)
    .orderBy('approval_tasks.due_at')
    .orderBy('approval_tasks.created_at')
    .orderBy('approval_tasks.id')
    .limit(Math.min(Math.max(options.limit ?? MAX_INBOX, 1), MAX_INBOX))
    .execute();
  return {
    items: rows.map((r) => ({
      id: r.id,
      kind: r.subject_kind as SubjectKind,
      ...(r.subject_kind === 'access_request' ? { requestId: r.subject_id } : { eventId: r.subject_id }),
      step: r.name,
      dueAt: r.due_at,
      createdAt: r.created_at,
      via: r.via,
    })),
  };
}

/** Decides one of the caller's tasks (404 for another's task or an unknown one, 409 when it is no longer open). */
export async function decideApprovalTask(deps: ServiceDeps, actor: Actor, taskId: string, decision: Decision, comment: string | null) {
  if (!actor.caller.identityId) throw new AppError('forbidden', 'only a credential that acts as an identity can decide an approval');
  const result = await writeAs(deps, actor, (tx) => decideTask(deps, tx, actor, { taskId }, decision, comment));
  await deps.access?.syncNow(actor.caller.tenantId).catch(() => undefined);
  return result;
}

/** The names of the approvers with an open task on each subject (for lists that show who a subject waits for). */
export async function openApproverNames(scope: TenantDb, subjectIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!subjectIds.length) return out;
  const rows = await scope.db
    .selectFrom('approval_tasks')
    .innerJoin('identities', 'identities.id', 'approval_tasks.approver_id')
    .select(['approval_tasks.subject_id', 'identities.id', 'identities.display_name', 'identities.username', 'identities.email'])
    .where('approval_tasks.subject_id', 'in', [...subjectIds])
    .where('approval_tasks.status', '=', 'open')
    .orderBy('approval_tasks.created_at')
    .execute();
  for (const r of rows) (out.get(r.subject_id) ?? out.set(r.subject_id, []).get(r.subject_id)!).push(r.display_name ?? r.username ?? r.email ?? r.id);
  return out;
}
