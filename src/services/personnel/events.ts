/**
 * Personnel events, the use cases: create (with its preview, or only the preview on a dry
 * run), list, read, preview, cancel and comment. Right: `manage-personnel-events`.
 *
 * Invariants kept here:
 * - dates: a plain date is midnight in the tenant's time zone, a full ISO 8601 time is taken
 *   as given, a date that does not exist is a 400, an end date not after the effective date
 *   is a 400;
 * - a replay of the same HR message (same identity — for an onboarding the same employee
 *   number, e-mail or name — same type, same effective time) returns the event it created;
 * - an identity is offboarded once (a terminated identity or a pending offboarding is a 409
 *   naming the event), and its leaves do not overlap (409 naming the event);
 * - an event is canceled only before its effective date.
 */
import { randomUUID } from 'node:crypto';
import { canonicalJson } from '../../domain/canonical-json.ts';
import { effectiveInstant } from '../../domain/dates.ts';
import { AppError, notFound } from '../../domain/errors.ts';
import { assertIfMatch } from '../../domain/etag.ts';
import type { TenantDb } from '../../store/store.ts';
import { cancelJobs, openPager, requireRight, scheduleJob, tenantSettings, type Actor, type Page, writeAs } from '../kernel/index.ts';
import { journalOf, recordActivity, recordComment, type JournalEntryView } from '../workflow/index.ts';
import type { ServiceDeps } from '../deps.ts';
import { identityProblem, identityRow, joinerRow } from './identity-writes.ts';
import { computePreview } from './preview.ts';
import { openEventApproval } from './approval.ts';
import { eventRow, saveEvent } from './event-rows.ts';
import { displayName, initialStages, OPEN_STATUSES, STAGE_JOB, SUBJECT_KIND, toEventView, type EventPreview, type EventRow, type EventType, type EventView, type IdentityChanges, type Stage } from './model.ts';

export interface CreateEventInput {
  type: EventType;
  /** The identity the event is about (every type but onboarding). */
  identityId?: string | undefined;
  /** Onboarding: the joiner; role transition: the fields that change. */
  identity?: IdentityChanges | undefined;
  effectiveDate: string;
  endDate?: string | null | undefined;
  comment?: string | null | undefined;
}

export interface EventJournal {
  comments: JournalEntryView[];
  activity: JournalEntryView[];
}

export type EventDetail = EventView & EventJournal;

function invalid(field: string, message: string): AppError {
  return new AppError('validation_failed', `${field} ${message}`, { errors: [{ field, message }] });
}

function parseDate(value: string, field: string, timeZone: string): string {
  return effectiveInstant(value.trim(), timeZone, field);
}

const lower = (s: string | null | undefined) => (s ? s.trim().toLowerCase() : null);

function dedupeKey(type: EventType, identityId: string | null, joiner: IdentityChanges | undefined, effectiveAt: string): string {
  const who = type === 'onboard' ? `joiner:${lower(joiner?.employeeNumber) ?? lower(joiner?.email) ?? lower(joiner?.username) ?? `${lower(joiner?.firstName)} ${lower(joiner?.lastName)}`}` : `identity:${identityId}`;
  return `${type}|${who}|${effectiveAt}`;
}

function hasChanges(c: IdentityChanges | undefined): boolean {
  return !!c && Object.entries(c).some(([k, v]) => v !== undefined && (k !== 'attributes' || Object.keys(v as object).length > 0));
}

