/**
 * Point-in-time access (docs/history.md): what an identity held at a past instant, who held a
 * permission then, and every change of an identity's effective access in a window with the
 * audit events behind it. Answered from recorded history (src/engine/history.ts) by the
 * engine's own queries over the facts valid at that instant.
 *
 * Rights: `read-permissions-any-application`, as for the live reads and explain.
 */
import type { AccessSpace } from '../../domain/access.ts';
import { AppError } from '../../domain/errors.ts';
import { AccessHistory, type HistoricalFacts } from '../../engine/history.ts';
import { NONE } from '../../engine/nodes.ts';
import { cmp, heldVia, listAccess, type HeldPermission, type HeldVia } from '../../engine/queries.ts';
import type { TenantIndex } from '../../engine/tenant-index.ts';
import type { AssignmentRow } from '../../store/fact-rows.ts';
import { requireRight, systemActor, writeAs, type Actor } from '../kernel/index.ts';
import { pruneFacts } from '../../store/fact-history.ts';
import type { ServiceDeps } from '../deps.ts';
import { decodeCursor, encodeCursor, engineOf } from './common.ts';
import { findIdentity, type HolderView } from './queries.ts';

/** Evaluations one history request makes at most; beyond, the answer says where to go on. */
const MAX_EVALUATIONS = 500;
/** Revisions one history request examines at most. */
const MAX_REVISIONS = 20_000;

interface Instant {
  time: string;
  ms: number;
}

function invalidInstant(field: string, message: string, details?: Record<string, unknown>): AppError {
  return new AppError('validation_failed', `${field} ${message}`, { errors: [{ field, message }], ...(details ? { details } : {}) });
}

/**
 * Parses and bounds an instant: not in the future, not before the tenant existed, not before
 * its history is recorded.
 */
async function instant(history: AccessHistory, tenantId: string, field: string, value: string, now: number): Promise<Instant> {
  const ms = Date.parse(value);
  if (!/^\d{4}-\d{2}-\d{2}T/.test(value) || Number.isNaN(ms)) throw invalidInstant(field, 'must be a date-time (RFC 3339, e.g. 2026-03-14T12:00:00Z)');
  const time = new Date(ms).toISOString();
  if (ms > now) throw invalidInstant(field, `is in the future (now is ${new Date(now).toISOString()}): history answers only for past instants`, { now: new Date(now).toISOString() });
  const bounds = await history.bounds(tenantId);
  if (time < bounds.tenantCreatedAt) throw invalidInstant(field, `is before the tenant existed (it was created at ${bounds.tenantCreatedAt})`, { tenantCreatedAt: bounds.tenantCreatedAt });
  if (bounds.prunedBefore !== null && time < bounds.prunedBefore) {
    throw invalidInstant(field, `is before the access-history horizon: history older than ${bounds.prunedBefore} was pruned by its retention setting (GRANTORY_HISTORY_RETENTION_DAYS); the audit trail still lists the changes`, {
      recordedFrom: bounds.recordedFrom,
      prunedBefore: bounds.prunedBefore,
    });
  }
  if (time < bounds.recordedFrom) throw invalidInstant(field, `is before access history was recorded for this tenant (from ${bounds.recordedFrom})`, { recordedFrom: bounds.recordedFrom });
  return { time, ms };
}

export interface IdentityAt {
  id: string;
  subject: string;
  username: string | null;
  displayName: string | null;
  status: string;
  orgUnitId: string | null;
}

function identityAt(index: TenantIndex, slot: number): IdentityAt {
  const n = index.identities.get(slot);
  return { id: n.id, subject: n.subject, username: n.username, displayName: n.displayName, status: n.status, orgUnitId: n.unit === NONE ? null : index.units.get(n.unit).id };
}

/** The identity id a reference names: an id, else a subject or username the live index knows. */
function identityIdOf(index: TenantIndex | null, ref: string): string {
  if (index === null) return ref;
  const slot = findIdentity(index, ref);
  return slot === NONE ? ref : index.identities.get(slot).id;
}

