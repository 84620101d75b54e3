/**
 * Assignments (the assigned / IAM space): give a permission or a role to an identity or an
 * organization unit, in a context, for a validity window. Pause, resume and revoke are
 * audited state changes (a paused assignment stays recorded but does not count).
 *
 * Delegation (self-service): the holder of an assignment delegates what it gives — a
 * delegable permission, or a role whose permissions are all delegable — to another
 * identity, optionally narrowed in context and time. The delegation counts only while the
 * delegator's own access through the source counts (the access index checks it at every
 * read, so revoking, pausing or expiring the source stops the delegation at once).
 *
 * Rights: `manage-users` for direct assignments and state changes (and for reading them,
 * or `read-permissions-any-application`); a delegator may delegate, and pause, resume or
 * revoke its own delegations, without it.
 */
import { randomUUID } from 'node:crypto';
import { AppError, notFound } from '../../domain/errors.ts';
import type { AccessContext } from '../../domain/access.ts';
import { NONE } from '../../engine/nodes.ts';
import type { Database } from '../../store/schema.ts';
import type { WriteTx } from '../../store/store.ts';
import { requireRight, type Actor, writeAs } from '../kernel/index.ts';
import { checkSod, enforceSod, resourceNames, validateSodException, type SodExceptionInput } from '../sod/index.ts';
import {
  afterWrite,
  decodeCursor,
  encodeCursor,
  engineOf,
  invalid,
  normalizeContext,
  requireAssignee,
  requireHoldsRightsOf,
  requireResource,
  toAssignmentView,
  validateWindow,
  type AssignmentView,
} from './common.ts';
import type { ServiceDeps } from '../deps.ts';

export interface CreateAssignmentInput {
  assignee: { type: 'identity' | 'orgUnit'; id: string };
  resource: { type: 'permission' | 'role'; id: string };
  context?: { type: string; id?: string | null } | undefined;
  source?: 'direct' | 'request' | undefined;
  validFrom?: string | null | undefined;
  validTo?: string | null | undefined;
  reason?: string | null | undefined;
  /** An approved exception for the `require_exception` separation-of-duties policies the assignment would break (needs approve-requests). */
  sodException?: SodExceptionInput | undefined;
}

/** The identities or units an assignment reaches, as the separation-of-duties check takes them. */
function sodTargets(assignee: { type: 'identity' | 'orgUnit'; id: string }) {
  return assignee.type === 'orgUnit' ? { orgUnitIds: [assignee.id] } : { identityIds: [assignee.id] };
}

export async function createAssignment(deps: ServiceDeps, actor: Actor, input: CreateAssignmentInput): Promise<{ assignment: AssignmentView; revision: number }> {
  requireRight(actor, 'manage-users');
  const { tenantId } = actor.caller;
  validateWindow(input.validFrom, input.validTo);
  const scope = deps.store.read(tenantId);
  await requireAssignee(scope, input.assignee);
  await requireResource(scope, input.resource);
  const context = await normalizeContext(scope, input.context);
  await requireHoldsRightsOf(scope, actor, input.resource);
  if (input.sodException) validateSodException(actor, input.sodException, deps.now());
  const source = input.source ?? 'direct';
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const id = randomUUID();
    const conflicts = await checkSod(tx, deps, { ...sodTargets(input.assignee), adds: [{ ...input.resource, context, source }] });
    const exceptions = await enforceSod(tx, actor, conflicts, { exception: input.sodException, subject: { type: 'assignment', id } });
    return insertAssignment(
      tx,
      {
        id,
        assignee: input.assignee,
        resource: input.resource,
        context,
        source,
        validFrom: input.validFrom ?? null,
        validTo: input.validTo ?? null,
        reason: input.reason ?? null,
        createdBy: actor.caller.id,
        delegatedFromId: null,
        delegatorId: null,
        ruleId: null,
      },
      exceptions.length ? { sodExceptions: exceptions } : undefined,
    );
  });
  await afterWrite(deps, tenantId);
  return { assignment: value, revision };
}

export interface NewAssignment {
  /** A fresh id when not given. */
  id?: string | undefined;
  assignee: { type: 'identity' | 'orgUnit'; id: string };
  resource: { type: 'permission' | 'role'; id: string };
  context: AccessContext;
  source: string;
  validFrom: string | null;
  validTo: string | null;
  reason: string | null;
  createdBy: string | null;
  delegatedFromId: string | null;
  delegatorId: string | null;
  ruleId: string | null;
}

