/**
 * The rows the access index is filled and kept current with: what the loader reads in bulk
 * and what the change feed re-reads for one entity (defined with their reader in
 * src/store/fact-rows.ts, which access history records too).
 */
export type { AccountRow, ApplicationRow, AssignmentRow, IdentityRow, PermissionRow, RoleRow, UnitRow } from '../store/fact-rows.ts';
