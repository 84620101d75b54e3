/**
 * Identities: the people and service accounts of a tenant (glossary: identity).
 *
 * Invariants kept here, for every caller (HTTP, CLI, jobs, vendor profiles):
 * - `subject`, `username` and `employeeNumber` are unique in the tenant (409 naming the field);
 *   `subject`, `username` and `email` are stored in NFC and hold no invisible characters, and
 *   a username that looks like another one (same confusables skeleton) is a 409 naming it
 *   (see `domain/identifiers.ts`);
 * - a `subject` is generated as `grantory:<number>` when absent; the `grantory:` prefix is
 *   reserved for generated subjects, in any case or look-alike spelling, so a caller's
 *   subject can never collide with one;
 * - `managerId` and `orgUnitId` refer to existing objects of the tenant; the manager chain
 *   has no cycle (409 naming it);
 * - an identity that something still refers to is not deleted (409 naming each blocker,
 *   see `src/services/kernel/delete-blockers.ts`).
 *
 * Every write runs the `afterIdentityChange` listeners (see `hooks.ts`) inside
 * its transaction: that is where assignment rules are re-evaluated.
 *
 * ```ts
 * const { identity, version, revision } = await createIdentity(deps, actor, { username: 'ada', email: 'ada@example.com' });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { sql } from 'kysely';
import { canonicalJson } from '../../domain/canonical-json.ts';
import { assertIfMatch } from '../../domain/etag.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import { identifierSkeleton } from '../../domain/identifiers.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import { requireRight, type Actor, openPager, type Page, containsText, writeAs, assertNotBlocked, IDENTITY_DELETE_BLOCKERS } from '../kernel/index.ts';
import { checkUnitMoveSod, refuseOrReport, unitChain } from '../sod/index.ts';
import { notifyIdentityChange } from './hooks.ts';
import { assertAttributes, assertCallerSubject, assertReferences, assertUnique, insertOrConflict, normalizeIdentifiers } from './identity-checks.ts';
import {
  GENERATED_SUBJECT_PREFIX,
  toIdentityView,
  toRecord,
  type CreateIdentityInput,
  type IdentityRecord,
  type IdentityRow,
  type IdentityStatus,
  type UpdateIdentityInput,
} from './identity-records.ts';
import type { IdentityView } from './views.ts';
import type { ServiceDeps } from '../deps.ts';

export interface ListIdentitiesQuery {
  status?: IdentityStatus | undefined;
  orgUnitId?: string | undefined;
  managerId?: string | undefined;
  q?: string | undefined;
  limit?: number | undefined;
  cursor?: string | undefined;
}

/* ---------- lookups for other services (no rights check: the calling service did it) ---------- */

export async function findIdentityRow(scope: TenantDb, id: string): Promise<IdentityRow | undefined> {
  return scope.db.selectFrom('identities').selectAll().where('id', '=', id).executeTakeFirst();
}

/**
 * Finds an identity by its id or, failing that, by its subject — the way `POST /check`
 * and the CoreOne profile name identities.
 */
export async function findIdentityByIdOrSubject(scope: TenantDb, idOrSubject: string): Promise<IdentityRecord | undefined> {
  const row = await scope.db
    .selectFrom('identities')
    .selectAll()
    // Subjects are stored in NFC; one stored before that is found as written.
    .where((eb) => eb.or([eb('id', '=', idOrSubject), eb('subject', 'in', [...new Set([idOrSubject, idOrSubject.normalize('NFC')])])]))
    .orderBy(sql`case when id = ${idOrSubject} then 0 else 1 end`)
    .executeTakeFirst();
  return row && toRecord(row);
}

/** Finds an identity by its integer `number` (the id of vendor profiles). */
export async function findIdentityByNumber(scope: TenantDb, number: number): Promise<IdentityRecord | undefined> {
  const row = await scope.db
    .selectFrom('identities')
    .selectAll()
    .where('number', '=', number)
    .executeTakeFirst();
  return row && toRecord(row);
}

/* ---------- use cases ---------- */

export async function getIdentity(deps: ServiceDeps, actor: Actor, id: string): Promise<IdentityRecord> {
  requireRight(actor, 'manage-users');
  const row = await findIdentityRow(deps.store.read(actor.caller.tenantId), id);
  if (!row) throw notFound('identity', id);
  return toRecord(row);
}

export async function getIdentityByNumber(deps: ServiceDeps, actor: Actor, number: number): Promise<IdentityRecord> {
  requireRight(actor, 'manage-users');
  const found = await findIdentityByNumber(deps.store.read(actor.caller.tenantId), number);
  if (!found) throw notFound('identity', String(number));
  return found;
}

