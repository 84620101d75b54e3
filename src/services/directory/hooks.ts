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
import type { ServiceDeps } from '../index.ts';
import type { IdentityView } from './identities.ts';
import type { OrgUnitView } from './org-units.ts';

/** `before` is null on create, `after` is null on delete. */
export interface Change<T> {
  before: T | null;
  after: T | null;
}

export type IdentityChangeListener = (tx: WriteTx, change: Change<IdentityView>) => Promise<void>;
export type OrgUnitChangeListener = (tx: WriteTx, change: Change<OrgUnitView>) => Promise<void>;

export interface DirectoryHooks {
  /** Called for every identity created, changed (including its unit) or deleted. */
  afterIdentityChange?: readonly IdentityChangeListener[];
  /**
   * Called for every organization unit created, renamed, moved or deleted; on a move, once
   * for the moved unit (its descendants' paths change with it, see `tx.change` entries).
   */
  afterOrgUnitChange?: readonly OrgUnitChangeListener[];
}

export async function notifyIdentityChange(deps: ServiceDeps, tx: WriteTx, change: Change<IdentityView>): Promise<void> {
  for (const listener of deps.directoryHooks?.afterIdentityChange ?? []) await listener(tx, change);
}

export async function notifyOrgUnitChange(deps: ServiceDeps, tx: WriteTx, change: Change<OrgUnitView>): Promise<void> {
  for (const listener of deps.directoryHooks?.afterOrgUnitChange ?? []) await listener(tx, change);
}
