/**
 * Row types of every table, as Kysely sees them. Conventions that hold on both backends:
 * ids are strings, timestamps are ISO 8601 UTC strings (they sort as text), booleans are
 * 0/1 integers, JSON values are canonical JSON text, and every row carries `tenant_id` (but
 * the access history's versions and refs, keyed by the tenant's `access_history_keys`).
 */
import type { Generated } from 'kysely';

export interface TenantsTable {
  id: string;
  name: string;
  revision: number;
  audit_seq: number;
  audit_head_hash: string;
  created_at: string;
  /** The tenant's settings as JSON (src/domain/settings.ts; absent keys take their defaults). */
  settings: string;
  /** Access history is pruned before this revision and instant (docs/history.md, retention); null: never pruned. */
  history_from_rev: number | null;
  history_from_time: string | null;
  /** When access history began for a tenant that existed before it was recorded (0027); null: at its creation. */
  history_began_time: string | null;
}

export interface CountersTable {
  tenant_id: string;
  name: string;
  value: number;
}

export interface AuditEventsTable {
  tenant_id: string;
  seq: number;
  id: string;
  time: string;
  revision: number;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  on_behalf_of_id: string | null;
  /** The identity on whose authority the credential acted, when it is not `on_behalf_of_id` (0009). */
  authority_id: string | null;
  action: string;
  target_type: string;
  target_id: string | null;
  before: string | null;
  after: string | null;
  request_id: string | null;
  source_ip: string | null;
  /** The caller's TCP source port (0020). */
  source_port: number | null;
  user_agent: string | null;
  origin: string | null;
  prev_hash: string;
  hash: string;
}

/** An id the access history mentions, interned per tenant (src/store/fact-history.ts). */
export interface AccessHistoryKeysTable {
  key: Generated<number>;
  tenant_id: string;
  entity_id: string;
}

/** One version of a fact effective access is computed from (src/store/fact-history.ts). */
export interface AccessHistoryVersionsTable {
  /** The fact's id, as its key in `access_history_keys`. */
  key: number;
  /** The fact's kind (`ENTITY_CODE`). */
  entity: number;
  from_rev: number;
  to_rev: number | null;
  /** The row as the access index applies it, positional, ids as keys (src/store/fact-history.ts). */
  data: string;
}

/** A key a fact version refers to. */
export interface AccessHistoryRefsTable {
  ref_key: number;
  /** The referring fact's kind (`ENTITY_CODE`). */
  entity: number;
  from_rev: number;
  key: number;
}

export interface ChangesTable {
  tenant_id: string;
  revision: number;
  entity: string;
  entity_id: string;
  op: string;
}

interface Versioned {
  created_at: string;
  updated_at: string;
  version: number;
}

export interface IdentitiesTable extends Versioned {
  id: string;
  tenant_id: string;
  number: number;
  subject: string;
  username: string | null;
  /** The confusables skeleton of `username` (src/domain/identifiers.ts; 0010-identifier-skeletons). */
  username_skeleton: string | null;
  email: string | null;
  first_name: string | null;
  last_name: string | null;
  display_name: string | null;
  employee_number: string | null;
  type: string;
  status: string;
  manager_id: string | null;
  org_unit_id: string | null;
  attributes: string;
}

export interface OrgUnitsTable extends Versioned {
  id: string;
  tenant_id: string;
  number: number;
  name: string;
  parent_id: string | null;
  external_id: string | null;
  path: string;
  /** The unit's manager (an identity): the approver `org_unit_manager` of approval policies. */
  manager_id: string | null;
}

export interface ApplicationsTable extends Versioned {
  id: string;
  tenant_id: string;
  number: number;
  name: string;
  kind: string;
  description: string | null;
  owner_ids: string;
  priority: string;
  archived: number;
  builtin: number;
  connector: string | null;
}

export interface PermissionsTable extends Versioned {
  id: string;
  tenant_id: string;
  number: number;
  application_id: string;
  name: string;
  category: string | null;
  description: string | null;
  risk: string;
  requestable: number;
  delegable: number;
}

