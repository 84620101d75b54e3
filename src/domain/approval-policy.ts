/**
 * Approval policies as pure rules: their shape, their validation (steps, approver kinds,
 * quorum, escalation cycles), which policy applies to a subject (the most specific wins) and
 * whether its items are approved at once. No I/O: the services check that named ids exist.
 *
 * ```ts
 * const errors = policyProblems({ name: 'Finance', appliesTo: { applicationIds: [app] }, steps: [{ name: 'Manager', approver: 'manager', quorum: 1 }] });
 * // [] when valid, else [{ field: 'steps[0].approver', message: ... }]
 * const best = mostSpecificPolicy(policies, { resources: [{ type: 'permission', id, applicationId: app, risk: 2 }] });
 * ```
 */
import type { FieldError } from './errors.ts';

export const APPROVER_KINDS = ['manager', 'application_owner', 'identity', 'org_unit_manager', 'role_holders'] as const;
export type ApproverKind = (typeof APPROVER_KINDS)[number];
/** Approver kinds that name an object (`id`): an identity, a unit, a role. */
export const APPROVERS_WITH_ID: readonly ApproverKind[] = ['identity', 'org_unit_manager', 'role_holders'];

export const RISK_LEVELS = ['low', 'medium', 'high', 'critical'] as const;
export type RiskLevel = (typeof RISK_LEVELS)[number];
/** A risk as a number (low 1 ... critical 4), for comparisons. */
export const riskRank = (risk: string): number => RISK_LEVELS.indexOf(risk as RiskLevel) + 1;

export const PERSONNEL_EVENT_TYPES = ['onboard', 'offboard', 'role_transition', 'leave_of_absence'] as const;
export type PersonnelEventType = (typeof PERSONNEL_EVENT_TYPES)[number];

export const MAX_STEPS = 10;
export const MAX_QUORUM = 50;
export const MAX_DUE_DAYS = 365;

/** Where a step's tasks go when its due date passes (or when nobody else may decide it). */
export type EscalationTarget = { identityId: string } | { step: string };

export interface PolicyStep {
  name: string;
  approver: ApproverKind;
  id: string | null;
  quorum: number;
  dueDays: number | null;
  escalateTo: EscalationTarget | null;
}

export interface AppliesTo {
  applicationIds?: string[] | undefined;
  permissionIds?: string[] | undefined;
  roleIds?: string[] | undefined;
  minRisk?: RiskLevel | undefined;
  personnelEventTypes?: PersonnelEventType[] | undefined;
}

export interface PolicyDraft {
  name: string;
  appliesTo: AppliesTo;
  steps: {
    name: string;
    approver: string;
    id?: string | null | undefined;
    quorum?: number | undefined;
    dueDays?: number | null | undefined;
    escalateTo?: { identityId?: string | undefined; step?: string | undefined } | null | undefined;
  }[];
  autoApprove: string | null;
}

/** A draft's problems, each naming its field (`steps`, `steps[1].approver`, `steps[0].escalateTo`, ...). */
export function policyProblems(draft: PolicyDraft): FieldError[] {
  const errors: FieldError[] = [];
  const add = (field: string, message: string) => errors.push({ field, message });
  if (!draft.steps.length) add('steps', 'must name at least one step');
  if (draft.steps.length > MAX_STEPS) add('steps', `may name at most ${MAX_STEPS} steps`);
  const names = new Set<string>();
  draft.steps.forEach((s, i) => {
    const at = `steps[${i}]`;
    if (!s.name.trim()) add(`${at}.name`, 'must not be empty');
    if (names.has(s.name)) add(`${at}.name`, `repeats the step name "${s.name}"`);
    names.add(s.name);
    if (!(APPROVER_KINDS as readonly string[]).includes(s.approver)) {
      add(`${at}.approver`, `must be one of ${APPROVER_KINDS.join(', ')}`);
    } else if (APPROVERS_WITH_ID.includes(s.approver as ApproverKind) && !s.id) {
      add(`${at}.id`, `is required for approver ${s.approver}`);
    } else if (!APPROVERS_WITH_ID.includes(s.approver as ApproverKind) && s.id) {
      add(`${at}.id`, `must be absent for approver ${s.approver}`);
    }
    if (s.quorum !== undefined && (!Number.isInteger(s.quorum) || s.quorum < 1 || s.quorum > MAX_QUORUM)) add(`${at}.quorum`, `must be an integer from 1 to ${MAX_QUORUM}`);
    if (s.dueDays !== undefined && s.dueDays !== null && (!Number.isInteger(s.dueDays) || s.dueDays < 1 || s.dueDays > MAX_DUE_DAYS)) add(`${at}.dueDays`, `must be an integer from 1 to ${MAX_DUE_DAYS}`);
    const e = s.escalateTo;
    if (e && (e.identityId === undefined) === (e.step === undefined)) add(`${at}.escalateTo`, 'must name either identityId or step');
    else if (e?.step !== undefined && !draft.steps.some((o) => o.name === e.step)) add(`${at}.escalateTo.step`, `names no step of this policy: "${e.step}"`);
    else if (e?.step === s.name) add(`${at}.escalateTo.step`, 'must name another step');
  });
  if (!errors.length) {
    const cycle = escalationCycle(draft.steps);
    if (cycle) add(`steps[${cycle.at}].escalateTo`, `escalations form a cycle: ${cycle.names.join(' → ')}`);
  }
  if (draft.autoApprove !== null && !(RISK_LEVELS as readonly string[]).includes(draft.autoApprove)) add('autoApprove', `must be one of ${RISK_LEVELS.join(', ')}`);
  const a = draft.appliesTo;
  if (a.minRisk !== undefined && !(RISK_LEVELS as readonly string[]).includes(a.minRisk)) add('appliesTo.minRisk', `must be one of ${RISK_LEVELS.join(', ')}`);
  for (const t of a.personnelEventTypes ?? []) if (!(PERSONNEL_EVENT_TYPES as readonly string[]).includes(t)) add('appliesTo.personnelEventTypes', `must list only ${PERSONNEL_EVENT_TYPES.join(', ')}`);
  const forEvents = (a.personnelEventTypes?.length ?? 0) > 0;
  if (forEvents && (a.applicationIds?.length || a.permissionIds?.length || a.roleIds?.length || a.minRisk)) {
    add('appliesTo.personnelEventTypes', 'a policy for personnel events names no applications, permissions, roles or risk');
  }
  return errors;
}

