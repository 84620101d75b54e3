/**
 * The preview of a personnel event: exactly what it will change, from the current
 * assignments, assignment rules and accounts — onboarding the birthright the rules give
 * the joiner; a role transition the access its new unit and attributes gain, the rule access
 * they no longer justify (kept for review until the end date, or removed at once, per the
 * tenant's setting) and the delegations that stop; offboarding every assignment and
 * delegation revoked and every connected-application account to deprovision; a leave
 * everything paused and, at return, restored.
 *
 * ```ts
 * const preview = await computePreview(scope, { type: 'offboard', identityId, changes: {}, endAt: null }, 'review', now);
 * ```
 */
import type { Database } from '../../store/schema.ts';
import type { TenantDb } from '../../store/store.ts';
import { delegationRowsFrom, identityAssignmentRows, ruleGrantsFor, type RuleGrant } from '../access/index.ts';
import { changedRow, identityRow, identityViewOf, joinerRow, mergedAttributes } from './identity-writes.ts';
import type { EventPreview, EventType, IdentityChanges, PreviewAccount, PreviewItem } from './model.ts';

type AssignmentRow = Database['assignments'];

export interface PlannedEvent {
  type: EventType;
  identityId: string | null;
  changes: IdentityChanges;
  endAt: string | null;
}

interface Names {
  resource: Map<string, { name: string; application: { id: string; name: string } | null }>;
}

async function namesOf(scope: TenantDb, resources: { type: string; id: string }[]): Promise<Names> {
  const { db } = scope;
  const resource: Names['resource'] = new Map();
  const permIds = [...new Set(resources.filter((r) => r.type === 'permission').map((r) => r.id))];
  const roleIds = [...new Set(resources.filter((r) => r.type === 'role').map((r) => r.id))];
  for (let i = 0; i < permIds.length; i += 500) {
    const rows = await db
      .selectFrom('permissions')
      .innerJoin('applications', 'applications.id', 'permissions.application_id')
      .select(['permissions.id as id', 'permissions.name as name', 'applications.id as appId', 'applications.name as appName'])
      .where('permissions.id', 'in', permIds.slice(i, i + 500))
      .execute();
    for (const r of rows) resource.set(`permission:${r.id}`, { name: r.name, application: { id: r.appId, name: r.appName } });
  }
  for (let i = 0; i < roleIds.length; i += 500) {
    const rows = await db.selectFrom('roles').select(['id', 'name']).where('id', 'in', roleIds.slice(i, i + 500)).execute();
    for (const r of rows) resource.set(`role:${r.id}`, { name: r.name, application: null });
  }
  return { resource };
}

function itemOf(names: Names, a: { id: string | null; type: string; resourceId: string; contextType: string; contextId: string | null; source: string; rule: { id: string; name: string } | null }): PreviewItem {
  const type = a.type === 'role' ? 'role' : 'permission';
  const named = names.resource.get(`${type}:${a.resourceId}`);
  return {
    assignmentId: a.id,
    resource: { type, id: a.resourceId, name: named?.name ?? null },
    application: named?.application ?? null,
    context: { type: a.contextType, id: a.contextId },
    source: a.source,
    rule: a.rule,
  };
}

async function describeRows(scope: TenantDb, rows: AssignmentRow[]): Promise<PreviewItem[]> {
  const names = await namesOf(scope, rows.map((r) => ({ type: r.resource_type, id: r.resource_id })));
  const ruleIds = [...new Set(rows.map((r) => r.rule_id).filter((r): r is string => r !== null))];
  const rules = ruleIds.length ? await scope.db.selectFrom('assignment_rules').select(['id', 'name']).where('id', 'in', ruleIds).execute() : [];
  const ruleName = new Map(rules.map((r) => [r.id, r.name]));
  return rows.map((r) =>
    itemOf(names, {
      id: r.id,
      type: r.resource_type,
      resourceId: r.resource_id,
      contextType: r.context_type,
      contextId: r.context_id,
      source: r.source,
      rule: r.rule_id ? { id: r.rule_id, name: ruleName.get(r.rule_id) ?? r.rule_id } : null,
    }),
  );
}

async function describeGrants(scope: TenantDb, grants: RuleGrant[]): Promise<PreviewItem[]> {
  const names = await namesOf(scope, grants.map((g) => g.resource));
  return grants.map((g) =>
    itemOf(names, { id: null, type: g.resource.type, resourceId: g.resource.id, contextType: g.context.type, contextId: g.context.id, source: 'rule', rule: { id: g.ruleId, name: g.ruleName } }),
  );
}

const grantKey = (ruleId: string | null, type: string, id: string, ctxType: string, ctxId: string | null) => `${ruleId}|${type}|${id}|${ctxType}|${ctxId ?? ''}`;