/** The checks and lookups every point-in-time read starts with: the right, the instant, its revision. */
async function pointInTime(deps: ServiceDeps, actor: Actor, value: string) {
  requireRight(actor, 'read-permissions-any-application');
  const engine = engineOf(deps);
  const tenantId = actor.caller.tenantId;
  const history = new AccessHistory(deps.store);
  const at = await instant(history, tenantId, 'at', value, engine.now());
  return { engine, tenantId, history, at, revision: await history.revisionAt(tenantId, at.time) };
}

/** What the identity held at the instant, each with why as it was then. */
export async function accessAt(
  deps: ServiceDeps,
  actor: Actor,
  input: { at: string; identity: string; space?: AccessSpace | undefined },
): Promise<{ at: string; revision: number; space: AccessSpace; identity: IdentityAt; items: HeldPermission[] }> {
  const { engine, tenantId, history, at, revision } = await pointInTime(deps, actor, input.at);
  const live = (await engine.at(tenantId)).index;
  const id = identityIdOf(live, input.identity);
  const index = (await history.identityFacts(tenantId, revision, [id])).index(tenantId);
  const slot = index.identities.find(id);
  if (slot === NONE || !index.identities.get(slot).exists) throw new AppError('not_found', `identity ${input.identity} did not exist at ${at.time}`);
  const space = input.space ?? 'assigned';
  return { at: at.time, revision, space, identity: identityAt(index, slot), items: listAccess(index, slot, at.ms, space) };
}

/** Candidates evaluated together at most: the first batch is the page's size plus one, each further one twice the last. */
const MAX_HOLDER_BATCH = 2_000;

/**
 * Who held the permission at the instant (any context), ordered by identity id, cursor-paged.
 * The candidates (identities reached by an assignment of the permission or of a role giving
 * it, or with an account granting it) are found by id alone; then they are evaluated in id
 * order, a batch at a time, each batch's facts read and built into an index of its own, until
 * the page is full and one more holder shows that another page follows. A page costs about
 * its own size, not the number of candidates.
 */
export async function holdersAt(
  deps: ServiceDeps,
  actor: Actor,
  input: { at: string; permission: string; space?: AccessSpace | undefined; cursor?: string | undefined; limit?: number | undefined },
): Promise<{ at: string; revision: number; space: AccessSpace; permissionId: string; items: (Omit<HolderView, 'identity'> & { identity: IdentityAt })[]; nextCursor: string | null }> {
  const { tenantId, history, at, revision } = await pointInTime(deps, actor, input.at);
  const after = decodeCursor(input.cursor);
  const candidates = [...(await history.permissionCandidates(tenantId, revision, input.permission))].filter((id) => after === null || id > after).sort(cmp);
  const space = input.space ?? 'assigned';
  const limit = Math.min(Math.max(input.limit ?? 100, 1), 1000);
  const items: (Omit<HolderView, 'identity'> & { identity: IdentityAt })[] = [];
  let batch = Math.min(limit + 1, MAX_HOLDER_BATCH);
  let next = 0;
  let nextCursor: string | null = null;
  do {
    const ids = candidates.slice(next, next + batch);
    next += ids.length;
    batch = Math.min(batch * 2, MAX_HOLDER_BATCH);
    const facts = await history.identityFacts(tenantId, revision, ids);
    await loadPermission(history, tenantId, revision, input.permission, facts);
    const index = facts.index(tenantId);
    const permission = index.perms.find(input.permission);
    if (permission === NONE || !index.perms.get(permission).exists) throw new AppError('not_found', `permission ${input.permission} did not exist at ${at.time}`);
    // Only the batch's own identities: delegators read along with them have only part of their facts here.
    for (const id of ids) {
      const slot = index.identities.find(id);
      if (slot === NONE || !index.identities.get(slot).exists) continue;
      const via = heldVia(index, slot, permission, at.ms, space);
      if (via.length === 0) continue;
      if (items.length === limit) {
        nextCursor = encodeCursor(items[items.length - 1]!.identity.id);
        break;
      }
      items.push({ identity: identityAt(index, slot), via });
    }
  } while (nextCursor === null && next < candidates.length);
  return { at: at.time, revision, space, permissionId: input.permission, items, nextCursor };
}