/** The first cycle of step-to-step escalations, if any: the step it starts at and the names along it. */
export function escalationCycle(steps: readonly { name: string; escalateTo?: { step?: string | undefined } | null | undefined }[]): { at: number; names: string[] } | null {
  const next = new Map<string, string>();
  for (const s of steps) if (s.escalateTo?.step !== undefined) next.set(s.name, s.escalateTo.step);
  for (let i = 0; i < steps.length; i += 1) {
    const path = [steps[i]!.name];
    let current = next.get(steps[i]!.name);
    while (current !== undefined) {
      if (current === steps[i]!.name) return { at: i, names: [...path, current] };
      if (path.includes(current)) break;
      path.push(current);
      current = next.get(current);
    }
  }
  return null;
}

/** One item a subject asks for, with its risk as a number (see {@link riskRank}). */
export interface PolicyItem {
  type: 'permission' | 'role';
  id: string;
  applicationId: string | null;
  risk: number;
}

export interface PolicyCandidate {
  id: string;
  name: string;
  appliesTo: AppliesTo;
}

/**
 * How specifically a policy names an item, or -1 when it does not apply to it:
 * 4 the permission itself, 3 the role itself, 2 the item's application, 1 only a minimum
 * risk, 0 a catch-all (names nothing). A `minRisk` is a further condition on any of them.
 */
export function specificity(appliesTo: AppliesTo, item: PolicyItem): number {
  if (appliesTo.personnelEventTypes?.length) return -1;
  if (appliesTo.minRisk && item.risk < riskRank(appliesTo.minRisk)) return -1;
  const names = (appliesTo.permissionIds?.length ?? 0) + (appliesTo.roleIds?.length ?? 0) + (appliesTo.applicationIds?.length ?? 0);
  if (item.type === 'permission' && appliesTo.permissionIds?.includes(item.id)) return 4;
  if (item.type === 'role' && appliesTo.roleIds?.includes(item.id)) return 3;
  if (item.applicationId && appliesTo.applicationIds?.includes(item.applicationId)) return 2;
  if (names) return -1;
  return appliesTo.minRisk ? 1 : 0;
}

/**
 * The policy that applies to the items: the most specific one (see {@link specificity}, the
 * best over the items); among equals, one with a minimum risk, then the higher minimum, then
 * the name, so the choice never depends on storage order. Null: no policy applies.
 */
export function mostSpecificPolicy<P extends PolicyCandidate>(policies: readonly P[], items: readonly PolicyItem[]): P | null {
  let best: { policy: P; key: [number, number, number] } | null = null;
  for (const policy of policies) {
    const rank = Math.max(-1, ...items.map((i) => specificity(policy.appliesTo, i)));
    if (rank < 0) continue;
    const key: [number, number, number] = [rank, policy.appliesTo.minRisk ? 1 : 0, policy.appliesTo.minRisk ? riskRank(policy.appliesTo.minRisk) : 0];
    if (!best || compareKeys(key, best.key) > 0 || (compareKeys(key, best.key) === 0 && policy.name < best.policy.name)) best = { policy, key };
  }
  return best?.policy ?? null;
}

/** The policy for a personnel event of `type`: one naming the type (by name order when several do), else null. */
export function policyForEventType<P extends PolicyCandidate>(policies: readonly P[], type: PersonnelEventType): P | null {
  return [...policies].filter((p) => p.appliesTo.personnelEventTypes?.includes(type)).sort((a, b) => (a.name < b.name ? -1 : a.name > b.name ? 1 : 0))[0] ?? null;
}

function compareKeys(a: readonly number[], b: readonly number[]): number {
  for (let i = 0; i < a.length; i += 1) if (a[i] !== b[i]) return a[i]! - b[i]!;
  return 0;
}

/** Whether every item is at or below the policy's auto-approve risk. */
export function autoApproves(autoApprove: string | null, items: readonly PolicyItem[]): boolean {
  if (autoApprove === null || !items.length) return false;
  const limit = riskRank(autoApprove);
  return items.every((i) => i.risk <= limit);
}

/** The steps without a policy: the application owner approves. */
export const DEFAULT_STEPS: readonly PolicyStep[] = [{ name: 'Application owner', approver: 'application_owner', id: null, quorum: 1, dueDays: null, escalateTo: null }];
