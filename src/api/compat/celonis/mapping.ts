/**
 * Grantory → Celonis shapes. Choices where the vendor's documents are silent (docs/siem.md):
 * subjectType `USER` for an identity and `GROUP` for an organization unit; `groups` the
 * holder's unit path(s) joined by `, `; objectType `ALL`, `ORGANIZATION_UNIT`, `USER` or
 * `OBJECT` from the assignment's context; audit `userId` the identity acted for (else the
 * credential), `userRole` that identity's roles (names of its active direct role
 * assignments, comma separated; `MEMBER` when it has none) or, for a credential acting as
 * no identity, its kind in capitals (`APP_KEY`, `CLIENT`, `SYSTEM`); `port` the caller's TCP
 * source port (null behind a trusted proxy, and for events recorded before Grantory kept
 * it); `diffPayload` the JSON text of
 * `{before, after}`. Login history: `authenticationEventType` `TOKEN_ISSUED` for an access
 * token issued, `LOGIN` for another successful sign-in, `LOGIN_FAILED` for a refused
 * credential.
 */
import type { AssignmentGrantView } from '../../../services/access/index.ts';
import type { AuditEventView, AuthenticationEventView } from '../../../services/audit/index.ts';
import type { MemberView } from '../../../services/directory/index.ts';

const OBJECT_TYPES: Record<string, string> = { all: 'ALL', orgUnit: 'ORGANIZATION_UNIT', identity: 'USER', object: 'OBJECT' };

export function toPermissionItem(g: AssignmentGrantView) {
  return {
    subjectName: g.holder.name,
    subjectType: g.holder.type === 'identity' ? 'USER' : 'GROUP',
    subjectId: g.holder.id,
    groups: g.holder.unitPaths.join(', '),
    role: g.role?.name ?? '',
    service: g.application.name,
    objectName: g.context.name,
    objectType: OBJECT_TYPES[g.context.type] ?? g.context.type.toUpperCase(),
    objectId: g.context.id ?? '',
    actions: g.permissions,
  };
}

/** The role shown for an event's user: see the file comment. */
export function userRoleOf(e: AuditEventView, rolesOf: ReadonlyMap<string, readonly string[]>): string {
  if (e.onBehalfOfId === null) return e.actor.type.toUpperCase();
  const names = rolesOf.get(e.onBehalfOfId) ?? [];
  return names.length ? names.join(', ') : 'MEMBER';
}

export function toAuditItem(e: AuditEventView, rolesOf: ReadonlyMap<string, readonly string[]>) {
  return {
    userId: e.onBehalfOfId ?? e.actor.id ?? '',
    userRole: userRoleOf(e, rolesOf),
    event: e.action,
    timestamp: e.time,
    message: {
      id: e.id,
      seq: e.seq,
      targetType: e.targetType,
      targetId: e.targetId,
      actorType: e.actor.type,
      actorId: e.actor.id,
      actorName: e.actor.name,
      authorityId: e.authorityId,
      requestId: e.requestId,
      userAgent: e.userAgent,
      origin: e.origin,
      revision: e.revision,
      hash: e.hash,
      prevHash: e.prevHash,
    },
    ipAddress: e.sourceIp,
    port: e.sourcePort,
    diffPayload: e.before === null && e.after === null ? null : JSON.stringify({ before: e.before, after: e.after }),
  };
}

export function toAuthenticationItem(e: AuthenticationEventView) {
  const type = e.action === 'oauth_token.issue' ? 'TOKEN_ISSUED' : e.success ? 'LOGIN' : 'LOGIN_FAILED';
  return { authenticationEventType: type, email: e.email, success: e.success, timestamp: e.time };
}

export function toMemberItem(m: MemberView) {
  return {
    id: m.id,
    email: m.email,
    name: m.displayName ?? ([m.firstName, m.lastName].filter(Boolean).join(' ') || m.username || m.subject),
    username: m.username,
    firstName: m.firstName,
    lastName: m.lastName,
    active: m.status === 'active',
    internal: m.internal,
  };
}
