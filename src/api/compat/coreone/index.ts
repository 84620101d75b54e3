/**
 * CoreOne compatibility profile (COMPAT.md §3): `GET /api/permission` (any application) and
 * `GET /api/permission/myapplication` (the calling client's application), reading the
 * provisioned (IdP) space by context (`contextType=User|OrganizationUnit` +
 * `contextObjectIdentifier`) or by holder (`userSubject`). Errors are rendered as the native
 * problem details (the vendor documents no error body).
 */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../../deps.ts';
import { AppError } from '../../../domain/errors.ts';
import { provisionedPermissions, type ProvisionedQuery } from '../../../services/access/index.ts';
import { actorOf } from '../../request-context.ts';
import { DECISION, needs } from '../../route-auth.ts';
import { gateProfile } from '../profile-switch.ts';
import { errorResponses } from '../../error-responses.ts';

const Query = Type.Object({
  contextType: Type.Optional(Type.String({ maxLength: 50, description: 'User or OrganizationUnit' })),
  contextObjectIdentifier: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'User or unit number (default), id, or another unique attribute' })),
  application: Type.Optional(Type.String({ maxLength: 300, description: 'Application name (only on /api/permission)' })),
  userSubject: Type.Optional(Type.String({ minLength: 1, maxLength: 300, description: 'The holder, e.g. c1s:17173' })),
  minRevision: Type.Optional(Type.Integer({ minimum: 0 })),
});

const Row = Type.Object({
  username: Type.Union([Type.String(), Type.Null()]),
  userId: Type.Integer(),
  userEmail: Type.Optional(Type.Union([Type.String(), Type.Null()], { description: 'Only with the email scope' })),
  role: Type.String(),
  application: Type.String(),
  contextType: Type.Union([Type.Literal('OrganizationUnit'), Type.Literal('User'), Type.Literal('All')]),
  contextObjectIdentifier: Type.Union([Type.String(), Type.Null()]),
});

function contextTypeOf(value: string | undefined): ProvisionedQuery['contextType'] {
  if (value === undefined || value === '') return undefined;
  const v = value.toLowerCase();
  if (v === 'user') return 'User';
  if (v === 'organizationunit') return 'OrganizationUnit';
  throw new AppError('validation_failed', 'contextType must be User or OrganizationUnit', { errors: [{ field: 'contextType', message: 'must be User or OrganizationUnit' }] });
}

export function registerCoreOneRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  gateProfile(app, deps, 'coreone');
  app.get(
    '/api/permission',
    {
      config: { ...needs('read-permissions-any-application'), ...DECISION },
      schema: {
        tags: ['CoreOne profile'],
        summary: 'Provisioned permissions of any application, by context or by holder',
        querystring: Query,
        // 404: the profile turned off for the tenant (profile-switch.ts).
        response: { 200: Type.Array(Row), ...errorResponses(404) },
      },
    },
    async (request) => {
      const q = request.query;
      return provisionedPermissions(sd, actorOf(request), 'any', { ...q, contextType: contextTypeOf(q.contextType) });
    },
  );
  app.get(
    '/api/permission/myapplication',
    {
      config: { ...needs('read-permissions-my-application'), ...DECISION },
      schema: {
        tags: ['CoreOne profile'],
        summary: "Provisioned permissions of the calling client's application, by context or by holder",
        querystring: Type.Omit(Query, ['application']),
        // 404: the profile turned off for the tenant (profile-switch.ts).
        response: { 200: Type.Array(Row), ...errorResponses(404) },
      },
    },
    async (request) => {
      const q = request.query;
      return provisionedPermissions(sd, actorOf(request), 'mine', { ...q, contextType: contextTypeOf(q.contextType) });
    },
  );
}
