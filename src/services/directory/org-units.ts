/**
 * Organization units: the tree of the organization (company → division → department);
 * identities are members (glossary: organization unit).
 *
 * Invariants kept here:
 * - `path` is `/` + the names from the root down (e.g. `/Acme/Finance`), read-only, and kept
 *   right for the whole subtree on rename and move, in the same write; names contain no `/`;
 * - siblings have distinct names (so a path names one unit) and `externalId` is unique;
 * - a move never makes a cycle (409 naming it), and the tree is at most {@link MAX_DEPTH} deep;
 * - a unit with child units, members or assignments is not deleted (409 naming the counts).
 *
 * ```ts
 * const { unit } = await createOrgUnit(deps, actor, { name: 'Finance', parentId: acme.id });
 * unit.path // '/Acme/Finance'
 * ```
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { assertIfMatch } from '../../domain/etag.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import type { Database } from '../../store/schema.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import { requireRight, type Actor, openPager, type Page, containsText, writeAs, assertNotBlocked, ORG_UNIT_DELETE_BLOCKERS } from '../kernel/index.ts';
import { notifyOrgUnitChange } from './hooks.ts';
import { checkUnitMoveSod, refuseOrReport, unitChain, unitMembers } from '../sod/index.ts';
import type { OrgUnitView, IdentityView } from './views.ts';
import { listIdentities, moveUnitMembersInTx, setUnitMembersInTx } from './identities.ts';
import type { ServiceDeps } from '../deps.ts';
import { withNormalizedName } from '../../domain/identifiers.ts';

/** Deepest allowed unit (a root is at depth 1). */
export const MAX_DEPTH = 20;
/** A unit name: no `/` (the path separator) and no control characters. */
export const UNIT_NAME_PATTERN = '^[^/\\u0000-\\u001f\\u007f]+$';


export interface OrgUnitRecord {
  unit: OrgUnitView;
  version: number;
}

export interface CreateOrgUnitInput {
  name: string;
  parentId?: string | null | undefined;
  externalId?: string | null | undefined;
  /** The unit's manager: approves what approval policies send to `org_unit_manager`. */
  managerId?: string | null | undefined;
  /** Identities that become the unit's members in the same write (they leave their unit). */
  memberIds?: readonly string[] | undefined;
}

export interface UpdateOrgUnitInput {
  name?: string | undefined;
  /** `null` makes the unit a root. */
  parentId?: string | null | undefined;
  externalId?: string | null | undefined;
  managerId?: string | null | undefined;
  /** Makes exactly these identities the unit's members, in the same write. */
  memberIds?: readonly string[] | undefined;
}

