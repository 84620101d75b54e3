/**
 * Who holds a role or a Grantory right now, answered by the access index: the approvers of a
 * `role_holders` approval step, and the holders of `approve-requests` that an approval step
 * escalates to when nobody else may decide it. Only active identities are named.
 *
 * ```ts
 * const approvers = await roleHolderIds(deps, tenantId, roleId); // ['3f0c...', ...], sorted
 * ```
 */
import { GRANTORY_APPLICATION, type Right } from '../../domain/rights.ts';
import { NONE } from '../../engine/nodes.ts';
import { addMembersOfUnit, holders } from '../../engine/queries.ts';
import type { ServiceDeps } from '../deps.ts';
import { engineOf } from './common.ts';

const ALWAYS = () => ({ lo: -Infinity, hi: Infinity });

/** Identities that hold the role now: assigned it, or a role that includes it, directly or through a unit. */
export async function roleHolderIds(deps: ServiceDeps, tenantId: string, roleId: string): Promise<string[]> {
  const engine = engineOf(deps);
  const { index } = await engine.at(tenantId);
  const now = engine.now();
  const role = index.roles.find(roleId);
  if (role === NONE || !index.roles.get(role).exists) return [];
  const roles = new Set<number>();
  const stack = [role];
  while (stack.length) {
    const r = stack.pop()!;
    if (roles.has(r)) continue;
    roles.add(r);
    for (const parent of index.roles.get(r).includedBy) stack.push(parent);
  }
  const found = new Set<string>();
  for (const r of roles) {
    for (const aIdx of index.roles.get(r).assignments) {
      const a = index.assignments.get(aIdx);
      if (!index.counts(a, now, ALWAYS())) continue;
      const reached = a.assigneeIsUnit ? addMembersOfUnit(index, a.assignee, new Set()) : [a.assignee];
      for (const i of reached) {
        const node = index.identities.get(i);
        if (node.exists && node.active && index.reaches(a, i)) found.add(node.id);
      }
    }
  }
  return [...found].sort();
}

/** Identities that hold the Grantory right now (in context `All` or any). */
export async function rightHolderIds(deps: ServiceDeps, tenantId: string, right: Right): Promise<string[]> {
  const engine = engineOf(deps);
  const { index } = await engine.at(tenantId);
  // Grantory's own application by its name (unique in a tenant), the right by its name in it:
  // two lookups, not a pass over every permission (an approval step that escalates asks this).
  const app = index.appByName.get(GRANTORY_APPLICATION);
  const permission = app !== undefined && index.apps.get(app).builtin ? (index.permByAppName.get(`${app}\u0000${right}`) ?? NONE) : NONE;
  if (permission === NONE || !index.perms.get(permission).exists) return [];
  return holders(index, permission, engine.now(), 'assigned', null, 10_000)
    .items.map((h) => index.identities.get(h.identity))
    .filter((n) => n.active)
    .map((n) => n.id);
}
