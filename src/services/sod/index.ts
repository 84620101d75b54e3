/**
 * Separation of duties: policies of conflicting permissions and roles, the check every
 * path that adds access makes inside its write, exceptions, and the current violations.
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { checkSod, enforceSod, recordSodException, sodTouches, unmitigated, validateSodException, resourceNames } from './checks.ts';
export type { SodAdd, SodCheckInput, SodConflict, SodExceptionInput, SodExceptionView, SodHeldView } from './checks.ts';
export { SOD_READ_RIGHTS, createSodPolicy, deleteSodPolicy, getSodPolicy, listSodPolicies, updateSodPolicy } from './policies.ts';
export type { SodPolicyInput, SodPolicyPatch, SodPolicyView } from './policies.ts';
export { listSodViolations, sodConflicts, sodInvolvement, summarizeSodViolations, warmSodViolations, type SodViolationSummary } from './violations.ts';
export type { SodInvolvement, SodViolation, ViolationQuery } from './violations.ts';
export { checkObservedSod, checkRoleContentsSod, checkUnitMoveSod, linkedAccountGrants, refuseOrReport, reportLinkedAccountSod, sodGraphBefore, sodNamedPermissions, unitChain, unitMembers } from './gained.ts';
export { createSodException, getSodException, listSodExceptions, revokeSodException } from './exceptions.ts';
export type { SodExceptionCreate, SodExceptionFilter } from './exceptions.ts';