export interface RolesTable extends Versioned {
  id: string;
  tenant_id: string;
  number: number;
  name: string;
  description: string | null;
  system: number;
}

export interface RolePermissionsTable {
  tenant_id: string;
  role_id: string;
  permission_id: string;
}

export interface RoleIncludesTable {
  tenant_id: string;
  role_id: string;
  included_role_id: string;
}

export interface AssignmentsTable extends Versioned {
  id: string;
  tenant_id: string;
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
  rule_id: string | null;
  reason: string | null;
  created_by: string | null;
  /** The identity that delegated (source = delegation); added by 0003-access. */
  delegator_id?: string | null;
}

/** Assignment rules (birthright access); 0003-access. */
export interface AssignmentRulesTable extends Versioned {
  id: string;
  tenant_id: string;
  name: string;
  description: string | null;
  /** Canonical JSON of the rule's condition. */
  condition: string;
  /** Canonical JSON list of `{type, id}` resources. */
  resources: string;
  context_type: string;
  context_id: string | null;
  enabled: number;
}

/** An identity's account in an application (the provisioned space); 0003-access. */
export interface AccountsTable extends Versioned {
  id: string;
  tenant_id: string;
  application_id: string;
  name: string;
  identity_id: string | null;
  status: string;
  observed_at: string;
  import_id: string | null;
}

/** A permission an account actually holds in its application; 0003-access. */
export interface GrantsTable {
  id: string;
  tenant_id: string;
  account_id: string;
  permission_id: string;
  context_type: string;
  context_id: string | null;
  observed_at: string;
  import_id: string | null;
}

export interface ApiKeysTable {
  id: string;
  tenant_id: string;
  name: string;
  identity_id: string;
  key_hash: string;
  prefix: string;
  scopes: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
  created_by: string | null;
  /** `hmac-sha256` (keyed with the server secret) or `sha256` (written before 0002, upgraded on use). */
  hash_scheme: string;
  /** The identity whose current rights cap the key's (0009); null: not capped (made by the system). */
  authority_id: string | null;
}

/** An identity's local password (0016-console-sessions): argon2id, and its failed sign-ins. */
export interface IdentityPasswordsTable {
  tenant_id: string;
  identity_id: string;
  /** The argon2id PHC string (`$argon2id$v=19$m=...`). */
  password_hash: string;
  updated_at: string;
  updated_by: string | null;
  /** Failed sign-ins since `failure_window_start`. */
  failed_count: number;
  failure_window_start: string | null;
  /** Sign-ins are refused until then (null: not locked). */
  locked_until: string | null;
}

/** A signed-in session (0016-console-sessions); only the keyed hash of its secret is kept. */
export interface SessionsTable {
  id: string;
  tenant_id: string;
  identity_id: string;
  /** The API key the session was opened with (it ends with the key); null for password and OIDC sessions. */
  api_key_id: string | null;
  /** `api_key`, `password`, `oidc` or `token` (a Checkmarx password-grant token). */
  method: string;
  /** JSON array of the scopes narrowing the session's rights (a password-grant token's); null: not narrowed. */
  scopes: string | null;
  /** The OAuth client (row id) a password-grant token was issued to; it acts for the client's application (0020). */
  client_id: string | null;
  secret_hash: string;
  created_at: string;
  last_seen_at: string;
  /** The idle expiry, moved forward on use, never past `absolute_expires_at`. */
  expires_at: string;
  absolute_expires_at: string;
  user_agent: string | null;
  ip: string | null;
}

export interface IdempotencyKeysTable {
  tenant_id: string;
  caller_id: string;
  key: string;
  request_hash: string;
  status: number;
  response: string;
  created_at: string;
}

export interface OAuthClientsTable {
  id: string;
  tenant_id: string;
  /** The public `client_id` of RFC 6749. */
  client_id: string;
  name: string;
  secret_hash: string;
  /** JSON array of the scopes the client may ask for. */
  scopes: string;
  application_id: string | null;
  identity_id: string | null;
  last_used_at: string | null;
  created_at: string;
  created_by: string | null;
  /** The identity whose current rights cap the client's (0009); null: not capped (made by the system). */
  authority_id: string | null;
}