/** Throws a 409 naming the event that stands in the way of `input`. */
async function assertNoConflict(scope: TenantDb, type: EventType, identityId: string, effectiveAt: string, endAt: string | null, self?: string): Promise<void> {
  const others = (
    await scope.db
      .selectFrom('personnel_events')
      .select(['id', 'number', 'type', 'status', 'effective_at', 'end_at'])
      .where('tenant_id', '=', scope.tenantId)
      .where('identity_id', '=', identityId)
      .where('status', 'not in', ['canceled', 'failed'])
      .orderBy('number')
      .execute()
  ).filter((e) => e.id !== self);
  const inTheWay = (e: (typeof others)[number], why: string) =>
    new AppError('conflict', `${why}: personnel event #${e.number} (${e.type}, ${e.status}) is in the way`, { details: { eventId: e.id, eventNumber: Number(e.number) } });
  // Another offboarding is always in the way; a move or leave only of one that takes effect first.
  const offboard = others.find((e) => e.type === 'offboard' && (type === 'offboard' || Date.parse(e.effective_at) <= Date.parse(effectiveAt)));
  if (offboard) throw inTheWay(offboard, offboard.status === 'completed' ? 'the identity was offboarded' : 'the identity has a pending offboarding');
  if (type !== 'leave_of_absence') return;
  const start = Date.parse(effectiveAt);
  const end = endAt === null ? Infinity : Date.parse(endAt);
  for (const e of others.filter((o) => o.type === 'leave_of_absence')) {
    const eStart = Date.parse(e.effective_at);
    const eEnd = e.end_at === null ? Infinity : Date.parse(e.end_at);
    if (start < eEnd && eStart < end) throw inTheWay(e, 'the leave overlaps another leave');
  }
}

interface Validated {
  type: EventType;
  identityId: string | null;
  identityName: string | null;
  changes: IdentityChanges;
  effectiveAt: string;
  endAt: string | null;
  dedupe: string;
}

async function validate(scope: TenantDb, input: CreateEventInput): Promise<Validated> {
  const settings = await tenantSettings(scope);
  const effectiveAt = parseDate(input.effectiveDate, 'effectiveDate', settings.timeZone);
  const endAt = input.endDate ? parseDate(input.endDate, 'endDate', settings.timeZone) : null;
  if (endAt !== null && (input.type === 'onboard' || input.type === 'offboard')) throw invalid('endDate', `is not used by ${input.type === 'onboard' ? 'onboarding' : 'offboarding'}`);
  if (endAt !== null && Date.parse(endAt) <= Date.parse(effectiveAt)) throw invalid('endDate', 'must be after effectiveDate');
  if (input.type === 'onboard') {
    const joiner = input.identity;
    if (!joiner?.firstName) throw invalid('identity.firstName', 'is required');
    if (!joiner.lastName) throw invalid('identity.lastName', 'is required');
    return { type: 'onboard', identityId: null, identityName: displayName(joiner), changes: joiner, effectiveAt, endAt, dedupe: dedupeKey('onboard', null, joiner, effectiveAt) };
  }
  if (!input.identityId) throw invalid('identityId', 'is required');
  const identity = await identityRow(scope, input.identityId);
  if (!identity) throw invalid('identityId', `identity ${input.identityId} does not exist`);
  const changes = input.type === 'role_transition' ? (input.identity ?? {}) : {};
  if (input.type === 'role_transition' && !hasChanges(changes)) throw invalid('changes', 'must name at least one identity field that changes');
  return {
    type: input.type,
    identityId: identity.id,
    identityName: displayName({ firstName: identity.first_name, lastName: identity.last_name, displayName: identity.display_name }) ?? identity.username ?? identity.subject,
    changes,
    effectiveAt,
    endAt,
    dedupe: dedupeKey(input.type, identity.id, undefined, effectiveAt),
  };
}

/**
 * Refuses an event whose identity change could not be applied now (a unit or manager that
 * does not exist: 400 naming the field; a username or employee number taken: 409). Checked
 * after the replay lookup: a replayed onboarding finds its own joiner holding the number.
 */
async function assertApplicable(scope: TenantDb, v: Validated): Promise<void> {
  if (v.type !== 'onboard' && v.type !== 'role_transition') return;
  const c = v.changes;
  const problem =
    v.type === 'onboard'
      ? await identityProblem(scope, joinerRow(scope.tenantId, c, ''))
      : await identityProblem(scope, {
          id: v.identityId ?? '',
          username: c.username ?? null,
          employee_number: c.employeeNumber ?? null,
          manager_id: c.managerId ?? null,
          org_unit_id: c.orgUnitId ?? null,
        });
  if (!problem) return;
  const prefix = v.type === 'onboard' ? 'identity' : 'changes';
  const field = problem.startsWith('organization unit') ? `${prefix}.orgUnitId` : problem.startsWith('manager') ? `${prefix}.managerId` : null;
  if (field) throw invalid(field, problem);
  throw new AppError('conflict', problem);
}

