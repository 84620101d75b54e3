/**
 * Point-in-time access (docs/history.md): `/access/at` (what an identity held, or who held a
 * permission, at a past instant) and `/identities/{id}/access/history` (every change of an
 * identity's effective access in a window, with the audit events behind each).
 */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { AppError } from '../../domain/errors.ts';
import { accessAt, holdersAt, identityAccessHistory } from '../../services/access/index.ts';
import { actorOf } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { HeldPermission, HeldVia, Id, Space } from './access-schemas.ts';

const Nullable = <T extends ReturnType<typeof Type.String>>(t: T) => Type.Union([t, Type.Null()]);
const Instant = Type.String({ minLength: 1, maxLength: 64, description: 'An instant (RFC 3339 date-time), not in the future and not before the tenant existed' });

const IdentityAt = Type.Object({
  id: Type.String(),
  subject: Type.String(),
  username: Nullable(Type.String()),
  displayName: Nullable(Type.String()),
  status: Type.String({ description: 'The identity status at that instant' }),
  orgUnitId: Nullable(Type.String()),
});

const AuditEventRef = Type.Object({
  id: Type.String(),
  seq: Type.Integer(),
  time: Type.String(),
  action: Type.String(),
  targetType: Type.String(),
  targetId: Nullable(Type.String()),
  actorType: Type.String(),
  actorId: Nullable(Type.String()),
  actorName: Nullable(Type.String()),
});

const IdentityAccessAt = Type.Object({
  at: Type.String(),
  revision: Type.Integer({ description: 'The last revision committed at or before the instant' }),
  space: Space,
  identity: IdentityAt,
  items: Type.Array(HeldPermission),
});

const HoldersAt = Type.Object({
  at: Type.String(),
  revision: Type.Integer({ description: 'The last revision committed at or before the instant' }),
  space: Space,
  permissionId: Type.String(),
  items: Type.Array(Type.Object({ identity: IdentityAt, via: Type.Array(HeldVia) })),
  nextCursor: Nullable(Type.String()),
});

const AccessChange = Type.Object({
  at: Type.String(),
  change: Type.Union([Type.Literal('granted'), Type.Literal('revoked'), Type.Literal('changed')]),
  permissionId: Type.String(),
  permissionName: Type.String(),
  applicationId: Type.String(),
  applicationName: Type.String(),
  via: Type.Array(HeldVia),
  previousVia: Type.Array(HeldVia),
  cause: Type.Union([
    Type.Object({ kind: Type.Literal('write'), revision: Type.Integer(), auditEvents: Type.Array(AuditEventRef) }),
    Type.Object({
      kind: Type.Literal('validity'),
      assignmentId: Type.String(),
      boundary: Type.Union([Type.Literal('validFrom'), Type.Literal('validTo')]),
      auditEvents: Type.Array(AuditEventRef),
    }),
  ]),
});

export function registerAccessHistoryRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  app.get(
    '/access/at',
    {
      config: needs('read-permissions-any-application'),
      schema: {
        tags: ['Access'],
        summary: 'What an identity held at a past instant (identity=…), or who held a permission then (permission=…, cursor-paged), each with why as it was then',
        querystring: Type.Object({
          at: Instant,
          identity: Type.Optional(Type.String({ minLength: 1, maxLength: 200 })),
          permission: Type.Optional(Id),
          space: Type.Optional(Space),
          limit: Type.Optional(Type.Integer({ minimum: 1, maximum: 1000 })),
          cursor: Type.Optional(Type.String({ maxLength: 400 })),
        }),
        response: { 200: Type.Union([IdentityAccessAt, HoldersAt]) },
      },
    },
    async (request) => {
      const q = request.query;
      if ((q.identity === undefined) === (q.permission === undefined)) {
        const message = 'name exactly one of identity and permission';
        throw new AppError('validation_failed', message, {
          errors: [
            { field: 'identity', message },
            { field: 'permission', message },
          ],
        });
      }
      if (q.identity !== undefined) return accessAt(sd, actorOf(request), { at: q.at, identity: q.identity, space: q.space });
      return holdersAt(sd, actorOf(request), { at: q.at, permission: q.permission!, space: q.space, cursor: q.cursor, limit: q.limit });
    },
  );
  app.get(
    '/identities/:id/access/history',
    {
      config: needs('read-permissions-any-application'),
      schema: {
        tags: ['Access'],
        summary: "Every change of an identity's effective access in a window, with the audit events behind each",
        params: Type.Object({ id: Type.String({ minLength: 1, maxLength: 200 }) }),
        querystring: Type.Object({ from: Type.Optional(Instant), to: Type.Optional(Instant), space: Type.Optional(Space) }),
        response: {
          200: Type.Object({
            identityId: Type.String(),
            from: Type.String(),
            to: Type.String(),
            space: Space,
            items: Type.Array(AccessChange),
            truncated: Type.Boolean({ description: 'More changes follow: ask again with from=nextFrom' }),
            nextFrom: Nullable(Type.String()),
          }),
        },
      },
    },
    async (request) => identityAccessHistory(sd, actorOf(request), request.params.id, request.query),
  );
}
