/**
 * Access: assignments, assignment rules, delegation, Grantory rights, accounts of connected applications, and the reads answered by the access engine.
 *
 * The public face of this folder: code outside it imports from here only.
 */
export { accountView, deleteAccount, putAccount } from './accounts.ts';
export type { AccountView } from './accounts.ts';
export { streamAssignmentGrants } from './assignment-grants.ts';
export type { AssignmentGrantView } from './assignment-grants.ts';
export { createAssignmentRule, deleteAssignmentRule, getAssignmentRule, listAssignmentRules, updateAssignmentRule } from './assignment-rules.ts';
export { changeAssignmentState, createAssignment, delegateAssignment, getAssignment, listAssignments } from './assignments.ts';
export type { StateAction } from './assignments.ts';
export { engineOf } from './common.ts';
export { activeRoleNamesOf, createIdentityWithRoles, listDirectRoleIds, updateIdentityWithRoles } from './direct-roles.ts';
export { MAX_PROVISIONED_PAGE, provisionedPermissions } from './provisioned-permissions.ts';
export type { ProvisionedPage, ProvisionedQuery } from './provisioned-permissions.ts';
export { accessDrift, accessDriftSummary, explainAccess, identityAccess, permissionHolders } from './queries.ts';
export { checkAccess, checkAccessBatch, CheckSpans, MAX_BATCH_CHECKS, SPAN } from './checks.ts';
export type { CheckAnswer, CheckInput } from './checks.ts';
export { grantoryRights } from './rights.ts';
export { RULE_DIRECTORY_HOOKS } from './rule-hooks.ts';
export { roleHolderIds, rightHolderIds } from './holders.ts';
export { changeAssignmentTerms, insertAssignment, setState } from './assignments.ts';
export { normalizeContext, validateWindow } from './common.ts';
export type { NewAssignment } from './assignments.ts';
export type { AssignmentView } from './common.ts';
export { delegationRowsFrom, holdForReview, identityAssignmentRows, pauseIdentityAssignments, resumeAssignments, revokeAssignments, revokeIdentityAssignments, ruleGrantsFor } from './personnel-effects.ts';
export type { EventCause, RuleGrant } from './personnel-effects.ts';
export { accessAt, holdersAt, identityAccessHistory, pruneAccessHistory } from './history.ts';
export type { AccessChange, HistoryCause } from './history.ts';
