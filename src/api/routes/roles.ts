/** `/roles`: named bundles of permissions that may include other roles. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../deps.ts';
import { etagOf } from '../../domain/etag.ts';
import { ROLE_READ_RIGHTS, createRole, deleteRole, getRole, listRoles, updateRole } from '../../services/catalog/index.ts';
import { actorOf, sendWithEtag, sendWritten } from '../request-context.ts';
import { needs } from '../route-auth.ts';
import { IdParams, IdempotencyHeaders, IfMatchHeaders, ListQuery, PageOf, RevisionOnly, Written } from '../schemas.ts';
import { CreateRole, PatchRole, Role, RoleListQuery } from './catalog-schemas.ts';

const tags = ['Roles'];
const guard =
  'Nobody may make a role hold Grantory rights (permissions of the built-in application, directly or through included roles) ' +
  'that they do not hold themselves (403 naming the rights). Inclusions never form a cycle (409 naming it).';

export function registerRoleRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;

  app.post(
    '/roles',
    {
      config: needs('manage-roles'),
      schema: {
        tags,
        summary: 'Create a role',
        description: `Names are unique in the tenant (409 naming \`name\`). ${guard}`,
        headers: IdempotencyHeaders,
        body: CreateRole,
        response: { 201: Written(Role) },
      },
    },
    async (request, reply) => {
      const { value, version, revision } = await createRole(sd, actorOf(request), request.body);
      reply.header('etag', etagOf(version)).header('location', `/api/v1/roles/${value.id}`);
      return sendWritten(reply, 201, value, revision);
    },
  );

  app.get(
    '/roles',
    {
      config: needs(...ROLE_READ_RIGHTS),
      schema: {
        tags,
        summary: 'List roles',
        description: 'In `number` order, cursor-paged. Filters: `q` (part of the name), `permissionId` (roles holding it directly).',
        querystring: Type.Object({ ...ListQuery, ...RoleListQuery }, { additionalProperties: false }),
        response: { 200: PageOf(Role) },
      },
    },
    async (request) => {
      const { limit, cursor, ...filter } = request.query;
      return listRoles(sd, actorOf(request), filter, { limit, cursor });
    },
  );

  app.get(
    '/roles/:id',
    {
      config: needs(...ROLE_READ_RIGHTS),
      schema: { tags, summary: 'Get a role (with its ETag)', params: IdParams, response: { 200: Role } },
    },
    async (request, reply) => {
      const { value, version } = await getRole(sd, actorOf(request), request.params.id);
      return sendWithEtag(reply, value, version);
    },
  );

  app.patch(
    '/roles/:id',
    {
      config: needs('manage-roles'),
      schema: {
        tags,
        summary: 'Change a role',
        description: `Only the fields sent change; \`permissionIds\` and \`includedRoleIds\` replace the lists. System roles are read-only (409). ${guard}`,
        params: IdParams,
        headers: IfMatchHeaders,
        body: PatchRole,
        response: { 200: Written(Role) },
      },
    },
    async (request, reply) => {
      const { value, version, revision } = await updateRole(sd, actorOf(request), request.params.id, request.body, request.headers['if-match']);
      reply.header('etag', etagOf(version));
      return sendWritten(reply, 200, value, revision);
    },
  );

  app.delete(
    '/roles/:id',
    {
      config: needs('manage-roles'),
      schema: {
        tags,
        summary: 'Delete a role',
        description: 'Refused (409, naming the blockers) while it is assigned (not revoked) or included in another role, and for system roles.',
        params: IdParams,
        headers: IfMatchHeaders,
        response: { 200: RevisionOnly },
      },
    },
    async (request, reply) => {
      const { revision } = await deleteRole(sd, actorOf(request), request.params.id, request.headers['if-match']);
      return sendWritten(reply, 200, {}, revision);
    },
  );
}
