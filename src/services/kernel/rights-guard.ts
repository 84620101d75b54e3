/**
 * The rights guard: one rule checked on the effect of every write an actor makes, inside
 * the write's transaction, before it commits.
 *
 * 1. After the write, no identity holds a Grantory right it did not hold before, unless the
 *    actor holds that right itself (holding a right is what lets one give it). Refused whole
 *    with 403 `forbidden` naming the rights (`details.rightsBeyondCaller`) and identities.
 * 2. If before the write at least one active identity held every right (full
 *    administration) and after it none does, the write is refused with 409 `conflict`.
 *
 * "Holds" is checked in two views: potentially (an active, unexpired assignment in context
 * `All` counts even when it is valid only from a future date, which rule 1 makes count
 * tomorrow) and now (so a future grant is not brought forward either). For rule 2 of this
 * guard the assignment must count now. The system actor (CLI, bootstrap,
 * jobs) is not checked.
 *
 * "Before" is the last committed state, read on the store's second connection: a tenant's
 * writes are serialized, so it is the state the write started from. The guard only runs
 * when the write changed something that can move rights (assignments, identities, units,
 * roles, permissions, applications), and only looks at identities that can have gained:
 * those with their own assignments of a right, those the write changed, and — one query —
 * the active members of units whose inherited rights grew.
 *
 * ```ts
 * const { value, revision } = await writeAs(deps, actor, async (tx) => { ...; return row; });
 * ```
 */
import type { ExpressionBuilder } from 'kysely';
import { AppError } from '../../domain/errors.ts';
import { RIGHTS, type Right } from '../../domain/rights.ts';
import type { Database } from '../../store/schema.ts';
import { selectByIds } from '../../store/id-lookups.ts';
import type { Store, TenantDb, WriteTx } from '../../store/store.ts';
import { writeMeta, type Actor } from './actor.ts';
import {
  activeMembers,
  chunks,
  givesRight,
  identityRights,
  loadIdentities,
  loadRightsCore,
  loadRightsState,
  unitRights,
  type RightsCore,
  unitsWithRights,
  type RightsState,
  type RightsView,
} from './rights-state.ts';

/** Entities whose change can move who holds a right (`tx.change` names). */
const RIGHTS_ENTITIES = new Set(['assignment', 'identity', 'orgUnit', 'role', 'permission', 'application']);

/** How many identities a refusal names at most. */
const NAMED = 5;

/**
 * `store.write` for an actor: records the actor on the write's audit events and runs the
 * rights guard on the write's effect before it commits.
 */
export async function writeAs<T>(deps: { store: Store }, actor: Actor, fn: (tx: WriteTx) => Promise<T>): Promise<{ value: T; revision: number }> {
  return deps.store.write(actor.caller.tenantId, writeMeta(actor), (tx) =>
    actor.caller.kind === 'system' ? fn(tx) : withRightsGuard(deps.store, tx, actor.caller.rights, fn),
  );
}

/**
 * Inside a write: runs `fn`, then the rights guard on its effect as if done by a caller
 * holding `allowed` — for work done later on someone's behalf (a personnel event's stage,
 * run by the scheduler with the rights of whoever created the event).
 *
 * In a write that runs several such pieces of work one after another (the scheduler's
 * batches), each is judged against the last commit, i.e. with the effect of the pieces before
 * it: a gain one of those made counts against it too (the batch is then rolled back and each
 * piece runs in a write of its own, where only its own effect counts). Judging against the
 * write's own state instead would read an identity's status and unit, and a unit's members,
 * after `fn` had changed them.
 */
export async function withRightsGuard<T>(store: Store, tx: WriteTx, allowed: ReadonlySet<Right>, fn: (tx: WriteTx) => Promise<T>): Promise<T> {
  const touched = new Map<string, Set<string>>();
  const watched: WriteTx = {
    ...tx,
    change: (entity, entityId, op) => {
      (touched.get(entity) ?? touched.set(entity, new Set()).get(entity)!).add(entityId);
      tx.change(entity, entityId, op);
    },
  };
  const value = await fn(watched);
  if (await mayMoveRights(store, tx, touched)) await guardRights(store, tx, allowed, touched.get('identity') ?? new Set());
  return value;
}