/** Accounts of the identity in connected applications that still hold something (offboarding deprovisions them). */
export async function accountsToDeprovision(scope: TenantDb, identityId: string): Promise<PreviewAccount[]> {
  const rows = await scope.db
    .selectFrom('accounts')
    .innerJoin('applications', 'applications.id', 'accounts.application_id')
    .leftJoin('grants', (j) => j.onRef('grants.account_id', '=', 'accounts.id').onRef('grants.tenant_id', '=', 'accounts.tenant_id'))
    .select((eb) => ['accounts.id as id', 'accounts.name as name', 'applications.id as appId', 'applications.name as appName', eb.fn.count('grants.id').as('grants')])
    .where('accounts.identity_id', '=', identityId)
    .where('accounts.status', '=', 'active')
    .where('applications.kind', '=', 'connected')
    .groupBy(['accounts.id', 'accounts.name', 'applications.id', 'applications.name'])
    .orderBy('applications.name')
    .orderBy('accounts.name')
    .execute();
  return rows.map((r) => ({ accountId: r.id, name: r.name, application: { id: r.appId, name: r.appName }, grants: Number(r.grants) }));
}

function empty(computedAt: string): EventPreview {
  return { identity: { before: null, after: null }, added: [], paused: [], restored: [], revoked: [], review: [], reviewUntil: null, delegationsStopped: [], accountsToDeprovision: [], unjustifiedAccess: null, computedAt };
}

/** The preview of `event` against the current state (`mode`: the tenant's unjustifiedAccess setting). */
export async function computePreview(scope: TenantDb, event: PlannedEvent, mode: 'review' | 'remove', now: string): Promise<EventPreview> {
  const preview = empty(now);
  if (event.type === 'onboard') {
    const row = joinerRow(scope.tenantId, event.changes, now);
    const grants = await ruleGrantsFor(scope, { id: row.id, orgUnitId: row.org_unit_id, attributes: mergedAttributes({}, event.changes.attributes) });
    preview.identity.after = { ...event.changes, status: 'active' };
    preview.added = await describeGrants(scope, grants);
    return preview;
  }
  const identity = event.identityId ? await identityRow(scope, event.identityId) : undefined;
  if (!identity) return preview;
  const before = identityViewOf(identity);
  preview.identity.before = before as unknown as Record<string, unknown>;
  if (event.type === 'offboard') {
    preview.identity.after = { ...before, status: 'terminated' };
    preview.revoked = await describeRows(scope, await identityAssignmentRows(scope, identity.id));
    preview.delegationsStopped = await describeRows(scope, await delegationRowsFrom(scope, identity.id));
    preview.accountsToDeprovision = await accountsToDeprovision(scope, identity.id);
    return preview;
  }
  if (event.type === 'leave_of_absence') {
    const active = await describeRows(scope, await identityAssignmentRows(scope, identity.id, ['active']));
    preview.identity.after = { ...before, status: 'on_leave' };
    preview.paused = active;
    preview.restored = active;
    const sources = active.map((a) => a.assignmentId).filter((a): a is string => a !== null);
    preview.delegationsStopped = await describeRows(scope, await delegationRowsFrom(scope, identity.id, sources));
    return preview;
  }
  // Role transition: the rules as they apply to the identity after the change.
  const next = changedRow(identity, event.changes, undefined, now);
  preview.identity.after = identityViewOf(next) as unknown as Record<string, unknown>;
  const grants = identity.status === 'terminated' ? [] : await ruleGrantsFor(scope, { id: identity.id, orgUnitId: next.org_unit_id, attributes: JSON.parse(next.attributes) as Record<string, string> });
  const held = (await identityAssignmentRows(scope, identity.id)).filter((a) => a.source === 'rule');
  const heldKeys = new Set(held.map((a) => grantKey(a.rule_id, a.resource_type, a.resource_id, a.context_type, a.context_id)));
  const wantedKeys = new Set(grants.map((g) => grantKey(g.ruleId, g.resource.type, g.resource.id, g.context.type, g.context.id)));
  preview.added = await describeGrants(scope, grants.filter((g) => !heldKeys.has(grantKey(g.ruleId, g.resource.type, g.resource.id, g.context.type, g.context.id))));
  const unjustified = held.filter((a) => !wantedKeys.has(grantKey(a.rule_id, a.resource_type, a.resource_id, a.context_type, a.context_id)));
  preview.unjustifiedAccess = mode;
  if (mode === 'review') {
    preview.review = await describeRows(scope, unjustified);
    preview.reviewUntil = event.endAt;
  } else {
    preview.revoked = await describeRows(scope, unjustified);
  }
  // Delegations of removed access stop with it (at once, or when the review period ends).
  preview.delegationsStopped = await describeRows(scope, await delegationRowsFrom(scope, identity.id, unjustified.map((a) => a.id)));
  return preview;
}
