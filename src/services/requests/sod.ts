/**
 * The separation-of-duties check of an access request: at submission and again at each
 * approval, what the request would add is checked against the targets' effective access.
 *
 * This is the one call site the SoD domain (`src/services/sod/`, its `checkSod`) plugs into;
 * until it is wired here no conflict is found. A conflict whose `mode` is `block` refuses the
 * request (409 naming the policy); others are recorded on the request (`sodConflicts`).
 */
import type { WriteTx } from '../../store/store.ts';
import type { ServiceDeps } from '../deps.ts';

export interface SodConflict {
  policyId: string;
  policyName: string;
  mode: 'block' | 'require_exception';
  [detail: string]: unknown;
}

export interface SodQuestion {
  identityIds: string[];
  adds: { type: 'permission' | 'role'; id: string }[];
}

export async function sodCheck(tx: WriteTx, deps: ServiceDeps, question: SodQuestion): Promise<SodConflict[]> {
  void tx;
  void deps;
  void question;
  return [];
}
