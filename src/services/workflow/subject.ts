/**
 * What goes through approval (an access request, a personnel event) as the approvals see it,
 * and how its steps are shown.
 */
import type { PersonnelEventType, PolicyStep } from '../../domain/approval-policy.ts';
import type { SubjectKind } from './journal.ts';

export interface ApprovalSubject {
  kind: SubjectKind;
  id: string;
  requesterId: string | null;
  targetIdentityIds: string[];
  /** A request for an organization unit: its manager is the `manager` approver. */
  targetOrgUnitId?: string | undefined;
  /** Empty for personnel events; `risk` is 1 (low) to 4 (critical). */
  resources: { type: 'permission' | 'role'; id: string; applicationId: string | null; risk: number }[];
  personnelEventType?: PersonnelEventType | undefined;
  /**
   * A personnel event no policy names: with steps here it goes through them (the tenant does
   * not auto-approve HR events); without, it is approved at once.
   */
  unnamedEventSteps?: readonly PolicyStep[] | undefined;
  /** An onboarding (no identity yet): the new hire's manager-to-be is its `manager` approver. */
  newHireManagerId?: string | null | undefined;
}

export interface ApproverView {
  identityId: string;
  name: string | null;
  /** waiting (the step is not open yet), open, approved, rejected, withdrawn */
  status: string;
  /** policy, or escalation (added when the step escalated) */
  via: string;
  decidedAt: string | null;
  comment: string | null;
}

export interface ApprovalStepView {
  id: string;
  position: number;
  name: string;
  approver: { kind: string; id: string | null };
  quorum: number;
  /** waiting, open, approved, rejected, withdrawn */
  status: string;
  approvers: ApproverView[];
  decision: 'approved' | 'rejected' | null;
  /** The identity whose decision closed the step. */
  decidedBy: string | null;
  decidedAt: string | null;
  comment: string | null;
  dueAt: string | null;
  escalatedAt: string | null;
}

/** The job kind that escalates a step of a subject when its due date passes. */
export const escalationJobKind = (kind: SubjectKind): string => `${kind}.escalate`;
