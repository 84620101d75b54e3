/**
 * An identity's directly assigned roles as one list (the Checkmarx `roleIds` of a user):
 * read the roles of its direct, not revoked, context-`all` role assignments; set the list
 * by creating direct assignments for added roles and revoking those of removed ones. Each
 * change goes through the assignments service, so its rights checks (manage-users, and
 * never granting rights beyond the caller's) and audit apply.
 */
import type { Actor } from './actor.ts';
import { changeAssignmentState, createAssignment, listAssignments } from './assignments.ts';
import type { ServiceDeps } from './index.ts';

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

/** Makes the identity's direct roles exactly `roleIds`; returns the last revision written, if any. */
export async function setDirectRoles(deps: ServiceDeps, actor: Actor, identityId: string, roleIds: readonly string[]): Promise<number | null> {
  const current = await directRoleAssignments(deps, actor, identityId);
  const wanted = new Set(roleIds);
  const held = new Set(current.map((a) => a.roleId));
  let revision: number | null = null;
  for (const roleId of wanted) {
    if (held.has(roleId)) continue;
    ({ revision } = await createAssignment(deps, actor, { assignee: { type: 'identity', id: identityId }, resource: { type: 'role', id: roleId }, reason: 'set as user roles' }));
  }
  for (const a of current) {
    if (wanted.has(a.roleId)) continue;
    ({ revision } = await changeAssignmentState(deps, actor, a.assignmentId, 'revoke', 'removed from user roles'));
  }
  return revision;
}
