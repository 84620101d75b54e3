/**
 * The reference evaluator of DESIGN.md's rules of effective access: slow, direct, and
 * written to be read next to the rules. The in-memory index (`src/engine`) must give the
 * same answers; a property-based test compares the two over random models and writes.
 *
 * 1. An assignment counts while it is `active` and now is within `[validFrom, validTo)`.
 * 2. A delegated assignment counts only while the delegator's own access to that resource
 *    counts: its source assignment counts for the delegator, and the source still gives the
 *    delegated resource.
 * 3. A unit assignment reaches every member of the unit and of its descendant units.
 * 4. A role gives every permission it includes, transitively.
 * 5. An assignment in context `all` covers every context; one in a unit's context covers
 *    that unit and its descendants; identity and object contexts cover exactly themselves.
 *    A check without a context asks for `all`, which only `all` covers.
 * 6. An identity that is not `active` has no effective access.
 * 7. Every answer can be explained: {@link explainAccess} lists the assignments behind it.
 *
 * ```ts
 * const allowed = checkAccess(model, 'alice', 'perm-1', { type: 'orgUnit', id: 'u-5445' }, Date.now());
 * ```
 */
import { withinValidity, type AccessContext, type AssignmentFact } from './access.ts';

export interface ReferenceModel {
  identities: ReadonlyMap<string, { status: string; unitId: string | null }>;
  units: ReadonlyMap<string, { parentId: string | null }>;
  permissions: ReadonlyMap<string, { applicationId: string }>;
  roles: ReadonlyMap<string, { permissionIds: readonly string[]; includedRoleIds: readonly string[] }>;
  assignments: readonly AssignmentFact[];
}

/** One way an identity holds a permission: the assignment and the context it applies in. */
export interface ReferenceGrant {
  permissionId: string;
  assignmentId: string;
  context: AccessContext;
}

/** The unit and its ancestors, nearest first (a broken or cyclic parent chain stops). */
export function unitAndAncestors(model: ReferenceModel, unitId: string): string[] {
  const seen: string[] = [];
  let current: string | null = unitId;
  while (current !== null && !seen.includes(current)) {
    seen.push(current);
    current = model.units.get(current)?.parentId ?? null;
  }
  return seen;
}

/** Rule 4: every permission a role gives, through included roles, transitively. */
export function rolePermissions(model: ReferenceModel, roleId: string): Set<string> {
  const permissions = new Set<string>();
  for (const r of roleAndIncluded(model, roleId)) {
    for (const p of model.roles.get(r)?.permissionIds ?? []) if (model.permissions.has(p)) permissions.add(p);
  }
  return permissions;
}

/** The role and every role it includes, transitively (only roles that exist). */
export function roleAndIncluded(model: ReferenceModel, roleId: string): Set<string> {
  const seen = new Set<string>();
  const stack = [roleId];
  while (stack.length) {
    const r = stack.pop()!;
    const role = model.roles.get(r);
    if (!role || seen.has(r)) continue;
    seen.add(r);
    stack.push(...role.includedRoleIds);
  }
  return seen;
}

/** The permissions an assignment's resource gives. */
export function resourcePermissions(model: ReferenceModel, a: AssignmentFact): Set<string> {
  if (a.resourceType === 'permission') return new Set(model.permissions.has(a.resourceId) ? [a.resourceId] : []);
  return rolePermissions(model, a.resourceId);
}

/** Rule 3: whether an assignment's assignee is the identity or one of its units. */
export function assignmentReaches(model: ReferenceModel, a: AssignmentFact, identityId: string): boolean {
  const identity = model.identities.get(identityId);
  if (!identity) return false;
  if (a.assigneeType === 'identity') return a.assigneeId === identityId;
  if (!model.units.has(a.assigneeId) || identity.unitId === null) return false;
  return unitAndAncestors(model, identity.unitId).includes(a.assigneeId);
}

/** Whether the source assignment's resource still gives the delegated resource. */
function sourceGives(model: ReferenceModel, source: AssignmentFact, delegated: AssignmentFact): boolean {
  if (delegated.resourceType === 'permission') return resourcePermissions(model, source).has(delegated.resourceId);
  if (source.resourceType !== 'role') return false;
  return roleAndIncluded(model, source.resourceId).has(delegated.resourceId);
}

/** Rules 1, 2, 3 and 6: whether assignment `a` counts for `identityId` at `now`. */
export function assignmentCounts(model: ReferenceModel, a: AssignmentFact, identityId: string, now: number, depth = 0): boolean {
  if (depth > 32) return false;
  if (model.identities.get(identityId)?.status !== 'active') return false;
  if (a.state !== 'active' || !withinValidity(a.validFrom, a.validTo, now)) return false;
  if (!assignmentReaches(model, a, identityId)) return false;
  if (a.delegatedFromId === null) return true;
  const source = model.assignments.find((s) => s.id === a.delegatedFromId);
  if (!source || a.delegatorId === null) return false;
  return sourceGives(model, source, a) && assignmentCounts(model, source, a.delegatorId, now, depth + 1);
}

/** Rule 5: whether an assignment made in `held` applies in the asked context. */
export function contextCovers(model: ReferenceModel, held: AccessContext, asked: AccessContext): boolean {
  if (held.type === 'all') return true;
  if (held.type !== asked.type || held.id === null || asked.id === null) return false;
  if (held.type === 'orgUnit') return unitAndAncestors(model, asked.id).includes(held.id);
  return held.id === asked.id;
}

/** Every way the identity holds any permission now (the assigned view). */
export function effectiveGrants(model: ReferenceModel, identityId: string, now: number): ReferenceGrant[] {
  const grants: ReferenceGrant[] = [];
  for (const a of model.assignments) {
    if (!assignmentCounts(model, a, identityId, now)) continue;
    for (const permissionId of resourcePermissions(model, a)) grants.push({ permissionId, assignmentId: a.id, context: a.context });
  }
  return grants;
}

/** Whether the identity holds the permission in the asked context now. */
export function checkAccess(model: ReferenceModel, identityId: string, permissionId: string, context: AccessContext, now: number): boolean {
  return effectiveGrants(model, identityId, now).some((g) => g.permissionId === permissionId && contextCovers(model, g.context, context));
}

/** Rule 7: the ids of the assignments that give the permission in that context. */
export function explainAccess(model: ReferenceModel, identityId: string, permissionId: string, context: AccessContext, now: number): string[] {
  const ids = effectiveGrants(model, identityId, now)
    .filter((g) => g.permissionId === permissionId && contextCovers(model, g.context, context))
    .map((g) => g.assignmentId);
  return [...new Set(ids)].sort();
}

/** The identities that hold the permission in some context now, sorted. */
export function permissionHolders(model: ReferenceModel, permissionId: string, now: number): string[] {
  return [...model.identities.keys()]
    .filter((id) => effectiveGrants(model, id, now).some((g) => g.permissionId === permissionId))
    .sort();
}
