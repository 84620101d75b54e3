/**
 * Assignment rules (birthright access): a condition on identity attributes and unit
 * membership, and the resources every matching identity gets (as `rule` assignments, in
 * the rule's context). Rules are re-evaluated when a rule changes ({@link reevaluateRule})
 * and when an identity changes ({@link reevaluateRulesForIdentity}): matching identities
 * gain the resources, identities that no longer match lose them (the assignments are
 * revoked, not deleted). A terminated identity matches no rule. Every such change is
 * audited with the rule as its cause.
 *
 * The identity and unit write paths call these through the directory hooks
 * (src/services/access/rule-hooks.ts, wired by default in `createServices`):
 *
 * ```ts
 * await reevaluateRulesForIdentity(tx, identityId);
 * ```
 *
 * Separation of duties: a rule never creates an assignment that breaks a policy (a `block`
 * one, or a `require_exception` one without an unexpired exception for that identity —
 * rules cannot carry exceptions). When the rule itself is created or changed through the
 * API, such an assignment refuses the whole change (409 naming the policy, the identity and
 * the conflicting access), so the administrator sees it at once. When a directory change
 * (an identity created or changed, a unit moved) re-evaluates the rules, the directory
 * change goes through and only that assignment is left out, recorded as the audit event
 * `sod.blocked` (the identity, the rule, the resource and the conflicts); it is made on a
 * later re-evaluation once the conflict is gone.
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical-json.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import type { AccessContext } from '../../domain/access.ts';
import type { Database } from '../../store/schema.ts';
import { isUniqueViolation, type WriteTx } from '../../store/store.ts';
import { requireRight, type Actor, writeAs } from '../kernel/index.ts';
import { afterWrite, invalid, normalizeContext, requireHoldsRightsOf, requireResource } from './common.ts';
import { insertAssignment, setState } from './assignments.ts';
import { checkSod, enforceSod, sodTouches, unmitigated } from '../sod/index.ts';
import type { ServiceDeps } from '../deps.ts';

export interface RuleCondition {
  /** Every clause must hold: the attribute equals the value, or is one of the values. */
  attributes?: { name: string; equals?: string | undefined; in?: string[] | undefined }[] | undefined;
  /** The identity's unit is this unit or one of its descendants. */
  orgUnitSubtree?: string | undefined;
}

export interface RuleResource {
  type: 'permission' | 'role';
  id: string;
}

export interface AssignmentRuleView {
  id: string;
  name: string;
  description: string | null;
  condition: RuleCondition;
  resources: RuleResource[];
  context: AccessContext;
  enabled: boolean;
  createdAt: string;
  updatedAt: string;
  version: number;
}

export interface RuleInput {
  name: string;
  description?: string | null | undefined;
  condition: RuleCondition;
  resources: RuleResource[];
  context?: { type: string; id?: string | null } | undefined;
  enabled?: boolean | undefined;
}

function toView(r: Database['assignment_rules']): AssignmentRuleView {
  return {
    id: r.id,
    name: r.name,
    description: r.description,
    condition: JSON.parse(r.condition) as RuleCondition,
    resources: JSON.parse(r.resources) as RuleResource[],
    context: { type: r.context_type as AccessContext['type'], id: r.context_id },
    enabled: Number(r.enabled) === 1,
    createdAt: r.created_at,
    updatedAt: r.updated_at,
    version: Number(r.version),
  };
}

interface IdentityFacts {
  id: string;
  unitChain: string[];
  attributes: Record<string, string>;
}

/** Whether an identity matches a rule's condition (pure). */
export function ruleMatches(condition: RuleCondition, identity: IdentityFacts): boolean {
  for (const clause of condition.attributes ?? []) {
    const value = identity.attributes[clause.name];
    if (value === undefined) return false;
    if (clause.equals !== undefined && value !== clause.equals) return false;
    if (clause.in !== undefined && !clause.in.includes(value)) return false;
  }
  if (condition.orgUnitSubtree !== undefined && !identity.unitChain.includes(condition.orgUnitSubtree)) return false;
  return true;
}

/** The stored columns a rule's input decides (creation and change alike). */
function ruleColumns(input: RuleInput, context: AccessContext) {
  return {
    name: input.name,
    description: input.description ?? null,
    condition: canonicalJson(input.condition),
    resources: canonicalJson(dedupe(input.resources)),
    context_type: context.type,
    context_id: context.id,
    enabled: input.enabled === false ? 0 : 1,
  };
}

