/**
 * A seeded, reproducible access dataset (sizes S, M, L), bulk-loaded through the store's
 * write protocol: `store.write` in chunks of 10,000 rows (each chunk one transaction, one
 * revision, one audit event and a change-feed entry per row), inserted 1,000 rows a statement.
 *
 * L = 100k identities, 5k units (depth 6), 200 applications, 20k permissions, 2k roles
 * (nested), 1M assignments: to identities and units, of permissions and roles, some
 * delegated, paused, time-bounded (expired, current, future) and in unit contexts.
 */
import type { Store, WriteMeta } from '../src/store/store.ts';
import type { Database } from '../src/store/schema.ts';
import { seededRandom } from '../src/demo/generator.ts';

export interface DatasetSize {
  identities: number;
  units: number;
  depth: number;
  applications: number;
  permissions: number;
  roles: number;
  assignments: number;
}

export const SIZES: Record<'S' | 'M' | 'L', DatasetSize> = {
  S: { identities: 1_000, units: 50, depth: 4, applications: 10, permissions: 200, roles: 20, assignments: 10_000 },
  M: { identities: 10_000, units: 500, depth: 5, applications: 50, permissions: 2_000, roles: 200, assignments: 100_000 },
  L: { identities: 100_000, units: 5_000, depth: 6, applications: 200, permissions: 20_000, roles: 2_000, assignments: 1_000_000 },
};

/** The seeded PRNG the demo uses too (mulberry32): same seed, same dataset. */
export const rng = seededRandom;

const pad = (n: number) => String(n).padStart(8, '0');
export const idOf = {
  unit: (i: number) => `u-${pad(i)}`,
  identity: (i: number) => `i-${pad(i)}`,
  app: (i: number) => `a-${pad(i)}`,
  perm: (i: number) => `p-${pad(i)}`,
  role: (i: number) => `r-${pad(i)}`,
  assignment: (i: number) => `x-${pad(i)}`,
};

export interface Dataset {
  size: DatasetSize;
  /** Permission index -> application index. */
  permApp: Int32Array;
  /** Roles' direct permissions and included roles (for the casbin comparison). */
  rolePerms: number[][];
  roleIncludes: number[][];
  unitParent: Int32Array;
  identityUnit: Int32Array;
  assignments: AssignmentSpec[];
}

export interface AssignmentSpec {
  toUnit: boolean;
  assignee: number;
  toRole: boolean;
  resource: number;
  state: 'active' | 'paused';
  validFrom: string | null;
  validTo: string | null;
  contextUnit: number;
  delegatedFrom: number;
  delegator: number;
}