/** Inserts an assignment inside a write, with its audit event and change-feed entry. */
export async function insertAssignment(tx: WriteTx, a: NewAssignment, cause?: Record<string, unknown>): Promise<AssignmentView> {
  const row: Database['assignments'] = {
    id: a.id ?? randomUUID(),
    tenant_id: tx.tenantId,
    assignee_type: a.assignee.type,
    assignee_id: a.assignee.id,
    resource_type: a.resource.type,
    resource_id: a.resource.id,
    context_type: a.context.type,
    context_id: a.context.id,
    source: a.source,
    state: 'active',
    valid_from: a.validFrom,
    valid_to: a.validTo,
    delegated_from_id: a.delegatedFromId,
    delegator_id: a.delegatorId,
    rule_id: a.ruleId,
    reason: a.reason,
    created_by: a.createdBy,
    created_at: tx.now,
    updated_at: tx.now,
    version: 1,
  };
  await tx.db.insertInto('assignments').values(row).execute();
  const view = toAssignmentView(row);
  tx.audit({ action: 'assignment.create', targetType: 'assignment', targetId: row.id, after: cause ? { ...view, cause } : view });
  tx.change('assignment', row.id, 'create');
  return view;
}

export type StateAction = 'pause' | 'resume' | 'revoke';

const TRANSITIONS: Record<StateAction, { from: string[]; to: string }> = {
  pause: { from: ['active'], to: 'paused' },
  resume: { from: ['paused'], to: 'active' },
  revoke: { from: ['active', 'paused'], to: 'revoked' },
};

export async function changeAssignmentState(
  deps: ServiceDeps,
  actor: Actor,
  id: string,
  action: StateAction,
  reason?: string | null,
): Promise<{ assignment: AssignmentView; revision: number }> {
  const { tenantId } = actor.caller;
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const row = await tx.db.selectFrom('assignments').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('assignment', id);
    const ownDelegation = row.delegator_id !== null && row.delegator_id !== undefined && row.delegator_id === actor.caller.identityId;
    if (!ownDelegation) requireRight(actor, 'manage-users');
    if (action === 'resume') {
      // Resuming gives the access back: the separation-of-duties policies apply as to a new assignment.
      const assignee = { type: row.assignee_type === 'orgUnit' ? ('orgUnit' as const) : ('identity' as const), id: row.assignee_id };
      const resource = { type: row.resource_type === 'role' ? ('role' as const) : ('permission' as const), id: row.resource_id };
      const conflicts = await checkSod(tx, deps, { ...sodTargets(assignee), adds: [{ ...resource, context: { type: row.context_type as AccessContext['type'], id: row.context_id }, source: row.source }] });
      await enforceSod(tx, actor, conflicts, { subject: { type: 'assignment', id: row.id }, exceptionAllowed: false });
    }
    return setState(tx, row, action, reason ?? null);
  });
  await afterWrite(deps, tenantId);
  return { assignment: value, revision };
}

/** Applies a state transition inside a write (also used by assignment rules). */
export async function setState(tx: WriteTx, row: Database['assignments'], action: StateAction, reason: string | null, cause?: Record<string, unknown>): Promise<AssignmentView> {
  const updated = transitionedRow(row, action, reason, tx.now);
  await tx.db
    .updateTable('assignments')
    .set({ state: updated.state, updated_at: updated.updated_at, version: updated.version, reason: updated.reason })
    .where('id', '=', row.id)
    .execute();
  return recordTransition(tx, row, updated, action, cause);
}

/** The row after `action` at `now` (409 `conflict` when its state does not allow it). */
export function transitionedRow(row: Database['assignments'], action: StateAction, reason: string | null, now: string): Database['assignments'] {
  const t = TRANSITIONS[action];
  if (!t.from.includes(row.state)) {
    throw new AppError('conflict', `assignment ${row.id} is ${row.state}; ${action} needs ${t.from.join(' or ')}`, { details: { state: row.state } });
  }
  return { ...row, state: t.to, updated_at: now, version: Number(row.version) + 1, reason: reason ?? row.reason };
}

/** Records a transition the caller wrote (`row` before, `updated` after): its audit event and the change. */
export function recordTransition(tx: WriteTx, row: Database['assignments'], updated: Database['assignments'], action: StateAction, cause?: Record<string, unknown>): AssignmentView {
  const after = toAssignmentView(updated);
  tx.audit({ action: `assignment.${action}`, targetType: 'assignment', targetId: row.id, before: toAssignmentView(row), after: cause ? { ...after, cause } : after });
  tx.change('assignment', row.id, 'update');
  return after;
}

