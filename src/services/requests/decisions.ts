/**
 * Acting on an access request: approve or reject (by a current approver of its open step,
 * never by its requester or its target), cancel (its requester, or a holder of `manage-users`
 * or `approve-requests`, while it is pending or scheduled), comment (anyone who sees it).
 * A closed request is 409; one the caller may not see is 404.
 */
import type { AccessContext } from '../../domain/access.ts';
import { AppError } from '../../domain/errors.ts';
import { refuseBlocked, sodCheck } from './sod.ts';
import { setState } from '../access/index.ts';
import { cancelJobs, writeAs, type Actor } from '../kernel/index.ts';
import { closeApproval, decideTask, recordActivity, recordComment, type Decision } from '../workflow/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { auditState, CANCELABLE, requestRef } from './model.ts';
import { requestView, seesEveryRequest, visibleRow } from './reads.ts';

export async function decideAccessRequest(deps: ServiceDeps, actor: Actor, id: string, decision: Decision, comment: string | null) {
  const { tenantId } = actor.caller;
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await visibleRow(tx, actor, id);
    if (row.status !== 'pending') throw new AppError('conflict', `access request #${row.number} is ${row.status}; only a pending request can be approved or rejected`, { details: { requestStatus: row.status } });
    let targets = row.target_type === 'identity' ? [row.target_id] : [];
    if (row.target_type === 'orgUnit') {
      const step = await tx.db.selectFrom('approval_steps').select('subject').where('subject_id', '=', id).executeTakeFirst();
      if (step) targets = (JSON.parse(step.subject) as { targetIdentityIds: string[] }).targetIdentityIds;
    }
    const { outcome } = await decideTask(deps, tx, actor, { subject: { kind: 'access_request', id, requesterId: row.requester_id, targetIdentityIds: targets } }, decision, comment);
    // Separation of duties at each approval: a step approved while more follow is refused when a
    // `block` policy now forbids the request (the targets' access changed since submission), and
    // the conflicts as they stand are written on the request for the next approvers. The last
    // approval checks again when it carries the request out (provisioning.ts).
    if (decision === 'approve' && outcome === 'open' && (row.action === 'add' || row.action === 'restore')) {
      const conflicts = await sodCheck(tx, deps, {
        ...(row.target_type === 'orgUnit' ? { orgUnitIds: [row.target_id] } : { identityIds: [row.target_id] }),
        adds: [{ type: row.resource_type === 'role' ? 'role' : 'permission', id: row.resource_id, context: { type: row.context_type, id: row.context_id } as AccessContext }],
      });
      await refuseBlocked(tx, actor, conflicts);
      await tx.db.updateTable('access_requests').set({ sod_conflicts: JSON.stringify(conflicts) }).where('tenant_id', '=', tx.tenantId).where('id', '=', id).execute();
    }
  });
  await deps.access?.syncNow(tenantId).catch(() => undefined);
  return { value: await requestView(deps.store.read(tenantId), id), revision };
}

export async function cancelAccessRequest(deps: ServiceDeps, actor: Actor, id: string, comment: string | null) {
  const { tenantId } = actor.caller;
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await visibleRow(tx, actor, id);
    const me = actor.caller.identityId;
    if (!(me && row.requester_id === me) && !seesEveryRequest(actor)) throw new AppError('forbidden', 'only the requester (or a holder of manage-users or approve-requests) can cancel a request', { details: { requiredRights: ['manage-users', 'approve-requests'] } });
    if (!CANCELABLE.includes(row.status)) throw new AppError('conflict', `access request #${row.number} is ${row.status}; only a pending or scheduled request can be canceled`, { details: { requestStatus: row.status } });
    // A scheduled add already wrote its (future) assignment: it goes with the request.
    if (row.status === 'scheduled' && row.action === 'add' && row.provisioning_assignment_id) {
      const a = await tx.db.selectFrom('assignments').selectAll().where('id', '=', row.provisioning_assignment_id).executeTakeFirst();
      if (a && a.state !== 'revoked') await setState(tx, a, 'revoke', 'access request canceled', { accessRequestId: id });
    }
    await closeApproval(tx, requestRef(id), 'canceled');
    await cancelJobs(tx, { subjectId: id });
    const next = { ...row, status: 'canceled', closed_at: tx.now, updated_at: tx.now, version: Number(row.version) + 1 };
    await tx.db.updateTable('access_requests').set({ status: next.status, closed_at: next.closed_at, updated_at: next.updated_at, version: next.version }).where('id', '=', id).execute();
    tx.audit({ action: 'accessRequest.cancel', targetType: 'accessRequest', targetId: id, before: auditState(row), after: { ...auditState(next), comment } });
    await recordActivity(tx, actor, requestRef(id), `Canceled${comment ? `: ${comment}` : ''}`);
  });
  await deps.access?.syncNow(tenantId).catch(() => undefined);
  return { value: await requestView(deps.store.read(tenantId), id), revision };
}

export async function commentOnAccessRequest(deps: ServiceDeps, actor: Actor, id: string, text: string) {
  const { revision } = await writeAs(deps, actor, async (tx) => {
    await visibleRow(tx, actor, id);
    await recordComment(tx, actor, requestRef(id), text);
  });
  return { value: await requestView(deps.store.read(actor.caller.tenantId), id), revision };
}
