/**
 * The rows the access index is filled and kept current with: what the loader reads in bulk
 * and what the change feed re-reads for one entity.
 */
export interface UnitRow {
  id: string;
  number: number;
  name: string;
  parent_id: string | null;
  external_id: string | null;
}
export interface IdentityRow {
  id: string;
  number: number;
  subject: string;
  username: string | null;
  email: string | null;
  display_name: string | null;
  status: string;
  org_unit_id: string | null;
}
export interface ApplicationRow {
  id: string;
  number: number;
  name: string;
  kind: string;
  builtin?: number | undefined;
}
export interface PermissionRow {
  id: string;
  number: number;
  application_id: string;
  name: string;
  delegable: number;
}
export interface RoleRow {
  id: string;
  name: string;
  permissionIds: readonly string[];
  includedRoleIds: readonly string[];
}
export interface AssignmentRow {
  id: string;
  assignee_type: string;
  assignee_id: string;
  resource_type: string;
  resource_id: string;
  context_type: string;
  context_id: string | null;
  source: string;
  state: string;
  valid_from: string | null;
  valid_to: string | null;
  delegated_from_id: string | null;
  delegator_id?: string | null | undefined;
  rule_id: string | null;
}
export interface AccountRow {
  id: string;
  application_id: string;
  name: string;
  identity_id: string | null;
  status: string;
  observed_at: string;
  import_id: string | null;
  grants: readonly { permission_id: string; context_type: string; context_id: string | null }[];
}