export interface ApplicationKeysTable {
  id: string;
  tenant_id: string;
  application_id: string;
  name: string;
  key_hash: string;
  prefix: string;
  scopes: string | null;
  expires_at: string | null;
  last_used_at: string | null;
  created_at: string;
  created_by: string | null;
}

export interface RevokedTokensTable {
  tenant_id: string;
  jti: string;
  client_id: string;
  expires_at: string;
  revoked_at: string;
}

/** Token-signing keys: server-wide (no tenant), private key encrypted with the server secret. */
export interface SigningKeysTable {
  kid: string;
  alg: string;
  public_jwk: string;
  private_key: string;
  /** `active` (signs new tokens; the newest active key is used) or `retired` (verifies only, until dropped). */
  state: string;
  created_at: string;
  retired_at: string | null;
}

/** Per-tenant keys (`purpose`: `checkpoint` Ed25519 of the audit trail, `cursor` the HMAC key of every list's cursors). */
export interface AuditKeysTable {
  tenant_id: string;
  purpose: string;
  id: string;
  /** SPKI PEM for asymmetric keys. */
  public_key: string | null;
  /** PKCS#8 PEM private key or base64 HMAC key (encrypted with the server secret). */
  secret: string;
  created_at: string;
}

export interface AuditCheckpointsTable {
  tenant_id: string;
  seq: number;
  hash: string;
  time: string;
  key_id: string;
  signature: string;
}

export interface EventSinksTable extends Versioned {
  id: string;
  tenant_id: string;
  name: string;
  kind: string;
  format: string;
  config: string;
  secret: string | null;
  status: string;
  cursor_seq: number;
  attempts: number;
  next_attempt_at: string | null;
  last_error: string | null;
  last_delivered_at: string | null;
  lease_owner: string | null;
  lease_until: string | null;
}

export interface EventSinkDeadLettersTable {
  tenant_id: string;
  sink_id: string;
  seq: number;
  event_id: string;
  error: string;
  attempts: number;
  requeued: number;
  failed_at: string;
}

/** An application import (0006-imports). JSON columns hold canonical JSON text. */
export interface ImportsTable extends Versioned {
  id: string;
  tenant_id: string;
  number: number;
  application_id: string;
  /** Scheduled, Manual, API */
  type: string;
  /** stage (the import directory) or upload */
  source: string;
  /** Pending, Running, Held, Finished, Failed, Canceling, Canceled */
  status: string;
  dry_run: number;
  /** parse, match, apply while Running */
  phase: string | null;
  created_by: string;
  created_by_id: string | null;
  scheduled_for: string | null;
  build_start: string | null;
  build_end: string | null;
  heartbeat_at: string | null;
  files: string;
  log: string;
  metrics: string | null;
  rows_read: number;
  rows_total: number | null;
  bytes_read: number;
  bytes_total: number | null;
  error: string | null;
  held_reason: string | null;
  decided_by: string | null;
  decided_at: string | null;
  /** Held imports: the state of the application's accounts the diff was computed against (0007). */
  base_state: string | null;
}

/** One account's change in an import: the stored per-account diff (0006-imports). */
export interface ImportChangesTable {
  tenant_id: string;
  import_id: string;
  seq: number;
  account_name: string;
  /** add, remove, update */
  op: string;
  match_state: string;
  match_rule: string | null;
  identity_before: string | null;
  identity_after: string | null;
  status_before: string | null;
  status_after: string | null;
  /** JSON list of {permission, context} */
  grants_added: string;
  grants_removed: string;
}

/** Accounts the last import could not match (orphan) or matched to several identities (0006-imports). */
export interface UnmatchedAccountsTable {
  tenant_id: string;
  application_id: string;
  account_name: string;
  /** orphan, ambiguous */
  state: string;
  /** JSON list of candidate identity ids */
  candidates: string;
  import_id: string;
  first_seen_at: string;
  updated_at: string;
}

