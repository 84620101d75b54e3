/**
 * The Verify stage: what the connected applications (the provisioned space, as imports
 * record it) still have to confirm. Managed applications provision what is assigned, so
 * access there is confirmed at once.
 *
 * - offboarding: every active account of the identity in a connected application must hold
 *   nothing (outstanding: each account that still holds permissions — deprovision it);
 * - the other events: every permission of a connected application that the event's
 *   effect stage gave or restored must be held by an active account of the identity there
 *   (outstanding: each one not yet held — provision it).
 */
import type { TenantDb } from '../../store/store.ts';
import type { PreviewAccount } from './model.ts';
import { accountsToDeprovision } from './preview.ts';

export interface Outstanding {
  action: 'provision' | 'deprovision';
  application: { id: string; name: string };
  account: string | null;
  permission: { id: string; name: string } | null;
  grants?: number;
}

/** Permissions of connected applications that the given assignments give (roles expanded). */
async function connectedPermissionsOf(scope: TenantDb, assignmentIds: readonly string[]): Promise<{ id: string; name: string; appId: string; appName: string }[]> {
  const { db } = scope;
  if (!assignmentIds.length) return [];
  const rows = await db.selectFrom('assignments').select(['resource_type', 'resource_id']).where('id', 'in', [...assignmentIds]).where('state', '=', 'active').execute();
  const permIds = new Set(rows.filter((r) => r.resource_type === 'permission').map((r) => r.resource_id));
  const seen = new Set<string>();
  let frontier = rows.filter((r) => r.resource_type === 'role').map((r) => r.resource_id);
  while (frontier.length) {
    const next = frontier.filter((r) => !seen.has(r));
    if (!next.length) break;
    next.forEach((r) => seen.add(r));
    for (const p of await db.selectFrom('role_permissions').select('permission_id').where('role_id', 'in', next).execute()) permIds.add(p.permission_id);
    frontier = (await db.selectFrom('role_includes').select('included_role_id').where('role_id', 'in', next).execute()).map((i) => i.included_role_id);
  }
  if (!permIds.size) return [];
  return db
    .selectFrom('permissions')
    .innerJoin('applications', 'applications.id', 'permissions.application_id')
    .select(['permissions.id as id', 'permissions.name as name', 'applications.id as appId', 'applications.name as appName'])
    .where('applications.kind', '=', 'connected')
    .where('permissions.id', 'in', [...permIds])
    .orderBy('applications.name')
    .orderBy('permissions.name')
    .execute();
}

/**
 * `accounts`: for an offboarding, the identity's accounts to deprovision when the caller has
 * just read them in the same write (the Deprovision stage's own list), so they are not read twice.
 */
export async function outstandingFor(scope: TenantDb, type: string, identityId: string | null, givenAssignmentIds: readonly string[], accounts?: readonly PreviewAccount[]): Promise<Outstanding[]> {
  if (identityId === null) return [];
  if (type === 'offboard') {
    return (accounts ?? (await accountsToDeprovision(scope, identityId)))
      .filter((a) => a.grants > 0)
      .map((a) => ({ action: 'deprovision' as const, application: a.application, account: a.name, permission: null, grants: a.grants }));
  }
  const wanted = await connectedPermissionsOf(scope, givenAssignmentIds);
  if (!wanted.length) return [];
  const held = await scope.db
    .selectFrom('grants')
    .innerJoin('accounts', 'accounts.id', 'grants.account_id')
    .select('grants.permission_id as permissionId')
    .where('accounts.identity_id', '=', identityId)
    .where('accounts.status', '=', 'active')
    .where('grants.permission_id', 'in', wanted.map((w) => w.id))
    .execute();
  const heldIds = new Set(held.map((h) => h.permissionId));
  return wanted.filter((w) => !heldIds.has(w.id)).map((w) => ({ action: 'provision' as const, application: { id: w.appId, name: w.appName }, account: null, permission: { id: w.id, name: w.name } }));
}
