/**
 * Approval policies: which steps an access request (or a personnel event) goes through.
 * Validation is in `src/domain/approval-policy.ts`; here the named ids are checked to exist
 * and the policy is stored.
 *
 * Rights: writing a policy needs `manage-roles` (a policy decides who may let access in, so it
 * is governance configuration like a role; approvers, who hold `approve-requests`, do not shape
 * their own approval chains); reading needs `manage-roles` or `approve-requests`.
 *
 * ```ts
 * await createApprovalPolicy(deps, actor, { name: 'Finance', appliesTo: { applicationIds: [app] },
 *   steps: [{ name: 'Manager', approver: 'manager' }, { name: 'Owner', approver: 'application_owner', dueDays: 3, escalateTo: { identityId: cfo } }] });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical-json.ts';
import { AppError, notFound, type FieldError } from '../../domain/errors.ts';
import { policyProblems, type AppliesTo, type PolicyDraft, type PolicyStep, type ApproverKind, type RiskLevel } from '../../domain/approval-policy.ts';
import type { Database } from '../../store/schema.ts';
import { isUniqueViolation, type TenantDb } from '../../store/store.ts';
import { openPager, requireRight, writeAs, type Actor, type Page } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';

export const POLICY_READ_RIGHTS = ['manage-roles', 'approve-requests'] as const;

export interface ApprovalPolicyView {
  id: string;
  name: string;
  appliesTo: AppliesTo;
  steps: PolicyStep[];
  autoApprove: RiskLevel | null;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export type PolicyInput = Omit<PolicyDraft, 'autoApprove'> & { autoApprove?: string | null | undefined };
export type PolicyPatch = Partial<PolicyInput>;

export function toPolicyView(row: Database['approval_policies']): ApprovalPolicyView {
  return {
    id: row.id,
    name: row.name,
    appliesTo: JSON.parse(row.applies_to) as AppliesTo,
    steps: JSON.parse(row.steps) as PolicyStep[],
    autoApprove: (row.auto_approve as RiskLevel | null) ?? null,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: Number(row.version),
  };
}

function normalized(draft: PolicyDraft): { appliesTo: AppliesTo; steps: PolicyStep[] } {
  const a = draft.appliesTo;
  const appliesTo: AppliesTo = {};
  if (a.applicationIds?.length) appliesTo.applicationIds = [...new Set(a.applicationIds)];
  if (a.permissionIds?.length) appliesTo.permissionIds = [...new Set(a.permissionIds)];
  if (a.roleIds?.length) appliesTo.roleIds = [...new Set(a.roleIds)];
  if (a.minRisk) appliesTo.minRisk = a.minRisk;
  if (a.personnelEventTypes?.length) appliesTo.personnelEventTypes = [...new Set(a.personnelEventTypes)];
  const steps = draft.steps.map((s) => ({
    name: s.name.trim(),
    approver: s.approver as ApproverKind,
    id: s.id ?? null,
    quorum: s.quorum ?? 1,
    dueDays: s.dueDays ?? null,
    escalateTo: s.escalateTo ? (s.escalateTo.identityId !== undefined ? { identityId: s.escalateTo.identityId } : { step: s.escalateTo.step! }) : null,
  }));
  return { appliesTo, steps };
}

/** The named ids that do not exist, as field errors. */
async function missingReferences(scope: TenantDb, appliesTo: AppliesTo, steps: PolicyStep[]): Promise<FieldError[]> {
  const errors: FieldError[] = [];
  const check = async (table: 'applications' | 'permissions' | 'roles' | 'identities' | 'org_units', ids: readonly string[], field: (id: string) => string, what: string) => {
    if (!ids.length) return;
    const found = new Set((await scope.db.selectFrom(table).select('id').where('id', 'in', [...ids]).execute()).map((r) => r.id));
    for (const id of ids) if (!found.has(id)) errors.push({ field: field(id), message: `names no ${what} of this tenant: ${id}` });
  };
  await check('applications', appliesTo.applicationIds ?? [], () => 'appliesTo.applicationIds', 'application');
  await check('permissions', appliesTo.permissionIds ?? [], () => 'appliesTo.permissionIds', 'permission');
  await check('roles', appliesTo.roleIds ?? [], () => 'appliesTo.roleIds', 'role');
  for (const [i, s] of steps.entries()) {
    if (s.id !== null) {
      const table = s.approver === 'identity' ? 'identities' : s.approver === 'org_unit_manager' ? 'org_units' : 'roles';
      await check(table, [s.id], () => `steps[${i}].id`, table === 'identities' ? 'identity' : table === 'org_units' ? 'organization unit' : 'role');
    }
    if (s.escalateTo && 'identityId' in s.escalateTo) await check('identities', [s.escalateTo.identityId], () => `steps[${i}].escalateTo.identityId`, 'identity');
  }
  return errors;
}

async function validated(scope: TenantDb, draft: PolicyDraft): Promise<{ appliesTo: AppliesTo; steps: PolicyStep[] }> {
  const problems = policyProblems(draft);
  if (problems.length) throw new AppError('validation_failed', `${problems[0]!.field} ${problems[0]!.message}`, { errors: problems });
  const result = normalized(draft);
  const missing = await missingReferences(scope, result.appliesTo, result.steps);
  if (missing.length) throw new AppError('validation_failed', `${missing[0]!.field} ${missing[0]!.message}`, { errors: missing });
  return result;
}

