/**
 * The Celonis profile (COMPAT.md §1): the Permissions API
 * (`GET /api/authorization/external/permissions`), the Audit Log API (`/log/api/external/audit`
 * and its cursor form `/v2/audit`), the Login History API (`/api/external/authentication-events`)
 * and the Members API (`/api/external/members`), translated onto Grantory's services.
 *
 * Errors follow the vendor: 400 with `{frontendErrorKey, errorInformation}`; 401, 403,
 * 404 and 500 with no body. Authentication is the app's: a Bearer API key, a Bearer OAuth
 * token (scopes `authorization.permissions[:read]` keep the read-permission rights,
 * `audit.log[:read]` keep `read-audit`), or `AppKey <key>` (its application's permissions).
 */
import { Readable } from 'node:stream';
import { Type } from '@sinclair/typebox';
import type { FastifyError, FastifyReply } from 'fastify';
import type { App, RouteDeps } from '../../deps.ts';
import { AppError } from '../../../domain/errors.ts';
import { renderExport } from '../../../domain/export-format.ts';
import { cursorPageAuditEvents, pageAuditEvents, pageAuthenticationEvents, type AuditEventView, type AuditFilter } from '../../../services/audit/index.ts';
import { activeRoleNamesOf, streamAssignmentGrants } from '../../../services/access/index.ts';
import type { ServiceDeps } from '../../../services/deps.ts';
import type { Actor } from '../../../services/kernel/index.ts';
import { streamMembers } from '../../../services/directory/index.ts';
import { challengeOf, toAppError } from '../../problem.ts';
import { actorOf } from '../../request-context.ts';
import { DECISION, needs } from '../../route-auth.ts';
import { gateProfile } from '../profile-switch.ts';
import { declareVendorErrors } from '../../error-responses.ts';
import { toAuditItem, toAuthenticationItem, toMemberItem, toPermissionItem } from './mapping.ts';

const PermissionExportItem = Type.Object({
  subjectName: Type.String(),
  subjectType: Type.String({ description: 'USER or GROUP' }),
  subjectId: Type.String(),
  groups: Type.String({ description: "The holder's organization unit path(s), comma separated" }),
  role: Type.String(),
  service: Type.String({ description: 'The application' }),
  objectName: Type.String(),
  objectType: Type.String({ description: 'The context: ALL, ORGANIZATION_UNIT, USER, OBJECT' }),
  objectId: Type.String(),
  actions: Type.Array(Type.String(), { description: 'Permission names' }),
});

const AuditItem = Type.Object({
  userId: Type.String(),
  userRole: Type.String(),
  event: Type.String(),
  timestamp: Type.String({ format: 'date-time' }),
  message: Type.Record(Type.String(), Type.Unknown()),
  ipAddress: Type.Union([Type.String(), Type.Null()]),
  port: Type.Union([Type.Integer(), Type.Null()]),
  diffPayload: Type.Union([Type.String(), Type.Null()]),
});

const Member = Type.Object({
  id: Type.String(),
  email: Type.Union([Type.String(), Type.Null()]),
  name: Type.String(),
  username: Type.Union([Type.String(), Type.Null()]),
  firstName: Type.Union([Type.String(), Type.Null()]),
  lastName: Type.Union([Type.String(), Type.Null()]),
  active: Type.Boolean(),
  internal: Type.Boolean(),
});

const TimeRange = {
  from: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 date-time or epoch milliseconds (inclusive)' })),
  to: Type.Optional(Type.String({ maxLength: 40, description: 'ISO 8601 date-time or epoch milliseconds (exclusive)' })),
};

const Page = {
  pageNumber: Type.Optional(Type.Integer({ minimum: 0, maximum: 10_000_000, default: 0 })),
  pageSize: Type.Optional(Type.Integer({ minimum: 1, maximum: 200, default: 50 })),
};

/** The roles of the users of a page of audit events (for `userRole`). */
async function rolesOfUsers(deps: ServiceDeps, actor: Actor, events: readonly AuditEventView[]): Promise<Map<string, string[]>> {
  const users = [...new Set(events.map((e) => e.onBehalfOfId).filter((id): id is string => id !== null))];
  return activeRoleNamesOf(deps, actor.caller.tenantId, users);
}

