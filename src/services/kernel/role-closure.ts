/**
 * Roles that include other roles, read upward: given some roles (with what they hold), adds
 * every role that includes one of them, transitively, with its include edges — the roles that
 * give what the starting roles give. Used by the rights guard and by separation of duties.
 */
import type { TenantDb } from '../../store/store.ts';

/** A role as these reads know it: the permissions it holds (of interest) and the roles it includes. */
export type RoleContents = Map<string, { permissionIds: string[]; includedRoleIds: string[] }>;

/** Bound for `in (...)` lists, well under both databases' parameter limits. */
const CHUNK = 500;

export function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** The role's entry in `roles`, created empty when absent. */
export function roleEntry(roles: RoleContents, id: string): { permissionIds: string[]; includedRoleIds: string[] } {
  return roles.get(id) ?? roles.set(id, { permissionIds: [], includedRoleIds: [] }).get(id)!;
}

/** Adds to `roles` every role that includes one of them, transitively, with the include edges. */
export async function addIncludingRoles(scope: TenantDb, roles: RoleContents): Promise<void> {
  const { db } = scope;
  let frontier = [...roles.keys()];
  while (frontier.length) {
    const next: string[] = [];
    for (const ids of chunks(frontier)) {
      const rows = await db.selectFrom('role_includes').select(['role_id', 'included_role_id']).where('included_role_id', 'in', ids).execute();
      for (const r of rows) {
        if (!roles.has(r.role_id)) next.push(r.role_id);
        const including = roleEntry(roles, r.role_id);
        if (!including.includedRoleIds.includes(r.included_role_id)) including.includedRoleIds.push(r.included_role_id);
      }
    }
    frontier = [...new Set(next)];
  }
}