export interface ListOrgUnitsQuery {
  parentId?: string | undefined;
  /** Only units without a parent. */
  root?: boolean | undefined;
  q?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

type OrgUnitRow = Database['org_units'];

export function toOrgUnitView(row: OrgUnitRow): OrgUnitView {
  return {
    id: row.id,
    number: Number(row.number),
    name: row.name,
    parentId: row.parent_id,
    externalId: row.external_id,
    path: row.path,
    managerId: row.manager_id,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
  };
}

const toRecord = (row: OrgUnitRow): OrgUnitRecord => ({ unit: toOrgUnitView(row), version: row.version });
const depthOf = (path: string): number => path.split('/').length - 1;

/* ---------- lookups for other services (no rights check: the calling service did it) ---------- */

export async function findOrgUnitRow(scope: TenantDb, id: string): Promise<OrgUnitRow | undefined> {
  return scope.db.selectFrom('org_units').selectAll().where('id', '=', id).executeTakeFirst();
}

/** Finds a unit by its integer `number` (the team id of vendor profiles). */
export async function findOrgUnitByNumber(scope: TenantDb, number: number): Promise<OrgUnitRecord | undefined> {
  const row = await scope.db.selectFrom('org_units').selectAll().where('number', '=', number).executeTakeFirst();
  return row && toRecord(row);
}

export async function findOrgUnitByExternalId(scope: TenantDb, externalId: string): Promise<OrgUnitRecord | undefined> {
  const row = await scope.db
    .selectFrom('org_units')
    .selectAll()
    .where('external_id', '=', externalId)
    .executeTakeFirst();
  return row && toRecord(row);
}

/** The ids of a unit and all its descendants (rule conditions "in this unit's subtree"). */
export async function listSubtreeUnitIds(scope: TenantDb, unitId: string): Promise<string[]> {
  return [unitId, ...(await descendantsOf(scope, unitId)).map((r) => r.id)];
}

/* ---------- use cases ---------- */

export async function getOrgUnit(deps: ServiceDeps, actor: Actor, id: string): Promise<OrgUnitRecord> {
  requireRight(actor, 'manage-users');
  const row = await findOrgUnitRow(deps.store.read(actor.caller.tenantId), id);
  if (!row) throw notFound('organization unit', id);
  return toRecord(row);
}

export async function getOrgUnitByNumber(deps: ServiceDeps, actor: Actor, number: number): Promise<OrgUnitRecord> {
  requireRight(actor, 'manage-users');
  const found = await findOrgUnitByNumber(deps.store.read(actor.caller.tenantId), number);
  if (!found) throw notFound('organization unit', String(number));
  return found;
}

export async function listOrgUnits(deps: ServiceDeps, actor: Actor, query: ListOrgUnitsQuery): Promise<Page<OrgUnitView>> {
  requireRight(actor, 'manage-users');
  const { tenantId } = actor.caller;
  const filter = { parentId: query.parentId, root: query.root, q: query.q };
  const pager = await openPager<number>(deps, tenantId, 'org-units', filter, query);
  const { db } = deps.store.read(tenantId);
  let q = db.selectFrom('org_units').selectAll();
  if (query.parentId) q = q.where('parent_id', '=', query.parentId);
  if (query.root) q = q.where('parent_id', 'is', null);
  const text = query.q?.trim();
  if (text) q = q.where((eb) => eb.or([containsText(sql.ref('name'), text), containsText(sql.ref('path'), text)]));
  if (pager.after !== null) q = q.where('number', '>', pager.after);
  const rows = await q.orderBy('number').limit(pager.limit + 1).execute();
  return pager.page(rows, (r) => Number(r.number), toOrgUnitView);
}

/** The identities whose primary unit is `unitId` (not of its descendants), cursor-paged. */
export async function listUnitMembers(
  deps: ServiceDeps,
  actor: Actor,
  unitId: string,
  page: { limit?: number | undefined; cursor?: string | undefined } = {},
): Promise<Page<IdentityView>> {
  await getOrgUnit(deps, actor, unitId);
  return listIdentities(deps, actor, { orgUnitId: unitId, limit: page.limit, cursor: page.cursor });
}

export async function createOrgUnit(deps: ServiceDeps, actor: Actor, input: CreateOrgUnitInput): Promise<OrgUnitRecord & { revision: number }> {
  requireRight(actor, 'manage-users');
  input = withNormalizedName(input);
  assertName(input.name);
  const { tenantId } = actor.caller;
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const parent = input.parentId ? await requireParent(tx, input.parentId) : null;
    const path = `${parent?.path ?? ''}/${input.name}`;
    if (depthOf(path) > MAX_DEPTH) throw tooDeep(path);
    const row: OrgUnitRow = {
      id: randomUUID(),
      tenant_id: tenantId,
      number: await tx.nextNumber('org_units'),
      name: input.name,
      parent_id: parent?.id ?? null,
      external_id: input.externalId ?? null,
      path,
      manager_id: input.managerId ? await requireManager(tx, input.managerId) : null,
      created_at: tx.now,
      updated_at: tx.now,
      version: 1,
    };
    await assertUnique(tx, row);
    await tx.db.insertInto('org_units').values(row).execute();
    const after = toOrgUnitView(row);
    tx.audit({ action: 'orgUnit.create', targetType: 'orgUnit', targetId: row.id, after });
    tx.change('orgUnit', row.id, 'create');
    await notifyOrgUnitChange(deps, tx, { before: null, after });
    if (input.memberIds?.length) await setUnitMembersInTx(deps, tx, actor, row.id, input.memberIds, 'memberIds');
    return toRecord(row);
  });
  return { ...value, revision };
}

