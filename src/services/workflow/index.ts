/**
 * Workflows shared by access requests and personnel events: the journal of comments and
 * activity on a workflow subject; approval policies, the approval steps and tasks of a
 * subject, the inbox, decisions and escalations. (The durable scheduler and the tenant's
 * settings are in the kernel.)
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { auditTargetType, journalOf, MAX_COMMENT_LENGTH, recordActivities, recordActivity, recordComment, type ActivityLine } from './journal.ts';
export type { JournalActor, JournalEntryView, SubjectKind, WorkflowSubject } from './journal.ts';
export { APPROVAL_JOB_HANDLERS } from './jobs.ts';
export { approvalSteps, closeApproval, decideTask, escalateStep, openApproval } from './approvals.ts';
export type { Decision, DecisionTarget } from './approvals.ts';
export { approvalInbox, decideApprovalTask, openApproverNames } from './inbox.ts';
export type { InboxItem } from './inbox.ts';
export { POLICY_READ_RIGHTS, createApprovalPolicy, deleteApprovalPolicy, getApprovalPolicy, listApprovalPolicies, updateApprovalPolicy } from './policies.ts';
export type { ApprovalPolicyView, PolicyInput, PolicyPatch } from './policies.ts';
export { escalationJobKind } from './subject.ts';
export type { ApprovalStepView, ApprovalSubject, ApproverView } from './subject.ts';
export { permissionsOfRoles } from './approvers.ts';