/**
 * Whether the write's changes can move a right (when not, the guard's before/after is
 * skipped: no identity's rights differ between the two states).
 *
 * - a role, permission or application changed: yes;
 * - a unit: when its parent changed, or it was deleted (a unit created or renamed in place
 *   holds nothing yet and gives nothing to anyone by itself; its members moving in are
 *   identity changes, judged below);
 * - an assignment: when its resource gives a right (deleted ones are read from the last
 *   commit, new ones from the write);
 * - an identity whose status or unit changed (attributes act through assignment rules, whose
 *   effect is assignment changes), when it can hold or pass on a right in either state: it
 *   is the assignee or delegator of an assignment giving a right, or it is (or was) in a unit
 *   while some unit is assigned a right. An identity holding nothing, in no unit that could
 *   give it anything, moves no right — its own or anyone else's (a first push of people
 *   from an identity provider).
 */
export async function mayMoveRights(store: Store, tx: WriteTx, touched: ReadonlyMap<string, ReadonlySet<string>>): Promise<boolean> {
  const kinds = [...touched.keys()].filter((e) => RIGHTS_ENTITIES.has(e));
  if (kinds.some((k) => k !== 'identity' && k !== 'assignment' && k !== 'orgUnit')) return true;
  const committed = store.committed(tx.tenantId);
  // Each read by primary key in one statement, whatever the number of ids (see id-lookups.ts).
  const unitIds = touched.get('orgUnit') ?? new Set<string>();
  if (unitIds.size) {
    const read = (scope: TenantDb) => selectByIds(scope.db, tx.tenantId, 'org_units', ['id', 'parent_id'], unitIds);
    const after = new Map((await read(tx)).map((u) => [u.id, u.parent_id]));
    for (const u of await read(committed)) if (!after.has(u.id) || after.get(u.id) !== u.parent_id) return true;
  }
  const moved: { id: string; units: (string | null)[] }[] = [];
  const identityIds = touched.get('identity') ?? new Set<string>();
  if (identityIds.size) {
    const read = (scope: TenantDb) => selectByIds(scope.db, tx.tenantId, 'identities', ['id', 'status', 'org_unit_id'], identityIds);
    const before = new Map((await read(committed)).map((r) => [r.id, r]));
    for (const now of await read(tx)) {
      const then = before.get(now.id);
      before.delete(now.id);
      if (!then || then.status !== now.status || then.org_unit_id !== now.org_unit_id) moved.push({ id: now.id, units: [now.org_unit_id, then?.org_unit_id ?? null] });
    }
    // Deleted by the write: only in the last commit.
    for (const then of before.values()) moved.push({ id: then.id, units: [then.org_unit_id] });
  }
  const assignments = [...(touched.get('assignment') ?? [])];
  if (!assignments.length && !moved.length) return false;
  // Identities in no unit and named by no assignment at all: nothing to look up in the roles.
  if (!assignments.length && !moved.some((m) => m.units.some((u) => u !== null)) && !(await namedByAssignments(tx, moved.map((m) => m.id)))) return false;
  const core = await loadRightsCore(tx);
  // An assignment's resource never changes: read in the write, and only those the write
  // deleted (no longer there) in the last commit.
  if (assignments.length) {
    const rows = await selectByIds(tx.db, tx.tenantId, 'assignments', ['id', 'resource_type', 'resource_id'], assignments);
    if (rows.some((a) => givesRight(core, a))) return true;
    const found = new Set(rows.map((r) => r.id));
    const gone = assignments.filter((id) => !found.has(id));
    if (gone.length && (await selectByIds(committed.db, tx.tenantId, 'assignments', ['resource_type', 'resource_id'], gone)).some((a) => givesRight(core, a))) return true;
  }
  return moved.length > 0 && (await mayHoldRights(tx, core, moved));
}

/** An assignment's assignee or delegator is one of `ids`. */
const assigneeOrDelegator = (ids: readonly string[]) => (eb: ExpressionBuilder<Database, 'assignments'>) =>
  eb.or([eb.and([eb('assignee_type', '=', 'identity'), eb('assignee_id', 'in', ids)]), eb('delegator_id', 'in', ids)]);

/** Whether some assignment (of anything) has one of `ids` as its assignee or delegator. */
async function namedByAssignments(tx: WriteTx, ids: readonly string[]): Promise<boolean> {
  for (const part of chunks(ids)) {
    const named = await tx.db
      .selectFrom('assignments')
      .select('id')
      .where(assigneeOrDelegator(part))
      .limit(1)
      .executeTakeFirst();
    if (named) return true;
  }
  return false;
}

/**
 * Whether one of `moved` is the assignee or delegator of an assignment giving a right, or
 * is (or was) in a unit while some unit is assigned a right. Assignments are read in the
 * write: those the write did not touch are the same in the last commit, and those it
 * touched were judged already.
 */
