/**
 * `/Roles`: roles, Checkmarx-shaped. `permissionIds` are the profile's permission ids (catalog.ts) and list the
 * permissions a role holds directly (Checkmarx roles do not include roles; a PUT keeps
 * the native `includedRoleIds` as they are).
 */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../../deps.ts';
import type { Actor } from '../../../services/kernel/index.ts';
import type { ServiceDeps } from '../../../services/deps.ts';
import { permissionsOfIds, type PermissionView, createRole, deleteRole, getRoleByNumber, listRoles, updateRole, type RoleView } from '../../../services/catalog/index.ts';
import { actorOf, REVISION_HEADER } from '../../request-context.ts';
import { needs } from '../../route-auth.ts';
import { Nullable } from '../../schemas.ts';
import { cxIdsOfPermission, permissionIdsOfCxIds } from './catalog.ts';
import { CX_PREFIX_ROLES, CxIdParams, collectAll, cxDescription, tags } from './shared.ts';

export const CxRole = Type.Object({
  id: Type.Integer({ description: 'The role number' }),
  isSystemRole: Type.Boolean(),
  name: Type.String(),
  description: Nullable(Type.String()),
  permissionIds: Type.Array(Type.Integer(), { description: 'Ids (GET /Permissions) of the permissions the role holds directly' }),
});

const CxRoleInput = Type.Object(
  {
    name: Type.String({ minLength: 1, maxLength: 200, pattern: '\\S' }),
    description: Type.Optional(Nullable(Type.String({ maxLength: 2000 }))),
    permissionIds: Type.Optional(
      Type.Array(Type.Integer({ minimum: 0, maximum: 2147483647 }), { maxItems: 1000, uniqueItems: true, description: 'Permission ids (GET /Permissions)' }),
    ),
    id: Type.Optional(Type.Integer({ description: 'Ignored: ids are assigned by the server' })),
    isSystemRole: Type.Optional(Type.Boolean({ description: 'Ignored: read-only' })),
  },
  { additionalProperties: false, examples: [{ name: 'Auditor', description: 'Reads the audit trail', permissionIds: [7] }] },
);

const cxIdsOf = (p: PermissionView | undefined): number[] => (p ? cxIdsOfPermission(p) : []);

async function toCxRoles(deps: ServiceDeps, actor: Actor, roles: RoleView[]) {
  const permissions = await permissionsOfIds(deps, actor, [...new Set(roles.flatMap((r) => r.permissionIds))]);
  return roles.map((r) => ({
    id: r.number,
    isSystemRole: r.system,
    name: r.name,
    description: r.description,
    permissionIds: [...new Set(r.permissionIds.flatMap((id) => cxIdsOf(permissions.get(id))))].sort((a, b) => a - b),
  }));
}

export function registerCxRoleRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;

  app.get(
    '/Roles',
    {
      config: needs('manage-roles', 'manage-users'),
      schema: {
        tags,
        summary: 'Checkmarx: get all roles',
        description: cxDescription('Every role, in id order. Needs manage-roles or manage-users.'),
        response: { 200: Type.Array(CxRole) },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      return toCxRoles(sd, actor, await collectAll((page) => listRoles(sd, actor, {}, page)));
    },
  );

  app.get(
    '/Roles/:id',
    {
      config: needs('manage-roles', 'manage-users'),
      schema: {
        tags,
        summary: 'Checkmarx: get a role by id',
        description: cxDescription('404 for an unknown id; 400 for a non-integer id.'),
        params: CxIdParams,
        response: { 200: CxRole },
      },
    },
    async (request) => {
      const actor = actorOf(request);
      const { value } = await getRoleByNumber(sd, actor, request.params.id);
      const [role] = await toCxRoles(sd, actor, [value]);
      return role!;
    },
  );

  app.post(
    '/Roles',
    {
      config: needs('manage-roles'),
      schema: {
        tags,
        summary: 'Checkmarx: create a role',
        description: cxDescription(
          '201 with the role and its `Location`. Unknown permission ids are a 400; a taken name a 409; rights beyond the caller\'s own a 403.',
        ),
        body: CxRoleInput,
        response: { 201: CxRole },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { name, description, permissionIds = [] } = request.body;
      const ids = await permissionIdsOfCxIds(sd, actor, permissionIds, 'permissionIds');
      const { value, revision } = await createRole(sd, actor, { name, description, permissionIds: ids });
      const [role] = await toCxRoles(sd, actor, [value]);
      reply.header('location', `${CX_PREFIX_ROLES}/${value.number}`).header(REVISION_HEADER, String(revision));
      return reply.status(201).send(role!);
    },
  );

  app.put(
    '/Roles/:id',
    {
      config: needs('manage-roles'),
      schema: {
        tags,
        summary: 'Checkmarx: update a role',
        description: cxDescription(
          '204. `name` replaces the name; `description` and `permissionIds` replace theirs when sent. System roles cannot be changed (409).',
        ),
        params: CxIdParams,
        body: CxRoleInput,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { value: role } = await getRoleByNumber(sd, actor, request.params.id);
      const { name, description, permissionIds } = request.body;
      const ids = permissionIds === undefined ? undefined : await permissionIdsOfCxIds(sd, actor, permissionIds, 'permissionIds');
      const { revision } = await updateRole(sd, actor, role.id, { name, description, permissionIds: ids });
      return reply.status(204).header(REVISION_HEADER, String(revision)).send(null);
    },
  );

  app.delete(
    '/Roles/:id',
    {
      config: needs('manage-roles'),
      schema: {
        tags,
        summary: 'Checkmarx: delete a role',
        description: cxDescription('204. Refused (409) for a system role and while the role is assigned or included in another role.'),
        params: CxIdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      const { value: role } = await getRoleByNumber(sd, actor, request.params.id);
      const { revision } = await deleteRole(sd, actor, role.id);
      return reply.status(204).header(REVISION_HEADER, String(revision)).send(null);
    },
  );
}
