/**
 * What personnel events do to assignments, inside the event stage's write: pause an
 * identity's access for a leave and resume exactly that, revoke everything at offboarding,
 * stop the delegations an identity granted, and hold rule assignments a move no longer
 * justifies for review. Also what assignment rules would give an identity with given
 * attributes and unit (the birthright of a preview). Every change is an audited state change
 * of the assignment with the event as its cause.
 *
 * ```ts
 * const paused = await pauseIdentityAssignments(tx, identityId, { personnelEventId: id });
 * ```
 */
import type { Database } from '../../store/schema.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import { recordTransition, setState, transitionedRow } from './assignments.ts';
import { ruleMatches, type RuleCondition, type RuleResource } from './assignment-rules.ts';
import { toAssignmentView } from './common.ts';

type AssignmentRow = Database['assignments'];
export type EventCause = Record<string, unknown>;

/** The identity's own assignments that are not revoked (optionally only those in `states`). */
export async function identityAssignmentRows(scope: TenantDb, identityId: string, states: readonly string[] = ['active', 'paused']): Promise<AssignmentRow[]> {
  return scope.db
    .selectFrom('assignments')
    .selectAll()
    .where('assignee_type', '=', 'identity')
    .where('assignee_id', '=', identityId)
    .where('state', 'in', [...states])
    .orderBy('id')
    .execute();
}

/** Delegations the identity granted that are not revoked (optionally only those from `sourceIds`). */
export async function delegationRowsFrom(scope: TenantDb, delegatorId: string, sourceIds?: readonly string[]): Promise<AssignmentRow[]> {
  if (sourceIds && !sourceIds.length) return [];
  let q = scope.db
    .selectFrom('assignments')
    .selectAll()
    .where('delegator_id', '=', delegatorId)
    .where('state', '!=', 'revoked');
  if (sourceIds) q = q.where('delegated_from_id', 'in', [...sourceIds]);
  return q.orderBy('id').execute();
}

/** Pauses every active assignment of the identity; returns the ids it paused. */
export async function pauseIdentityAssignments(tx: WriteTx, identityId: string, reason: string, cause: EventCause): Promise<string[]> {
  const rows = await identityAssignmentRows(tx, identityId, ['active']);
  for (const row of rows) await setState(tx, row, 'pause', reason, cause);
  return rows.map((r) => r.id);
}

/** Resumes those of `ids` that are still paused; returns the ids it resumed. */
export async function resumeAssignments(tx: WriteTx, ids: readonly string[], reason: string, cause: EventCause): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await tx.db.selectFrom('assignments').selectAll().where('id', 'in', [...ids]).where('state', '=', 'paused').execute();
  for (const row of rows) await setState(tx, row, 'resume', reason, cause);
  return rows.map((r) => r.id);
}

/**
 * Revokes every assignment of the identity that is not revoked yet (an offboarding); returns
 * the ids it revoked, each audited as {@link setState} does. They are read for their audit
 * events, then revoked with one statement by the same condition — through the identity's
 * index, in the same write, so exactly the rows read (checked: otherwise the write fails).
 */
export async function revokeIdentityAssignments(tx: WriteTx, identityId: string, reason: string, cause: EventCause): Promise<string[]> {
  const states = ['active', 'paused'];
  const rows = await identityAssignmentRows(tx, identityId, states);
  if (!rows.length) return [];
  const updated = rows.map((row) => transitionedRow(row, 'revoke', reason, tx.now));
  const result = await tx.db
    .updateTable('assignments')
    .set((eb) => ({ state: updated[0]!.state, updated_at: tx.now, version: eb('version', '+', 1), reason }))
    .where('assignee_type', '=', 'identity')
    .where('assignee_id', '=', identityId)
    .where('state', 'in', states)
    .executeTakeFirst();
  if (Number(result.numUpdatedRows) !== rows.length) throw new Error(`revoking the assignments of identity ${identityId}: ${rows.length} read, ${result.numUpdatedRows} updated`);
  rows.forEach((row, i) => recordTransition(tx, row, updated[i]!, 'revoke', cause));
  return rows.map((r) => r.id);
}

/**
 * Revokes the given assignments that are not revoked yet; returns the ids it revoked. `rows`
 * are as read in this write since its last change to them (they are not read again).
 */
export async function revokeAssignments(tx: WriteTx, rows: readonly AssignmentRow[], reason: string, cause: EventCause): Promise<string[]> {
  const done = new Set<string>();
  for (const row of rows) {
    if (row.state === 'revoked' || done.has(row.id)) continue;
    await setState(tx, row, 'revoke', reason, cause);
    done.add(row.id);
  }
  return [...done];
}

/**
 * Keeps rule assignments that a move no longer justifies, for review: they leave their rule
 * (so re-evaluating the rules does not revoke them), become `direct` assignments whose reason
 * says why they are kept, and count until `until` (null: until someone revokes them).
 */
export async function holdForReview(tx: WriteTx, ids: readonly string[], until: string | null, reason: string, cause: EventCause): Promise<string[]> {
  if (!ids.length) return [];
  const rows = await tx.db.selectFrom('assignments').selectAll().where('id', 'in', [...ids]).where('state', '!=', 'revoked').execute();
  for (const row of rows) {
    const validTo = until !== null && (row.valid_to === null || Date.parse(row.valid_to) > Date.parse(until)) ? until : row.valid_to;
    const next: AssignmentRow = { ...row, source: 'direct', rule_id: null, valid_to: validTo, reason, updated_at: tx.now, version: Number(row.version) + 1 };
    await tx.db
      .updateTable('assignments')
      .set({ source: next.source, rule_id: null, valid_to: next.valid_to, reason, updated_at: next.updated_at, version: next.version })
      .where('id', '=', row.id)
      .execute();
    tx.audit({ action: 'assignment.hold_for_review', targetType: 'assignment', targetId: row.id, before: toAssignmentView(row), after: { ...toAssignmentView(next), cause } });
    tx.change('assignment', row.id, 'update');
  }
  return rows.map((r) => r.id);
}

export interface RuleGrant {
  ruleId: string;
  ruleName: string;
  resource: RuleResource;
  context: { type: string; id: string | null };
}

/** What the enabled assignment rules would give an identity in `orgUnitId` with `attributes`. */
export async function ruleGrantsFor(scope: TenantDb, facts: { id: string; orgUnitId: string | null; attributes: Record<string, string> }): Promise<RuleGrant[]> {
  const rules = await scope.db.selectFrom('assignment_rules').selectAll().where('enabled', '=', 1).orderBy('name').execute();
  if (!rules.length) return [];
  const units = await scope.db.selectFrom('org_units').select(['id', 'parent_id']).execute();
  const parents = new Map(units.map((u) => [u.id, u.parent_id]));
  const unitChain: string[] = [];
  for (let u = facts.orgUnitId; u !== null && !unitChain.includes(u); u = parents.get(u) ?? null) unitChain.push(u);
  const grants: RuleGrant[] = [];
  for (const rule of rules) {
    if (!ruleMatches(JSON.parse(rule.condition) as RuleCondition, { id: facts.id, unitChain, attributes: facts.attributes })) continue;
    for (const resource of JSON.parse(rule.resources) as RuleResource[]) {
      grants.push({ ruleId: rule.id, ruleName: rule.name, resource, context: { type: rule.context_type, id: rule.context_id } });
    }
  }
  return grants;
}