async function mayHoldRights(tx: WriteTx, core: RightsCore, moved: readonly { id: string; units: (string | null)[] }[]): Promise<boolean> {
  const resources = (['permission', 'role'] as const).map((type) => ({ type, ids: [...(type === 'role' ? core.roles.keys() : core.rightOf.keys())] }));
  const inUnit = moved.some((m) => m.units.some((u) => u !== null));
  for (const { type, ids: resourceIds } of resources) {
    for (const resourceChunk of chunks(resourceIds)) {
      const giving = tx.db.selectFrom('assignments').select('id').where('resource_type', '=', type).where('resource_id', 'in', resourceChunk);
      if (inUnit && (await giving.where('assignee_type', '=', 'orgUnit').limit(1).executeTakeFirst())) return true;
      for (const ids of chunks(moved.map((m) => m.id))) {
        const held = await giving.where(assigneeOrDelegator(ids)).limit(1).executeTakeFirst();
        if (held) return true;
      }
    }
  }
  return false;
}

async function guardRights(store: Store, tx: WriteTx, allowed: ReadonlySet<Right>, changedIdentities: ReadonlySet<string>): Promise<void> {
  const after = await loadRightsState(tx, tx.now);
  let before: RightsState | undefined;
  const beforeState = async () => (before ??= await loadRightsState(store.committed(tx.tenantId), tx.now));

  const beyond = new Set(RIGHTS.filter((r) => !allowed.has(r)));
  if (beyond.size) {
    const gains = await findGains(await beforeState(), after, beyond, changedIdentities);
    if (gains.size) {
      const rights = RIGHTS.filter((r) => [...gains.values()].some((g) => g.has(r)));
      const identities = [...gains.keys()].slice(0, NAMED);
      const who = identities.join(', ') + (gains.size > NAMED ? ` and ${gains.size - NAMED} more` : '');
      throw new AppError('forbidden', `this change would give Grantory rights the caller does not hold (${rights.join(', ')}) to identity ${who}`, {
        details: { rightsBeyondCaller: rights, identities },
      });
    }
  }
  if (!(await administratorRemains(after)) && (await administratorRemains(await beforeState()))) {
    throw new AppError(
      'conflict',
      'this change would leave no active identity holding every Grantory right (full administration); give full administration to another identity first',
      { details: { reason: 'last_full_administrator' } },
    );
  }
}

/** Identity id -> the rights in `beyond` it holds after the write and did not before. */
async function findGains(before: RightsState, after: RightsState, beyond: ReadonlySet<Right>, changed: ReadonlySet<string>): Promise<Map<string, Set<Right>>> {
  const gains = new Map<string, Set<Right>>();
  // A gain in either view: a right held potentially that was not (a future grant), or held
  // now that was not (a future grant brought forward).
  const gainedWith = (rightsIn: (state: RightsState, view: RightsView) => Set<Right>) => {
    const g = new Set<Right>();
    for (const view of ['potential', 'current'] as const) {
      const then = rightsIn(before, view);
      for (const r of rightsIn(after, view)) if (beyond.has(r) && !then.has(r)) g.add(r);
    }
    return g;
  };

  // Identities with their own assignments, or changed by the write: compared one by one.
  const compared = new Set([...before.directIdentities, ...after.directIdentities, ...changed]);
  await loadIdentities(before, [...compared]);
  await loadIdentities(after, [...compared]);
  for (const id of compared) {
    const g = gainedWith((state, view) => identityRights(state, id, view));
    if (g.size) gains.set(id, g);
  }

  // Every other member holds exactly what its unit inherits, in both states (its row did
  // not change): it gained when its unit's inherited rights grew.
  const grownUnits = new Map<string, Set<Right>>();
  for (const unitId of unitsWithRights(after)) {
    const g = gainedWith((state, view) => unitRights(state, unitId, view));
    if (g.size) grownUnits.set(unitId, g);
  }
  if (grownUnits.size) {
    for (const m of await activeMembers(after, [...grownUnits.keys()], compared, NAMED)) gains.set(m.id, grownUnits.get(m.unitId)!);
  }
  return gains;
}

/** Whether some active identity holds every right now. */
async function administratorRemains(state: RightsState): Promise<boolean> {
  for (const id of state.directIdentities) if (identityRights(state, id, 'current').size === RIGHTS.length) return true;
  const fullUnits = unitsWithRights(state).filter((u) => unitRights(state, u, 'current').size === RIGHTS.length);
  return fullUnits.length > 0 && (await activeMembers(state, fullUnits, new Set(), 1)).length > 0;
}