async function loadPermission(history: AccessHistory, tenantId: string, revision: number, permissionId: string, facts: HistoricalFacts): Promise<void> {
  // The permission itself (and its application), even when nobody held it then.
  await history.catalogFacts(tenantId, revision, [`permission\u0000${permissionId}`], facts);
}

export interface AuditEventRef {
  id: string;
  seq: number;
  time: string;
  action: string;
  targetType: string;
  targetId: string | null;
  actorType: string;
  actorId: string | null;
  actorName: string | null;
}

export type HistoryCause =
  | { kind: 'write'; revision: number; auditEvents: AuditEventRef[] }
  | { kind: 'validity'; assignmentId: string; boundary: 'validFrom' | 'validTo'; auditEvents: AuditEventRef[] };

export interface AccessChange {
  at: string;
  change: 'granted' | 'revoked' | 'changed';
  permissionId: string;
  permissionName: string;
  applicationId: string;
  applicationName: string;
  /** Why it is held after the change (empty when revoked). */
  via: HeldVia[];
  /** Why it was held before the change (empty when granted). */
  previousVia: HeldVia[];
  cause: HistoryCause;
}

interface State {
  revision: number;
  held: Map<string, HeldPermission>;
  facts: HistoricalFacts;
}

/**
 * Every change of the identity's effective access in `(from, to]`: at each revision that
 * changed a fact the identity's access depends on, and at each validity boundary of an
 * assignment it depends on, the engine answers again and the difference is reported.
 */