function nameTaken(e: unknown, name: string): never {
  if (isUniqueViolation(e)) throw new AppError('conflict', `an approval policy named "${name}" already exists`, { errors: [{ field: 'name', message: 'is taken' }] });
  throw e;
}

export async function createApprovalPolicy(deps: ServiceDeps, actor: Actor, input: PolicyInput): Promise<{ value: ApprovalPolicyView; revision: number }> {
  requireRight(actor, 'manage-roles');
  const draft: PolicyDraft = { ...input, autoApprove: input.autoApprove ?? null };
  return writeAs(deps, actor, async (tx) => {
    const { appliesTo, steps } = await validated(tx, draft);
    const row: Database['approval_policies'] = {
      id: randomUUID(),
      tenant_id: tx.tenantId,
      name: input.name.trim(),
      applies_to: canonicalJson(appliesTo),
      steps: JSON.stringify(steps),
      auto_approve: draft.autoApprove,
      created_at: tx.now,
      updated_at: tx.now,
      version: 1,
    };
    await tx.db.insertInto('approval_policies').values(row).execute().catch((e: unknown) => nameTaken(e, row.name));
    const view = toPolicyView(row);
    tx.audit({ action: 'approvalPolicy.create', targetType: 'approvalPolicy', targetId: row.id, after: view });
    return view;
  });
}

async function policyRow(scope: TenantDb, id: string): Promise<Database['approval_policies']> {
  const row = await scope.db.selectFrom('approval_policies').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('approval policy', id);
  return row;
}

export async function updateApprovalPolicy(deps: ServiceDeps, actor: Actor, id: string, patch: PolicyPatch): Promise<{ value: ApprovalPolicyView; revision: number }> {
  requireRight(actor, 'manage-roles');
  return writeAs(deps, actor, async (tx) => {
    const row = await policyRow(tx, id);
    const before = toPolicyView(row);
    const draft: PolicyDraft = {
      name: patch.name ?? before.name,
      appliesTo: patch.appliesTo ?? before.appliesTo,
      steps: patch.steps ?? before.steps.map((s) => ({ ...s, escalateTo: s.escalateTo ?? null })),
      autoApprove: patch.autoApprove !== undefined ? patch.autoApprove : before.autoApprove,
    };
    const { appliesTo, steps } = await validated(tx, draft);
    const next: Database['approval_policies'] = {
      ...row,
      name: draft.name.trim(),
      applies_to: canonicalJson(appliesTo),
      steps: JSON.stringify(steps),
      auto_approve: draft.autoApprove,
      updated_at: tx.now,
      version: Number(row.version) + 1,
    };
    await tx.db
      .updateTable('approval_policies')
      .set({ name: next.name, applies_to: next.applies_to, steps: next.steps, auto_approve: next.auto_approve, updated_at: next.updated_at, version: next.version })
      .where('id', '=', id)
      .execute()
      .catch((e: unknown) => nameTaken(e, next.name));
    const view = toPolicyView(next);
    tx.audit({ action: 'approvalPolicy.update', targetType: 'approvalPolicy', targetId: id, before, after: view });
    return view;
  });
}

/** Deleting a policy leaves the requests it already shaped as they are (their steps are stored with them). */
export async function deleteApprovalPolicy(deps: ServiceDeps, actor: Actor, id: string): Promise<{ revision: number }> {
  requireRight(actor, 'manage-roles');
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await policyRow(tx, id);
    await tx.db.deleteFrom('approval_policies').where('id', '=', id).execute();
    tx.audit({ action: 'approvalPolicy.delete', targetType: 'approvalPolicy', targetId: id, before: toPolicyView(row) });
  });
  return { revision };
}

export async function getApprovalPolicy(deps: ServiceDeps, actor: Actor, id: string): Promise<ApprovalPolicyView> {
  requireRight(actor, ...POLICY_READ_RIGHTS);
  return toPolicyView(await policyRow(deps.store.read(actor.caller.tenantId), id));
}

export async function listApprovalPolicies(deps: ServiceDeps, actor: Actor, page: { limit?: number | undefined; cursor?: string | undefined }): Promise<Page<ApprovalPolicyView>> {
  requireRight(actor, ...POLICY_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  const pager = await openPager<string>(deps, scope.tenantId, 'approval-policies', {}, page);
  let q = scope.db.selectFrom('approval_policies').selectAll();
  if (pager.after !== null) q = q.where('name', '>', pager.after);
  const rows = await q.orderBy('name').limit(pager.limit + 1).execute();
  return pager.page(rows, (r) => r.name, toPolicyView);
}

/** Every policy of the tenant (few; read inside the write that opens an approval). */
export async function allPolicies(scope: TenantDb): Promise<ApprovalPolicyView[]> {
  const rows = await scope.db.selectFrom('approval_policies').selectAll().orderBy('name').execute();
  return rows.map(toPolicyView);
}