function badRequest(key: string, information: string): AppError {
  return new AppError('validation_failed', information, { details: { frontendErrorKey: key } });
}

/** `from`/`to` as ISO 8601 or epoch milliseconds. */
function timeRange(query: { from?: string | undefined; to?: string | undefined }): AuditFilter {
  const parse = (name: 'from' | 'to', value: string | undefined) => {
    if (value === undefined || value === '') return undefined;
    const ms = /^\d{1,15}$/.test(value) ? Number(value) : Date.parse(value);
    if (Number.isNaN(ms)) throw badRequest('INVALID_PARAMETER', `${name} must be an ISO 8601 date-time or epoch milliseconds`);
    return new Date(ms).toISOString();
  };
  return { from: parse('from', query.from), to: parse('to', query.to) };
}

/** Celonis answers these with no body (and anything else it cannot name with a bodyless 500). */
const BODYLESS_STATUSES = [401, 403, 404, 406, 429, 503];

const CelonisBadRequest = Type.Object({
  frontendErrorKey: Type.String({ description: 'INVALID_PARAMETER, INVALID_PAGE_TOKEN, BAD_REQUEST, ...' }),
  errorInformation: Type.String(),
});

function sendVendorError(reply: FastifyReply, error: unknown): FastifyReply {
  const { appError } = toAppError(error);
  if (appError.status === 400) {
    // A query parameter out of its range or shape (named field errors) is INVALID_PARAMETER.
    const key =
      typeof appError.details?.frontendErrorKey === 'string'
        ? appError.details.frontendErrorKey
        : appError.code === 'invalid_cursor'
          ? 'INVALID_PAGE_TOKEN'
          : appError.errors?.length
            ? 'INVALID_PARAMETER'
            : 'BAD_REQUEST';
    return reply.status(400).type('application/json').send({ frontendErrorKey: key, errorInformation: appError.message });
  }
  if (appError.code === 'unauthenticated') reply.header('WWW-Authenticate', challengeOf(appError));
  const status = BODYLESS_STATUSES.includes(appError.status) ? appError.status : 500;
  return reply.status(status).send();
}