async function findByDedupe(scope: TenantDb, key: string): Promise<EventRow | undefined> {
  return scope.db.selectFrom('personnel_events').selectAll().where('tenant_id', '=', scope.tenantId).where('dedupe_key', '=', key).where('status', '!=', 'canceled').executeTakeFirst();
}


async function detailOf(scope: TenantDb, row: EventRow): Promise<EventDetail> {
  const entries = await journalOf(scope, { kind: SUBJECT_KIND, id: row.id });
  return { ...toEventView(row), comments: entries.comments, activity: entries.activity };
}

export interface CreateResult {
  event: EventDetail;
  preview: EventPreview;
  /** False when the same HR message was sent before: `event` is the one it created. */
  created: boolean;
  revision: number | null;
}

/** Creates an event; with `dryRun` only validates and returns the preview (writes nothing). */
export async function createPersonnelEvent(deps: ServiceDeps, actor: Actor, input: CreateEventInput, options: { dryRun?: boolean } = {}): Promise<CreateResult | { dryRun: true; preview: EventPreview }> {
  requireRight(actor, 'manage-personnel-events');
  const scope = deps.store.read(actor.caller.tenantId);
  const v = await validate(scope, input);
  const mode = (await tenantSettings(scope)).personnelEvents.unjustifiedAccess;
  const now = deps.now().toISOString();
  if (options.dryRun) {
    await assertApplicable(scope, v);
    return { dryRun: true, preview: await computePreview(scope, { type: v.type, identityId: v.identityId, changes: v.changes, endAt: v.endAt }, mode, now) };
  }
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const existing = await findByDedupe(tx, v.dedupe);
    if (existing) {
      tx.audit({ action: 'personnelEvent.replayed', targetType: 'personnelEvent', targetId: existing.id, after: { dedupeKey: v.dedupe } });
      return { row: existing, created: false };
    }
    await assertApplicable(tx, v);
    if (v.identityId) await assertNoConflict(tx, v.type, v.identityId, v.effectiveAt, v.endAt);
    const preview = await computePreview(tx, { type: v.type, identityId: v.identityId, changes: v.changes, endAt: v.endAt }, mode, tx.now);
    const row: EventRow = {
      id: randomUUID(),
      tenant_id: tx.tenantId,
      number: await tx.nextNumber('personnel_events'),
      type: v.type,
      status: 'pending_approval',
      identity_id: v.identityId,
      identity_name: v.identityName,
      effective_at: v.effectiveAt,
      end_at: v.endAt,
      dedupe_key: v.dedupe,
      changes: canonicalJson(v.changes),
      comment: input.comment ?? null,
      preview: canonicalJson(preview),
      stages: canonicalJson(initialStages(v.type)),
      reporter_type: actor.caller.kind,
      reporter_id: actor.caller.kind === 'system' ? null : actor.caller.id,
      reporter_name: actor.caller.name,
      completed_at: null,
      creator_rights: actor.caller.kind === 'system' ? null : JSON.stringify([...actor.caller.rights].sort()),
      created_at: tx.now,
      updated_at: tx.now,
      version: 1,
    };
    await tx.db.insertInto('personnel_events').values(row).execute();
    tx.audit({ action: 'personnelEvent.create', targetType: 'personnelEvent', targetId: row.id, after: toEventView(row) });
    tx.change('personnelEvent', row.id, 'create');
    await recordActivity(tx, actor, { kind: SUBJECT_KIND, id: row.id }, `Created by ${actor.caller.name}: ${v.type.replace(/_/g, ' ')} effective ${v.effectiveAt}`, { effectiveDate: v.effectiveAt, endDate: v.endAt });
    if (input.comment) await recordActivity(tx, actor, { kind: SUBJECT_KIND, id: row.id }, `Comment: ${input.comment}`);
    return { row: await openEventApproval(deps, tx, row, actor.caller.identityId), created: true };
  });
  return { event: await detailOf(scope, value.row), preview: JSON.parse(value.row.preview) as EventPreview, created: value.created, revision: value.created ? revision : null };
}

