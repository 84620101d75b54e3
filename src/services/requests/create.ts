/**
 * Submitting an access request: `add` a permission or role (only requestable ones), or
 * `change`, `remove`, `suspend`, `restore` an existing assignment, for an identity or an
 * organization unit. A request that would change nothing is refused with 422 saying why.
 *
 * Who may ask: anyone for themselves; a manager for a direct report; the manager of a unit
 * for the unit; holders of `manage-users` or `approve-requests` for anyone. The request, its
 * approval steps and — when nothing needs approving — its provisioning are one write.
 *
 * ```ts
 * const { value } = await createAccessRequest(deps, actor, { action: 'add', targetIdentityId: me,
 *   resource: { type: 'permission', id: perm }, justification: 'month-end close' });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { riskRank } from '../../domain/approval-policy.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import { normalizeContext, validateWindow } from '../access/index.ts';
import { writeAs, type Actor } from '../kernel/index.ts';
import { openApproval, permissionsOfRoles, recordActivity } from '../workflow/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { auditState, requestRef, type RequestAction, type RequestRow } from './model.ts';
import { carryOut } from './provisioning.ts';
import { requestView } from './reads.ts';
import { refuseBlocked, sodCheck } from './sod.ts';
import { unitMemberIds } from './members.ts';

export interface CreateRequestInput {
  action: RequestAction;
  targetIdentityId?: string | undefined;
  targetOrgUnitId?: string | undefined;
  resource?: { type: 'permission' | 'role'; id: string } | undefined;
  /** The assignment a change, remove, suspend or restore acts on (instead of target + resource + context). */
  assignmentId?: string | undefined;
  context?: { type: string; id?: string | null | undefined } | undefined;
  validFrom?: string | null | undefined;
  validTo?: string | null | undefined;
  justification?: string | null | undefined;
}

const invalid = (field: string, message: string) => new AppError('validation_failed', `${field} ${message}`, { errors: [{ field, message }] });
const noChange = (reason: string, details: Record<string, unknown> = {}) => new AppError('unprocessable', `the request would change nothing: ${reason}`, { details: { reason, ...details } });

interface ResourceInfo {
  type: 'permission' | 'role';
  id: string;
  applicationId: string | null;
  risk: number;
  requestable: boolean;
  why: string | null;
}

async function resourceInfo(scope: TenantDb, r: { type: 'permission' | 'role'; id: string }): Promise<ResourceInfo> {
  const { db } = scope;
  if (r.type === 'permission') {
    const p = await db.selectFrom('permissions').innerJoin('applications', 'applications.id', 'permissions.application_id').select(['permissions.id', 'permissions.application_id', 'permissions.risk', 'permissions.requestable', 'applications.archived', 'applications.builtin']).where('permissions.id', '=', r.id).executeTakeFirst();
    if (!p) throw notFound('permission', r.id);
    const why = p.requestable !== 1 ? 'the permission is not requestable' : p.archived === 1 ? 'its application is archived' : null;
    return { type: 'permission', id: p.id, applicationId: p.application_id, risk: riskRank(p.risk), requestable: why === null, why };
  }
  const role = await db.selectFrom('roles').select(['id', 'system']).where('id', '=', r.id).executeTakeFirst();
  if (!role) throw notFound('role', r.id);
  const perms = await permissionsOfRoles(scope, [role.id]);
  const apps = [...new Set(perms.map((p) => p.applicationId))];
  // A role is requestable when it is not a system role and every permission it gives is.
  const why = role.system === 1 ? 'system roles are not requestable' : perms.some((p) => !p.requestable) ? 'the role gives permissions that are not requestable' : !perms.length ? 'the role gives no permission' : null;
  return { type: 'role', id: role.id, applicationId: apps.length === 1 ? apps[0]! : null, risk: Math.max(1, ...perms.map((p) => riskRank(p.risk))), requestable: why === null, why };
}

/** Whether the actor may ask on behalf of the target (see the module comment). */
async function requireMayAskFor(scope: TenantDb, actor: Actor, target: { type: 'identity' | 'orgUnit'; id: string; managerId: string | null }): Promise<void> {
  const { identityId, rights } = actor.caller;
  if (rights.has('manage-users') || rights.has('approve-requests')) return;
  if (identityId && target.type === 'identity' && (target.id === identityId || target.managerId === identityId)) return;
  if (identityId && target.type === 'orgUnit' && target.managerId === identityId) return;
  void scope;
  throw new AppError('forbidden', 'one may request access for oneself, a direct report, or a unit one manages (or anyone with manage-users or approve-requests)', { details: { requiredRights: ['manage-users', 'approve-requests'] } });
}