export async function listIdentities(deps: ServiceDeps, actor: Actor, query: ListIdentitiesQuery): Promise<Page<IdentityView>> {
  requireRight(actor, 'manage-users');
  const { tenantId } = actor.caller;
  const filter = { status: query.status, orgUnitId: query.orgUnitId, managerId: query.managerId, q: query.q };
  const pager = await openPager<number>(deps, tenantId, 'identities', filter, query);
  const { db } = deps.store.read(tenantId);
  let q = db.selectFrom('identities').selectAll();
  if (query.status) q = q.where('status', '=', query.status);
  if (query.orgUnitId) q = q.where('org_unit_id', '=', query.orgUnitId);
  if (query.managerId) q = q.where('manager_id', '=', query.managerId);
  const text = query.q?.trim();
  if (text) q = q.where(() => matchesText(text, ['username', 'email', 'first_name', 'last_name', 'display_name', 'employee_number']));
  if (pager.after !== null) q = q.where('number', '>', pager.after);
  const rows = await q.orderBy('number').limit(pager.limit + 1).execute();
  return pager.page(rows, (r) => Number(r.number), toIdentityView);
}

type SearchedColumn = 'username' | 'email' | 'first_name' | 'last_name' | 'display_name' | 'employee_number';

/** An identity whose `columns`, or its first and last name together, contain `text`. */
function matchesText(text: string, columns: readonly SearchedColumn[]) {
  const parts = [...columns.map((c) => containsText(sql.ref(c), text)), containsText(sql`coalesce(first_name, '') || ' ' || coalesce(last_name, '')`, text)];
  return sql<boolean>`(${sql.join(parts, sql` or `)})`;
}

/** One match of the directory lookup: only what picking a person needs. */
export interface DirectoryEntry {
  id: string;
  username: string | null;
  /** The display name, else the first and last name; null when the identity has neither. */
  displayName: string | null;
}

export const DIRECTORY_LOOKUP_MAX = 20;

/**
 * The directory lookup (`GET /api/v1/directory/identities`): the active identities of the
 * caller's tenant whose name or username contains `q`, with their id, username and name only,
 * for any caller acting as an identity — so that someone without manage-users can pick a
 * colleague (whom to delegate to). No e-mail, employee number, unit or attributes, no other
 * status, at most {@link DIRECTORY_LOOKUP_MAX} matches, and no paging past them.
 */
export async function lookUpIdentities(deps: Pick<ServiceDeps, 'store'>, actor: Actor, query: { q: string; limit: number }): Promise<{ items: DirectoryEntry[] }> {
  if (actor.caller.identityId === null) throw new AppError('forbidden', 'the directory lookup is for callers acting as an identity');
  const text = query.q.trim();
  if (text.length < 2) throw new AppError('validation_failed', 'q must have at least 2 characters', { errors: [{ field: 'q', message: 'at least 2 characters' }] });
  const { tenantId } = actor.caller;
  const { db } = deps.store.read(tenantId);
  const rows = await db
    .selectFrom('identities')
    .select(['id', 'username', 'display_name', 'first_name', 'last_name'])
    .where('status', '=', 'active')
    .where(() => matchesText(text, ['username', 'first_name', 'last_name', 'display_name']))
    .orderBy('number')
    .limit(Math.min(query.limit, DIRECTORY_LOOKUP_MAX))
    .execute();
  return {
    items: rows.map((r) => ({ id: r.id, username: r.username, displayName: r.display_name ?? ([r.first_name, r.last_name].filter(Boolean).join(' ') || null) })),
  };
}

/** More changes made in the same write as an identity's (a refused request then changes nothing). */
export type AlsoInWrite = (tx: WriteTx, identityId: string) => Promise<void>;