/** The event with its journal and the preview it was created with. */
export async function getPersonnelEvent(deps: ServiceDeps, actor: Actor, id: string): Promise<EventDetail & { preview: EventPreview }> {
  requireRight(actor, 'manage-personnel-events');
  const scope = deps.store.read(actor.caller.tenantId);
  const row = await eventRow(scope, id);
  if (!row) throw notFound('personnel event', id);
  return { ...(await detailOf(scope, row)), preview: JSON.parse(row.preview) as EventPreview };
}

export interface ListEventsQuery {
  identityId?: string | undefined;
  type?: EventType | undefined;
  status?: string | undefined;
  offset?: number | undefined;
  limit?: number | undefined;
}

function filtered(scope: TenantDb, query: ListEventsQuery) {
  let q = scope.db.selectFrom('personnel_events').where('tenant_id', '=', scope.tenantId);
  if (query.identityId) q = q.where('identity_id', '=', query.identityId);
  if (query.type) q = q.where('type', '=', query.type);
  if (query.status) q = q.where('status', '=', query.status);
  return q;
}

/** Events in number order, cursor-paged (the native list). */
export async function pagePersonnelEvents(deps: ServiceDeps, actor: Actor, query: ListEventsQuery & { cursor?: string | undefined }): Promise<Page<EventDetail>> {
  requireRight(actor, 'manage-personnel-events');
  const { tenantId } = actor.caller;
  const pager = await openPager<number>(deps, tenantId, 'personnel-events', { identityId: query.identityId, type: query.type, status: query.status }, query);
  const scope = deps.store.read(tenantId);
  let q = filtered(scope, query).selectAll();
  if (pager.after !== null) q = q.where('number', '>', pager.after);
  const rows = await q.orderBy('number').limit(pager.limit + 1).execute();
  const page = pager.page(rows, (r) => Number(r.number), (r) => r);
  const items: EventDetail[] = [];
  for (const row of page.items) items.push(await detailOf(scope, row));
  return { items, nextCursor: page.nextCursor };
}

/** Events in number order, with the total count (for page-numbered lists). */
export async function listPersonnelEvents(deps: ServiceDeps, actor: Actor, query: ListEventsQuery): Promise<{ items: EventDetail[]; total: number }> {
  requireRight(actor, 'manage-personnel-events');
  const scope = deps.store.read(actor.caller.tenantId);
  const q = filtered(scope, query);
  const total = Number((await q.select((eb) => eb.fn.countAll().as('n')).executeTakeFirstOrThrow()).n);
  const rows = await q.selectAll().orderBy('number').offset(query.offset ?? 0).limit(Math.min(query.limit ?? 50, 500)).execute();
  const items: EventDetail[] = [];
  for (const row of rows) items.push(await detailOf(scope, row));
  return { items, total };
}

/** The preview: recomputed while the event has not taken effect, else the one it was created with. */
export async function previewPersonnelEvent(deps: ServiceDeps, actor: Actor, id: string): Promise<EventPreview> {
  requireRight(actor, 'manage-personnel-events');
  const scope = deps.store.read(actor.caller.tenantId);
  const row = await eventRow(scope, id);
  if (!row) throw notFound('personnel event', id);
  if (row.status !== 'pending_approval' && row.status !== 'scheduled') return JSON.parse(row.preview) as EventPreview;
  const mode = (await tenantSettings(scope)).personnelEvents.unjustifiedAccess;
  const view = toEventView(row);
  return computePreview(scope, { type: view.type, identityId: view.identityId, changes: view.changes, endAt: view.endDate }, mode, deps.now().toISOString());
}

export async function cancelPersonnelEvent(deps: ServiceDeps, actor: Actor, id: string, comment?: string | null): Promise<{ event: EventDetail; revision: number }> {
  requireRight(actor, 'manage-personnel-events');
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const row = await eventRow(tx, id);
    if (!row) throw notFound('personnel event', id);
    if (!OPEN_STATUSES.includes(row.status as EventView['status']) || row.status === 'in_progress') throw new AppError('conflict', `personnel event #${row.number} is ${row.status}; only a pending or scheduled event can be canceled`);
    if (Date.parse(tx.now) >= Date.parse(row.effective_at)) throw new AppError('conflict', `personnel event #${row.number} took effect on ${row.effective_at}; it can be canceled only before its effective date`);
    await cancelJobs(tx, { subjectId: row.id });
    const stages = (JSON.parse(row.stages) as Stage[]).map((s) => (s.status === 'pending' || s.status === 'in_progress' ? { ...s, status: 'canceled' as const, completedAt: tx.now } : s));
    const next = await saveEvent(tx, row, { status: 'canceled', stages });
    await recordActivity(tx, actor, { kind: SUBJECT_KIND, id: row.id }, `Canceled by ${actor.caller.name}${comment ? `: ${comment}` : ''}`);
    return next;
  });
  return { event: await detailOf(deps.store.read(actor.caller.tenantId), value), revision };
}