async function targetOf(scope: TenantDb, type: 'identity' | 'orgUnit', id: string): Promise<{ type: 'identity' | 'orgUnit'; id: string; managerId: string | null; status: string; members: string[] }> {
  const { db } = scope;
  if (type === 'identity') {
    const i = await db.selectFrom('identities').select(['id', 'manager_id', 'status']).where('id', '=', id).executeTakeFirst();
    if (!i) throw notFound('identity', id);
    return { type, id, managerId: i.manager_id, status: i.status, members: [i.id] };
  }
  const u = await db.selectFrom('org_units').select(['id', 'path', 'manager_id']).where('id', '=', id).executeTakeFirst();
  if (!u) throw notFound('organization unit', id);
  return { type, id, managerId: u.manager_id, status: 'active', members: await unitMemberIds(scope, u.path) };
}

export async function createAccessRequest(deps: ServiceDeps, actor: Actor, input: CreateRequestInput) {
  const { tenantId } = actor.caller;
  const { value, revision } = await writeAs(deps, actor, (tx) => openAccessRequest(deps, tx, actor, input));
  await deps.access?.syncNow(tenantId).catch(() => undefined);
  return { value: await requestView(deps.store.read(tenantId), value), revision };
}

/**
 * Inside a write: submits the request (the checks, the row, its approval and — when nothing
 * needs approving — its provisioning) and returns its id. For use cases whose own change
 * opens a request in the same transaction (an access review's `revoke` decision).
 */