/** Renames and/or moves a unit (and re-paths its subtree), or changes its externalId. */
export async function updateOrgUnit(
  deps: ServiceDeps,
  actor: Actor,
  id: string,
  patch: UpdateOrgUnitInput,
  ifMatch?: string,
): Promise<OrgUnitRecord & { revision: number; descendantsMoved: number }> {
  requireRight(actor, 'manage-users');
  patch = withNormalizedName(patch);
  if (patch.name !== undefined) assertName(patch.name);
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const row = await findOrgUnitRow(tx, id);
    if (!row) throw notFound('organization unit', id);
    assertIfMatch(ifMatch, row.version);
    const parentId = patch.parentId === undefined ? row.parent_id : patch.parentId;
    let parentPath = row.path.slice(0, row.path.length - row.name.length - 1);
    if (parentId !== row.parent_id) {
      const parent = parentId === null ? null : await requireParent(tx, parentId);
      if (parent) await assertNoCycle(tx, row, parent);
      parentPath = parent?.path ?? '';
    }
    const name = patch.name ?? row.name;
    const next: OrgUnitRow = {
      ...row,
      name,
      parent_id: parentId,
      external_id: patch.externalId === undefined ? row.external_id : patch.externalId,
      manager_id: patch.managerId === undefined ? row.manager_id : patch.managerId && (await requireManager(tx, patch.managerId)),
      path: `${parentPath}/${name}`,
      updated_at: tx.now,
      version: row.version + 1,
    };
    await assertUnique(tx, next);
    const descendants = next.path === row.path ? [] : await descendantsOf(tx, id);
    // Before the move: the units above the moved unit's members (its own chain and the subtree).
    const chainBefore = parentId !== row.parent_id ? [...(await unitChain(tx, id)), ...descendants.map((d) => d.id)] : null;
    const deepest = Math.max(depthOf(next.path), ...descendants.map((d) => depthOf(d.path) - depthOf(row.path) + depthOf(next.path)));
    if (deepest > MAX_DEPTH) throw tooDeep(next.path);

    await tx.db
      .updateTable('org_units')
      .set({
        name: next.name,
        parent_id: next.parent_id,
        external_id: next.external_id,
        manager_id: next.manager_id,
        path: next.path,
        updated_at: next.updated_at,
        version: next.version,
      })
      .where('id', '=', id)
      .execute();
    for (const d of descendants) {
      await tx.db
        .updateTable('org_units')
        .set({ path: next.path + d.path.slice(row.path.length), updated_at: tx.now, version: d.version + 1 })
        .where('id', '=', d.id)
        .execute();
      tx.change('orgUnit', d.id, 'update');
    }
    const before = toOrgUnitView(row);
    const after = toOrgUnitView(next);
    tx.audit({
      action: 'orgUnit.update',
      targetType: 'orgUnit',
      targetId: id,
      before,
      after: descendants.length ? { ...after, descendantsRepathed: descendants.length } : after,
    });
    tx.change('orgUnit', id, 'update');
    await notifyOrgUnitChange(deps, tx, { before, after });
    if (chainBefore && parentId !== null) {
      // The members of the moved subtree inherit the new parent's chain: separation of duties as for an assignment.
      const conflicts = await checkUnitMoveSod(tx, deps, { identityIds: await unitMembers(tx, id), oldChain: chainBefore });
      await refuseOrReport(tx, actor, conflicts, { mode: 'refuse', path: 'unitMove', subject: { type: 'orgUnit', id } });
    }
    if (patch.memberIds !== undefined) await setUnitMembersInTx(deps, tx, actor, id, patch.memberIds, 'memberIds');
    return { ...toRecord(next), descendantsMoved: descendants.length };
  });
  return { ...value, revision };
}

/**
 * Adds identities to a unit and takes others out, in one write, reading only the identities
 * named (a SCIM PATCH adding members to a large Group reads none of the others). Added
 * identities leave the unit they were in; one named in `remove` that is not a member stays as
 * it is; one in `add` that does not exist is a 400 naming `field`. The unit's version moves:
 * its members are part of it as a SCIM Group.
 */
export async function changeUnitMembers(
  deps: ServiceDeps,
  actor: Actor,
  id: string,
  change: { add: readonly string[]; remove: readonly string[] },
  ifMatch?: string,
  field = 'members',
): Promise<OrgUnitRecord & { revision: number }> {
  requireRight(actor, 'manage-users');
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const row = await findOrgUnitRow(tx, id);
    if (!row) throw notFound('organization unit', id);
    assertIfMatch(ifMatch, row.version);
    const named = [...new Set([...change.add, ...change.remove])];
    const unitOf = new Map<string, string | null>();
    for (let i = 0; i < named.length; i += 500) {
      const rows = await tx.db.selectFrom('identities').select(['id', 'org_unit_id']).where('id', 'in', named.slice(i, i + 500)).execute();
      for (const r of rows) unitOf.set(r.id, r.org_unit_id);
    }
    const removing = new Set(change.remove);
    // Not yet members (or not found: refused by the move); a member both added and removed is removed.
    const add = [...new Set(change.add)].filter((i) => unitOf.get(i) !== id && !removing.has(i));
    const remove = [...removing].filter((i) => unitOf.get(i) === id);
    const next: OrgUnitRow = { ...row, updated_at: tx.now, version: row.version + 1 };
    await tx.db.updateTable('org_units').set({ updated_at: next.updated_at, version: next.version }).where('id', '=', id).execute();
    tx.audit({ action: 'orgUnit.update', targetType: 'orgUnit', targetId: id, before: toOrgUnitView(row), after: { ...toOrgUnitView(next), membersAdded: add.length, membersRemoved: remove.length } });
    tx.change('orgUnit', id, 'update');
    await notifyOrgUnitChange(deps, tx, { before: toOrgUnitView(row), after: toOrgUnitView(next) });
    await moveUnitMembersInTx(deps, tx, actor, id, { add, remove }, field);
    return toRecord(next);
  });
  return { ...value, revision };
}

/**
 * Deletes a unit. With `releaseMembers` its members leave it first, in the same write (a
 * SCIM Group deleted by an identity provider); otherwise members block the delete.
 */