export async function identityAccessHistory(
  deps: ServiceDeps,
  actor: Actor,
  identityRef: string,
  input: { from?: string | undefined; to?: string | undefined; space?: AccessSpace | undefined },
): Promise<{ identityId: string; from: string; to: string; space: AccessSpace; items: AccessChange[]; truncated: boolean; nextFrom: string | null }> {
  requireRight(actor, 'read-permissions-any-application');
  const engine = engineOf(deps);
  const tenantId = actor.caller.tenantId;
  const history = new AccessHistory(deps.store);
  const now = engine.now();
  const from = input.from === undefined ? await instant(history, tenantId, 'from', (await history.bounds(tenantId)).recordedFrom, now) : await instant(history, tenantId, 'from', input.from, now);
  const to = await instant(history, tenantId, 'to', input.to ?? new Date(now).toISOString(), now);
  if (to.ms < from.ms) throw invalidInstant('to', `is before from (${from.time})`);
  const id = identityIdOf((await engine.at(tenantId)).index, identityRef);
  const space = input.space ?? 'assigned';

  const evaluate = async (revision: number, ms: number): Promise<State> => {
    const facts = await history.identityFacts(tenantId, revision, [id]);
    const index = facts.index(tenantId);
    const slot = index.identities.find(id);
    const held = new Map<string, HeldPermission>();
    if (slot !== NONE && index.identities.get(slot).exists) for (const h of listAccess(index, slot, ms, space)) held.set(h.permissionId, h);
    return { revision, held, facts };
  };

  const fromRevision = await history.revisionAt(tenantId, from.time);
  let state = await evaluate(fromRevision, from.ms);
  const existedAt = async (rev: number) => (await history.identityFacts(tenantId, rev, [id])).has('identity', id);
  if (!state.facts.has('identity', id) && !(await existedAt(await history.revisionAt(tenantId, to.time)))) {
    throw new AppError('not_found', `identity ${identityRef} did not exist between ${from.time} and ${to.time}`);
  }
  const toRevision = await history.revisionAt(tenantId, to.time);
  const revisions = await history.changedRevisions(tenantId, fromRevision, toRevision, MAX_REVISIONS);
  const items: AccessChange[] = [];
  let evaluations = 0;
  let cursorMs = from.ms;
  let r = 0;
  for (;;) {
    // The next instant: the next revision that touched what the identity's access depends on,
    // or the next validity boundary of an assignment it depends on, whichever comes first.
    const boundary = nextBoundary(state.facts, cursorMs, to.ms);
    let next: { ms: number; revision: number; cause: 'write' | 'validity' } | null = null;
    while (r < revisions.length) {
      const rv = revisions[r]!;
      const rvMs = Date.parse(rv.time);
      if (boundary !== null && boundary.ms < rvMs) break;
      r += 1;
      if (await touches(history, tenantId, rv.revision, state.facts)) {
        next = { ms: Math.max(rvMs, cursorMs), revision: rv.revision, cause: 'write' };
        break;
      }
      state.revision = rv.revision;
    }
    if (next === null && boundary !== null) next = { ms: boundary.ms, revision: state.revision, cause: 'validity' };
    if (next === null) break;
    if (evaluations === MAX_EVALUATIONS) {
      return { identityId: id, from: from.time, to: to.time, space, items, truncated: true, nextFrom: new Date(cursorMs).toISOString() };
    }
    evaluations += 1;
    const after = await evaluate(next.revision, next.ms);
    const changes = diff(state.held, after.held);
    if (changes.length > 0) {
      const cause: HistoryCause =
        next.cause === 'write'
          ? { kind: 'write', revision: next.revision, auditEvents: await auditEvents(deps, tenantId, { revision: next.revision }) }
          : {
              kind: 'validity',
              assignmentId: boundary!.assignmentId,
              boundary: boundary!.edge,
              auditEvents: await auditEvents(deps, tenantId, { assignmentId: boundary!.assignmentId, before: new Date(next.ms).toISOString() }),
            };
      const at = new Date(next.ms).toISOString();
      for (const c of changes) items.push({ at, ...c, cause });
    }
    state = after;
    cursorMs = next.ms;
  }
  return { identityId: id, from: from.time, to: to.time, space, items, truncated: revisions.length === MAX_REVISIONS, nextFrom: revisions.length === MAX_REVISIONS ? new Date(cursorMs).toISOString() : null };
}

/** Whether a revision changed a fact that was read, or wrote one that refers to one that was read. */
async function touches(history: AccessHistory, tenantId: string, revision: number, facts: HistoricalFacts): Promise<boolean> {
  const ids = facts.ids();
  for (const c of await history.changesAt(tenantId, revision)) {
    if (ids.has(c.entityId) || c.refs.some((ref) => ids.has(ref))) return true;
  }
  return false;
}

/** The first validity boundary after `afterMs` (up to `toMs`) of an assignment that was read. */
function nextBoundary(facts: HistoricalFacts, afterMs: number, toMs: number): { ms: number; assignmentId: string; edge: 'validFrom' | 'validTo' } | null {
  let best: { ms: number; assignmentId: string; edge: 'validFrom' | 'validTo' } | null = null;
  for (const row of facts.rows.get('assignment')!.values()) {
    const a = row as AssignmentRow;
    for (const [edge, value] of [
      ['validFrom', a.valid_from],
      ['validTo', a.valid_to],
    ] as const) {
      if (value === null) continue;
      const ms = Date.parse(value);
      if (ms > afterMs && ms <= toMs && (best === null || ms < best.ms)) best = { ms, assignmentId: a.id, edge };
    }
  }
  return best;
}

