/**
 * Extension points of the directory write path, for the parts of Grantory that must react
 * to identity and organization-unit changes inside the same transaction — above all the
 * assignment rules (birthright access), which are re-evaluated when an identity's
 * attributes, status or unit change.
 *
 * Listeners are passed in {@link ServiceDeps.directoryHooks}; each runs inside the write
 * transaction of the change, after the row is written and its audit event recorded, so
 * what a listener writes through `tx` (with its own `tx.audit` / `tx.change`) commits or
 * rolls back together with the change. A listener that throws fails the write. No network
 * calls inside a listener (deliveries happen after commit).
 *
 * ```ts
 * const services = createServices({
 *   store, now,
 *   directoryHooks: { afterIdentityChange: [async (tx, { before, after }) => reevaluateRules(tx, before, after)] },
 * });
 * ```
 */
import type { WriteTx } from '../../store/store.ts';
import type { Change, ServiceDeps } from '../deps.ts';
import type { IdentityView, OrgUnitView } from './views.ts';

export async function notifyIdentityChange(deps: ServiceDeps, tx: WriteTx, change: Change<IdentityView>): Promise<void> {
  for (const listener of deps.directoryHooks?.afterIdentityChange ?? []) await listener(tx, change);
}

export async function notifyOrgUnitChange(deps: ServiceDeps, tx: WriteTx, change: Change<OrgUnitView>): Promise<void> {
  for (const listener of deps.directoryHooks?.afterOrgUnitChange ?? []) await listener(tx, change);
}
