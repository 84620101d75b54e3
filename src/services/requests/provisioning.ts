/**
 * Carrying out an approved access request, in the same write as the last approval:
 *
 * - `add` writes an assignment with source `request` (carrying `validFrom`/`validTo`); the
 *   other actions revoke (`remove`), pause (`suspend`), resume (`restore`) or change the
 *   terms of (`change`) the assignment the request names.
 * - Managed applications: provisioned at once (`provisioning.status` `provisioned`, the
 *   request `completed`). Connected applications: the provisioning is `pending` (request
 *   `open`) until an import shows the grant (or no longer shows it, for remove and suspend):
 *   then `verified` and `completed`; after `settings.provisioning.failAfterImports` imports
 *   of the application that do not, `failed`.
 * - A future `validFrom`: the request is `scheduled`; an `accessRequest.activate` job at
 *   `validFrom` completes it (an `add`'s assignment is written at approval and counts from
 *   `validFrom`; the other actions are carried out by the job).
 */
import { AppError } from '../../domain/errors.ts';
import type { WriteTx } from '../../store/store.ts';
import { changeAssignmentTerms, insertAssignment, setState, type StateAction } from '../access/index.ts';
import { scheduleJob, tenantSettings } from '../kernel/index.ts';
import { permissionsOfRoles, recordActivity } from '../workflow/index.ts';
import type { AccessContext } from '../../domain/access.ts';
import type { ApprovalDecision, ApprovalOutcomeHandler, ImportApplyListener, JobHandler, ServiceDeps } from '../deps.ts';
import { auditState, requestRef, type ProvisioningCheck, type RequestRow } from './model.ts';
import { unitMemberIds } from './members.ts';
import { approveAgainstSod, sodCheck } from './sod.ts';

export const ACTIVATE_JOB = 'accessRequest.activate';

const STATE_ACTIONS: Partial<Record<string, StateAction>> = { remove: 'revoke', suspend: 'pause', restore: 'resume' };

async function loadRow(tx: WriteTx, id: string): Promise<RequestRow> {
  const row = await tx.db.selectFrom('access_requests').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw new AppError('not_found', `access request ${id} does not exist`);
  return row;
}

/** Writes the request's new state with its audit event. */
async function update(tx: WriteTx, row: RequestRow, patch: Partial<RequestRow>, action: string, extra: Record<string, unknown> = {}): Promise<RequestRow> {
  const next: RequestRow = { ...row, ...patch, updated_at: tx.now, version: Number(row.version) + 1 };
  const { id: _id, tenant_id: _t, ...fields } = next;
  await tx.db.updateTable('access_requests').set(fields).where('id', '=', row.id).execute();
  tx.audit({ action, targetType: 'accessRequest', targetId: row.id, before: auditState(row), after: { ...auditState(next), ...extra } });
  return next;
}

/** The grants of connected applications an import must show (or no longer show) for the request. */
async function connectedChecks(tx: WriteTx, row: RequestRow): Promise<ProvisioningCheck[]> {
  if (row.action === 'change') return [];
  const perms = row.resource_type === 'role'
    ? await permissionsOfRoles(tx, [row.resource_id])
    : (await tx.db.selectFrom('permissions').select(['id', 'application_id']).where('id', '=', row.resource_id).execute()).map((p) => ({ permissionId: p.id, applicationId: p.application_id }));
  if (!perms.length) return [];
  const connected = new Set((await tx.db.selectFrom('applications').select('id').where('id', 'in', [...new Set(perms.map((p) => p.applicationId))]).where('kind', '=', 'connected').execute()).map((a) => a.id));
  const expect = row.action === 'remove' || row.action === 'suspend' ? 'absent' : 'present';
  return perms.filter((p) => connected.has(p.applicationId)).map((p) => ({ permissionId: p.permissionId, applicationId: p.applicationId, expect }));
}

/** Changes the assignment a non-add request acts on; false (and the request failed) when its state no longer allows it. */
async function actOnAssignment(tx: WriteTx, row: RequestRow): Promise<RequestRow | null> {
  const assignment = row.assignment_id ? await tx.db.selectFrom('assignments').selectAll().where('id', '=', row.assignment_id).executeTakeFirst() : undefined;
  const cause = { accessRequestId: row.id, number: Number(row.number) };
  const stateAction = STATE_ACTIONS[row.action];
  const allowed = assignment && (row.action === 'change' ? assignment.state !== 'revoked' : stateAction === 'revoke' ? assignment.state !== 'revoked' : stateAction === 'pause' ? assignment.state === 'active' : assignment.state === 'paused');
  if (!assignment || !allowed) {
    const why = assignment ? `assignment ${assignment.id} is ${assignment.state}` : 'the assignment no longer exists';
    await recordActivity(tx, null, requestRef(row.id), `Could not be carried out: ${why}`);
    await update(tx, row, { status: 'failed', provisioning_status: 'failed', closed_at: tx.now }, 'accessRequest.fail', { reason: why });
    return null;
  }
  if (row.action === 'change') await changeAssignmentTerms(tx, assignment, { validFrom: row.valid_from, validTo: row.valid_to, context: { type: row.context_type as 'all', id: row.context_id } }, cause);
  else await setState(tx, assignment, stateAction!, row.justification, cause);
  return row;
}