function diff(before: Map<string, HeldPermission>, after: Map<string, HeldPermission>): Omit<AccessChange, 'at' | 'cause'>[] {
  const out: Omit<AccessChange, 'at' | 'cause'>[] = [];
  const name = (h: HeldPermission) => ({ permissionId: h.permissionId, permissionName: h.permissionName, applicationId: h.applicationId, applicationName: h.applicationName });
  for (const [p, h] of after) {
    const was = before.get(p);
    if (was === undefined) out.push({ change: 'granted', ...name(h), via: h.via, previousVia: [] });
    else if (JSON.stringify(was.via) !== JSON.stringify(h.via)) out.push({ change: 'changed', ...name(h), via: h.via, previousVia: was.via });
  }
  for (const [p, was] of before) if (!after.has(p)) out.push({ change: 'revoked', ...name(was), via: [], previousVia: was.via });
  return out;
}

async function auditEvents(deps: ServiceDeps, tenantId: string, q: { revision: number } | { assignmentId: string; before: string }): Promise<AuditEventRef[]> {
  let query = deps.store
    .read(tenantId)
    .db.selectFrom('audit_events')
    .select(['id', 'seq', 'time', 'action', 'target_type', 'target_id', 'actor_type', 'actor_id', 'actor_name']);
  // A validity boundary passes without a write: the event behind it is the last one that set the assignment's window.
  query = 'revision' in q ? query.where('revision', '=', q.revision).orderBy('seq') : query.where('target_type', '=', 'assignment').where('target_id', '=', q.assignmentId).where('time', '<=', q.before).orderBy('seq', 'desc').limit(1);
  return (await query.execute()).map((e) => ({
    id: e.id,
    seq: Number(e.seq),
    time: e.time,
    action: e.action,
    targetType: e.target_type,
    targetId: e.target_id,
    actorType: e.actor_type,
    actorId: e.actor_id,
    actorName: e.actor_name,
  }));
}

const DAY_MS = 86_400_000;

/**
 * Retention: prunes the tenant's access history older than `retentionDays` (0: keeps it
 * all). The horizon is now minus the retention; the versions no instant from its revision
 * on needs are removed and the horizon recorded, in one write with the audit event
 * `accessHistory.prune`. Asking for an instant before the horizon is then a 400 that says
 * so, never an answer from incomplete facts. Returns what was done (null: nothing to do).
 */
export async function pruneAccessHistory(deps: ServiceDeps, tenantId: string, retentionDays: number): Promise<{ prunedBefore: string; revision: number; versionsRemoved: number } | null> {
  if (retentionDays <= 0) return null;
  const history = new AccessHistory(deps.store);
  const horizon = new Date(engineOf(deps).now() - retentionDays * DAY_MS).toISOString();
  const bounds = await history.bounds(tenantId);
  if (horizon <= bounds.recordedFrom) return null;
  const revision = await history.revisionAt(tenantId, horizon);
  if (revision === 0 || !(await hasPrunable(deps, tenantId, revision))) return null;
  const { value } = await writeAs(deps, systemActor(tenantId), async (tx) => {
    const versionsRemoved = await pruneFacts(tx.db, revision);
    await tx.db.updateTable('tenants').set({ history_from_rev: revision, history_from_time: horizon }).where('id', '=', tenantId).execute();
    tx.audit({ action: 'accessHistory.prune', targetType: 'tenant', targetId: tenantId, after: { prunedBefore: horizon, revision, versionsRemoved, retentionDays } });
    return versionsRemoved;
  });
  return { prunedBefore: horizon, revision, versionsRemoved: value };
}

/** Whether some version ended at or before the revision (else pruning would remove nothing). */
async function hasPrunable(deps: ServiceDeps, tenantId: string, revision: number): Promise<boolean> {
  const row = await deps.store
    .read(tenantId)
    .db.selectFrom('access_history_keys as k')
    .innerJoin('access_history_versions as v', 'v.key', 'k.key')
    .select('v.from_rev')
    .where('v.to_rev', 'is not', null)
    .where('v.to_rev', '<=', revision)
    .limit(1)
    .executeTakeFirst();
  return row !== undefined;
}
