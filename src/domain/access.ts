/**
 * The vocabulary of effective access, shared by the reference evaluator
 * (`access-rules.ts`), the in-memory index (`src/engine`) and the services. No I/O.
 */

export type AssigneeType = 'identity' | 'orgUnit';
export type ResourceType = 'permission' | 'role';
export type ContextType = 'all' | 'orgUnit' | 'identity' | 'object';
export type AssignmentSource = 'direct' | 'rule' | 'delegation' | 'request';
export type AssignmentState = 'active' | 'paused' | 'revoked';
export type IdentityStatus = 'active' | 'on_leave' | 'terminated';
export type AccessSpace = 'assigned' | 'provisioned';

export const ASSIGNEE_TYPES: readonly AssigneeType[] = ['identity', 'orgUnit'];
export const RESOURCE_TYPES: readonly ResourceType[] = ['permission', 'role'];
export const CONTEXT_TYPES: readonly ContextType[] = ['all', 'orgUnit', 'identity', 'object'];
export const ACCESS_SPACES: readonly AccessSpace[] = ['assigned', 'provisioned'];
export const ASSIGNMENT_SOURCES: readonly AssignmentSource[] = ['direct', 'rule', 'delegation', 'request'];
export const ASSIGNMENT_STATES: readonly AssignmentState[] = ['active', 'paused', 'revoked'];

/**
 * What a right applies to. `all` covers every context; an `orgUnit` context covers that unit
 * and its descendant units; `identity` and `object` contexts cover exactly themselves.
 */
export interface AccessContext {
  type: ContextType;
  /** The unit id, identity id or application object key; `null` for `all`. */
  id: string | null;
}

export const CONTEXT_ALL: AccessContext = { type: 'all', id: null };

/** One assignment as the rules see it. Times are milliseconds since the epoch. */
export interface AssignmentFact {
  id: string;
  assigneeType: AssigneeType;
  assigneeId: string;
  resourceType: ResourceType;
  resourceId: string;
  context: AccessContext;
  state: AssignmentState;
  validFrom: number | null;
  validTo: number | null;
  /** The assignment a delegation was made from (its source). */
  delegatedFromId: string | null;
  /** The identity that delegated (holder of the source assignment). */
  delegatorId: string | null;
}

/** True when `now` is inside `[validFrom, validTo)` (open ends allowed). Rule 1. */
export function withinValidity(validFrom: number | null, validTo: number | null, now: number): boolean {
  return (validFrom === null || validFrom <= now) && (validTo === null || now < validTo);
}

/** Parses an ISO timestamp column into milliseconds (null stays null). */
export function timeOf(iso: string | null | undefined): number | null {
  if (iso === null || iso === undefined) return null;
  const ms = Date.parse(iso);
  return Number.isNaN(ms) ? null : ms;
}

/** A stable text key for a context (used in maps and cursors). */
export function contextKey(c: AccessContext): string {
  return c.type === 'all' ? 'all' : `${c.type}:${c.id ?? ''}`;
}
