/**
 * Separation of duties on access requests (the SoD domain's `checkSod`, src/services/sod/):
 * what a request would add is checked against its targets' effective access at submission
 * and again in the write of the last approval.
 *
 * - `block`: refused (409 `sod_conflict` naming the policy and the conflicting access) —
 *   at submission, and at approval when the targets' access changed meanwhile.
 * - `require_exception`: the request is accepted and the conflicts are shown on it
 *   (`sodConflicts`), so its approvers see them. The last approval records the exception:
 *   the approver is the one who approves, the reason is their comment (required: 409
 *   `sod_exception_required` without one), and it expires with the request's `validTo`,
 *   or after {@link DEFAULT_EXCEPTION_DAYS} days. An unexpired exception recorded earlier
 *   for the same identity and policy mitigates the conflict.
 */
import { AppError } from '../../domain/errors.ts';
import type { AccessContext } from '../../domain/access.ts';
import type { WriteTx } from '../../store/store.ts';
import type { ServiceDeps } from '../deps.ts';
import { systemActor, type Actor } from '../kernel/index.ts';
import { checkSod, enforceSod, type SodConflict } from '../sod/index.ts';

export type { SodConflict };

/** How long an exception recorded by an approval lasts when the request has no `validTo`. */
export const DEFAULT_EXCEPTION_DAYS = 365;

export interface SodQuestion {
  identityIds?: readonly string[];
  orgUnitIds?: readonly string[];
  adds: { type: 'permission' | 'role'; id: string; context?: AccessContext }[];
}

/** The conflicts the request's additions would take part in (mitigated ones carry their exception). */
export async function sodCheck(tx: WriteTx, deps: ServiceDeps, question: SodQuestion): Promise<SodConflict[]> {
  return checkSod(tx, deps, { identityIds: question.identityIds, orgUnitIds: question.orgUnitIds, adds: question.adds.map((a) => ({ ...a, source: 'request' })) });
}

/** At submission: refuses the request when a `block` policy forbids it; the rest are recorded on the request. */
export async function refuseBlocked(tx: WriteTx, actor: Actor, conflicts: readonly SodConflict[]): Promise<void> {
  const blocking = conflicts.filter((c) => c.policy.mode === 'block');
  if (blocking.length) await enforceSod(tx, actor, blocking, { subject: { type: 'access_request', id: null }, exceptionAllowed: false });
}

/**
 * In the write of the last approval: refuses on `block`; records the approver's exception for
 * each open `require_exception` conflict (the comment is its reason) and returns the conflicts
 * with their exceptions. Without a deciding
 * approver (a request approved at once by policy) an open `require_exception` conflict is
 * refused: such a request needs a person's approval.
 */
export async function approveAgainstSod(
  tx: WriteTx,
  request: { id: string; number: number; validTo: string | null },
  conflicts: readonly SodConflict[],
  decision: { actor: Actor; comment: string | null } | undefined,
): Promise<SodConflict[]> {
  await refuseBlocked(tx, decision?.actor ?? systemActor(tx.tenantId), conflicts);
  const open = conflicts.filter((c) => c.policy.mode === 'require_exception' && c.exception === null);
  if (!open.length) return [...conflicts];
  const first = open[0]!.policy;
  if (!decision?.comment?.trim()) {
    throw new AppError(
      'conflict',
      `separation of duties: policy "${first.name}" needs an exception for access request #${request.number}; approve with a comment — it is recorded as the exception's reason`,
      { details: { reason: 'sod_exception_required', policy: first, conflicts: open } },
    );
  }
  const expiresAt = request.validTo ?? new Date(Date.parse(tx.now) + DEFAULT_EXCEPTION_DAYS * 86_400_000).toISOString();
  const recorded = await enforceSod(tx, decision.actor, open, { exception: { reason: decision.comment.trim(), expiresAt }, subject: { type: 'access_request', id: request.id } });
  const mitigation = (c: SodConflict) => recorded.find((e) => e.policyId === c.policy.id && e.identityId === c.identityId) ?? null;
  return conflicts.map((c) => (c.exception === null && c.policy.mode === 'require_exception' ? { ...c, exception: mitigation(c) } : c));
}