/** The approved outcome: carries the request out (see the module comment). */
export async function carryOut(deps: ServiceDeps, tx: WriteTx, id: string, decision?: ApprovalDecision): Promise<void> {
  let row = await loadRow(tx, id);
  if (row.status !== 'pending') throw new AppError('conflict', `access request #${row.number} is ${row.status}`);
  if (row.action === 'add') {
    // What was asked for, and for whom, may have gone while the request waited.
    const gone = await goneSince(tx, row);
    if (gone) {
      await recordActivity(tx, null, requestRef(row.id), `Could not be carried out: ${gone}`);
      await update(tx, row, { status: 'failed', provisioning_status: 'failed', closed_at: tx.now }, 'accessRequest.fail', { reason: gone });
      return;
    }
  }
  if (row.action === 'add' || row.action === 'restore') {
    // Separation of duties again at approval: the targets' access may have changed since submission.
    const unit = row.target_type === 'orgUnit';
    const conflicts = await sodCheck(tx, deps, {
      ...(unit ? { orgUnitIds: [row.target_id] } : { identityIds: [row.target_id] }),
      adds: [{ type: row.resource_type === 'role' ? 'role' : 'permission', id: row.resource_id, context: { type: row.context_type, id: row.context_id } as AccessContext }],
    });
    const standing = await approveAgainstSod(tx, { id: row.id, number: Number(row.number), validTo: row.valid_to }, conflicts, decision);
    // The conflicts as they stand at approval (with the exceptions just recorded) are written with the approval.
    row = { ...row, sod_conflicts: JSON.stringify(standing) };
  }
  const future = row.valid_from !== null && Date.parse(row.valid_from) > Date.parse(tx.now);
  const checks = await connectedChecks(tx, row);
  const patch: Partial<RequestRow> = { provisioning_checks: JSON.stringify(checks) };
  if (row.action === 'add') {
    const assignment = await insertAssignment(
      tx,
      {
        assignee: { type: row.target_type === 'orgUnit' ? 'orgUnit' : 'identity', id: row.target_id },
        resource: { type: row.resource_type === 'role' ? 'role' : 'permission', id: row.resource_id },
        context: { type: row.context_type as 'all', id: row.context_id },
        source: 'request',
        validFrom: row.valid_from,
        validTo: row.valid_to,
        reason: row.justification,
        createdBy: row.requester_id,
        delegatedFromId: null,
        delegatorId: null,
        ruleId: null,
      },
      { accessRequestId: row.id, number: Number(row.number) },
    );
    patch.provisioning_assignment_id = assignment.id;
  } else if (!future) {
    const acted = await actOnAssignment(tx, row);
    if (!acted) return;
    patch.provisioning_assignment_id = row.assignment_id;
  }
  if (future) {
    Object.assign(patch, { status: 'scheduled', provisioning_status: checks.length || row.action !== 'add' ? 'pending' : 'provisioned' });
    await scheduleJob(tx, { kind: ACTIVATE_JOB, subjectId: row.id, key: 'activate', dueAt: row.valid_from! });
    row = await update(tx, row, patch, 'accessRequest.approve');
    await recordActivity(tx, null, requestRef(row.id), `Approved; scheduled to take effect at ${row.valid_from}`);
    return;
  }
  await finishProvisioning(tx, row, patch, checks, 'accessRequest.approve', 'Approved');
}

/** Provisioned at once (managed) or waiting for an import (connected). */
async function finishProvisioning(tx: WriteTx, row: RequestRow, patch: Partial<RequestRow>, checks: ProvisioningCheck[], action: string, what: string): Promise<void> {
  if (checks.length) {
    const next = await update(tx, row, { ...patch, status: 'open', provisioning_status: 'pending' }, action);
    await recordActivity(tx, null, requestRef(next.id), `${what}; provisioning in the connected application is pending until an import shows it`);
    return;
  }
  const next = await update(tx, row, { ...patch, status: 'completed', provisioning_status: 'provisioned', closed_at: tx.now }, action);
  await recordActivity(tx, null, requestRef(next.id), `${what}; provisioned`);
}

export const ACCESS_REQUEST_OUTCOMES: ApprovalOutcomeHandler = {
  approved: carryOut,
  async rejected(_deps, tx, id, comment) {
    const row = await loadRow(tx, id);
    await update(tx, row, { status: 'rejected', closed_at: tx.now }, 'accessRequest.reject', { comment });
  },
};