function requireReader(actor: Actor): void {
  requireRight(actor, 'manage-users', 'read-permissions-any-application');
}

export async function getAssignment(deps: ServiceDeps, actor: Actor, id: string): Promise<AssignmentView> {
  const { tenantId } = actor.caller;
  const row = await deps.store.read(tenantId).db.selectFrom('assignments').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('assignment', id);
  const own = row.delegator_id === actor.caller.identityId && actor.caller.identityId !== null;
  if (!own) requireReader(actor);
  return toAssignmentView(row);
}

export interface AssignmentFilter {
  assigneeType?: string | undefined;
  assigneeId?: string | undefined;
  resourceType?: string | undefined;
  resourceId?: string | undefined;
  state?: string | undefined;
  source?: string | undefined;
  ruleId?: string | undefined;
  delegatedFromId?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/**
 * Assignments by filter. Readers of access list any; any caller acting as an identity lists
 * its own — those assigned to that identity (`assigneeId` = its id), e.g. to delegate one.
 */
export async function listAssignments(deps: ServiceDeps, actor: Actor, f: AssignmentFilter): Promise<{ items: (AssignmentView & { resourceName: string | null })[]; nextCursor: string | null }> {
  const { identityId } = actor.caller;
  const own = identityId !== null && f.assigneeId === identityId && (f.assigneeType ?? 'identity') === 'identity';
  if (!own) requireReader(actor);
  if (own) f = { ...f, assigneeType: 'identity' };
  const { db } = deps.store.read(actor.caller.tenantId);
  const limit = Math.min(Math.max(f.limit ?? 100, 1), 500);
  const after = decodeCursor(f.cursor);
  let q = db.selectFrom('assignments').selectAll();
  if (f.assigneeType) q = q.where('assignee_type', '=', f.assigneeType);
  if (f.assigneeId) q = q.where('assignee_id', '=', f.assigneeId);
  if (f.resourceType) q = q.where('resource_type', '=', f.resourceType);
  if (f.resourceId) q = q.where('resource_id', '=', f.resourceId);
  if (f.state) q = q.where('state', '=', f.state);
  if (f.source) q = q.where('source', '=', f.source);
  if (f.ruleId) q = q.where('rule_id', '=', f.ruleId);
  if (f.delegatedFromId) q = q.where('delegated_from_id', '=', f.delegatedFromId);
  if (after !== null) q = q.where('id', '>', after);
  const rows = await q.orderBy('id').limit(limit + 1).execute();
  const page = rows.slice(0, limit).map(toAssignmentView);
  const names = await resourceNames({ tenantId: actor.caller.tenantId, db }, page.map((a) => a.resource));
  return {
    items: page.map((a) => ({ ...a, resourceName: names.get(`${a.resource.type}:${a.resource.id}`) ?? null })),
    nextCursor: rows.length > limit ? encodeCursor(page[page.length - 1]!.id) : null,
  };
}

export interface DelegateInput {
  assigneeId: string;
  resource?: { type: 'permission' | 'role'; id: string } | undefined;
  context?: { type: string; id?: string | null } | undefined;
  validFrom?: string | null | undefined;
  validTo?: string | null | undefined;
  reason?: string | null | undefined;
}

/**
 * The caller's identity delegates what assignment `sourceId` gives it. Refused unless the
 * source counts for the caller now, gives the resource, the resource is delegable, and the
 * delegation is no wider than the source in context and time.
 */
export async function delegateAssignment(deps: ServiceDeps, actor: Actor, sourceId: string, input: DelegateInput): Promise<{ assignment: AssignmentView; revision: number }> {
  const { tenantId, identityId } = actor.caller;
  if (!identityId) throw new AppError('forbidden', 'only a credential that acts as an identity can delegate what that identity holds');
  validateWindow(input.validFrom, input.validTo);
  const scope = deps.store.read(tenantId);
  const source = await scope.db.selectFrom('assignments').selectAll().where('id', '=', sourceId).executeTakeFirst();
  if (!source) throw notFound('assignment', sourceId);
  const resource = input.resource ?? { type: source.resource_type as 'permission' | 'role', id: source.resource_id };
  await requireResource(scope, resource);
  await requireAssignee(scope, { type: 'identity', id: input.assigneeId });
  if (input.assigneeId === identityId) throw invalid('assigneeId', 'must be another identity than the delegator');
  const context = await normalizeContext(scope, input.context ?? { type: source.context_type, id: source.context_id });

  const engine = engineOf(deps);
  const { index } = await engine.at(tenantId, await engine.syncNow(tenantId));
  const now = engine.now();
  const src = index.assignments.get(index.assignments.find(sourceId));
  const delegator = index.identities.find(identityId);
  if (delegator === NONE || !index.identities.get(delegator).active || !index.reaches(src, delegator) || !index.counts(src, now, { lo: -Infinity, hi: Infinity })) {
    throw new AppError('forbidden', `assignment ${sourceId} does not give the caller's identity access now; only a holder can delegate`);
  }
  const given = src.resourceIsRole ? index.rolePermissions(src.resource) : new Set([src.resource]);
  let delegated: Set<number>;
  if (resource.type === 'permission') {
    const p = index.perms.find(resource.id);
    if (!given.has(p)) throw new AppError('unprocessable', `assignment ${sourceId} does not give permission ${resource.id}`);
    delegated = new Set([p]);
  } else {
    const r = index.roles.find(resource.id);
    if (!src.resourceIsRole || !index.roleClosure(src.resource).has(r)) throw new AppError('unprocessable', `assignment ${sourceId} does not give role ${resource.id}`);
    delegated = index.rolePermissions(r);
  }
  const notDelegable = [...delegated].filter((p) => !index.perms.get(p).delegable).map((p) => index.perms.get(p).name);
  if (notDelegable.length || delegated.size === 0) {
    throw new AppError('unprocessable', `not delegable: ${notDelegable.join(', ') || 'the role gives no permission'}`, { details: { notDelegable } });
  }
  const srcCtx = { type: source.context_type, id: source.context_id };
  const asked = context.type === 'orgUnit' ? index.units.find(context.id ?? '') : NONE;
  if (!index.covers(src.contextType, src.contextId, context.type, context.id, asked)) {
    throw invalid('context', `must be within the source's context (${srcCtx.type}${srcCtx.id ? ` ${srcCtx.id}` : ''})`);
  }
  const validTo = input.validTo ?? source.valid_to;
  if (source.valid_to && validTo && Date.parse(validTo) > Date.parse(source.valid_to)) throw invalid('validTo', `must not be after the source's validTo (${source.valid_to})`);
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const conflicts = await checkSod(tx, deps, { identityIds: [input.assigneeId], adds: [{ ...resource, context, source: 'delegation' }] });
    await enforceSod(tx, actor, conflicts, { subject: { type: 'assignment', id: null }, exceptionAllowed: false });
    return insertAssignment(tx, {
      assignee: { type: 'identity', id: input.assigneeId },
      resource,
      context,
      source: 'delegation',
      validFrom: input.validFrom ?? null,
      validTo: validTo ?? null,
      reason: input.reason ?? null,
      createdBy: actor.caller.id,
      delegatedFromId: sourceId,
      delegatorId: identityId,
      ruleId: null,
    });
  });
  await afterWrite(deps, tenantId);
  return { assignment: value, revision };
}

/**
 * Changes an assignment's validity window and context inside a write (an approved `change`
 * access request), with its audit event and change-feed entry.
 */
export async function changeAssignmentTerms(
  tx: WriteTx,
  row: Database['assignments'],
  terms: { validFrom: string | null; validTo: string | null; context: AccessContext },
  cause?: Record<string, unknown>,
): Promise<AssignmentView> {
  validateWindow(terms.validFrom, terms.validTo);
  const before = toAssignmentView(row);
  const updated: Database['assignments'] = {
    ...row,
    valid_from: terms.validFrom,
    valid_to: terms.validTo,
    context_type: terms.context.type,
    context_id: terms.context.id,
    updated_at: tx.now,
    version: Number(row.version) + 1,
  };
  await tx.db
    .updateTable('assignments')
    .set({ valid_from: updated.valid_from, valid_to: updated.valid_to, context_type: updated.context_type, context_id: updated.context_id, updated_at: updated.updated_at, version: updated.version })
    .where('id', '=', row.id)
    .execute();
  const after = toAssignmentView(updated);
  tx.audit({ action: 'assignment.update', targetType: 'assignment', targetId: row.id, before, after: cause ? { ...after, cause } : after });
  tx.change('assignment', row.id, 'update');
  return after;
}