/** Generates the dataset in memory (deterministic for a seed). */
export function generate(size: DatasetSize, seed = 42): Dataset {
  const r = rng(seed);
  const int = (n: number) => Math.floor(r() * n);
  // Units: a tree of the given depth; each level is about `units^(1/depth)` times wider.
  const unitParent = new Int32Array(size.units).fill(-1);
  const levelStart: number[] = [0];
  const fan = Math.max(2, Math.round(Math.pow(size.units, 1 / size.depth)));
  let count = 1;
  for (let level = 1; level < size.depth && count < size.units; level += 1) {
    const prevStart = levelStart[level - 1]!;
    const prevEnd = count;
    levelStart.push(count);
    const want = level === size.depth - 1 ? size.units - count : Math.min(size.units - count, (prevEnd - prevStart) * fan);
    for (let k = 0; k < want; k += 1) unitParent[count + k] = prevStart + int(prevEnd - prevStart);
    count += want;
  }
  for (let u = count; u < size.units; u += 1) unitParent[u] = int(u);
  const identityUnit = new Int32Array(size.identities);
  for (let i = 0; i < size.identities; i += 1) identityUnit[i] = int(size.units);
  const permApp = new Int32Array(size.permissions);
  for (let p = 0; p < size.permissions; p += 1) permApp[p] = p % size.applications;
  const rolePerms: number[][] = [];
  const roleIncludes: number[][] = [];
  for (let k = 0; k < size.roles; k += 1) {
    const perms = new Set<number>();
    const n = 3 + int(8);
    for (let j = 0; j < n; j += 1) perms.add(int(size.permissions));
    rolePerms.push([...perms]);
    // A third of the roles include one or two lower-numbered roles: nesting without cycles.
    const inc = new Set<number>();
    if (k > 0 && r() < 0.33) {
      inc.add(int(k));
      if (r() < 0.3) inc.add(int(k));
    }
    roleIncludes.push([...inc]);
  }
  const base = Date.parse('2026-11-25T00:00:00.000Z');
  const day = 86_400_000;
  const assignments: AssignmentSpec[] = [];
  for (let x = 0; x < size.assignments; x += 1) {
    const kind = r();
    const toUnit = kind < 0.02;
    const toRole = r() < 0.75;
    const spec: AssignmentSpec = {
      toUnit,
      assignee: toUnit ? int(size.units) : int(size.identities),
      toRole,
      resource: toRole ? int(size.roles) : int(size.permissions),
      state: r() < 0.05 ? 'paused' : 'active',
      validFrom: null,
      validTo: null,
      contextUnit: r() < 0.1 ? int(size.units) : -1,
      delegatedFrom: -1,
      delegator: -1,
    };
    const t = r();
    if (t < 0.02) spec.validTo = new Date(base - int(30) * day).toISOString(); // expired
    else if (t < 0.05) spec.validTo = new Date(base + (1 + int(300)) * day).toISOString(); // current, ends later
    else if (t < 0.06) spec.validFrom = new Date(base + (1 + int(30)) * day).toISOString(); // future
    // 5%: a delegation of an earlier identity assignment's resource.
    if (!toUnit && x > 10 && r() < 0.05) {
      const source = int(x);
      const s = assignments[source]!;
      if (!s.toUnit && s.delegatedFrom === -1) {
        spec.delegatedFrom = source;
        spec.delegator = s.assignee;
        spec.toRole = s.toRole;
        spec.resource = s.resource;
        spec.contextUnit = s.contextUnit;
      }
    }
    assignments.push(spec);
  }
  return { size, permApp, rolePerms, roleIncludes, unitParent, identityUnit, assignments };
}

const META: WriteMeta = { actorType: 'system', actorId: null, actorName: 'bench loader' };
/** Rows per write (one transaction, one audit event, a change-feed entry per row). */
const CHUNK = 10_000;
/** Rows per insert statement: within both backends' bound-parameter limits for ~20 columns. */
const ROWS_PER_INSERT = 1_000;

