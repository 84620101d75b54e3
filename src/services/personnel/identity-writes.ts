/**
 * The identity writes of personnel-event stages, inside the stage's transaction: create the
 * joiner, change the mover, set a status. Each is audited as `identity.create` /
 * `identity.update` with the event as its cause and runs the directory listeners
 * (`deps.directoryHooks`), so the assignment rules re-evaluate in the same write exactly as
 * they do for a change made through the identities API.
 *
 * {@link identityProblem} checks beforehand what would make the write fail (a unit or
 * manager that no longer exists, a username or employee number taken, a manager cycle), so
 * a stage can record why it failed instead of failing half-way.
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical-json.ts';
import { identifierSkeleton } from '../../domain/identifiers.ts';
import { changedColumns } from '../../store/changed-columns.ts';
import type { Database } from '../../store/schema.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import { toIdentityView as viewOf, type IdentityView } from '../directory/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { systemActor } from '../kernel/index.ts';
import { checkUnitMoveSod, refuseOrReport, unitChain } from '../sod/index.ts';
import type { IdentityChanges } from './model.ts';

type IdentityRow = Database['identities'];


export async function identityRow(scope: TenantDb, id: string): Promise<IdentityRow | undefined> {
  return scope.db.selectFrom('identities').selectAll().where('id', '=', id).executeTakeFirst();
}

/** The attributes after merging `changes` (a null value removes the key). */
export function mergedAttributes(current: Record<string, string>, changes: IdentityChanges['attributes']): Record<string, string> {
  const next = { ...current };
  for (const [k, v] of Object.entries(changes ?? {})) {
    if (v === null) delete next[k];
    else next[k] = v;
  }
  return next;
}

/** Why writing `row` would fail now (null when it would not). */
export async function identityProblem(scope: TenantDb, row: Pick<IdentityRow, 'id' | 'username' | 'employee_number' | 'manager_id' | 'org_unit_id'>): Promise<string | null> {
  const { db } = scope;
  if (row.org_unit_id !== null) {
    const unit = await db.selectFrom('org_units').select('id').where('id', '=', row.org_unit_id).executeTakeFirst();
    if (!unit) return `organization unit ${row.org_unit_id} does not exist`;
  }
  for (const [column, value] of [['username', row.username], ['employee_number', row.employee_number]] as const) {
    if (value === null) continue;
    const other = await db.selectFrom('identities').select('id').where(column, '=', value).where('id', '<>', row.id).executeTakeFirst();
    if (other) return `${column === 'username' ? 'username' : 'employeeNumber'} "${value}" is already used by identity ${other.id}`;
  }
  if (row.username !== null) {
    const alike = await db
      .selectFrom('identities')
      .select(['id', 'username'])
      .where('username_skeleton', '=', identifierSkeleton(row.username))
      .where('id', '<>', row.id)
      .executeTakeFirst();
    if (alike) return `username "${row.username}" cannot be told apart from "${alike.username}" of identity ${alike.id}`;
  }
  // The new manager's chain must exist and not lead back to this identity.
  const seen = new Set<string>([row.id]);
  for (let m = row.manager_id, first = true; m !== null; first = false) {
    if (seen.has(m)) return `manager ${row.manager_id} would close a cycle in the manager chain`;
    seen.add(m);
    const manager = await db.selectFrom('identities').select(['id', 'manager_id']).where('id', '=', m).executeTakeFirst();
    if (!manager) return first ? `manager ${m} does not exist` : null;
    if (seen.size > 10_000) return null;
    m = manager.manager_id;
  }
  return null;
}

/** The row an onboarding would create (number and subject are given on insert). */
export function joinerRow(tenantId: string, fields: IdentityChanges, now: string): IdentityRow {
  return {
    id: randomUUID(),
    tenant_id: tenantId,
    number: 0,
    subject: '',
    username: fields.username ?? null,
    username_skeleton: fields.username ? identifierSkeleton(fields.username) : null,
    email: fields.email ?? null,
    first_name: fields.firstName ?? null,
    last_name: fields.lastName ?? null,
    display_name: fields.displayName ?? null,
    employee_number: fields.employeeNumber ?? null,
    type: fields.type ?? 'employee',
    status: 'active',
    manager_id: fields.managerId ?? null,
    org_unit_id: fields.orgUnitId ?? null,
    attributes: canonicalJson(mergedAttributes({}, fields.attributes)),
    created_at: now,
    updated_at: now,
    version: 1,
  };
}

