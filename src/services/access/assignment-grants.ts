/**
 * Every counting assignment of a tenant as "who holds what, where": the holder (identity
 * or organization unit, with the unit path(s) it belongs to), the role if a role was
 * assigned, the application, the context, and the permission names it gives there. The
 * assigned space, walked in SQL (see assigned-access.ts) until the access engine lands.
 */
import { requireRight, type Actor } from '../kernel/index.ts';
import { iterateAssignmentGrants, loadCatalog } from './assigned-access.ts';
import type { ServiceDeps } from '../deps.ts';

export interface AssignmentGrantView {
  assignmentId: string;
  holder: { type: 'identity' | 'orgUnit'; id: string; name: string; unitPaths: string[] };
  role: { id: string; name: string } | null;
  application: { id: string; name: string };
  context: { type: string; id: string | null; name: string };
  permissions: string[];
}

/**
 * With `read-permissions-any-application`, every application's; a credential bound to an
 * application (an application key, a client of an application) with only
 * `read-permissions-my-application` gets its own application's.
 */
export async function* streamAssignmentGrants(deps: ServiceDeps, actor: Actor): AsyncGenerator<AssignmentGrantView> {
  const { rights, applicationId } = actor.caller;
  const onlyApplication = rights.has('read-permissions-any-application') ? null : rights.has('read-permissions-my-application') ? applicationId : null;
  if (onlyApplication === null) requireRight(actor, 'read-permissions-any-application');
  const scope = deps.store.read(actor.caller.tenantId);
  const { db } = scope;
  const catalog = await loadCatalog(scope);
  const identityCache = new Map<string, { name: string; unitId: string | null; active: boolean }>();
  const identity = async (id: string) => {
    const known = identityCache.get(id);
    if (known) return known;
    const row = await db.selectFrom('identities').select(['email', 'username', 'display_name', 'subject', 'org_unit_id', 'status']).where('id', '=', id).executeTakeFirst();
    const value = { name: row ? (row.email ?? row.username ?? row.display_name ?? row.subject) : id, unitId: row?.org_unit_id ?? null, active: row?.status === 'active' };
    if (identityCache.size > 10_000) identityCache.clear();
    identityCache.set(id, value);
    return value;
  };
  for await (const grant of iterateAssignmentGrants(scope, deps.now().toISOString(), catalog)) {
    if (onlyApplication !== null && grant.applicationId !== onlyApplication) continue;
    const a = grant.assignment;
    let holder: AssignmentGrantView['holder'];
    if (a.assignee_type === 'identity') {
      const who = await identity(a.assignee_id);
      // An identity on leave or terminated holds nothing (rule 6); its assignments stay recorded.
      if (!who.active) continue;
      const unit = who.unitId ? catalog.units.get(who.unitId) : undefined;
      holder = { type: 'identity', id: a.assignee_id, name: who.name, unitPaths: unit ? [unit.path] : [] };
    } else {
      const unit = catalog.units.get(a.assignee_id);
      holder = { type: 'orgUnit', id: a.assignee_id, name: unit?.name ?? a.assignee_id, unitPaths: unit ? [unit.path] : [] };
    }
    let contextName = 'All';
    if (a.context_type === 'orgUnit' && a.context_id) contextName = catalog.units.get(a.context_id)?.path ?? a.context_id;
    else if (a.context_type === 'identity' && a.context_id) contextName = (await identity(a.context_id)).name;
    else if (a.context_id) contextName = a.context_id;
    yield {
      assignmentId: a.id,
      holder,
      role: a.resource_type === 'role' ? { id: a.resource_id, name: catalog.roles.get(a.resource_id)?.name ?? a.resource_id } : null,
      application: { id: grant.applicationId, name: catalog.applications.get(grant.applicationId)?.name ?? grant.applicationId },
      context: { type: a.context_type, id: a.context_id, name: contextName },
      permissions: grant.permissions,
    };
  }
}
