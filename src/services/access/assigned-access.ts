/**
 * Counting assignments walked in SQL, per assignment rather than per identity (the access
 * engine answers per identity): {@link iterateAssignmentGrants} yields each assignment that
 * counts now (active, within its window, a delegation only while the delegator's assignment
 * counts) with the permissions it gives, grouped by application; the holder is the identity
 * or unit it was assigned to. The Celonis permissions export is built from it.
 *
 * The catalog (units, roles, permissions, applications) is held in memory; assignments are
 * read a page at a time.
 */
import type { Database } from '../../store/schema.ts';
import type { TenantDb } from '../../store/store.ts';

type AssignmentRow = Database['assignments'];

export interface Catalog {
  units: Map<string, { parentId: string | null; path: string; name: string }>;
  permissions: Map<string, { applicationId: string; name: string }>;
  applications: Map<string, { name: string }>;
  roles: Map<string, { name: string }>;
  /** Each role's permissions, transitively through included roles (memoized). */
  rolePermissions(roleId: string): Set<string>;
}

export async function loadCatalog(scope: TenantDb): Promise<Catalog> {
  const { db } = scope;
  const [units, permissions, applications, roles, rolePerms, includes] = await Promise.all([
    db.selectFrom('org_units').select(['id', 'parent_id', 'path', 'name']).execute(),
    db.selectFrom('permissions').select(['id', 'application_id', 'name']).execute(),
    db.selectFrom('applications').select(['id', 'name']).execute(),
    db.selectFrom('roles').select(['id', 'name']).execute(),
    db.selectFrom('role_permissions').select(['role_id', 'permission_id']).execute(),
    db.selectFrom('role_includes').select(['role_id', 'included_role_id']).execute(),
  ]);
  const direct = new Map<string, string[]>();
  for (const r of rolePerms) direct.set(r.role_id, [...(direct.get(r.role_id) ?? []), r.permission_id]);
  const included = new Map<string, string[]>();
  for (const r of includes) included.set(r.role_id, [...(included.get(r.role_id) ?? []), r.included_role_id]);
  const memo = new Map<string, Set<string>>();
  const rolePermissions = (roleId: string): Set<string> => {
    const known = memo.get(roleId);
    if (known) return known;
    const out = new Set<string>();
    const seen = new Set<string>();
    const stack = [roleId];
    while (stack.length) {
      const id = stack.pop()!;
      if (seen.has(id)) continue;
      seen.add(id);
      for (const p of direct.get(id) ?? []) out.add(p);
      stack.push(...(included.get(id) ?? []));
    }
    memo.set(roleId, out);
    return out;
  };
  return {
    units: new Map(units.map((u) => [u.id, { parentId: u.parent_id, path: u.path, name: u.name }])),
    permissions: new Map(permissions.map((p) => [p.id, { applicationId: p.application_id, name: p.name }])),
    applications: new Map(applications.map((a) => [a.id, { name: a.name }])),
    roles: new Map(roles.map((r) => [r.id, { name: r.name }])),
    rolePermissions,
  };
}

/** The unit and its ancestors, nearest first. */
export function unitChain(catalog: Catalog, unitId: string | null): string[] {
  const chain: string[] = [];
  let id = unitId;
  while (id && !chain.includes(id)) {
    chain.push(id);
    id = catalog.units.get(id)?.parentId ?? null;
  }
  return chain;
}

const within = (a: { valid_from: string | null; valid_to: string | null }, now: string) => (!a.valid_from || a.valid_from <= now) && (!a.valid_to || now < a.valid_to);

/**
 * Filters assignments to those that count now (rule 1), and delegated ones to those whose
 * delegating assignment counts too (rule 2, followed up the delegation chain).
 */
async function counting(scope: TenantDb, rows: AssignmentRow[], now: string): Promise<AssignmentRow[]> {
  const { db } = scope;
  const verdict = new Map<string, boolean>();
  const live = (a: AssignmentRow) => a.state === 'active' && within(a, now);
  let pending = rows.filter(live);
  const byId = new Map(pending.map((a) => [a.id, a]));
  for (let depth = 0; depth < 16; depth += 1) {
    const missing = [...new Set(pending.map((a) => a.delegated_from_id).filter((id): id is string => !!id && !byId.has(id)))];
    if (!missing.length) break;
    const parents = await db.selectFrom('assignments').selectAll().where('id', 'in', missing).execute();
    for (const p of parents) byId.set(p.id, p);
    pending = parents;
  }
  const holderActive = new Map<string, boolean>();
  // A delegation counts only while the delegator holds access: its identity must be active.
  const parentIds = new Set([...byId.values()].map((a) => a.delegated_from_id).filter((id): id is string => !!id));
  const identityIds = [...new Set([...parentIds].map((id) => byId.get(id)).filter((p): p is AssignmentRow => p?.assignee_type === 'identity').map((p) => p.assignee_id))];
  if (identityIds.length) {
    const identities = await db.selectFrom('identities').select(['id', 'status']).where('id', 'in', identityIds).execute();
    for (const i of identities) holderActive.set(i.id, i.status === 'active');
  }
  const counts = (a: AssignmentRow, depth: number): boolean => {
    const known = verdict.get(a.id);
    if (known !== undefined) return known;
    let ok = live(a);
    if (ok && a.delegated_from_id) {
      const parent = byId.get(a.delegated_from_id);
      ok = depth < 16 && !!parent && counts(parent, depth + 1) && (parent.assignee_type !== 'identity' || holderActive.get(parent.assignee_id) === true);
    }
    verdict.set(a.id, ok);
    return ok;
  };
  return rows.filter((a) => counts(a, 0));
}

/** The permission ids an assignment gives. */
export function permissionsOf(catalog: Catalog, a: { resource_type: string; resource_id: string }): Set<string> {
  if (a.resource_type === 'permission') return catalog.permissions.has(a.resource_id) ? new Set([a.resource_id]) : new Set();
  if (a.resource_type === 'role') return catalog.rolePermissions(a.resource_id);
  return new Set();
}

const PAGE = 500;

export interface AssignmentGrant {
  assignment: AssignmentRow;
  applicationId: string;
  /** Names of the permissions the assignment gives in that application. */
  permissions: string[];
}

/** Each counting assignment, once per application it gives permissions in. */
export async function* iterateAssignmentGrants(scope: TenantDb, now: string, catalog?: Catalog): AsyncGenerator<AssignmentGrant> {
  const { db } = scope;
  const cat = catalog ?? (await loadCatalog(scope));
  let after = '';
  for (;;) {
    const rows = await db.selectFrom('assignments').selectAll().where('state', '=', 'active').where('id', '>', after).orderBy('id').limit(PAGE).execute();
    if (!rows.length) return;
    after = rows[rows.length - 1]!.id;
    for (const a of await counting(scope, rows, now)) {
      const byApp = new Map<string, string[]>();
      for (const permissionId of permissionsOf(cat, a)) {
        const p = cat.permissions.get(permissionId)!;
        byApp.set(p.applicationId, [...(byApp.get(p.applicationId) ?? []), p.name]);
      }
      for (const [applicationId, permissions] of byApp) yield { assignment: a, applicationId, permissions: permissions.sort() };
    }
    if (rows.length < PAGE) return;
  }
}