/**
 * Moves a leave of absence's return date (`endDate`) while the return has not happened: the
 * Restore stage is re-planned to the new date (its scheduler job moved; before the leave
 * starts, Suspend plans it from the stored date). The new date must be after the effective
 * date (400 naming `endDate`) and the leave may not come to overlap another one (409 naming
 * it); a date already past makes the return due at once. 409 for another event type, a
 * closed event or one whose return already ran. Audited `personnelEvent.update` (before and after, with `endDate`); the activity
 * log says from what to what. `ifMatch`: the event's ETag read earlier (412 when it changed since).
 */
export async function changeLeaveReturn(deps: ServiceDeps, actor: Actor, id: string, input: { endDate: string }, ifMatch?: string): Promise<{ event: EventDetail; revision: number }> {
  requireRight(actor, 'manage-personnel-events');
  const { value, revision } = await writeAs(deps, actor, async (tx) => {
    const row = await eventRow(tx, id);
    if (!row) throw notFound('personnel event', id);
    assertIfMatch(ifMatch, Number(row.version));
    if (row.type !== 'leave_of_absence') throw new AppError('conflict', `personnel event #${row.number} is a ${row.type}; only a leave of absence's return date (endDate) can be changed`, { details: { eventType: row.type } });
    if (!OPEN_STATUSES.includes(row.status as EventView['status'])) throw new AppError('conflict', `personnel event #${row.number} is ${row.status}; its return date can no longer change`, { details: { eventStatus: row.status } });
    const stages = JSON.parse(row.stages) as Stage[];
    const restore = stages.find((s) => s.name === 'Restore');
    if (restore?.status !== 'pending') throw new AppError('conflict', `the return of personnel event #${row.number} has already run (Restore is ${restore?.status ?? 'missing'})`, { details: { stage: 'Restore', stageStatus: restore?.status ?? null } });
    const endAt = parseDate(input.endDate, 'endDate', (await tenantSettings(tx)).timeZone);
    if (Date.parse(endAt) <= Date.parse(row.effective_at)) throw invalid('endDate', `must be after the leave's effective date ${row.effective_at}`);
    if (row.identity_id) await assertNoConflict(tx, 'leave_of_absence', row.identity_id, row.effective_at, endAt, row.id);
    const suspended = stages.find((s) => s.name === 'Suspend')?.status === 'completed';
    const replanned = suspended ? stages.map((s) => (s.name === 'Suspend' && s.detail ? { ...s, detail: { ...s.detail, returnOn: endAt } } : s)) : stages;
    const next = await saveEvent(tx, row, { end_at: endAt, stages: replanned });
    if (suspended) await scheduleJob(tx, { kind: STAGE_JOB, subjectId: row.id, key: 'Restore', dueAt: endAt, payload: { stage: 'Restore' } });
    await recordActivity(tx, actor, { kind: SUBJECT_KIND, id: row.id }, `Return date moved from ${row.end_at ?? 'none'} to ${endAt} by ${actor.caller.name}`, { before: row.end_at, after: endAt });
    return next;
  });
  return { event: await detailOf(deps.store.read(actor.caller.tenantId), value), revision };
}

export async function commentOnPersonnelEvent(deps: ServiceDeps, actor: Actor, id: string, text: string): Promise<EventDetail & { preview: EventPreview }> {
  requireRight(actor, 'manage-personnel-events');
  await writeAs(deps, actor, async (tx) => {
    if (!(await eventRow(tx, id))) throw notFound('personnel event', id);
    await recordComment(tx, actor, { kind: SUBJECT_KIND, id }, text);
  });
  return getPersonnelEvent(deps, actor, id);
}
