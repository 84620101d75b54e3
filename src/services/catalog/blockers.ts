/**
 * "Still in use" checks: what prevents deleting a permission or a role. Each check looks
 * at one kind of reference (assignments that are not revoked, roles that hold the
 * permission, roles that include the role) and reports it as a {@link Blocker}; a delete
 * is refused with `conflict` (409) naming every blocker found.
 *
 * Other features that reference permissions or roles (assignment rules, access requests)
 * add their check to {@link BLOCKER_CHECKS}; every delete path then honours it.
 *
 * ```ts
 * await assertNotBlocked(tx, 'role', [role.id], `role "${role.name}"`);
 * ```
 */
import { AppError } from '../../domain/errors.ts';
import type { TenantDb } from '../../store/store.ts';

export type BlockedType = 'permission' | 'role';

export interface Blocker {
  /** What kind of object blocks: `assignment`, `role`, ... */
  type: string;
  /** How many of them. */
  count: number;
  /** Up to {@link SAMPLE} of their ids. */
  ids: string[];
  /** Human-readable, e.g. `2 assignments that are not revoked`. */
  description: string;
}

export type BlockerCheck = (scope: TenantDb, type: BlockedType, ids: readonly string[]) => Promise<Blocker | null>;

const SAMPLE = 5;
const CHUNK = 500;

function chunks<T>(items: readonly T[]): T[][] {
  const out: T[][] = [];
  for (let i = 0; i < items.length; i += CHUNK) out.push(items.slice(i, i + CHUNK));
  return out;
}

/** Assignments (active or paused, any source) that give the permission or role. */
export const assignmentsBlock: BlockerCheck = async ({ db }, type, ids) => {
  let count = 0;
  const sample: string[] = [];
  for (const part of chunks(ids)) {
    const rows = await db
      .selectFrom('assignments')
      .select('id')
      .where('resource_type', '=', type)
      .where('resource_id', 'in', part)
      .where('state', '!=', 'revoked')
      .orderBy('id')
      .execute();
    count += rows.length;
    for (const r of rows) if (sample.length < SAMPLE) sample.push(r.id);
  }
  if (!count) return null;
  return { type: 'assignment', count, ids: sample, description: `${count} assignment${count === 1 ? '' : 's'} that ${count === 1 ? 'is' : 'are'} not revoked` };
};

/** Roles that hold the permission (for permissions) or include the role (for roles). */
export const rolesBlock: BlockerCheck = async ({ db }, type, ids) => {
  const holders = new Map<string, string>();
  for (const part of chunks(ids)) {
    const rows =
      type === 'permission'
        ? await db
            .selectFrom('role_permissions')
            .innerJoin('roles', (j) => j.onRef('roles.id', '=', 'role_permissions.role_id').onRef('roles.tenant_id', '=', 'role_permissions.tenant_id'))
            .select(['roles.id', 'roles.name'])
            .where('role_permissions.permission_id', 'in', part)
            .execute()
        : await db
            .selectFrom('role_includes')
            .innerJoin('roles', (j) => j.onRef('roles.id', '=', 'role_includes.role_id').onRef('roles.tenant_id', '=', 'role_includes.tenant_id'))
            .select(['roles.id', 'roles.name'])
            .where('role_includes.included_role_id', 'in', part)
            .execute();
    for (const r of rows) holders.set(r.id, r.name);
  }
  if (!holders.size) return null;
  const sorted = [...holders].sort(([, a], [, b]) => (a < b ? -1 : a > b ? 1 : 0));
  const names = sorted.slice(0, SAMPLE).map(([, name]) => `"${name}"`);
  const more = sorted.length > SAMPLE ? ` and ${sorted.length - SAMPLE} more` : '';
  return {
    type: 'role',
    count: sorted.length,
    ids: sorted.slice(0, SAMPLE).map(([id]) => id),
    description: `${type === 'permission' ? 'held by' : 'included in'} role${sorted.length === 1 ? '' : 's'} ${names.join(', ')}${more}`,
  };
};

/** Grants of imported accounts that hold the permission (they go when the account does). */
export const grantsBlock: BlockerCheck = async ({ db }, type, ids) => {
  if (type !== 'permission') return null;
  let count = 0;
  const sample = new Set<string>();
  for (const part of chunks(ids)) {
    const held = () => db.selectFrom('grants').where('permission_id', 'in', part);
    const counted = await held()
      .select((eb) => eb.fn.countAll<number | string>().as('n'))
      .executeTakeFirst();
    count += Number(counted?.n ?? 0);
    if (sample.size >= SAMPLE) continue;
    const rows = await held().select('account_id').distinct().orderBy('account_id').limit(SAMPLE).execute();
    for (const r of rows) if (sample.size < SAMPLE) sample.add(r.account_id);
  }
  if (!count) return null;
  return { type: 'grant', count, ids: [...sample], description: `${count} grant${count === 1 ? '' : 's'} to imported accounts` };
};

/** The checks run before deleting each type; features that reference these add theirs. */
export const BLOCKER_CHECKS: Record<BlockedType, BlockerCheck[]> = {
  permission: [assignmentsBlock, rolesBlock, grantsBlock],
  role: [assignmentsBlock, rolesBlock],
};

export async function findBlockers(scope: TenantDb, type: BlockedType, ids: readonly string[]): Promise<Blocker[]> {
  if (!ids.length) return [];
  const found: Blocker[] = [];
  for (const check of BLOCKER_CHECKS[type]) {
    const blocker = await check(scope, type, ids);
    if (blocker) found.push(blocker);
  }
  return found;
}

/**
 * Throws `conflict` naming every blocker when any of `ids` is still in use. `label` names
 * what was to be deleted, e.g. `role "Auditors"`.
 */
export async function assertNotBlocked(
  scope: TenantDb,
  type: BlockedType,
  ids: readonly string[],
  label: string,
  inUse = 'it is still in use',
): Promise<void> {
  const blockers = await findBlockers(scope, type, ids);
  if (!blockers.length) return;
  throw new AppError('conflict', `${label} cannot be deleted: ${inUse} (${blockers.map((b) => b.description).join('; ')})`, {
    details: { blockers },
  });
}
