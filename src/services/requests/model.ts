/**
 * Access requests as callers see them, and the words of their lifecycle.
 *
 * Status: `pending` (waiting for approval), `open` (approved; a connected application's
 * provisioning waits for an import to show it), `scheduled` (approved; takes effect at
 * `validFrom`), `completed`, `rejected`, `canceled`, `failed` (the approved change could not
 * be carried out, or imports kept not showing it).
 */
import type { ContextType } from '../../domain/access.ts';
import type { Database } from '../../store/schema.ts';
import type { ApprovalStepView, JournalEntryView } from '../workflow/index.ts';

export const REQUEST_ACTIONS = ['add', 'change', 'remove', 'suspend', 'restore'] as const;
export type RequestAction = (typeof REQUEST_ACTIONS)[number];
export const REQUEST_STATUSES = ['pending', 'open', 'scheduled', 'completed', 'rejected', 'canceled', 'failed'] as const;
export type RequestStatus = (typeof REQUEST_STATUSES)[number];
export const PROVISIONING_STATUSES = ['not_needed', 'pending', 'provisioned', 'verified', 'failed'] as const;
/** Statuses in which a request is still under way (it may be canceled). */
export const CANCELABLE: readonly string[] = ['pending', 'scheduled'];

export type RequestRow = Database['access_requests'];

/** A grant an import must show (`present`) or no longer show (`absent`) for the provisioning to be verified. */
export interface ProvisioningCheck {
  applicationId: string;
  permissionId: string;
  expect: 'present' | 'absent';
}

export interface AccessRequestSummary {
  id: string;
  number: number;
  action: RequestAction;
  targetIdentityId: string | null;
  targetOrgUnitId: string | null;
  target: { type: 'identity' | 'orgUnit'; id: string; name: string | null };
  resource: { type: 'permission' | 'role'; id: string; name: string | null };
  applicationId: string | null;
  context: { type: ContextType; id: string | null };
  validFrom: string | null;
  validTo: string | null;
  justification: string | null;
  requesterId: string | null;
  requesterName: string;
  assignmentId: string | null;
  status: RequestStatus;
  policyId: string | null;
  provisioning: { status: string; assignmentId: string | null; observedAt: string | null; importsSeen: number };
  sodConflicts: Record<string, unknown>[];
  createdAt: string;
  updatedAt: string;
  closedAt: string | null;
}

export interface AccessRequestView extends AccessRequestSummary {
  steps: ApprovalStepView[];
  comments: JournalEntryView[];
  activity: JournalEntryView[];
  /** The access review items whose `revoke` or `modify` decision opened this request. */
  relatedReviewItems: Record<string, unknown>[];
}

export function toSummary(row: RequestRow, names: { target: string | null; resource: string | null }): AccessRequestSummary {
  const identity = row.target_type === 'identity';
  return {
    id: row.id,
    number: Number(row.number),
    action: row.action as RequestAction,
    targetIdentityId: identity ? row.target_id : null,
    targetOrgUnitId: identity ? null : row.target_id,
    target: { type: identity ? 'identity' : 'orgUnit', id: row.target_id, name: names.target },
    resource: { type: row.resource_type === 'role' ? 'role' : 'permission', id: row.resource_id, name: names.resource },
    applicationId: row.application_id,
    context: { type: row.context_type as ContextType, id: row.context_id },
    validFrom: row.valid_from,
    validTo: row.valid_to,
    justification: row.justification,
    requesterId: row.requester_id,
    requesterName: row.requester_name,
    assignmentId: row.assignment_id,
    status: row.status as RequestStatus,
    policyId: row.policy_id,
    provisioning: { status: row.provisioning_status, assignmentId: row.provisioning_assignment_id, observedAt: row.provisioning_observed_at, importsSeen: Number(row.provisioning_imports_seen) },
    sodConflicts: JSON.parse(row.sod_conflicts) as Record<string, unknown>[],
    createdAt: row.created_at,
    updatedAt: row.updated_at,
    closedAt: row.closed_at,
  };
}

export const requestRef = (id: string) => ({ kind: 'access_request' as const, id });

/** The audit view of a request's state (before/after of its status changes). */
export const auditState = (row: RequestRow) => ({ number: Number(row.number), action: row.action, status: row.status, provisioning: row.provisioning_status, targetType: row.target_type, targetId: row.target_id, resourceType: row.resource_type, resourceId: row.resource_id });