export async function insertJoiner(deps: ServiceDeps, tx: WriteTx, row: IdentityRow, cause: Record<string, unknown>): Promise<IdentityView> {
  const number = await tx.nextNumber('identities');
  const full: IdentityRow = { ...row, number, subject: `grantory:${number}` };
  await tx.db.insertInto('identities').values(full).execute();
  const after = viewOf(full);
  tx.audit({ action: 'identity.create', targetType: 'identity', targetId: full.id, after: { ...after, cause } });
  tx.change('identity', full.id, 'create');
  for (const listener of deps.directoryHooks?.afterIdentityChange ?? []) await listener(tx, { before: null, after });
  await reportUnitSod(deps, tx, full.id, null, full.org_unit_id, cause);
  return after;
}

/** The row after applying `changes` (and `status`) to `row`. */
export function changedRow(row: IdentityRow, changes: IdentityChanges, status: string | undefined, now: string): IdentityRow {
  const pick = <T>(given: T | undefined, current: T): T => (given === undefined ? current : given);
  const username = pick(changes.username, row.username);
  return {
    ...row,
    username,
    username_skeleton: username === row.username ? row.username_skeleton : username && identifierSkeleton(username),
    email: pick(changes.email, row.email),
    first_name: pick(changes.firstName, row.first_name),
    last_name: pick(changes.lastName, row.last_name),
    display_name: pick(changes.displayName, row.display_name),
    employee_number: pick(changes.employeeNumber, row.employee_number),
    type: pick(changes.type, row.type),
    status: status ?? row.status,
    manager_id: pick(changes.managerId, row.manager_id),
    org_unit_id: pick(changes.orgUnitId, row.org_unit_id),
    attributes: changes.attributes === undefined ? row.attributes : canonicalJson(mergedAttributes(JSON.parse(row.attributes) as Record<string, string>, changes.attributes)),
    updated_at: now,
    version: Number(row.version) + 1,
  };
}

export async function updateIdentityRow(deps: ServiceDeps, tx: WriteTx, row: IdentityRow, next: IdentityRow, cause: Record<string, unknown>): Promise<IdentityView> {
  // The id, tenant, number, subject and creation time never change here; the version always does.
  await tx.db.updateTable('identities').set(changedColumns(row, next)).where('id', '=', row.id).execute();
  const before = viewOf(row);
  const after = viewOf(next);
  tx.audit({ action: 'identity.update', targetType: 'identity', targetId: row.id, before, after: { ...after, cause } });
  tx.change('identity', row.id, 'update');
  for (const listener of deps.directoryHooks?.afterIdentityChange ?? []) await listener(tx, { before, after });
  await reportUnitSod(deps, tx, row.id, row.org_unit_id, next.org_unit_id, cause);
  return after;
}

/**
 * An approved HR event that puts the identity in a unit happens whatever the access model
 * says: a separation-of-duties conflict the unit's inherited access creates does not stop
 * the stage — it is recorded (`sod.detected`) and listed by `GET /sod-violations`.
 */
async function reportUnitSod(deps: ServiceDeps, tx: WriteTx, identityId: string, unitBefore: string | null, unitAfter: string | null, cause: Record<string, unknown>): Promise<void> {
  if (unitAfter === null || unitAfter === unitBefore) return;
  const conflicts = await checkUnitMoveSod(tx, deps, { identityIds: [identityId], oldChain: await unitChain(tx, unitBefore) });
  const subject = typeof cause['personnelEventId'] === 'string' ? { type: 'personnelEvent', id: cause['personnelEventId'] } : { type: 'identity', id: identityId };
  await refuseOrReport(tx, systemActor(tx.tenantId), conflicts, { mode: 'report', path: 'personnelEvent', subject });
}

export { viewOf as identityViewOf };
