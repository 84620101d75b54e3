/**
 * CoreOne compatibility profile (COMPAT.md §3): `GET /api/permission` (any application) and
 * `GET /api/permission/myapplication` (the calling client's application), reading the
 * provisioned (IdP) space by context (`contextType=User|OrganizationUnit` +
 * `contextObjectIdentifier`) or by holder (`userSubject`). Errors are rendered as the native
 * problem details (the vendor documents no error body).
 *
 * The answer stays the vendor's plain array; it is bounded (`pageSize`, at most 1000 rows)
 * and a further page is announced in a `Link: <...>; rel="next"` header (RFC 8288) whose URL
 * repeats the query with `pageToken`.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import type { App, RouteDeps } from '../../deps.ts';
import { AppError } from '../../../domain/errors.ts';
import { MAX_PROVISIONED_PAGE, provisionedPermissions, type ProvisionedPage, type ProvisionedQuery } from '../../../services/access/index.ts';
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
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: MAX_PROVISIONED_PAGE, description: `Rows per answer (default and maximum ${MAX_PROVISIONED_PAGE})` })),
  pageToken: Type.Optional(Type.String({ minLength: 1, maxLength: 2000, description: 'Continues a previous answer: the pageToken of its Link rel="next" URL' })),
});

const PagedHeaders = {
  link: { description: 'Present when more rows follow: `<URL of the next page>; rel="next"` (the same query with pageToken)', schema: { type: 'string' } },
} as const;

/** Sends a page as the vendor's array, with the next page's URL in `Link` when there is one. */
function sendPage(request: FastifyRequest, reply: FastifyReply, page: ProvisionedPage) {
  if (page.nextPageToken !== null) {
    const url = new URL(request.url, 'http://grantory.invalid');
    url.searchParams.set('pageToken', page.nextPageToken);
    reply.header('link', `<${url.pathname}${url.search}>; rel="next"`);
  }
  return reply.send(page.rows);
}

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
        response: { 200: { description: 'The rows (one page)', headers: PagedHeaders, content: { 'application/json': { schema: Type.Array(Row) } } }, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const q = request.query;
      return sendPage(request, reply, await provisionedPermissions(sd, actorOf(request), 'any', { ...q, contextType: contextTypeOf(q.contextType) }));
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
        response: { 200: { description: 'The rows (one page)', headers: PagedHeaders, content: { 'application/json': { schema: Type.Array(Row) } } }, ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const q = request.query;
      return sendPage(request, reply, await provisionedPermissions(sd, actorOf(request), 'mine', { ...q, contextType: contextTypeOf(q.contextType) }));
    },
  );
}
