/**
 * Credentials that act as an identity (API keys, OAuth clients) and the identity on whose
 * authority they were made.
 *
 * - Creating one for an identity other than the caller's own needs the right
 *   `manage-credentials-of-others` besides `manage-clients` ({@link requireActingAsRight}).
 * - Nobody creates a credential holding rights beyond their own ({@link requireWithinCaller}).
 * - Each credential stores its **authority**: the identity that answers for it, which is the
 *   creating caller's own authority if it has one, else the caller's identity
 *   ({@link authorityOfNewCredential}). A chain key → key → key is so answered for by the
 *   first identity, never by an identity an intermediate key acts as. `null` (no cap) only
 *   for what the system makes: the bootstrap key, the CLI, jobs.
 * - On every request the credential's rights are its identity's, narrowed by its scopes and
 *   capped by its authority's **current** rights ({@link capByAuthority}): revoking a right
 *   from the creator takes it from every credential made on its authority at once. An
 *   authority that was deleted, or holds nothing, leaves the credential with no right.
 */
import { AppError } from '../../domain/errors.ts';
import { rightsBeyond, rightsCoveredBy, type Right } from '../../domain/rights.ts';
import { requireRight, type Actor, type Caller } from '../kernel/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { grantoryRights } from '../access/index.ts';

export const ACT_AS_OTHERS_RIGHT: Right = 'manage-credentials-of-others';

/** The authority a credential created by `caller` is stored with. */
export function authorityOfNewCredential(caller: Caller): string | null {
  return caller.authorityId ?? caller.identityId;
}

/** Throws `forbidden` naming `manage-credentials-of-others` when `identityId` is someone else. */
export function requireActingAsRight(actor: Actor, identityId: string | null): void {
  if (identityId === null || identityId === actor.caller.identityId) return;
  requireRight(actor, ACT_AS_OTHERS_RIGHT);
}

/** Throws `forbidden` (with `rightsBeyondCaller`) when `rights` go beyond what the caller holds. */
export function requireWithinCaller(actor: Actor, rights: ReadonlySet<Right>, what: 'key' | 'client' | 'password'): void {
  const beyond = rightsBeyond(rights, actor.caller.rights);
  if (!beyond.length) return;
  const message =
    what === 'password'
      ? `the identity holds rights the caller does not hold, and its password would let whoever knows it act with them: ${beyond.join(', ')}`
      : `the ${what} would hold rights the caller does not hold: ${beyond.join(', ')}`;
  throw new AppError('forbidden', message, {
    details: { rightsBeyondCaller: beyond },
  });
}

/**
 * `rights` (a credential's identity rights narrowed by its scopes) capped by the current
 * rights of its authority. Nothing to cap when the credential has no authority or is its
 * own authority.
 */
export async function capByAuthority(
  deps: Pick<ServiceDeps, 'store' | 'access'>,
  tenantId: string,
  rights: ReadonlySet<Right>,
  credential: { identityId: string | null; authorityId: string | null },
  now: string,
  knownRevision?: number,
): Promise<Set<Right>> {
  const { identityId, authorityId } = credential;
  if (authorityId === null || authorityId === identityId || rights.size === 0) return new Set(rights);
  return rightsCoveredBy(rights, await grantoryRights(deps, tenantId, authorityId, now, knownRevision));
}
