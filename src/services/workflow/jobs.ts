/**
 * The scheduler jobs of approvals: a step's escalation when its due date passes, for access
 * requests and personnel events alike (the step stores the subject it resolves approvers for).
 */
import type { JobHandler } from '../deps.ts';
import { escalateStep } from './approvals.ts';
import { escalationJobKind } from './subject.ts';

const escalate: JobHandler = async (deps, tx, job) => escalateStep(deps, tx, { kind: job.kind, subjectId: job.subjectId, key: job.key });

export const APPROVAL_JOB_HANDLERS: Readonly<Record<string, JobHandler>> = {
  [escalationJobKind('access_request')]: escalate,
  [escalationJobKind('personnel_event')]: escalate,
};
