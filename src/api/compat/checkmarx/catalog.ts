/**
 * The Checkmarx profile's permission ids. Checkmarx numbers its built-in Access Control
 * permissions itself (`1` manage-users, `2` manage-authentication-providers, `3`
 * manage-clients, `4` manage-system-settings — the documentation's sample); scripts read
 * them by those ids. This profile gives Grantory's rights (the built-in application's
 * permissions) those fixed ids and names, each mapped to the Grantory right it stands for,
 * and every other application's permissions the id `number + 1000`, so the two ranges never
 * meet whatever order a tenant's permissions were created in.
 *
 * `manage-authentication-providers` has no right of its own in Grantory: who may configure
 * how people sign in holds `manage-system-settings`, so both Checkmarx permissions stand for
 * that right — a role holding it lists both ids, and giving a role either id grants it.
 *
 * ```ts
 * cxIdsOfPermission({ builtin: true, name: 'manage-system-settings', number: 5 })  // [2, 4]
 * cxIdsOfPermission({ builtin: false, name: 'TrusteeApp_View', number: 14 })        // [1014]
 * ```
 */
import { AppError } from '../../../domain/errors.ts';
import { RIGHTS, type Right } from '../../../domain/rights.ts';
import type { ServiceDeps } from '../../../services/deps.ts';
import type { Actor } from '../../../services/kernel/index.ts';
import { permissionsOfNumbers, rightPermissions, type PermissionView } from '../../../services/catalog/index.ts';

export interface CxBuiltinPermission {
  id: number;
  name: string;
  right: Right;
}

/** The built-in permissions, in id order: the documented four first, then Grantory's other rights. */
export const CX_BUILTIN_PERMISSIONS: readonly CxBuiltinPermission[] = [
  { id: 1, name: 'manage-users', right: 'manage-users' },
  { id: 2, name: 'manage-authentication-providers', right: 'manage-system-settings' },
  { id: 3, name: 'manage-clients', right: 'manage-clients' },
  { id: 4, name: 'manage-system-settings', right: 'manage-system-settings' },
  { id: 5, name: 'manage-roles', right: 'manage-roles' },
  { id: 6, name: 'manage-applications', right: 'manage-applications' },
  { id: 7, name: 'read-audit', right: 'read-audit' },
  { id: 8, name: 'read-permissions-any-application', right: 'read-permissions-any-application' },
  { id: 9, name: 'read-permissions-my-application', right: 'read-permissions-my-application' },
  { id: 10, name: 'approve-requests', right: 'approve-requests' },
  { id: 11, name: 'manage-imports', right: 'manage-imports' },
  { id: 12, name: 'manage-personnel-events', right: 'manage-personnel-events' },
  { id: 13, name: 'manage-credentials-of-others', right: 'manage-credentials-of-others' },
  { id: 14, name: 'manage-reviews', right: 'manage-reviews' },
];

for (const right of RIGHTS) {
  if (!CX_BUILTIN_PERMISSIONS.some((p) => p.right === right)) throw new Error(`the Checkmarx catalog has no permission for the right ${right}`);
}

/** Other applications' permissions: `number + 1000`. */
export const CX_APPLICATION_PERMISSION_OFFSET = 1000;

const builtinById = new Map(CX_BUILTIN_PERMISSIONS.map((p) => [p.id, p]));

/** The Checkmarx ids of a Grantory permission (two for manage-system-settings). */
export function cxIdsOfPermission(p: Pick<PermissionView, 'builtin' | 'name' | 'number'>): number[] {
  if (!p.builtin) return [p.number + CX_APPLICATION_PERMISSION_OFFSET];
  return CX_BUILTIN_PERMISSIONS.filter((b) => b.right === p.name).map((b) => b.id);
}

/** The built-in entry of a Checkmarx id, if it names one. */
export const cxBuiltin = (id: number): CxBuiltinPermission | undefined => builtinById.get(id);

/** The Grantory permission number of an application permission's Checkmarx id; null for ids outside that range. */
export function numberOfCxId(id: number): number | null {
  return id > CX_APPLICATION_PERMISSION_OFFSET ? id - CX_APPLICATION_PERMISSION_OFFSET : null;
}

/** Checkmarx ids → Grantory permission ids (one per permission; a 400 naming `field` for ids that name none). */
export async function permissionIdsOfCxIds(deps: ServiceDeps, actor: Actor, cxIds: readonly number[], field: string): Promise<string[]> {
  const rights = cxIds.some((id) => cxBuiltin(id)) ? (await rightPermissions(deps, actor)).permissions : [];
  const numbers = cxIds.map(numberOfCxId).filter((n): n is number => n !== null);
  const byNumber = numbers.length ? await permissionsOfNumbers(deps, actor, numbers) : new Map<number, PermissionView>();
  const out = new Set<string>();
  const unknown: number[] = [];
  for (const id of cxIds) {
    const builtin = cxBuiltin(id);
    const number = numberOfCxId(id);
    const permission = builtin ? rights.find((p) => p.name === builtin.right) : number !== null ? byNumber.get(number) : undefined;
    // An application-range id never names a right (those have their own ids).
    if (permission && (builtin !== undefined || !permission.builtin)) out.add(permission.id);
    else unknown.push(id);
  }
  if (unknown.length) {
    throw new AppError('validation_failed', `${field} names permissions that do not exist: ${unknown.join(', ')}`, {
      errors: [{ field, message: `names permissions that do not exist: ${unknown.join(', ')}` }],
    });
  }
  return [...out];
}
