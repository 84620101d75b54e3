/**
 * The journal of a workflow subject (an access request, a personnel event): its comments and
 * its activity log, in order, each with who and when. Written inside the subject's own writes,
 * so an entry exists exactly when the change it describes committed.
 *
 * ```ts
 * await recordActivity(tx, actor, { kind: 'personnel_event', id }, 'Suspend stage completed', { paused: 12 });
 * const { comments, activity } = await journalOf(deps.store.read(tenantId), { kind: 'personnel_event', id });
 * ```
 */
import { randomUUID } from 'node:crypto';
import { AppError } from '../../domain/errors.ts';
import type { TenantDb, WriteTx } from '../../store/store.ts';
import type { Actor } from '../kernel/index.ts';

export type SubjectKind = 'access_request' | 'personnel_event';

export interface WorkflowSubject {
  kind: SubjectKind;
  id: string;
}

export interface JournalActor {
  /** `api_key`, `client`, `app_key`, `identity` or `system`. */
  type: string;
  /** The credential's id (null for the system). */
  id: string | null;
  /** The name recorded for the act (an API key's name, "scheduler", ...). */
  name: string | null;
  /** The identity the actor acted as, if any. */
  identityId: string | null;
}

export interface JournalEntryView {
  id: string;
  at: string;
  actor: JournalActor;
  text: string;
  detail: unknown;
}

/** The audit trail's name for a subject kind (camelCase, as `orgUnit`): `accessRequest`, `personnelEvent`. */
export function auditTargetType(kind: SubjectKind): 'accessRequest' | 'personnelEvent' {
  return kind === 'access_request' ? 'accessRequest' : 'personnelEvent';
}

/** Longest comment kept (characters). */
export const MAX_COMMENT_LENGTH = 4000;

/** A line of an activity log: its text and what it is about. */
export interface ActivityLine {
  text: string;
  detail?: unknown;
}

/** Appends entries to the subject's journal, in order, with one insert. */
async function append(tx: WriteTx, actor: Actor | null, subject: WorkflowSubject, entry: 'comment' | 'activity', lines: readonly ActivityLine[]): Promise<JournalEntryView[]> {
  if (!lines.length) return [];
  const last = await tx.db
    .selectFrom('workflow_entries')
    .select((eb) => eb.fn.max('seq').as('seq'))
    .where('subject_id', '=', subject.id)
    .executeTakeFirst();
  const caller = actor?.caller;
  const first = Number(last?.seq ?? 0) + 1;
  const rows = lines.map(({ text, detail }, i) => ({
    id: randomUUID(),
    tenant_id: tx.tenantId,
    subject_kind: subject.kind,
    subject_id: subject.id,
    seq: first + i,
    entry,
    at: tx.now,
    actor_type: caller?.kind ?? 'system',
    actor_id: caller && caller.kind !== 'system' ? caller.id : null,
    actor_name: caller?.name ?? 'system',
    actor_identity_id: caller?.identityId ?? null,
    text,
    detail: detail === undefined ? null : JSON.stringify(detail),
  }));
  await tx.db.insertInto('workflow_entries').values(rows).execute();
  return rows.map(toView);
}

/** Inside a write: adds a line to the subject's activity log (`actor` null: the system). */
export async function recordActivity(tx: WriteTx, actor: Actor | null, subject: WorkflowSubject, text: string, detail?: unknown): Promise<JournalEntryView> {
  return (await append(tx, actor, subject, 'activity', [{ text, detail }]))[0]!;
}

/** Inside a write: adds lines to the subject's activity log, in order (one statement for all). */
export async function recordActivities(tx: WriteTx, actor: Actor | null, subject: WorkflowSubject, lines: readonly ActivityLine[]): Promise<JournalEntryView[]> {
  return append(tx, actor, subject, 'activity', lines);
}

/**
 * Inside a write: adds a comment by `actor` (after the subject's own check that the actor may
 * comment), audited as `<kind>.comment`. 400 naming `comment` when it is empty or too long.
 */
export async function recordComment(tx: WriteTx, actor: Actor, subject: WorkflowSubject, text: string): Promise<JournalEntryView> {
  const trimmed = text.trim();
  if (!trimmed || trimmed.length > MAX_COMMENT_LENGTH) {
    throw new AppError('validation_failed', `comment must be 1-${MAX_COMMENT_LENGTH} characters`, {
      errors: [{ field: 'comment', message: `must be 1-${MAX_COMMENT_LENGTH} characters` }],
    });
  }
  const view = (await append(tx, actor, subject, 'comment', [{ text: trimmed }]))[0]!;
  const targetType = auditTargetType(subject.kind);
  tx.audit({ action: `${targetType}.comment`, targetType, targetId: subject.id, after: { commentId: view.id, text: trimmed } });
  return view;
}

/** The subject's comments and activity, each oldest first. */
export async function journalOf(scope: TenantDb, subject: WorkflowSubject): Promise<{ comments: JournalEntryView[]; activity: JournalEntryView[] }> {
  const rows = await scope.db
    .selectFrom('workflow_entries')
    .selectAll()
    .where('subject_kind', '=', subject.kind)
    .where('subject_id', '=', subject.id)
    .orderBy('seq')
    .execute();
  const comments: JournalEntryView[] = [];
  const activity: JournalEntryView[] = [];
  for (const row of rows) (row.entry === 'comment' ? comments : activity).push(toView(row));
  return { comments, activity };
}

function toView(row: {
  id: string;
  at: string;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  actor_identity_id: string | null;
  text: string;
  detail: string | null;
}): JournalEntryView {
  return {
    id: row.id,
    at: row.at,
    actor: { type: row.actor_type, id: row.actor_id, name: row.actor_name, identityId: row.actor_identity_id },
    text: row.text,
    detail: row.detail === null ? null : (JSON.parse(row.detail) as unknown),
  };
}