async function validateRule(deps: ServiceDeps, actor: Actor, input: RuleInput): Promise<AccessContext> {
  const scope = deps.store.read(actor.caller.tenantId);
  const c = input.condition;
  if (!(c.attributes?.length || c.orgUnitSubtree)) throw invalid('condition', 'needs at least one attribute clause or orgUnitSubtree');
  for (const [i, clause] of (c.attributes ?? []).entries()) {
    if ((clause.equals === undefined) === (clause.in === undefined)) throw invalid(`condition.attributes.${i}`, 'needs exactly one of equals or in');
  }
  if (c.orgUnitSubtree) {
    const unit = await scope.db.selectFrom('org_units').select('id').where('id', '=', c.orgUnitSubtree).executeTakeFirst();
    if (!unit) throw notFound('organization unit', c.orgUnitSubtree);
  }
  for (const r of input.resources) {
    await requireResource(scope, r);
    await requireHoldsRightsOf(scope, actor, r);
  }
  return normalizeContext(scope, input.context);
}

export async function createAssignmentRule(deps: ServiceDeps, actor: Actor, input: RuleInput): Promise<{ rule: AssignmentRuleView; revision: number }> {
  requireRight(actor, 'manage-users');
  const { tenantId } = actor.caller;
  const context = await validateRule(deps, actor, input);
  try {
    const { value, revision } = await writeAs(deps, actor, async (tx) => {
      const row: Database['assignment_rules'] = {
        id: randomUUID(),
        tenant_id: tenantId,
        ...ruleColumns(input, context),
        created_at: tx.now,
        updated_at: tx.now,
        version: 1,
      };
      await tx.db.insertInto('assignment_rules').values(row).execute();
      const view = toView(row);
      tx.audit({ action: 'assignment_rule.create', targetType: 'assignment_rule', targetId: row.id, after: view });
      tx.change('assignment_rule', row.id, 'create');
      await reevaluateRule(tx, row, actor);
      return view;
    });
    await afterWrite(deps, tenantId);
    return { rule: value, revision };
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError('conflict', `an assignment rule named "${input.name}" exists`, { errors: [{ field: 'name', message: 'is taken' }] });
    throw e;
  }
}

export async function updateAssignmentRule(
  deps: ServiceDeps,
  actor: Actor,
  id: string,
  patch: Partial<RuleInput>,
): Promise<{ rule: AssignmentRuleView; revision: number }> {
  requireRight(actor, 'manage-users');
  const { tenantId } = actor.caller;
  const current = await getAssignmentRule(deps, actor, id);
  const merged: RuleInput = {
    name: patch.name ?? current.name,
    description: patch.description === undefined ? current.description : patch.description,
    condition: patch.condition ?? current.condition,
    resources: patch.resources ?? current.resources,
    context: patch.context ?? current.context,
    enabled: patch.enabled ?? current.enabled,
  };
  const context = await validateRule(deps, actor, merged);
  try {
    const { value, revision } = await writeAs(deps, actor, async (tx) => {
      const row = await tx.db.selectFrom('assignment_rules').selectAll().where('id', '=', id).executeTakeFirst();
      if (!row) throw notFound('assignment rule', id);
      const updated: Database['assignment_rules'] = {
        ...row,
        ...ruleColumns(merged, context),
        updated_at: tx.now,
        version: Number(row.version) + 1,
      };
      const { id: _id, tenant_id: _t, created_at: _c, ...set } = updated;
      await tx.db.updateTable('assignment_rules').set(set).where('id', '=', id).execute();
      const view = toView(updated);
      tx.audit({ action: 'assignment_rule.update', targetType: 'assignment_rule', targetId: id, before: toView(row), after: view });
      tx.change('assignment_rule', id, 'update');
      await reevaluateRule(tx, updated, actor);
      return view;
    });
    await afterWrite(deps, tenantId);
    return { rule: value, revision };
  } catch (e) {
    if (isUniqueViolation(e)) throw new AppError('conflict', `an assignment rule named "${merged.name}" exists`, { errors: [{ field: 'name', message: 'is taken' }] });
    throw e;
  }
}

