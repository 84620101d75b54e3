/**
 * The Grantory rights of an identity: the permissions of the built-in `grantory`
 * application that the identity effectively holds through active, currently valid
 * assignments — to itself or to one of its organization units (and their ancestors) —
 * directly or through roles, transitively.
 */
import { GRANTORY_APPLICATION, isRight, type Right } from '../../domain/rights.ts';
import type { TenantDb, Store } from '../../store/store.ts';
import type { AccessEngine } from '../../engine/engine.ts';

export async function resolveGrantoryRights(scope: TenantDb, identityId: string, now: string): Promise<Set<Right>> {
  const { db } = scope;
  const identity = await db
    .selectFrom('identities')
    .select(['org_unit_id', 'status'])
    .where('id', '=', identityId)
    .executeTakeFirst();
  const rights = new Set<Right>();
  if (!identity || identity.status !== 'active') return rights;

  const unitIds: string[] = [];
  let unitId = identity.org_unit_id;
  while (unitId && !unitIds.includes(unitId)) {
    unitIds.push(unitId);
    const unit = await db
      .selectFrom('org_units')
      .select('parent_id')
      .where('id', '=', unitId)
      .executeTakeFirst();
    unitId = unit?.parent_id ?? null;
  }

  const assignments = await db
    .selectFrom('assignments')
    .select(['resource_type', 'resource_id', 'valid_from', 'valid_to'])
    .where('state', '=', 'active')
    .where('context_type', '=', 'all')
    .where((eb) =>
      eb.or([
        eb.and([eb('assignee_type', '=', 'identity'), eb('assignee_id', '=', identityId)]),
        ...(unitIds.length ? [eb.and([eb('assignee_type', '=', 'orgUnit'), eb('assignee_id', 'in', unitIds)])] : []),
      ]),
    )
    .execute();
  const current = assignments.filter((a) => (!a.valid_from || a.valid_from <= now) && (!a.valid_to || now < a.valid_to));

  const permissionIds = new Set(current.filter((a) => a.resource_type === 'permission').map((a) => a.resource_id));
  const seenRoles = new Set<string>();
  let frontier = current.filter((a) => a.resource_type === 'role').map((a) => a.resource_id);
  while (frontier.length) {
    const next = frontier.filter((r) => !seenRoles.has(r));
    if (!next.length) break;
    next.forEach((r) => seenRoles.add(r));
    const perms = await db
      .selectFrom('role_permissions')
      .select('permission_id')
      .where('role_id', 'in', next)
      .execute();
    perms.forEach((p) => permissionIds.add(p.permission_id));
    const included = await db
      .selectFrom('role_includes')
      .select('included_role_id')
      .where('role_id', 'in', next)
      .execute();
    frontier = included.map((i) => i.included_role_id);
  }
  if (!permissionIds.size) return rights;

  const names = await db
    .selectFrom('permissions')
    .innerJoin('applications', 'applications.id', 'permissions.application_id')
    .select('permissions.name')
    .where('applications.name', '=', GRANTORY_APPLICATION)
    .where('applications.builtin', '=', 1)
    .where('permissions.id', 'in', [...permissionIds])
    .execute();
  for (const { name } of names) if (isRight(name)) rights.add(name);
  return rights;
}

/**
 * The same rights, answered by the access index instead of SQL: the engine first applies
 * every write committed so far (one small query when nothing changed), so the answer is as
 * fresh as {@link resolveGrantoryRights}'s.
 */
export async function resolveGrantoryRightsFromIndex(engine: AccessEngine, tenantId: string, identityId: string, knownRevision?: number): Promise<Set<Right>> {
  // A revision read with the credential needs no query when this node has applied it.
  if (knownRevision === undefined) await engine.syncNow(tenantId);
  const { index } = await engine.at(tenantId, knownRevision);
  return engine.rightsOf(index, identityId);
}

/**
 * An identity's Grantory rights as every credential check needs them: from the access
 * index when the server runs one, else from SQL. Both answers are equally fresh: the index
 * first applies every write committed up to `knownRevision` (the tenant's revision read
 * with the credential), or up to the head it reads itself when none is given.
 */
export async function grantoryRights(
  deps: { store: Store; access?: AccessEngine | undefined },
  tenantId: string,
  identityId: string,
  now: string,
  knownRevision?: number,
): Promise<Set<Right>> {
  if (deps.access) return resolveGrantoryRightsFromIndex(deps.access, tenantId, identityId, knownRevision);
  return resolveGrantoryRights(deps.store.read(tenantId), identityId, now);
}