/** The `accessRequest.activate` job at a scheduled request's `validFrom`. */
export const activateRequest: JobHandler = async (_deps, tx, job) => {
  const row = await tx.db.selectFrom('access_requests').selectAll().where('id', '=', job.subjectId).executeTakeFirst();
  if (!row || row.status !== 'scheduled') {
    tx.audit({ action: 'accessRequest.activationMoot', targetType: 'accessRequest', targetId: job.subjectId, after: { status: row?.status ?? 'missing' } });
    return;
  }
  if (row.action !== 'add' && !(await actOnAssignment(tx, row))) return;
  const checks = JSON.parse(row.provisioning_checks) as ProvisioningCheck[];
  await finishProvisioning(tx, row, {}, checks, 'accessRequest.activate', `Took effect at ${row.valid_from}`);
};

/** Why an `add` can no longer be carried out (its resource or target was deleted, its target is no longer active), or null. */
async function goneSince(tx: WriteTx, row: RequestRow): Promise<string | null> {
  const resource = row.resource_type === 'role'
    ? await tx.db.selectFrom('roles').select('id').where('id', '=', row.resource_id).executeTakeFirst()
    : await tx.db.selectFrom('permissions').select('id').where('id', '=', row.resource_id).executeTakeFirst();
  if (!resource) return `the ${row.resource_type} was deleted`;
  if (row.target_type === 'orgUnit') {
    const unit = await tx.db.selectFrom('org_units').select('id').where('id', '=', row.target_id).executeTakeFirst();
    return unit ? null : 'the organization unit was deleted';
  }
  const identity = await tx.db.selectFrom('identities').select('status').where('id', '=', row.target_id).executeTakeFirst();
  if (!identity) return 'the identity was deleted';
  return identity.status === 'active' ? null : `the identity is ${identity.status}`;
}

/** The identities a request reaches: its target identity, or the members of its unit and of the unit's descendants. */
async function targetIdentities(tx: WriteTx, row: RequestRow): Promise<string[]> {
  if (row.target_type !== 'orgUnit') return [row.target_id];
  const unit = await tx.db.selectFrom('org_units').select('path').where('id', '=', row.target_id).executeTakeFirst();
  return unit ? unitMemberIds(tx, unit.path) : [];
}

/** Whether the grants the checks name are (or are no longer) held by the identities in their applications. */
async function checksHold(tx: WriteTx, identityIds: string[], checks: ProvisioningCheck[]): Promise<boolean> {
  if (!identityIds.length) return true;
  for (const c of checks) {
    const held = await tx.db
      .selectFrom('grants')
      .innerJoin('accounts', 'accounts.id', 'grants.account_id')
      .select('accounts.identity_id')
      .distinct()
      .where('accounts.application_id', '=', c.applicationId)
      .where('grants.permission_id', '=', c.permissionId)
      .where('accounts.identity_id', 'in', identityIds)
      .execute();
    if (c.expect === 'present' && held.length < new Set(identityIds).size) return false;
    if (c.expect === 'absent' && held.length > 0) return false;
  }
  return true;
}

/**
 * After an import of a connected application is applied (inside its write): each request
 * whose provisioning waits for that application is verified when the import shows it, or
 * counts one more import that does not (failed at `failAfterImports`).
 */
export const verifyProvisioning: ImportApplyListener = async (_deps, tx, applied) => {
  const waiting = await tx.db.selectFrom('access_requests').selectAll().where('provisioning_status', '=', 'pending').where('status', '=', 'open').execute();
  const relevant = waiting.filter((r) => (JSON.parse(r.provisioning_checks) as ProvisioningCheck[]).some((c) => c.applicationId === applied.applicationId));
  if (!relevant.length) return;
  const { provisioning } = await tenantSettings(tx);
  for (const row of relevant) {
    const checks = JSON.parse(row.provisioning_checks) as ProvisioningCheck[];
    const identities = await targetIdentities(tx, row);
    const ref = requestRef(row.id);
    if (await checksHold(tx, identities, checks)) {
      await update(tx, row, { status: 'completed', provisioning_status: 'verified', provisioning_observed_at: tx.now, closed_at: tx.now }, 'accessRequest.verify', { importId: applied.importId });
      await recordActivity(tx, null, ref, 'Provisioning verified: an import shows it', { importId: applied.importId });
      continue;
    }
    const seen = Number(row.provisioning_imports_seen) + 1;
    if (seen >= provisioning.failAfterImports) {
      await update(tx, row, { status: 'failed', provisioning_status: 'failed', provisioning_imports_seen: seen, closed_at: tx.now }, 'accessRequest.fail', { importId: applied.importId, reason: `${seen} imports did not show it` });
      await recordActivity(tx, null, ref, `Provisioning failed: ${seen} imports of the application did not show it`, { importId: applied.importId });
    } else {
      await update(tx, row, { provisioning_imports_seen: seen }, 'accessRequest.provisioningUnverified', { importId: applied.importId, importsSeen: seen });
      await recordActivity(tx, null, ref, `An import did not show it yet (${seen} of ${provisioning.failAfterImports})`, { importId: applied.importId });
    }
  }
};

export const REQUEST_JOB_HANDLERS: Readonly<Record<string, JobHandler>> = { [ACTIVATE_JOB]: activateRequest };