export async function createIdentity(
  deps: ServiceDeps,
  actor: Actor,
  given: CreateIdentityInput,
  alsoInWrite?: AlsoInWrite,
): Promise<IdentityRecord & { revision: number }> {
  requireRight(actor, 'manage-users');
  const input = normalizeIdentifiers(given);
  if (input.subject !== undefined) assertCallerSubject(input.subject);
  assertAttributes(input.attributes);
  const { tenantId } = actor.caller;
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const number = await tx.nextNumber('identities');
    const row: IdentityRow = {
      id: randomUUID(),
      tenant_id: tenantId,
      number,
      subject: input.subject ?? `${GENERATED_SUBJECT_PREFIX}${number}`,
      username: input.username ?? null,
      username_skeleton: input.username ? identifierSkeleton(input.username) : null,
      email: input.email ?? null,
      first_name: input.firstName ?? null,
      last_name: input.lastName ?? null,
      display_name: input.displayName ?? null,
      employee_number: input.employeeNumber ?? null,
      type: input.type ?? 'employee',
      status: input.status ?? 'active',
      manager_id: input.managerId ?? null,
      org_unit_id: input.orgUnitId ?? null,
      attributes: canonicalJson(input.attributes ?? {}),
      created_at: tx.now,
      updated_at: tx.now,
      version: 1,
    };
    await assertReferences(tx, row);
    await assertUnique(tx, row);
    await insertOrConflict(tx.db.insertInto('identities').values(row).execute());
    const after = toIdentityView(row);
    tx.audit({ action: 'identity.create', targetType: 'identity', targetId: row.id, after });
    tx.change('identity', row.id, 'create');
    await notifyIdentityChange(deps, tx, { before: null, after });
    await unitSod(deps, tx, actor, row.id, null, row.org_unit_id);
    await alsoInWrite?.(tx, row.id);
    return toRecord(row);
  });
  return { ...value, revision };
}

export async function updateIdentity(
  deps: ServiceDeps,
  actor: Actor,
  id: string,
  patch: UpdateIdentityInput,
  ifMatch?: string,
  alsoInWrite?: AlsoInWrite,
): Promise<IdentityRecord & { revision: number }> {
  requireRight(actor, 'manage-users');
  assertAttributes(patch.attributes);
  const normalized = normalizeIdentifiers(patch);
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const record = await updateIdentityInTx(deps, tx, id, normalized, ifMatch, actor);
    await alsoInWrite?.(tx, id);
    return record;
  });
  return { ...value, revision };
}

/** Moves an identity into an organization unit (or out of any with `null`). */
export async function setIdentityUnit(
  deps: ServiceDeps,
  actor: Actor,
  identityId: string,
  orgUnitId: string | null,
  ifMatch?: string,
): Promise<IdentityRecord & { revision: number }> {
  return updateIdentity(deps, actor, identityId, { orgUnitId }, ifMatch);
}

/**
 * Makes `identityIds` exactly the members of a unit, in one write: listed identities move
 * into the unit, members not listed leave it (their unit becomes null). Returns who moved.
 */
export async function setUnitMembers(
  deps: ServiceDeps,
  actor: Actor,
  orgUnitId: string,
  identityIds: readonly string[],
): Promise<{ added: string[]; removed: string[]; revision: number }> {
  requireRight(actor, 'manage-users');
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const unit = await tx.db.selectFrom('org_units').select('id').where('id', '=', orgUnitId).executeTakeFirst();
    if (!unit) throw notFound('organization unit', orgUnitId);
    const moved = await setUnitMembersInTx(deps, tx, actor, orgUnitId, identityIds);
    if (!moved.added.length && !moved.removed.length) {
      tx.audit({ action: 'orgUnit.members.set', targetType: 'orgUnit', targetId: orgUnitId, after: { unchanged: true } });
    }
    return moved;
  });
  return { ...value, revision };
}

/**
 * Inside a write (the unit exists): makes `identityIds` exactly the unit's members. An
 * identity that does not exist is a 400 naming `field`; members not listed leave the unit.
 */
export async function setUnitMembersInTx(
  deps: ServiceDeps,
  tx: WriteTx,
  actor: Actor,
  orgUnitId: string,
  identityIds: readonly string[],
  field = 'identityIds',
): Promise<{ added: string[]; removed: string[] }> {
  const wanted = new Set(identityIds);
  const current = await tx.db.selectFrom('identities').select('id').where('org_unit_id', '=', orgUnitId).execute();
  const currentIds = new Set(current.map((r) => r.id));
  const added = [...wanted].filter((i) => !currentIds.has(i));
  const removed = [...currentIds].filter((i) => !wanted.has(i));
  await moveUnitMembersInTx(deps, tx, actor, orgUnitId, { add: added, remove: removed }, field);
  return { added, removed };
}

/**
 * Inside a write (the unit exists): moves `add` into the unit and `remove` out of it (their
 * unit becomes null); the caller has chosen who is not yet in it and who is. An identity in
 * `add` that does not exist is a 400 naming `field`.
 */