/** A person's resolution of an orphan or ambiguous account; survives imports (0006-imports). */
export interface AccountResolutionsTable {
  tenant_id: string;
  application_id: string;
  account_name: string;
  /** linked, service, ignored */
  resolution: string;
  identity_id: string | null;
  note: string | null;
  created_by: string;
  created_at: string;
  updated_at: string;
}

/** Hash of the grants an import left an account with, valid while the account keeps that version (0007-import-fingerprints). */
export interface ImportFingerprintsTable {
  tenant_id: string;
  account_id: string;
  account_version: number;
  /** base64 SHA-256 of the account's sorted (permission id, context) pairs */
  grants_hash: string;
  grant_count: number;
}

/** The durable scheduler's jobs (src/services/kernel/scheduler.ts). */
export interface ScheduledJobsTable {
  id: string;
  tenant_id: string;
  kind: string;
  subject_id: string;
  job_key: string;
  due_at: string;
  status: 'pending' | 'done' | 'failed' | 'canceled';
  attempts: number;
  lease_owner: string | null;
  lease_until: string | null;
  last_error: string | null;
  payload: string | null;
  created_at: string;
  done_at: string | null;
}

/** Comments and activity on workflow subjects (src/services/workflow/journal.ts). */
export interface WorkflowEntriesTable {
  id: string;
  tenant_id: string;
  subject_kind: string;
  subject_id: string;
  seq: number;
  entry: 'comment' | 'activity';
  at: string;
  actor_type: string;
  actor_id: string | null;
  actor_name: string | null;
  /** The identity the actor acted as (an API key's identity), if any. */
  actor_identity_id: string | null;
  text: string;
  detail: string | null;
}

/** Rate-limit counters shared by a deployment's nodes (migration 0024); not tenant data. */
export interface RateLimitCountersTable {
  key: string;
  window_start: number;
  expires_at: number;
  count: number;
}

export interface Database {
  tenants: TenantsTable;
  counters: CountersTable;
  audit_events: AuditEventsTable;
  changes: ChangesTable;
  access_history_keys: AccessHistoryKeysTable;
  access_history_versions: AccessHistoryVersionsTable;
  access_history_refs: AccessHistoryRefsTable;
  identities: IdentitiesTable;
  org_units: OrgUnitsTable;
  applications: ApplicationsTable;
  permissions: PermissionsTable;
  roles: RolesTable;
  role_permissions: RolePermissionsTable;
  role_includes: RoleIncludesTable;
  assignments: AssignmentsTable;
  assignment_rules: AssignmentRulesTable;
  accounts: AccountsTable;
  grants: GrantsTable;
  api_keys: ApiKeysTable;
  identity_passwords: IdentityPasswordsTable;
  sessions: SessionsTable;
  idempotency_keys: IdempotencyKeysTable;
  oauth_clients: OAuthClientsTable;
  application_keys: ApplicationKeysTable;
  revoked_tokens: RevokedTokensTable;
  rate_limit_counters: RateLimitCountersTable;
  signing_keys: SigningKeysTable;
  audit_keys: AuditKeysTable;
  audit_checkpoints: AuditCheckpointsTable;
  event_sinks: EventSinksTable;
  event_sink_dead_letters: EventSinkDeadLettersTable;
  imports: ImportsTable;
  import_changes: ImportChangesTable;
  unmatched_accounts: UnmatchedAccountsTable;
  account_resolutions: AccountResolutionsTable;
  import_fingerprints: ImportFingerprintsTable;
  scheduled_jobs: ScheduledJobsTable;
  workflow_entries: WorkflowEntriesTable;
  approval_policies: ApprovalPoliciesTable;
  approval_steps: ApprovalStepsTable;
  approval_tasks: ApprovalTasksTable;
  access_requests: AccessRequestsTable;
  personnel_events: PersonnelEventsTable;
  personnel_event_paused: PersonnelEventPausedTable;
  sod_policies: SodPoliciesTable;
  sod_exceptions: SodExceptionsTable;
  access_reviews: AccessReviewsTable;
  review_items: ReviewItemsTable;
}