/** Loads the dataset into a tenant through `store.write`, in chunks of {@link CHUNK} rows. */
export async function load(store: Store, tenantId: string, d: Dataset, onProgress?: (what: string) => void): Promise<void> {
  const now = new Date().toISOString();
  const stamps = { created_at: now, updated_at: now, version: 1 };
  async function inChunks<T>(entity: string, table: keyof Database, n: number, row: (i: number) => T, idOfRow: (i: number) => string | null): Promise<void> {
    for (let start = 0; start < n; start += CHUNK) {
      const end = Math.min(n, start + CHUNK);
      await store.write(tenantId, META, async (tx) => {
        const rows: T[] = [];
        for (let i = start; i < end; i += 1) rows.push(row(i));
        // Kysely's insert builder is typed per table; the rows here are built to match it.
        for (let i = 0; i < rows.length; i += ROWS_PER_INSERT) await tx.db.insertInto(table).values(rows.slice(i, i + ROWS_PER_INSERT) as never).execute();
        for (let i = start; i < end; i += 1) {
          const id = idOfRow(i);
          if (id !== null) tx.change(entity, id, 'create');
        }
        tx.audit({ action: `bench.load.${entity}`, targetType: entity, targetId: null, after: { from: start, to: end } });
      });
    }
    onProgress?.(`${entity}: ${n}`);
  }
  const s = d.size;
  await inChunks('org_unit', 'org_units', s.units, (u) => ({
    id: idOf.unit(u), tenant_id: tenantId, number: 1_000_000 + u, name: `Unit ${u}`,
    parent_id: d.unitParent[u]! < 0 ? null : idOf.unit(d.unitParent[u]!), external_id: null, path: '/', ...stamps,
  }), idOf.unit);
  await inChunks('application', 'applications', s.applications, (a) => ({
    id: idOf.app(a), tenant_id: tenantId, number: 1_000_000 + a, name: `App ${a}`, kind: a % 4 === 3 ? 'connected' : 'managed',
    description: null, owner_ids: '[]', priority: 'None', archived: 0, builtin: 0, connector: null, ...stamps,
  }), idOf.app);
  await inChunks('permission', 'permissions', s.permissions, (p) => ({
    id: idOf.perm(p), tenant_id: tenantId, number: 1_000_000 + p, application_id: idOf.app(d.permApp[p]!), name: `perm-${p}`,
    category: null, description: null, risk: 'low', requestable: 1, delegable: 1, ...stamps,
  }), idOf.perm);
  await inChunks('role', 'roles', s.roles, (k) => ({
    id: idOf.role(k), tenant_id: tenantId, number: 1_000_000 + k, name: `Role ${k}`, description: null, system: 0, ...stamps,
  }), idOf.role);
  const rp: { role: number; perm: number }[] = [];
  d.rolePerms.forEach((perms, role) => perms.forEach((perm) => rp.push({ role, perm })));
  await inChunks('role', 'role_permissions', rp.length, (i) => ({ tenant_id: tenantId, role_id: idOf.role(rp[i]!.role), permission_id: idOf.perm(rp[i]!.perm) }), () => null);
  const ri: { role: number; inc: number }[] = [];
  d.roleIncludes.forEach((incs, role) => incs.forEach((inc) => ri.push({ role, inc })));
  await inChunks('role', 'role_includes', ri.length, (i) => ({ tenant_id: tenantId, role_id: idOf.role(ri[i]!.role), included_role_id: idOf.role(ri[i]!.inc) }), () => null);
  await inChunks('identity', 'identities', s.identities, (i) => ({
    id: idOf.identity(i), tenant_id: tenantId, number: 1_000_000 + i, subject: `bench:${i}`, username: `user${i}`, email: `user${i}@example.com`,
    first_name: null, last_name: null, display_name: null, employee_number: null, type: 'employee', status: i % 50 === 49 ? 'on_leave' : 'active',
    manager_id: null, org_unit_id: idOf.unit(d.identityUnit[i]!), attributes: '{}', ...stamps,
  }), idOf.identity);
  await inChunks('assignment', 'assignments', d.assignments.length, (x) => {
    const a = d.assignments[x]!;
    return {
      id: idOf.assignment(x), tenant_id: tenantId,
      assignee_type: a.toUnit ? 'orgUnit' : 'identity', assignee_id: a.toUnit ? idOf.unit(a.assignee) : idOf.identity(a.assignee),
      resource_type: a.toRole ? 'role' : 'permission', resource_id: a.toRole ? idOf.role(a.resource) : idOf.perm(a.resource),
      context_type: a.contextUnit < 0 ? 'all' : 'orgUnit', context_id: a.contextUnit < 0 ? null : idOf.unit(a.contextUnit),
      source: a.delegatedFrom < 0 ? 'direct' : 'delegation', state: a.state, valid_from: a.validFrom, valid_to: a.validTo,
      delegated_from_id: a.delegatedFrom < 0 ? null : idOf.assignment(a.delegatedFrom), delegator_id: a.delegator < 0 ? null : idOf.identity(a.delegator),
      rule_id: null, reason: null, created_by: null, ...stamps,
    };
  }, idOf.assignment);
}