export async function openAccessRequest(deps: ServiceDeps, tx: WriteTx, actor: Actor, input: CreateRequestInput): Promise<string> {
  const scope: TenantDb = tx;
  validateWindow(input.validFrom, input.validTo);
  if (input.justification && input.justification.length > 2000) throw invalid('justification', 'must be at most 2000 characters');

  // The assignment acted on, for every action but add.
  let existing: Awaited<ReturnType<typeof findAssignment>> = null;
  let targetType: 'identity' | 'orgUnit';
  let targetId: string;
  let resource: { type: 'permission' | 'role'; id: string };
  if (input.action !== 'add' && input.assignmentId) {
    existing = await scope.db.selectFrom('assignments').selectAll().where('id', '=', input.assignmentId).executeTakeFirst() ?? null;
    if (!existing) throw notFound('assignment', input.assignmentId);
    targetType = existing.assignee_type === 'orgUnit' ? 'orgUnit' : 'identity';
    targetId = existing.assignee_id;
    resource = { type: existing.resource_type === 'role' ? 'role' : 'permission', id: existing.resource_id };
  } else {
    if ((input.targetIdentityId === undefined) === (input.targetOrgUnitId === undefined)) throw invalid('targetIdentityId', 'or targetOrgUnitId: name exactly one target');
    if (!input.resource) throw invalid('resource', 'is required');
    targetType = input.targetIdentityId !== undefined ? 'identity' : 'orgUnit';
    targetId = input.targetIdentityId ?? input.targetOrgUnitId!;
    resource = input.resource;
  }
  const target = await targetOf(scope, targetType, targetId);
  await requireMayAskFor(scope, actor, target);
  const info = await resourceInfo(scope, resource);
  const asked = input.action === 'change' && !input.context && existing ? { type: existing.context_type, id: existing.context_id } : input.context;
  const context = await normalizeContext(scope, asked);

  if (input.action === 'add') {
    if (!info.requestable) throw new AppError('unprocessable', `${resource.type} ${resource.id} cannot be requested: ${info.why}`, { details: { reason: 'not_requestable' } });
    if (target.status !== 'active') throw new AppError('unprocessable', `identity ${targetId} is ${target.status}; access is requested for active identities only`, { details: { reason: 'target_not_active' } });
    const held = await findAssignment(deps.now().getTime(), scope, targetType, targetId, resource, context, ['active', 'paused']);
    if (held) throw noChange(`already held: assignment ${held.id} gives it (${held.state})`, { assignmentId: held.id });
  } else if (!existing) {
    existing = await findAssignment(deps.now().getTime(), scope, targetType, targetId, resource, context, ['active', 'paused']);
    if (!existing) throw noChange(`no such assignment: the target has no active or paused assignment of ${resource.type} ${resource.id} in that context`);
  }
  if (existing) {
    const state = existing.state;
    if (state === 'revoked') throw noChange(`assignment ${existing.id} is revoked`);
    if (existing.source === 'rule') throw new AppError('unprocessable', `assignment ${existing.id} is given by an assignment rule; change the rule instead`, { details: { reason: 'rule_assignment' } });
    if (input.action === 'suspend' && state === 'paused') throw noChange(`assignment ${existing.id} is paused already`);
    if (input.action === 'restore' && state !== 'paused') throw noChange(`assignment ${existing.id} is ${state}, not paused`);
    if (input.action === 'change') {
      const same = (input.validFrom === undefined || input.validFrom === existing.valid_from) && (input.validTo === undefined || input.validTo === existing.valid_to) && context.type === existing.context_type && (context.id ?? null) === (existing.context_id ?? null);
      if (same) throw noChange(`assignment ${existing.id} already has these terms`);
    }
  }
  const me = actor.caller.identityId;
  {
    if (input.action === 'add') {
      const open = await tx.db.selectFrom('access_requests').select(['number']).where('action', '=', 'add').where('target_id', '=', targetId).where('resource_id', '=', resource.id).where('context_type', '=', context.type).where('status', 'in', ['pending', 'scheduled', 'open']).executeTakeFirst();
      if (open) throw noChange(`request #${open.number} already asks for it`, { requestNumber: Number(open.number) });
    }
    const conflicts =
      input.action === 'add' || input.action === 'restore'
        ? await sodCheck(tx, deps, { ...(targetType === 'identity' ? { identityIds: [targetId] } : { orgUnitIds: [targetId] }), adds: [{ ...resource, context }] })
        : [];
    await refuseBlocked(tx, actor, conflicts);
    const row: RequestRow = {
      id: randomUUID(),
      tenant_id: tx.tenantId,
      number: await tx.nextNumber('access_requests'),
      action: input.action,
      target_type: targetType,
      target_id: targetId,
      resource_type: resource.type,
      resource_id: resource.id,
      application_id: info.applicationId,
      context_type: context.type,
      context_id: context.id,
      valid_from: input.action === 'change' && input.validFrom === undefined ? (existing?.valid_from ?? null) : (input.validFrom ?? null),
      valid_to: input.action === 'change' && input.validTo === undefined ? (existing?.valid_to ?? null) : (input.validTo ?? null),
      justification: input.justification ?? null,
      requester_id: me,
      requester_name: actor.caller.name,
      assignment_id: existing?.id ?? null,
      status: 'pending',
      provisioning_status: 'not_needed',
      provisioning_assignment_id: null,
      provisioning_observed_at: null,
      provisioning_imports_seen: 0,
      provisioning_checks: '[]',
      sod_conflicts: JSON.stringify(conflicts),
      policy_id: null,
      closed_at: null,
      created_at: tx.now,
      updated_at: tx.now,
      version: 1,
    };
    await tx.db.insertInto('access_requests').values(row).execute();
    tx.audit({ action: 'accessRequest.create', targetType: 'accessRequest', targetId: row.id, after: { ...auditState(row), justification: row.justification, requesterId: me } });
    await recordActivity(tx, actor, requestRef(row.id), `Requested: ${input.action} ${resource.type} for the ${targetType === 'identity' ? 'identity' : 'unit'}`);
    const approval = await openApproval(deps, tx, {
      kind: 'access_request',
      id: row.id,
      requesterId: me,
      targetIdentityIds: targetType === 'identity' ? [targetId] : target.members,
      targetOrgUnitId: targetType === 'orgUnit' ? targetId : undefined,
      resources: [{ type: resource.type, id: resource.id, applicationId: info.applicationId, risk: info.risk }],
    });
    if (approval.policyId) await tx.db.updateTable('access_requests').set({ policy_id: approval.policyId }).where('id', '=', row.id).execute();
    if (approval.outcome === 'approved') await carryOut(deps, tx, row.id);
    return row.id;
  }
}

/**
 * The target's assignment of `resource` in `context` (oldest first) that counts now. Read by
 * assignee only (its index: a few rows per identity or unit), the resource and context
 * matched here: with the resource in the query too, SQLite (no statistics) may pick the
 * resource index instead and read every assignment of a widely held role.
 */
async function findAssignment(now: number, scope: TenantDb, targetType: string, targetId: string, resource: { type: string; id: string }, context: { type: string; id: string | null }, states: string[]) {
  const rows = await scope.db
    .selectFrom('assignments')
    .selectAll()
    .where('assignee_type', '=', targetType)
    .where('assignee_id', '=', targetId)
    .where('state', 'in', states)
    .where('delegated_from_id', 'is', null)
    .execute();
  return (
    rows
      .filter((r) => r.resource_type === resource.type && r.resource_id === resource.id && r.context_type === context.type && (r.context_id ?? null) === (context.id ?? null))
      .sort((a, b) => (a.created_at < b.created_at ? -1 : a.created_at > b.created_at ? 1 : 0))
      .find((r) => !r.valid_to || Date.parse(r.valid_to) > now) ?? null
  );
}
