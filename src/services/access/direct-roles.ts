/**
 * An identity's directly assigned roles as one list (the Checkmarx `roleIds` of a user):
 * read the roles of its direct, not revoked, context-`all` role assignments; set the list
 * by creating direct assignments for added roles and revoking those of removed ones, in
 * the same write as the identity's own change, so a refused request changes nothing.
 */
import { CONTEXT_ALL } from '../../domain/access.ts';
import type { WriteTx } from '../../store/store.ts';
import { requireHoldsRightsOf } from './common.ts';
import { checkSod, enforceSod } from '../sod/index.ts';
import type { Actor } from '../kernel/index.ts';
import { insertAssignment, listAssignments, setState } from './assignments.ts';
import { createIdentity, updateIdentity, type CreateIdentityInput, type IdentityRecord, type UpdateIdentityInput } from '../directory/index.ts';
import type { ServiceDeps } from '../deps.ts';

interface DirectRole {
  assignmentId: string;
  roleId: string;
}

async function directRoleAssignments(deps: ServiceDeps, actor: Actor, identityId: string): Promise<DirectRole[]> {
  const found: DirectRole[] = [];
  let cursor: string | undefined;
  do {
    const page = await listAssignments(deps, actor, { assigneeType: 'identity', assigneeId: identityId, resourceType: 'role', source: 'direct', limit: 500, cursor });
    for (const a of page.items) {
      if (a.state !== 'revoked' && a.context.type === 'all') found.push({ assignmentId: a.id, roleId: a.resource.id });
    }
    cursor = page.nextCursor ?? undefined;
  } while (cursor !== undefined);
  return found;
}

/** Ids of the roles directly assigned to the identity (active or paused, context all). */
export async function listDirectRoleIds(deps: ServiceDeps, actor: Actor, identityId: string): Promise<string[]> {
  return [...new Set((await directRoleAssignments(deps, actor, identityId)).map((a) => a.roleId))];
}

/**
 * Makes the identity's direct roles exactly `roleIds`, inside a write: direct assignments
 * for added roles, revocation for removed ones (rights checks: the caller's own for the
 * added roles here, the rights guard on the whole write).
 */
export async function setDirectRolesInTx(deps: ServiceDeps, tx: WriteTx, actor: Actor, identityId: string, roleIds: readonly string[]): Promise<void> {
  const current = await tx.db
    .selectFrom('assignments')
    .selectAll()
    .where('assignee_type', '=', 'identity')
    .where('assignee_id', '=', identityId)
    .where('resource_type', '=', 'role')
    .where('source', '=', 'direct')
    .where('context_type', '=', 'all')
    .where('state', '!=', 'revoked')
    .execute();
  const wanted = new Set(roleIds);
  const held = new Set(current.map((a) => a.resource_id));
  const added = [...wanted].filter((roleId) => !held.has(roleId));
  // Separation of duties: the added roles together, on top of what the identity holds in this write
  // (its rule assignments included). No exception can be given here: refused as for `block`.
  const conflicts = await checkSod(tx, deps, { identityIds: [identityId], adds: added.map((id) => ({ type: 'role' as const, id })) });
  await enforceSod(tx, actor, conflicts, { subject: { type: 'assignment', id: null }, exceptionAllowed: false });
  for (const roleId of wanted) {
    if (held.has(roleId)) continue;
    const resource = { type: 'role' as const, id: roleId };
    await requireHoldsRightsOf(tx, actor, resource);
    await insertAssignment(tx, {
      assignee: { type: 'identity', id: identityId },
      resource,
      context: CONTEXT_ALL,
      source: 'direct',
      validFrom: null,
      validTo: null,
      reason: 'set as user roles',
      createdBy: actor.caller.id,
      delegatedFromId: null,
      delegatorId: null,
      ruleId: null,
    });
  }
  for (const a of current) if (!wanted.has(a.resource_id)) await setState(tx, a, 'revoke', 'removed from user roles');
}

/** Creates an identity with exactly these direct roles, in one write. */
export async function createIdentityWithRoles(deps: ServiceDeps, actor: Actor, fields: CreateIdentityInput, roleIds: readonly string[]): Promise<IdentityRecord & { revision: number }> {
  return createIdentity(deps, actor, fields, roleIds.length ? (tx, id) => setDirectRolesInTx(deps, tx, actor, id, roleIds) : undefined);
}

/** Updates an identity and, when `roleIds` is given, sets its direct roles, in one write. */
export async function updateIdentityWithRoles(
  deps: ServiceDeps,
  actor: Actor,
  identityId: string,
  patch: UpdateIdentityInput,
  roleIds: readonly string[] | undefined,
): Promise<IdentityRecord & { revision: number }> {
  return updateIdentity(deps, actor, identityId, patch, undefined, roleIds ? (tx, id) => setDirectRolesInTx(deps, tx, actor, id, roleIds) : undefined);
}

/**
 * The names of the roles each of these identities holds by an active direct assignment (any
 * context), sorted — who a person is in the tenant, as audit exports show it.
 */
export async function activeRoleNamesOf(deps: ServiceDeps, tenantId: string, identityIds: readonly string[]): Promise<Map<string, string[]>> {
  const out = new Map<string, string[]>();
  if (!identityIds.length) return out;
  const { db } = deps.store.read(tenantId);
  const rows = await db
    .selectFrom('assignments')
    .innerJoin('roles', (j) => j.onRef('roles.id', '=', 'assignments.resource_id').onRef('roles.tenant_id', '=', 'assignments.tenant_id'))
    .select(['assignments.assignee_id as identityId', 'roles.name as name'])
    .where('assignments.assignee_type', '=', 'identity')
    .where('assignments.resource_type', '=', 'role')
    .where('assignments.state', '=', 'active')
    .where('assignments.assignee_id', 'in', [...identityIds])
    .execute();
  for (const r of rows) out.set(r.identityId, [...new Set([...(out.get(r.identityId) ?? []), r.name])].sort());
  return out;
}