/** Deletes a rule; the assignments it made are revoked (and stay recorded). */
export async function deleteAssignmentRule(deps: ServiceDeps, actor: Actor, id: string): Promise<{ revision: number }> {
  requireRight(actor, 'manage-users');
  const { tenantId } = actor.caller;
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await tx.db.selectFrom('assignment_rules').selectAll().where('id', '=', id).executeTakeFirst();
    if (!row) throw notFound('assignment rule', id);
    await reevaluateRule(tx, { ...row, enabled: 0 });
    await tx.db.deleteFrom('assignment_rules').where('id', '=', id).execute();
    tx.audit({ action: 'assignment_rule.delete', targetType: 'assignment_rule', targetId: id, before: toView(row) });
    tx.change('assignment_rule', id, 'delete');
  });
  await afterWrite(deps, tenantId);
  return { revision };
}

export async function getAssignmentRule(deps: ServiceDeps, actor: Actor, id: string): Promise<AssignmentRuleView> {
  requireRight(actor, 'manage-users', 'read-permissions-any-application');
  const { db } = deps.store.read(actor.caller.tenantId);
  const row = await db.selectFrom('assignment_rules').selectAll().where('id', '=', id).executeTakeFirst();
  if (!row) throw notFound('assignment rule', id);
  return toView(row);
}

export async function listAssignmentRules(deps: ServiceDeps, actor: Actor): Promise<AssignmentRuleView[]> {
  requireRight(actor, 'manage-users', 'read-permissions-any-application');
  const { db } = deps.store.read(actor.caller.tenantId);
  const rows = await db.selectFrom('assignment_rules').selectAll().orderBy('name').limit(1000).execute();
  return rows.map(toView);
}

function dedupe(resources: RuleResource[]): RuleResource[] {
  const seen = new Map<string, RuleResource>();
  for (const r of resources) seen.set(`${r.type}:${r.id}`, { type: r.type, id: r.id });
  return [...seen.values()];
}

async function unitParents(tx: WriteTx): Promise<Map<string, string | null>> {
  const rows = await tx.db.selectFrom('org_units').select(['id', 'parent_id']).execute();
  return new Map(rows.map((r) => [r.id, r.parent_id]));
}

function chainOf(parents: Map<string, string | null>, unitId: string | null): string[] {
  const chain: string[] = [];
  for (let u = unitId; u !== null && !chain.includes(u); u = parents.get(u) ?? null) chain.push(u);
  return chain;
}

function factsOf(row: { id: string; org_unit_id: string | null; attributes: string }, parents: Map<string, string | null>): IdentityFacts {
  let attributes: Record<string, string> = {};
  try {
    const parsed = JSON.parse(row.attributes) as unknown;
    if (parsed && typeof parsed === 'object') attributes = Object.fromEntries(Object.entries(parsed as Record<string, unknown>).map(([k, v]) => [k, String(v)]));
  } catch {
    attributes = {};
  }
  return { id: row.id, unitChain: chainOf(parents, row.org_unit_id), attributes };
}

type RuleRow = Database['assignment_rules'];

/**
 * Brings a rule's assignments in line with who matches it now, inside the caller's write:
 * creates the missing ones, revokes those of identities that no longer match (or of
 * resources or a context the rule no longer gives). A disabled rule gives nothing.
 */
export async function reevaluateRule(tx: WriteTx, rule: RuleRow, refuseSodAs?: Actor): Promise<{ created: number; revoked: number }> {
  const parents = await unitParents(tx);
  // A terminated identity matches no rule: offboarding took its birthright away for good.
  const identities = await tx.db.selectFrom('identities').select(['id', 'org_unit_id', 'attributes']).where('status', '!=', 'terminated').execute();
  const matching = Number(rule.enabled) === 1 ? identities.map((i) => factsOf(i, parents)).filter((f) => ruleMatches(JSON.parse(rule.condition) as RuleCondition, f)).map((f) => f.id) : [];
  const existing = await tx.db
    .selectFrom('assignments')
    .selectAll()
    .where('rule_id', '=', rule.id)
    .where('state', '!=', 'revoked')
    .execute();
  return reconcile(tx, rule, matching, existing, undefined, refuseSodAs);
}

/**
 * Re-evaluates every rule for one identity, inside the caller's write (the identity
 * service calls this after creating or changing an identity).
 */
