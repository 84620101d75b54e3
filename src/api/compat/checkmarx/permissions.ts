/**
 * `GET /Permissions`, `GET /Permissions/{id}`: the permission catalog, Checkmarx-shaped, with
 * the vendor's built-in ids and names for Grantory's rights (see `catalog.ts`).
 */
import { Type } from '@sinclair/typebox';
import type { App, RouteDeps } from '../../deps.ts';
import type { Actor } from '../../../services/kernel/index.ts';
import type { ServiceDeps } from '../../../services/deps.ts';
import { AppError } from '../../../domain/errors.ts';
import { getApplication, listApplications, getPermissionByNumber, listPermissions, rightPermissions } from '../../../services/catalog/index.ts';
import { Nullable } from '../../schemas.ts';
import { CX_BUILTIN_PERMISSIONS, cxBuiltin, cxIdsOfPermission, numberOfCxId } from './catalog.ts';
import { collectAll, registerCxCollection } from './shared.ts';

export const CxPermission = Type.Object({
  id: Type.Integer({ description: 'Built-in permissions: the vendor\'s ids (1 manage-users, 2 manage-authentication-providers, ...); other applications\' permissions: number + 1000' }),
  serviceProviderId: Type.Integer({ description: "The application's number (the built-in permissions: the built-in application's)" }),
  name: Type.String(),
  category: Nullable(Type.String()),
});

type CxPermissionItem = { id: number; serviceProviderId: number; name: string; category: string | null };

/** The built-in permissions, as this tenant holds them (a right the tenant lacks is not listed). */
async function builtins(deps: ServiceDeps, actor: Actor): Promise<CxPermissionItem[]> {
  const { applicationNumber, permissions } = await rightPermissions(deps, actor);
  return CX_BUILTIN_PERMISSIONS.flatMap((b) => {
    const p = permissions.find((q) => q.name === b.right);
    return p ? [{ id: b.id, serviceProviderId: applicationNumber, name: b.name, category: p.category }] : [];
  });
}

const notFound = (id: number) => new AppError('not_found', `permission ${id} does not exist`);

export function registerCxPermissionRoutes(app: App, deps: RouteDeps): void {
  const sd = deps.services.deps;
  registerCxCollection(app, {
    path: '/Permissions',
    item: CxPermission,
    list: {
      summary: 'Checkmarx: get all permissions',
      description: 'The built-in permissions (the vendor\'s ids and names) and every application\'s permissions, in id order. Needs manage-roles or manage-users.',
      read: async (actor) => {
        const numbers = new Map((await collectAll((page) => listApplications(sd, actor, {}, page))).map((a) => [a.id, a.number]));
        const others = (await collectAll((page) => listPermissions(sd, actor, {}, page)))
          .filter((p) => !p.builtin)
          .map((p) => ({ id: cxIdsOfPermission(p)[0]!, serviceProviderId: numbers.get(p.applicationId) ?? 0, name: p.name, category: p.category }));
        return [...(await builtins(sd, actor)), ...others];
      },
    },
    one: {
      summary: 'Checkmarx: get a permission by id',
      description:
        '201 with the permission, as the vendor\'s documentation states (its SDK also accepts it as a success); 404 for an unknown id; 400 for a non-integer id. Needs manage-roles or manage-users.',
      status: 201,
      read: async (actor, id) => {
        if (cxBuiltin(id)) {
          const found = (await builtins(sd, actor)).find((p) => p.id === id);
          if (!found) throw notFound(id);
          return found;
        }
        const number = numberOfCxId(id);
        if (number === null) throw notFound(id);
        const permission = await getPermissionByNumber(sd, actor, number).catch((e: unknown) => {
          throw e instanceof AppError && e.code === 'not_found' ? notFound(id) : e;
        });
        if (permission.builtin) throw notFound(id);
        const application = await getApplication(sd, actor, permission.applicationId);
        return { id, serviceProviderId: application.value.number, name: permission.name, category: permission.category };
      },
    },
  });
}