export async function deleteOrgUnit(deps: ServiceDeps, actor: Actor, id: string, ifMatch?: string, options: { releaseMembers?: boolean } = {}): Promise<{ revision: number }> {
  requireRight(actor, 'manage-users');
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await findOrgUnitRow(tx, id);
    if (!row) throw notFound('organization unit', id);
    assertIfMatch(ifMatch, row.version);
    if (options.releaseMembers) await setUnitMembersInTx(deps, tx, actor, id, []);
    await assertNotBlocked(tx, ORG_UNIT_DELETE_BLOCKERS, `organization unit ${row.path}`, id);
    await tx.db.deleteFrom('org_units').where('id', '=', id).execute();
    const before = toOrgUnitView(row);
    tx.audit({ action: 'orgUnit.delete', targetType: 'orgUnit', targetId: id, before });
    tx.change('orgUnit', id, 'delete');
    await notifyOrgUnitChange(deps, tx, { before, after: null });
  });
  return { revision };
}

/* ---------- helpers ---------- */

function assertName(name: string): void {
  if (!new RegExp(UNIT_NAME_PATTERN).test(name) || name.length > 200) {
    throw new AppError('validation_failed', 'name must be 1-200 characters without "/" or control characters', {
      errors: [{ field: 'name', message: 'must be 1-200 characters without "/" or control characters' }],
    });
  }
}

function tooDeep(path: string): AppError {
  return new AppError('conflict', `the organization tree may be at most ${MAX_DEPTH} levels deep (${path} would exceed it)`);
}

async function requireParent(tx: WriteTx, parentId: string): Promise<OrgUnitRow> {
  const parent = await findOrgUnitRow(tx, parentId);
  if (!parent) {
    throw new AppError('validation_failed', `organization unit ${parentId} does not exist`, { errors: [{ field: 'parentId', message: 'does not exist' }] });
  }
  return parent;
}

/** The id of the unit's manager, which must be an identity of the tenant (400 naming `managerId` otherwise). */
async function requireManager(tx: WriteTx, managerId: string): Promise<string> {
  const found = await tx.db.selectFrom('identities').select('id').where('id', '=', managerId).executeTakeFirst();
  if (!found) {
    throw new AppError('validation_failed', `identity ${managerId} does not exist`, { errors: [{ field: 'managerId', message: 'does not exist' }] });
  }
  return found.id;
}

/** Moving `unit` under `parent` is a cycle when `unit` is `parent` or one of its ancestors. */
async function assertNoCycle(tx: WriteTx, unit: OrgUnitRow, parent: OrgUnitRow): Promise<void> {
  const chain: OrgUnitRow[] = [];
  let current: OrgUnitRow | undefined = parent;
  while (current && chain.length <= MAX_DEPTH) {
    chain.push(current);
    if (current.id === unit.id) {
      const down = chain.reverse();
      const names = [...down.map((c) => c.path), unit.path];
      throw new AppError('conflict', `moving ${unit.path} under ${parent.path} would make a cycle: ${names.join(' → ')}`, {
        details: { cycle: [...down.map((c) => c.id), unit.id] },
      });
    }
    current = current.parent_id ? await findOrgUnitRow(tx, current.parent_id) : undefined;
  }
}

async function assertUnique(tx: WriteTx, row: OrgUnitRow): Promise<void> {
  const sibling = await tx.db
    .selectFrom('org_units')
    .select('id')
    .where('name', '=', row.name)
    .where('id', '<>', row.id)
    .where((eb) => (row.parent_id === null ? eb('parent_id', 'is', null) : eb('parent_id', '=', row.parent_id)))
    .executeTakeFirst();
  if (sibling) {
    throw new AppError('conflict', `${row.path} already exists`, {
      errors: [{ field: 'name', message: `a unit named "${row.name}" already exists there (${sibling.id})` }],
    });
  }
  if (row.external_id === null) return;
  const other = await tx.db
    .selectFrom('org_units')
    .select('id')
    .where('external_id', '=', row.external_id)
    .where('id', '<>', row.id)
    .executeTakeFirst();
  if (other) {
    throw new AppError('conflict', `another organization unit already has externalId "${row.external_id}"`, {
      errors: [{ field: 'externalId', message: `is already used by organization unit ${other.id}` }],
    });
  }
}

/** Every descendant of a unit, breadth first (parents before children). */
async function descendantsOf(scope: TenantDb, unitId: string): Promise<OrgUnitRow[]> {
  const found: OrgUnitRow[] = [];
  let frontier = [unitId];
  for (let level = 0; frontier.length && level <= MAX_DEPTH; level += 1) {
    const children = await scope.db.selectFrom('org_units').selectAll().where('parent_id', 'in', frontier).execute();
    found.push(...children);
    frontier = children.map((c) => c.id);
  }
  return found;
}