export async function reevaluateRulesForIdentity(tx: WriteTx, identityId: string): Promise<{ created: number; revoked: number }> {
  const rules = await tx.db.selectFrom('assignment_rules').selectAll().execute();
  const existing = await tx.db
    .selectFrom('assignments')
    .selectAll()
    .where('assignee_type', '=', 'identity')
    .where('assignee_id', '=', identityId)
    .where('source', '=', 'rule')
    .where('state', '!=', 'revoked')
    .execute();
  const identity = await tx.db
    .selectFrom('identities')
    .select(['id', 'org_unit_id', 'attributes'])
    .where('id', '=', identityId)
    .where('status', '!=', 'terminated')
    .executeTakeFirst();
  const parents = identity && rules.length ? await unitParents(tx) : new Map<string, string | null>();
  const facts = identity ? factsOf(identity, parents) : null;
  let created = 0;
  let revoked = 0;
  const ruleIds = new Set(rules.map((r) => r.id));
  for (const rule of rules) {
    const matches = facts !== null && Number(rule.enabled) === 1 && ruleMatches(JSON.parse(rule.condition) as RuleCondition, facts);
    const r = await reconcile(tx, rule, matches ? [identityId] : [], existing.filter((a) => a.rule_id === rule.id), identityId);
    created += r.created;
    revoked += r.revoked;
  }
  // Assignments of rules that no longer exist.
  for (const a of existing.filter((x) => x.rule_id !== null && !ruleIds.has(x.rule_id))) {
    await setState(tx, a, 'revoke', 'the assignment rule no longer exists', { ruleId: a.rule_id });
    revoked += 1;
  }
  return { created, revoked };
}

async function reconcile(
  tx: WriteTx,
  rule: RuleRow,
  matching: string[],
  existing: Database['assignments'][],
  onlyIdentity?: string,
  refuseSodAs?: Actor,
): Promise<{ created: number; revoked: number }> {
  const resources = JSON.parse(rule.resources) as RuleResource[];
  const key = (identity: string, type: string, id: string, ctxType: string, ctxId: string | null) => `${identity}|${type}|${id}|${ctxType}|${ctxId ?? ''}`;
  const want = new Set<string>();
  for (const i of matching) for (const r of resources) want.add(key(i, r.type, r.id, rule.context_type, rule.context_id));
  const have = new Set<string>();
  const cause = { ruleId: rule.id, ruleName: rule.name };
  let revoked = 0;
  for (const a of existing) {
    if (onlyIdentity !== undefined && a.assignee_id !== onlyIdentity) continue;
    const k = key(a.assignee_id, a.resource_type, a.resource_id, a.context_type, a.context_id);
    if (want.has(k) && !have.has(k)) {
      have.add(k);
      continue;
    }
    await setState(tx, a, 'revoke', `assignment rule "${rule.name}" no longer gives it`, cause);
    revoked += 1;
  }
  let created = 0;
  const context = { type: rule.context_type as AccessContext['type'], id: rule.context_id };
  const sod = await sodTouches(tx, resources.map((r) => ({ ...r, context, source: 'rule' })));
  const clock = { now: () => new Date(tx.now) };
  for (const i of matching) {
    for (const r of resources) {
      if (have.has(key(i, r.type, r.id, rule.context_type, rule.context_id))) continue;
      if (sod) {
        const stopping = unmitigated(await checkSod(tx, clock, { identityIds: [i], adds: [{ ...r, context, source: 'rule' }] }));
        if (stopping.length && refuseSodAs) await enforceSod(tx, refuseSodAs, stopping, { subject: { type: 'assignment', id: null }, exceptionAllowed: false });
        if (stopping.length) {
          tx.audit({
            action: 'sod.blocked',
            targetType: 'identity',
            targetId: i,
            after: { ruleId: rule.id, ruleName: rule.name, resource: r, context, conflicts: stopping.map((c) => ({ policy: c.policy, conflicting: c.conflicting })) },
          });
          continue;
        }
      }
      await insertAssignment(
        tx,
        {
          assignee: { type: 'identity', id: i },
          resource: r,
          context: { type: rule.context_type as AccessContext['type'], id: rule.context_id },
          source: 'rule',
          validFrom: null,
          validTo: null,
          reason: `assignment rule "${rule.name}"`,
          createdBy: null,
          delegatedFromId: null,
          delegatorId: null,
          ruleId: rule.id,
        },
        cause,
      );
      created += 1;
    }
  }
  return { created, revoked };
}