/** Approval policies (0013-access-requests): JSON columns hold canonical JSON text. */
export interface ApprovalPoliciesTable extends Versioned {
  id: string;
  tenant_id: string;
  name: string;
  /** `{applicationIds?, permissionIds?, roleIds?, minRisk?, personnelEventTypes?}` */
  applies_to: string;
  /** `[{name, approver, id?, quorum, dueDays?, escalateTo?}]` */
  steps: string;
  /** Items of this risk or lower are approved at once (low, medium, high, critical). */
  auto_approve: string | null;
}

/** One approval step of a subject (an access request or a personnel event); 0013. */
export interface ApprovalStepsTable {
  id: string;
  tenant_id: string;
  subject_kind: string;
  subject_id: string;
  position: number;
  name: string;
  /** JSON `{approver, id?}` as the policy named it. */
  approver: string;
  quorum: number;
  due_days: number | null;
  /** JSON `{identityId} | {step}` or null. */
  escalate_to: string | null;
  /** waiting, open, approved, rejected, withdrawn */
  status: string;
  due_at: string | null;
  opened_at: string | null;
  decided_at: string | null;
  escalated_at: string | null;
  /** JSON of the subject as it opened (requester, targets, resources): what escalations resolve approvers for. */
  subject: string;
}

/** One approver's task in a step; 0013. */
export interface ApprovalTasksTable {
  id: string;
  tenant_id: string;
  step_id: string;
  subject_kind: string;
  subject_id: string;
  approver_id: string;
  /** waiting, open, approved, rejected, withdrawn */
  status: string;
  /** policy, escalation */
  via: string;
  due_at: string | null;
  comment: string | null;
  decided_at: string | null;
  created_at: string;
}

/** An access request; 0013. */
export interface AccessRequestsTable extends Versioned {
  id: string;
  tenant_id: string;
  number: number;
  /** add, change, remove, suspend, restore */
  action: string;
  /** identity, orgUnit */
  target_type: string;
  target_id: string;
  resource_type: string;
  resource_id: string;
  /** The permission's application (null for a role). */
  application_id: string | null;
  context_type: string;
  context_id: string | null;
  valid_from: string | null;
  valid_to: string | null;
  justification: string | null;
  requester_id: string | null;
  requester_name: string;
  /** The existing assignment a change, remove, suspend or restore acts on. */
  assignment_id: string | null;
  /** pending, open, scheduled, completed, rejected, canceled, failed */
  status: string;
  /** not_needed, pending, provisioned, verified, failed */
  provisioning_status: string;
  provisioning_assignment_id: string | null;
  provisioning_observed_at: string | null;
  provisioning_imports_seen: number;
  /** JSON `[{applicationId, permissionId}]`: the grants imports must show (or no longer show). */
  provisioning_checks: string;
  sod_conflicts: string;
  policy_id: string | null;
  closed_at: string | null;
}

/** A personnel event (0014-personnel-events); JSON columns hold canonical JSON text. */
export interface PersonnelEventsTable extends Versioned {
  id: string;
  tenant_id: string;
  number: number;
  /** onboard, offboard, role_transition, leave_of_absence */
  type: string;
  /** pending_approval, scheduled, in_progress, completed, canceled, failed */
  status: string;
  /** Null for an onboarding until its Provision stage created the identity. */
  identity_id: string | null;
  identity_name: string | null;
  effective_at: string;
  end_at: string | null;
  /** identity (or onboarding person) + type + effective time: a replayed HR message finds its event. */
  dedupe_key: string;
  changes: string;
  comment: string | null;
  preview: string;
  stages: string;
  reporter_type: string;
  reporter_id: string | null;
  reporter_name: string | null;
  completed_at: string | null;
  /** The creator's Grantory rights (JSON array; null: the system): the most the event's stages may give (0015). */
  creator_rights: string | null;
}

