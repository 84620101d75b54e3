/**
 * Separation-of-duties policies: conflicting sets of permissions and roles (holding one of
 * every set, in contexts that meet, is a conflict — src/domain/sod.ts), what happens when a
 * write would create one (`block`, or `require_exception`), and how bad it is (`severity`).
 *
 * Rights: writing needs `manage-roles` (policies are part of the role model a security
 * officer designs); reading also `read-permissions-any-application` (auditors) or
 * `approve-requests` (approvers see why a request is held up).
 *
 * ```ts
 * await createSodPolicy(deps, actor, { name: 'Vendor vs payment', conflicting: [[{ type: 'permission', id: a }], [{ type: 'role', id: r }]] });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical-json.ts';
import { assertIfMatch } from '../../domain/etag.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import type { Right } from '../../domain/rights.ts';
import { MAX_SOD_SETS, MAX_SOD_SET_SIZE, SOD_MODES, SOD_SEVERITIES, resourceKey, type SodMode, type SodPolicyRule, type SodResource, type SodSeverity } from '../../domain/sod.ts';
import type { Database } from '../../store/schema.ts';
import { isUniqueViolation, type TenantDb } from '../../store/store.ts';
import { openPager, requireRight, writeAs, type Actor, type Page } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';

export const SOD_READ_RIGHTS: readonly Right[] = ['manage-roles', 'read-permissions-any-application', 'approve-requests'];

export interface SodPolicyView {
  id: string;
  name: string;
  description: string | null;
  conflicting: SodResource[][];
  mode: SodMode;
  severity: SodSeverity;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface SodPolicyInput {
  name: string;
  description?: string | null | undefined;
  conflicting: SodResource[][];
  mode?: SodMode | undefined;
  severity?: SodSeverity | undefined;
  enabled?: boolean | undefined;
}

export type SodPolicyPatch = Partial<SodPolicyInput>;

type PolicyRow = Database['sod_policies'];

export function toPolicyView(r: PolicyRow): SodPolicyView {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    conflicting: JSON.parse(r.conflicting) as SodResource[][],
    mode: r.mode as SodMode,
    severity: r.severity as SodSeverity,
    enabled: Number(r.enabled) === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    version: Number(r.version),
  };
}

export function toPolicyRule(v: SodPolicyView): SodPolicyRule {
  return { id: v.id, name: v.name, mode: v.mode, severity: v.severity, conflicting: v.conflicting };
}

/** The enabled policies of the tenant (few: read whole). */
export async function enabledPolicies(scope: TenantDb): Promise<SodPolicyView[]> {
  const rows = await scope.db.selectFrom('sod_policies').selectAll().where('tenant_id', '=', scope.tenantId).where('enabled', '=', 1).orderBy('id').execute();
  return rows.map(toPolicyView);
}

