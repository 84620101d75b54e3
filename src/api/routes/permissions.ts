/** Permissions: `/applications/{id}/permissions` and `/permissions`. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { etagOf } from '../../domain/etag.ts';
import { CATALOG_READ_RIGHTS, createPermission, deletePermission, getPermission, listPermissions, updatePermission } from '../../services/catalog/index.ts';
import { actorOf, sendWithEtag, sendWritten } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { IdParams, IdempotencyHeaders, IfMatchHeaders, ListQuery, PageOf, RevisionOnly, Written } from '../schemas.ts';
import { CreatePermission, PatchPermission, Permission, PermissionListQuery } from './catalog-schemas.ts';

const tags = ['Permissions'];
const ApplicationId = Type.String({ minLength: 1, maxLength: 64, description: 'An application id' });

export function registerPermissionRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;

  app.post(
    '/applications/:id/permissions',
    {
      config: needs('manage-applications'),
      schema: {
        tags,
        summary: "Add a permission to an application's catalog",
        description: "Names are unique within the application (409 naming `name`). The built-in application's catalog is fixed (409).",
        params: IdParams,
        headers: IdempotencyHeaders,
        body: CreatePermission,
        response: { 201: Written(Permission) },
      },
    },
    async (request, reply) => {
      const { value, version, revision } = await createPermission(sd, actorOf(request), request.params.id, request.body);
      reply.header('etag', etagOf(version)).header('location', `/api/v1/permissions/${value.id}`);
      return sendWritten(reply, 201, value, revision);
    },
  );

  app.get(
    '/applications/:id/permissions',
    {
      config: needs(...CATALOG_READ_RIGHTS),
      schema: {
        tags,
        summary: "List an application's permissions",
        params: IdParams,
        querystring: Type.Object({ ...ListQuery, ...PermissionListQuery }, { additionalProperties: false }),
        response: { 200: PageOf(Permission) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return listPermissions(sd, actorOf(request), { ...filter, applicationId: request.params.id }, { limit, cursor });
    },
  );

  app.get(
    '/permissions',
    {
      config: needs(...CATALOG_READ_RIGHTS),
      schema: {
        tags,
        summary: 'List permissions of every application',
        description: 'In `number` order, cursor-paged. Filters: `applicationId`, `q` (part of the name), `category`.',
        querystring: Type.Object({ ...ListQuery, ...PermissionListQuery, applicationId: Type.Optional(ApplicationId) }, { additionalProperties: false }),
        response: { 200: PageOf(Permission) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return listPermissions(sd, actorOf(request), filter, { limit, cursor });
    },
  );

  app.get(
    '/permissions/:id',
    {
      config: needs(...CATALOG_READ_RIGHTS),
      schema: { tags, summary: 'Get a permission (with its ETag)', params: IdParams, response: { 200: Permission } },
    },
    async (request, reply) => {
      const { value, version } = await getPermission(sd, actorOf(request), request.params.id);
      return sendWithEtag(reply, value, version);
    },
  );

  app.patch(
    '/permissions/:id',
    {
      config: needs('manage-applications'),
      schema: {
        tags,
        summary: 'Change a permission',
        description: "Only the fields sent change. Grantory's own rights are read-only (409).",
        params: IdParams,
        headers: IfMatchHeaders,
        body: PatchPermission,
        response: { 200: Written(Permission) },
      },
    },
    async (request, reply) => {
      const { value, version, revision } = await updatePermission(sd, actorOf(request), request.params.id, request.body, request.headers['if-match']);
      reply.header('etag', etagOf(version));
      return sendWritten(reply, 200, value, revision);
    },
  );

  app.delete(
    '/permissions/:id',
    {
      config: needs('manage-applications'),
      schema: {
        tags,
        summary: 'Delete a permission',
        description: 'Refused (409, naming the blockers) while it is assigned (not revoked) or held by a role.',
        params: IdParams,
        headers: IfMatchHeaders,
        response: { 200: RevisionOnly },
      },
    },
    async (request, reply) => {
      const { revision } = await deletePermission(sd, actorOf(request), request.params.id, request.headers['if-match']);
      return sendWritten(reply, 200, {}, revision);
    },
  );
}