/** The assignments a leave of absence paused (0014): its return resumes exactly these. */
export interface PersonnelEventPausedTable {
  tenant_id: string;
  event_id: string;
  assignment_id: string;
}

/** A separation-of-duties policy; 0012-sod. */
export interface SodPoliciesTable extends Versioned {
  id: string;
  tenant_id: string;
  name: string;
  description: string | null;
  /** Canonical JSON: an array of at least two sets, each an array of `{type, id}` resources. */
  conflicting: string;
  /** `block` | `require_exception` */
  mode: string;
  /** `low` | `medium` | `high` | `critical` */
  severity: string;
  enabled: number;
}

/** An approved exception to a policy for one identity, until `expires_at`; 0012-sod. */
export interface SodExceptionsTable {
  id: string;
  tenant_id: string;
  policy_id: string;
  identity_id: string;
  reason: string;
  expires_at: string;
  /** The credential (or identity) that recorded the approval. */
  approved_by: string;
  approved_by_name: string | null;
  approver_identity_id: string | null;
  /** `assignment` | `access_request` */
  subject_type: string;
  subject_id: string | null;
  created_at: string;
  /** Revoked before it expired (0026): when, by which credential, and why; null while not revoked. */
  revoked_at: string | null;
  revoked_by: string | null;
  revoked_by_name: string | null;
  revoker_identity_id: string | null;
  revoke_reason: string | null;
}

/** An access review campaign (0018-access-reviews); JSON columns hold canonical JSON text. */
export interface AccessReviewsTable extends Versioned {
  id: string;
  tenant_id: string;
  number: number;
  name: string;
  description: string | null;
  /** `{applicationIds?, orgUnitIds?, minRisk?}` */
  scope: string;
  /** `provisioned` | `assigned` */
  space: string;
  /** `{type: manager | application_owner | identity, id?}` */
  reviewer: string;
  fallback_reviewer_id: string | null;
  /** Days from the start to the deadline. */
  due_days: number;
  /** Set when the campaign starts. */
  due_at: string | null;
  /** `none` | `revoke` | `certify`, applied to open items at the deadline. */
  default_decision: string;
  /** JSON array: days before the due date on which reviewers with open items are reminded. */
  reminder_days: string;
  /** Cron expression (UTC): a new campaign like this one is started on each occurrence. */
  schedule: string | null;
  /** The recurring campaign this one was started from. */
  recurrence_of: string | null;
  /** `draft` | `active` | `closed` */
  status: string;
  item_count: number;
  started_at: string | null;
  start_revision: number | null;
  start_audit_seq: number | null;
  closed_at: string | null;
  /** `manual` | `deadline` */
  close_reason: string | null;
  close_audit_seq: number | null;
  created_by: string;
}

/** One identity × permission (or orphan account grant) of a campaign, as snapshotted at its start; 0018. */
export interface ReviewItemsTable {
  id: string;
  tenant_id: string;
  review_id: string;
  position: number;
  identity_id: string | null;
  identity_name: string | null;
  account_id: string | null;
  account_name: string | null;
  application_id: string;
  application_name: string;
  permission_id: string | null;
  permission_name: string | null;
  risk: string;
  /** JSON `{kind: assigned | observed, text, via: [...]}` */
  why: string;
  observed_at: string | null;
  drift: number;
  sod: number;
  orphan: number;
  reviewer_id: string | null;
  assigned_reviewer_id: string | null;
  /** Why this reviewer: `manager`, `application_owner`, `identity`, `fallback_self_review`, `fallback_no_reviewer`, `delegated`. */
  reviewer_reason: string;
  delegated_by: string | null;
  /** `certify` | `revoke` | `modify`, null while open. */
  decision: string | null;
  comment: string | null;
  valid_to: string | null;
  decided_by: string | null;
  decided_by_name: string | null;
  decided_at: string | null;
  request_id: string | null;
  /** JSON `{status: request_opened | manual | none, reason?}` */
  remediation: string | null;
  version: number;
}
