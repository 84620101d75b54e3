/** `GET /Permissions`, `GET /Permissions/{id}`: the permission catalog, Checkmarx-shaped. */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../../deps.ts';
import type { Actor } from '../../../services/kernel/index.ts';
import type { ServiceDeps } from '../../../services/deps.ts';
import { getApplication, listApplications, getPermissionByNumber, listPermissions, type PermissionView } from '../../../services/catalog/index.ts';
import { Nullable } from '../../schemas.ts';
import { collectAll, registerCxCollection } from './shared.ts';

export const CxPermission = Type.Object({
  id: Type.Integer({ description: 'The permission number' }),
  serviceProviderId: Type.Integer({ description: "The application's number (Grantory's own rights: the built-in application's)" }),
  name: Type.String(),
  category: Nullable(Type.String()),
});

const toCx = (p: PermissionView, appNumber: number) => ({ id: p.number, serviceProviderId: appNumber, name: p.name, category: p.category });

async function applicationNumbers(deps: ServiceDeps, actor: Actor): Promise<Map<string, number>> {
  const apps = await collectAll((page) => listApplications(deps, actor, {}, page));
  return new Map(apps.map((a) => [a.id, a.number]));
}

export function registerCxPermissionRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  registerCxCollection(app, {
    path: '/Permissions',
    item: CxPermission,
    list: {
      summary: 'Checkmarx: get all permissions',
      description: 'Every permission of every application, in id order. Needs manage-roles or manage-users.',
      read: async (actor) => {
        const numbers = await applicationNumbers(sd, actor);
        const permissions = await collectAll((page) => listPermissions(sd, actor, {}, page));
        return permissions.map((p) => toCx(p, numbers.get(p.applicationId) ?? 0));
      },
    },
    one: {
      summary: 'Checkmarx: get a permission by id',
      description: '200 with the permission; 404 for an unknown id; 400 for a non-integer id. Needs manage-roles or manage-users.',
      read: async (actor, id) => {
        const permission = await getPermissionByNumber(sd, actor, id);
        const application = await getApplication(sd, actor, permission.applicationId);
        return toCx(permission, application.value.number);
      },
    },
  });
}
