/**
 * Who may decide an approval step: the identities an approver kind names for a subject, and
 * where a step goes when nobody else may decide it (its escalation target, else the holders
 * of `approve-requests`). Only active identities are named; the requester and the subject's
 * targets never are (nobody approves their own request or one that targets themselves).
 */
import type { PolicyStep, EscalationTarget } from '../../domain/approval-policy.ts';
import type { TenantDb } from '../../store/store.ts';
import { rightHolderIds, roleHolderIds } from '../access/index.ts';
import type { ServiceDeps } from '../deps.ts';
import type { ApprovalSubject } from './subject.ts';

/** The identities the step's approver kind names for the subject (before exclusions). */
export async function approversOf(deps: ServiceDeps, scope: TenantDb, step: Pick<PolicyStep, 'approver' | 'id'>, subject: ApprovalSubject): Promise<string[]> {
  const { db, tenantId } = scope;
  switch (step.approver) {
    case 'identity':
      return step.id ? [step.id] : [];
    case 'manager': {
      if (subject.targetOrgUnitId) return unitManagers(scope, [subject.targetOrgUnitId]);
      if (!subject.targetIdentityIds.length) return subject.newHireManagerId ? [subject.newHireManagerId] : [];
      const rows = await db.selectFrom('identities').select('manager_id').where('id', 'in', subject.targetIdentityIds).execute();
      return rows.map((r) => r.manager_id).filter((m): m is string => !!m);
    }
    case 'org_unit_manager':
      return step.id ? unitManagers(scope, [step.id]) : [];
    case 'role_holders':
      return step.id ? roleHolderIds(deps, tenantId, step.id) : [];
    case 'application_owner':
      return applicationOwners(scope, subject);
  }
}

async function unitManagers(scope: TenantDb, unitIds: string[]): Promise<string[]> {
  const rows = await scope.db.selectFrom('org_units').select('manager_id').where('id', 'in', unitIds).execute();
  return rows.map((r) => r.manager_id).filter((m): m is string => !!m);
}

/** The owners of the applications the subject's resources belong to (a role: every application of its permissions). */
async function applicationOwners(scope: TenantDb, subject: ApprovalSubject): Promise<string[]> {
  const { db } = scope;
  const appIds = new Set(subject.resources.map((r) => r.applicationId).filter((a): a is string => !!a));
  const roles = subject.resources.filter((r) => r.type === 'role').map((r) => r.id);
  if (roles.length) for (const a of await applicationsOfRoles(scope, roles)) appIds.add(a);
  if (!appIds.size) return [];
  const rows = await db.selectFrom('applications').select('owner_ids').where('id', 'in', [...appIds]).execute();
  return rows.flatMap((r) => JSON.parse(r.owner_ids) as string[]);
}

/**
 * The permissions a role gives (through included roles too), with their applications, risks
 * and whether they are requestable: one query, the inclusions walked by a recursive common
 * table expression (`union` drops a role met again, so a cycle ends).
 */
export async function permissionsOfRoles(scope: TenantDb, roleIds: string[]): Promise<{ permissionId: string; applicationId: string; risk: string; requestable: boolean }[]> {
  if (!roleIds.length) return [];
  const rows = await scope.db
    .withRecursive('reached(id)', (db) =>
      db
        .selectFrom('roles')
        .select('roles.id')
        .where('roles.id', 'in', [...new Set(roleIds)])
        .union(db.selectFrom('role_includes').innerJoin('reached', 'reached.id', 'role_includes.role_id').select('role_includes.included_role_id as id')),
    )
    .selectFrom('role_permissions')
    .innerJoin('permissions', 'permissions.id', 'role_permissions.permission_id')
    // `in (select …)`, not a join: SQLite then looks the reached roles up in the primary key
    // (a join let it read every role_permissions row of the tenant and probe the CTE).
    .where('role_permissions.role_id', 'in', (qb) => qb.selectFrom('reached').select('reached.id'))
    .select(['permissions.id', 'permissions.application_id', 'permissions.risk', 'permissions.requestable'])
    .distinct()
    .execute();
  return rows.map((r) => ({ permissionId: r.id, applicationId: r.application_id, risk: r.risk, requestable: Number(r.requestable) === 1 }));
}

async function applicationsOfRoles(scope: TenantDb, roleIds: string[]): Promise<string[]> {
  return [...new Set((await permissionsOfRoles(scope, roleIds)).map((p) => p.applicationId))];
}

/** Of `ids`, the active identities that are neither the requester nor a target, sorted and distinct. */
export async function eligible(scope: TenantDb, ids: readonly string[], subject: ApprovalSubject): Promise<string[]> {
  const excluded = new Set([...(subject.requesterId ? [subject.requesterId] : []), ...subject.targetIdentityIds]);
  const candidates = [...new Set(ids)].filter((id) => !excluded.has(id));
  if (!candidates.length) return [];
  const rows = await scope.db.selectFrom('identities').select('id').where('id', 'in', candidates).where('status', '=', 'active').execute();
  return rows.map((r) => r.id).sort();
}

/**
 * Where a step goes when its due date passes or nobody else may decide it: its `escalateTo`
 * (an identity, or another step's approvers, followed along that step's own escalation when
 * they are nobody eligible), else the holders of `approve-requests`. Eligible identities only.
 */
export async function escalationTargets(
  deps: ServiceDeps,
  scope: TenantDb,
  escalateTo: EscalationTarget | null,
  steps: readonly Pick<PolicyStep, 'name' | 'approver' | 'id' | 'escalateTo'>[],
  subject: ApprovalSubject,
): Promise<string[]> {
  const visited = new Set<string>();
  let target = escalateTo;
  while (target) {
    if ('identityId' in target) {
      const found = await eligible(scope, [target.identityId], subject);
      if (found.length) return found;
      break;
    }
    if (visited.has(target.step)) break;
    visited.add(target.step);
    const named = steps.find((s) => s.name === (target as { step: string }).step);
    if (!named) break;
    const found = await eligible(scope, await approversOf(deps, scope, named, subject), subject);
    if (found.length) return found;
    target = named.escalateTo;
  }
  return eligible(scope, await rightHolderIds(deps, scope.tenantId, 'approve-requests'), subject);
}