export function registerCelonisProfile(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;

  declareVendorErrors(app, {
    statusOf: (status) => (status === 400 || BODYLESS_STATUSES.includes(status) ? status : null),
    bodyOf: (status) => (status === 400 ? CelonisBadRequest : null),
    description: 'Celonis answers 400 with {frontendErrorKey, errorInformation} and other errors with no body',
    // 404: the profile turned off for the tenant (profile-switch.ts).
    always: [404],
  });
  app.setErrorHandler(async (error: FastifyError, request, reply) => {
    const { unexpected } = toAppError(error);
    if (unexpected) request.log.error({ err: error }, 'unexpected error');
    return sendVendorError(reply, error);
  });
  gateProfile(app, deps, 'celonis');

  app.get(
    '/api/authorization/external/permissions',
    {
      config: { ...needs('read-permissions-any-application', 'read-permissions-my-application'), ...DECISION },
      schema: {
        tags: ['Celonis profile'],
        summary: 'Every permission of the team (an application key without the scope authorization.permissions: of its application), from assignments (assigned space); 204 when there is none',
        response: {
          // Streamed: documented here, not serialized by the schema.
          200: { description: 'The permissions', content: { 'application/json': { schema: Type.Object({ permissions: Type.Array(PermissionExportItem) }) } } },
          204: { description: 'The team has no permissions', type: 'null' },
        },
      },
    },
    async (request, reply) => {
      const grants = streamAssignmentGrants(sd, actorOf(request));
      const first = await grants.next();
      if (first.done) return reply.status(204).send();
      async function* all() {
        yield first.value!;
        yield* grants;
      }
      const body = renderExport(all(), 'json', { toJson: toPermissionItem, envelope: { arrayKey: 'permissions' } });
      return reply.type('application/json').send(Readable.from(body));
    },
  );

  app.get(
    '/log/api/external/audit',
    {
      config: needs('read-audit'),
      schema: {
        tags: ['Celonis profile'],
        summary: 'Audit log, numbered pages (pageNumber from 0, pageSize up to 200), oldest first',
        querystring: Type.Object({ ...Page, ...TimeRange }),
        response: { 200: Type.Object({ content: Type.Array(AuditItem), pageNumber: Type.Integer(), pageSize: Type.Integer(), totalCount: Type.Integer() }) },
      },
    },
    async (request) => {
      const pageNumber = request.query.pageNumber ?? 0;
      const pageSize = request.query.pageSize ?? 50;
      const actor = actorOf(request);
      const { items, totalCount } = await pageAuditEvents(sd, actor, { filter: timeRange(request.query), pageNumber, pageSize });
      const roles = await rolesOfUsers(sd, actor, items);
      return { content: items.map((e) => toAuditItem(e, roles)), pageNumber, pageSize, totalCount };
    },
  );

  app.get(
    '/log/api/external/v2/audit',
    {
      config: needs('read-audit'),
      schema: {
        tags: ['Celonis profile'],
        summary: 'Audit log, cursor pages: pass nextPageToken as pageToken; absent on the last page',
        querystring: Type.Object({ pageToken: Type.Optional(Type.String({ maxLength: 2048 })), pageSize: Page.pageSize, ...TimeRange }),
        response: { 200: Type.Object({ content: Type.Array(AuditItem), pageSize: Type.Integer(), nextPageToken: Type.Optional(Type.String()) }) },
      },
    },
    async (request) => {
      const pageSize = request.query.pageSize ?? 50;
      const actor = actorOf(request);
      const page = await cursorPageAuditEvents(sd, actor, 'celonis-audit-v2', { filter: timeRange(request.query), limit: pageSize, cursor: request.query.pageToken || undefined });
      const roles = await rolesOfUsers(sd, actor, page.items);
      return { content: page.items.map((e) => toAuditItem(e, roles)), pageSize, ...(page.nextCursor ? { nextPageToken: page.nextCursor } : {}) };
    },
  );

  app.get(
    '/api/external/authentication-events',
    {
      config: needs('read-audit'),
      schema: {
        tags: ['Celonis profile'],
        summary: 'Login history from the audit trail (access tokens issued, sign-ins, refused credentials), numbered pages',
        querystring: Type.Object({ ...Page, ...TimeRange }),
        response: {
          200: Type.Object({
            content: Type.Array(Type.Object({ authenticationEventType: Type.String(), email: Type.Union([Type.String(), Type.Null()]), success: Type.Boolean(), timestamp: Type.String({ format: 'date-time' }) })),
            pageNumber: Type.Integer(),
            pageSize: Type.Integer(),
            totalCount: Type.Integer(),
          }),
        },
      },
    },
    async (request) => {
      const pageNumber = request.query.pageNumber ?? 0;
      const pageSize = request.query.pageSize ?? 50;
      const { items, totalCount } = await pageAuthenticationEvents(sd, actorOf(request), { filter: timeRange(request.query), pageNumber, pageSize });
      return { content: items.map(toAuthenticationItem), pageNumber, pageSize, totalCount };
    },
  );

  app.get(
    '/api/external/members',
    {
      config: needs('manage-users', 'read-permissions-any-application'),
      schema: {
        tags: ['Celonis profile'],
        summary: "The team's members (identities); includeInternal=true adds Grantory's service identities",
        querystring: Type.Object({ includeInternal: Type.Optional(Type.Boolean({ default: false })) }),
        response: {
          // Streamed: documented here, not serialized by the schema.
          200: { description: 'The members', content: { 'application/json': { schema: { type: 'array', items: Member } } } },
        },
      },
    },
    async (request, reply) => {
      const members = streamMembers(sd, actorOf(request), { includeInternal: request.query.includeInternal ?? false });
      return reply.type('application/json').send(Readable.from(renderExport(members, 'json', { toJson: toMemberItem })));
    },
  );
}
