/**
 * Separation-of-duties exceptions as a resource: the list (who may hold what together, why,
 * until when, approved by whom) and one recorded ahead of a change that cannot carry an
 * exception itself (a role's contents, a unit move) — the write then finds the conflict
 * mitigated. Exceptions recorded by writes (`sodException` on an assignment, an approver's
 * comment on an access request) are listed the same way.
 *
 * An exception can be revoked before it expires ({@link revokeSodException}): the record
 * stays, with who revoked it and why, and it no longer mitigates from then on.
 *
 * Rights: reading as the policies (`SOD_READ_RIGHTS`); recording and revoking need `approve-requests`.
 */
import { AppError, notFound } from '../../domain/errors.ts';
import { openPager, requireRight, writeAs, type Actor, type Page } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { recordSodException, toExceptionView, validateSodException, type SodExceptionView } from './checks.ts';
import { SOD_READ_RIGHTS, findPolicyRow } from './policies.ts';

export interface SodExceptionFilter {
  policyId?: string | undefined;
  identityId?: string | undefined;
  /** true: only unexpired, unrevoked ones (those that mitigate); false: only expired or revoked ones. */
  active?: boolean | undefined;
}

export interface SodExceptionCreate {
  policyId: string;
  identityId: string;
  reason: string;
  expiresAt: string;
}

/** Newest first (by when it was recorded, then id), cursor-paged. */
export async function listSodExceptions(
  deps: ServiceDeps,
  actor: Actor,
  filter: SodExceptionFilter,
  page: { limit?: number | undefined; cursor?: string | undefined },
): Promise<Page<SodExceptionView>> {
  requireRight(actor, ...SOD_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  const pager = await openPager<string>(deps, scope.tenantId, 'sod-exceptions', { ...filter }, page);
  const now = deps.now().toISOString();
  let q = scope.db.selectFrom('sod_exceptions').selectAll().where('tenant_id', '=', scope.tenantId);
  if (filter.policyId !== undefined) q = q.where('policy_id', '=', filter.policyId);
  if (filter.identityId !== undefined) q = q.where('identity_id', '=', filter.identityId);
  if (filter.active === true) q = q.where('expires_at', '>', now).where('revoked_at', 'is', null);
  if (filter.active === false) q = q.where((eb) => eb.or([eb('expires_at', '<=', now), eb('revoked_at', 'is not', null)]));
  if (pager.after !== null) {
    const [at, id] = [pager.after.slice(0, pager.after.indexOf('|')), pager.after.slice(pager.after.indexOf('|') + 1)];
    q = q.where((eb) => eb.or([eb('created_at', '<', at), eb.and([eb('created_at', '=', at), eb('id', '<', id)])]));
  }
  const rows = await q.orderBy('created_at', 'desc').orderBy('id', 'desc').limit(pager.limit + 1).execute();
  return pager.page(rows, (r) => `${r.created_at}|${r.id}`, toExceptionView);
}

/** Records an exception for a policy and identity ahead of the change it is for (audited `sodException.create`). */
export async function createSodException(deps: ServiceDeps, actor: Actor, input: SodExceptionCreate): Promise<{ exception: SodExceptionView; revision: number }> {
  requireRight(actor, 'approve-requests');
  validateSodException(actor, input, deps.now(), '');
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const policy = await findPolicyRow(tx, input.policyId).catch(() => {
      throw new AppError('validation_failed', `policyId: separation-of-duties policy ${input.policyId} does not exist`, { errors: [{ field: 'policyId', message: 'does not exist' }] });
    });
    if (policy.mode !== 'require_exception') {
      throw new AppError('validation_failed', `policyId: policy "${policy.name}" is ${policy.mode}; only require_exception policies take exceptions`, { errors: [{ field: 'policyId', message: `is a ${policy.mode} policy` }] });
    }
    const identity = await tx.db.selectFrom('identities').select('id').where('tenant_id', '=', tx.tenantId).where('id', '=', input.identityId).executeTakeFirst();
    if (!identity) throw new AppError('validation_failed', `identityId: identity ${input.identityId} does not exist`, { errors: [{ field: 'identityId', message: 'does not exist' }] });
    return recordSodException(tx, actor, { ...input, subject: { type: 'manual', id: null } });
  });
  return { exception: value, revision };
}

export async function getSodException(deps: ServiceDeps, actor: Actor, id: string): Promise<SodExceptionView> {
  requireRight(actor, ...SOD_READ_RIGHTS);
  const scope = deps.store.read(actor.caller.tenantId);
  const row = await scope.db.selectFrom('sod_exceptions').selectAll().where('tenant_id', '=', scope.tenantId).where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('separation-of-duties exception', id);
  return toExceptionView(row);
}

/**
 * Revokes an exception before it expires: from this write on it no longer mitigates — a later
 * write that would add access to its conflict is refused again, and `GET /sod-violations`
 * lists the conflict unmitigated. Access given while it lasted is not taken away (revoke that
 * access, or review it). The row stays, with who revoked it, when and why. 404 for an unknown
 * or another tenant's exception; 409 for one already revoked or expired. Audited
 * `sodException.revoke` (before and after).
 */
export async function revokeSodException(deps: ServiceDeps, actor: Actor, id: string, input: { reason?: string | null | undefined }): Promise<{ exception: SodExceptionView; revision: number }> {
  requireRight(actor, 'approve-requests');
  const reason = input.reason?.trim() || null;
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const row = await tx.db.selectFrom('sod_exceptions').selectAll().where('tenant_id', '=', tx.tenantId).where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('separation-of-duties exception', id);
    if (row.revoked_at) throw new AppError('conflict', `separation-of-duties exception ${id} was revoked at ${row.revoked_at}`, { details: { revokedAt: row.revoked_at } });
    if (row.expires_at <= tx.now) throw new AppError('conflict', `separation-of-duties exception ${id} expired at ${row.expires_at}; it no longer mitigates`, { details: { expiresAt: row.expires_at } });
    const revoked = { revoked_at: tx.now, revoked_by: actor.caller.id, revoked_by_name: actor.caller.name, revoker_identity_id: actor.caller.identityId, revoke_reason: reason };
    await tx.db.updateTable('sod_exceptions').set(revoked).where('tenant_id', '=', tx.tenantId).where('id', '=', id).execute();
    const before = toExceptionView(row);
    const after = toExceptionView({ ...row, ...revoked });
    tx.audit({ action: 'sodException.revoke', targetType: 'identity', targetId: row.identity_id, before, after });
    tx.change('sod_exception', id, 'update');
    return after;
  });
  return { exception: value, revision };
}