export async function moveUnitMembersInTx(
  deps: ServiceDeps,
  tx: WriteTx,
  actor: Actor,
  orgUnitId: string,
  change: { add: readonly string[]; remove: readonly string[] },
  field: string,
): Promise<void> {
  for (const identityId of change.add) {
    try {
      await updateIdentityInTx(deps, tx, identityId, { orgUnitId }, undefined, actor);
    } catch (e) {
      if (!(e instanceof AppError && e.code === 'not_found')) throw e;
      throw new AppError('validation_failed', `${field} names an identity that does not exist: ${identityId}`, { errors: [{ field, message: `names an identity that does not exist: ${identityId}` }] });
    }
  }
  for (const identityId of change.remove) await updateIdentityInTx(deps, tx, identityId, { orgUnitId: null }, undefined, actor);
}

export async function deleteIdentity(deps: ServiceDeps, actor: Actor, id: string, ifMatch?: string): Promise<{ revision: number }> {
  requireRight(actor, 'manage-users');
  const { revision } = await writeAs(deps, actor, async (tx) => {
    const row = await findIdentityRow(tx, id);
    if (!row) throw notFound('identity', id);
    assertIfMatch(ifMatch, row.version);
    await assertNotBlocked(tx, IDENTITY_DELETE_BLOCKERS, `identity ${row.subject}`, id);
    await tx.db.deleteFrom('identities').where('id', '=', id).execute();
    const before = toIdentityView(row);
    tx.audit({ action: 'identity.delete', targetType: 'identity', targetId: id, before });
    tx.change('identity', id, 'delete');
    await notifyIdentityChange(deps, tx, { before, after: null });
  });
  return { revision };
}

/* ---------- inside a write ---------- */

async function updateIdentityInTx(
  deps: ServiceDeps,
  tx: WriteTx,
  id: string,
  patch: UpdateIdentityInput,
  ifMatch: string | undefined,
  actor: Actor,
): Promise<IdentityRecord> {
  const row = await findIdentityRow(tx, id);
  if (!row) throw notFound('identity', id);
  assertIfMatch(ifMatch, row.version);
  if (patch.subject !== undefined && patch.subject !== row.subject) assertCallerSubject(patch.subject);
  const pick = <T>(given: T | undefined, current: T): T => (given === undefined ? current : given);
  const next: IdentityRow = {
    ...row,
    subject: pick(patch.subject, row.subject),
    username: pick(patch.username, row.username),
    username_skeleton: patch.username === undefined ? row.username_skeleton : patch.username && identifierSkeleton(patch.username),
    email: pick(patch.email, row.email),
    first_name: pick(patch.firstName, row.first_name),
    last_name: pick(patch.lastName, row.last_name),
    display_name: pick(patch.displayName, row.display_name),
    employee_number: pick(patch.employeeNumber, row.employee_number),
    type: pick(patch.type, row.type),
    status: pick(patch.status, row.status),
    manager_id: pick(patch.managerId, row.manager_id),
    org_unit_id: pick(patch.orgUnitId, row.org_unit_id),
    attributes: patch.attributes === undefined ? row.attributes : canonicalJson(patch.attributes),
    updated_at: tx.now,
    version: row.version + 1,
  };
  await assertReferences(tx, next, row);
  await assertUnique(tx, next, row);
  const { id: _id, tenant_id: _tenant, number: _number, created_at: _created, ...changes } = next;
  await insertOrConflict(
    tx.db.updateTable('identities').set(changes).where('id', '=', id).execute(),
  );
  const before = toIdentityView(row);
  const after = toIdentityView(next);
  tx.audit({ action: 'identity.update', targetType: 'identity', targetId: id, before, after });
  tx.change('identity', id, 'update');
  await notifyIdentityChange(deps, tx, { before, after });
  await unitSod(deps, tx, actor, id, row.org_unit_id, next.org_unit_id);
  return toRecord(next);
}

/**
 * Separation of duties when an identity enters a unit: it inherits the assignments of the
 * unit and the units above it that were not above it before; a conflict they create refuses
 * the write as an assignment would (`require_exception`: unless an exception was recorded
 * for the identity ahead, `POST /sod-exceptions`).
 */
async function unitSod(deps: ServiceDeps, tx: WriteTx, actor: Actor, identityId: string, unitBefore: string | null, unitAfter: string | null): Promise<void> {
  if (unitAfter === null || unitAfter === unitBefore) return;
  const conflicts = await checkUnitMoveSod(tx, deps, { identityIds: [identityId], oldChain: await unitChain(tx, unitBefore) });
  await refuseOrReport(tx, actor, conflicts, { mode: 'refuse', path: 'unitMove', subject: { type: 'identity', id: identityId } });
}