function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field} ${message}`, { errors: [{ field, message }] });
}

/**
 * Checks the sets: at least two, each non-empty and bounded, no resource in two sets (it
 * alone would then be a conflict), and every resource exists in the tenant (400 naming the
 * field, e.g. `conflicting[1][0].id`). Returns the sets without repeats inside a set.
 */
async function validateSets(scope: TenantDb, sets: SodResource[][]): Promise<SodResource[][]> {
  if (!Array.isArray(sets) || sets.length < 2) throw invalid('conflicting', 'needs at least two sets');
  if (sets.length > MAX_SOD_SETS) throw invalid('conflicting', `holds at most ${MAX_SOD_SETS} sets`);
  const setOf = new Map<string, number>();
  const out: SodResource[][] = [];
  for (const [i, set] of sets.entries()) {
    if (!Array.isArray(set) || set.length === 0) throw invalid(`conflicting[${i}]`, 'needs at least one resource');
    if (set.length > MAX_SOD_SET_SIZE) throw invalid(`conflicting[${i}]`, `holds at most ${MAX_SOD_SET_SIZE} resources`);
    const clean: SodResource[] = [];
    for (const [j, r] of set.entries()) {
      if (r.type !== 'permission' && r.type !== 'role') throw invalid(`conflicting[${i}][${j}].type`, 'must be permission or role');
      const k = resourceKey(r);
      const other = setOf.get(k);
      if (other !== undefined && other !== i) throw invalid(`conflicting[${i}][${j}]`, `is also in conflicting[${other}]: a resource belongs to one set only`);
      if (other === i) continue;
      setOf.set(k, i);
      clean.push({ type: r.type, id: r.id });
    }
    out.push(clean);
  }
  for (const type of ['permission', 'role'] as const) {
    const ids = [...new Set(out.flat().filter((r) => r.type === type).map((r) => r.id))];
    if (!ids.length) continue;
    const table = type === 'role' ? 'roles' : 'permissions';
    const found = new Set((await scope.db.selectFrom(table).select('id').where('tenant_id', '=', scope.tenantId).where('id', 'in', ids).execute()).map((r) => r.id));
    for (const [i, set] of sets.entries()) {
      for (const [j, r] of set.entries()) {
        if (r.type === type && !found.has(r.id)) throw invalid(`conflicting[${i}][${j}].id`, `names no ${type} of this tenant: ${r.id}`);
      }
    }
  }
  return out;
}

function validateEnums(input: { mode?: string | undefined; severity?: string | undefined; name?: string | undefined }): void {
  if (input.mode !== undefined && !SOD_MODES.includes(input.mode as SodMode)) throw invalid('mode', `must be one of ${SOD_MODES.join(', ')}`);
  if (input.severity !== undefined && !SOD_SEVERITIES.includes(input.severity as SodSeverity)) throw invalid('severity', `must be one of ${SOD_SEVERITIES.join(', ')}`);
  if (input.name !== undefined && input.name.trim() === '') throw invalid('name', 'must not be empty');
}

function nameTaken(name: string): AppError {
  return new AppError('conflict', `a separation-of-duties policy named "${name}" exists`, { errors: [{ field: 'name', message: 'is already taken' }], details: { field: 'name' } });
}

export async function findPolicyRow(scope: TenantDb, id: string): Promise<PolicyRow> {
  const row = await scope.db.selectFrom('sod_policies').selectAll().where('tenant_id', '=', scope.tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('separation-of-duties policy', id);
  return row;
}

export async function createSodPolicy(deps: ServiceDeps, actor: Actor, input: SodPolicyInput): Promise<{ policy: SodPolicyView; revision: number }> {
  requireRight(actor, 'manage-roles');
  validateEnums(input);
  try {
    const { value, revision } = await writeAs(deps, actor, async (tx) => {
      const conflicting = await validateSets(tx, input.conflicting);
      const row: PolicyRow = {
        id: randomUUID(),
        tenant_id: tx.tenantId,
        name: input.name.trim(),
        description: input.description ?? null,
        conflicting: canonicalJson(conflicting),
        mode: input.mode ?? 'block',
        severity: input.severity ?? 'medium',
        enabled: input.enabled === false ? 0 : 1,
        created_at: tx.now,
        updated_at: tx.now,
        version: 1,
      };
      await tx.db.insertInto('sod_policies').values(row).execute();
      const view = toPolicyView(row);
      tx.audit({ action: 'sodPolicy.create', targetType: 'sod_policy', targetId: row.id, after: view });
      tx.change('sod_policy', row.id, 'create');
      return view;
    });
    return { policy: value, revision };
  } catch (e) {
    if (isUniqueViolation(e)) throw nameTaken(input.name.trim());
    throw e;
  }
}

export async function getSodPolicy(deps: ServiceDeps, actor: Actor, id: string): Promise<SodPolicyView> {
  requireRight(actor, ...SOD_READ_RIGHTS);
  return toPolicyView(await findPolicyRow(deps.store.read(actor.caller.tenantId), id));
}

export async function listSodPolicies(
  deps: ServiceDeps,
  actor: Actor,
  filter: { enabled?: boolean | undefined },
  page: { limit?: number | undefined; cursor?: string | undefined },
): Promise<Page<SodPolicyView>> {
  requireRight(actor, ...SOD_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  const pager = await openPager<string>(deps, scope.tenantId, 'sod-policies', { ...filter }, page);
  let q = scope.db.selectFrom('sod_policies').selectAll().where('tenant_id', '=', scope.tenantId);
  if (filter.enabled !== undefined) q = q.where('enabled', '=', filter.enabled ? 1 : 0);
  if (pager.after !== null) q = q.where('name', '>', pager.after);
  const rows = await q.orderBy('name').limit(pager.limit + 1).execute();
  return pager.page(rows, (r) => r.name, toPolicyView);
}

export async function updateSodPolicy(deps: ServiceDeps, actor: Actor, id: string, patch: SodPolicyPatch, ifMatch?: string): Promise<{ policy: SodPolicyView; revision: number }> {
  requireRight(actor, 'manage-roles');
  validateEnums(patch);
  try {
    const { value, revision } = await writeAs(deps, actor, async (tx) => {
      const row = await findPolicyRow(tx, id);
      assertIfMatch(ifMatch, Number(row.version));
      const before = toPolicyView(row);
      const conflicting = patch.conflicting === undefined ? before.conflicting : await validateSets(tx, patch.conflicting);
      const next: PolicyRow = {
        ...row,
        name: patch.name?.trim() ?? row.name,
        description: patch.description === undefined ? row.description : patch.description,
        conflicting: canonicalJson(conflicting),
        mode: patch.mode ?? row.mode,
        severity: patch.severity ?? row.severity,
        enabled: patch.enabled === undefined ? row.enabled : patch.enabled ? 1 : 0,
        updated_at: tx.now,
        version: Number(row.version) + 1,
      };
      const { id: _id, tenant_id: _t, created_at: _c, ...set } = next;
      await tx.db.updateTable('sod_policies').set(set).where('tenant_id', '=', tx.tenantId).where('id', '=', id).execute();
      const view = toPolicyView(next);
      tx.audit({ action: 'sodPolicy.update', targetType: 'sod_policy', targetId: id, before, after: view });
      tx.change('sod_policy', id, 'update');
      return view;
    });
    return { policy: value, revision };
  } catch (e) {
    if (isUniqueViolation(e)) throw nameTaken(patch.name?.trim() ?? '');
    throw e;
  }
}

/** Deletes a policy and the exceptions recorded against it (the audit trail keeps both). */
export async function deleteSodPolicy(deps: ServiceDeps, actor: Actor, id: string, ifMatch?: string): Promise<{ revision: number }> {
  requireRight(actor, 'manage-roles');
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await findPolicyRow(tx, id);
    assertIfMatch(ifMatch, Number(row.version));
    const removed = await tx.db.deleteFrom('sod_exceptions').where('tenant_id', '=', tx.tenantId).where('policy_id', '=', id).executeTakeFirst();
    await tx.db.deleteFrom('sod_policies').where('tenant_id', '=', tx.tenantId).where('id', '=', id).execute();
    tx.audit({ action: 'sodPolicy.delete', targetType: 'sod_policy', targetId: id, before: toPolicyView(row), after: { exceptionsRemoved: Number(removed.numDeletedRows) } });
    tx.change('sod_policy', id, 'delete');
  });
  return { revision };
}
