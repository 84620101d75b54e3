/**
 * Personnel events: their types, stages, statuses and how a stored event is shown.
 *
 * An event is created with an effective date; its stages run in order — Approve first, then
 * the effect stage(s) as scheduler jobs on the effective date (a leave's Restore on its end
 * date), then Verify, which completes once the connected applications' imports confirm the
 * change. Stages are stored with the event (JSON), each with its status, times and detail.
 */
import type { Database } from '../../store/schema.ts';

export const EVENT_TYPES = ['onboard', 'offboard', 'role_transition', 'leave_of_absence'] as const;
export type EventType = (typeof EVENT_TYPES)[number];

export const EVENT_STATUSES = ['pending_approval', 'scheduled', 'in_progress', 'completed', 'canceled', 'failed'] as const;
export type EventStatus = (typeof EVENT_STATUSES)[number];

/** Events that have not finished (and so still stand in the way of a conflicting one). */
export const OPEN_STATUSES: readonly EventStatus[] = ['pending_approval', 'scheduled', 'in_progress'];

export type StageName = 'Approve' | 'Provision' | 'Deprovision' | 'Transition' | 'Suspend' | 'Restore' | 'Verify';
export type StageStatus = 'pending' | 'in_progress' | 'completed' | 'failed' | 'canceled';

export const STAGES: Record<EventType, StageName[]> = {
  onboard: ['Approve', 'Provision', 'Verify'],
  offboard: ['Approve', 'Deprovision', 'Verify'],
  role_transition: ['Approve', 'Transition', 'Verify'],
  leave_of_absence: ['Approve', 'Suspend', 'Restore', 'Verify'],
};

export interface Stage {
  name: StageName;
  status: StageStatus;
  startedAt: string | null;
  completedAt: string | null;
  /** What the stage did or waits for (JSON object); null before it starts. */
  detail: Record<string, unknown> | null;
}

/** The identity fields a personnel event sets: on onboarding all of them, on a role transition those that change. */
export interface IdentityChanges {
  firstName?: string | undefined;
  lastName?: string | undefined;
  displayName?: string | null | undefined;
  email?: string | null | undefined;
  username?: string | null | undefined;
  employeeNumber?: string | null | undefined;
  type?: string | undefined;
  managerId?: string | null | undefined;
  orgUnitId?: string | null | undefined;
  /** Merged into the identity's attributes; a null value removes the attribute. */
  attributes?: Record<string, string | null> | undefined;
}

export interface PreviewItem {
  assignmentId: string | null;
  resource: { type: 'permission' | 'role'; id: string; name: string | null };
  application: { id: string; name: string } | null;
  context: { type: string; id: string | null };
  source: string;
  rule: { id: string; name: string } | null;
}

export interface PreviewAccount {
  accountId: string;
  name: string;
  application: { id: string; name: string };
  grants: number;
}

/** What an event will change, computed from the assignments, rules and accounts when asked. */
export interface EventPreview {
  identity: { before: Record<string, unknown> | null; after: Record<string, unknown> | null };
  added: PreviewItem[];
  paused: PreviewItem[];
  restored: PreviewItem[];
  revoked: PreviewItem[];
  /** Rule assignments a move no longer justifies, kept until `reviewUntil` (then removed). */
  review: PreviewItem[];
  reviewUntil: string | null;
  delegationsStopped: PreviewItem[];
  accountsToDeprovision: PreviewAccount[];
  /** `review` or `remove`: what this tenant does with access a move no longer justifies. */
  unjustifiedAccess: 'review' | 'remove' | null;
  computedAt: string;
}

export interface EventView {
  id: string;
  number: number;
  type: EventType;
  status: EventStatus;
  identityId: string | null;
  identityName: string | null;
  effectiveDate: string;
  endDate: string | null;
  changes: IdentityChanges;
  comment: string | null;
  stages: Stage[];
  reporter: { type: string; id: string | null; name: string | null };
  completedAt: string | null;
  createdAt: string;
  updatedAt: string;
  /** Incremented by every change of the event (its stages included); its ETag is `"<version>"`. */
  version: number;
}

export type EventRow = Database['personnel_events'];

export function toEventView(row: EventRow): EventView {
  return {
    id: row.id,
    number: Number(row.number),
    type: row.type as EventType,
    status: row.status as EventStatus,
    identityId: row.identity_id,
    identityName: row.identity_name,
    effectiveDate: row.effective_at,
    endDate: row.end_at,
    changes: JSON.parse(row.changes) as IdentityChanges,
    comment: row.comment,
    stages: JSON.parse(row.stages) as Stage[],
    reporter: { type: row.reporter_type, id: row.reporter_id, name: row.reporter_name },
    completedAt: row.completed_at,
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    version: Number(row.version),
  };
}

export const SUBJECT_KIND = 'personnel_event' as const;
export const STAGE_JOB = 'personnel_event.stage';

export function initialStages(type: EventType): Stage[] {
  return STAGES[type].map((name) => ({ name, status: 'pending', startedAt: null, completedAt: null, detail: null }));
}

/** The effect stage that runs on the effective date. */
export function firstEffectStage(type: EventType): StageName {
  return STAGES[type][1]!;
}

export function displayName(fields: { firstName?: string | null | undefined; lastName?: string | null | undefined; displayName?: string | null | undefined }): string | null {
  if (fields.displayName) return fields.displayName;
  const name = [fields.firstName, fields.lastName].filter((p) => p).join(' ');
  return name || null;
}
