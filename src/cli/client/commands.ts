/**
 * The client commands of `grantory`: each names the API operation it calls by operationId, so
 * it type-checks only against operations in operations.generated.ts (generated from
 * openapi.json and checked by `npm run api-client:check`). Positional arguments are the
 * operation's path parameters (renamed here where `id` would not say whose), flags are its query
 * parameters and JSON body fields, and the help text is the operation's summary plus examples.
 *
 * This module is small and loaded by `grantory --help` to list the groups; the commands
 * themselves are built by register.ts only when one of these groups runs.
 */
import type { OperationId } from './operations.generated.ts';

export interface ClientCommand {
  name: string;
  op: OperationId;
  /** Replaces the operation's summary in the help. */
  description?: string;
  /** Names shown for the path parameters, in order (default: the parameters' own names). */
  args?: string[];
  /** Table columns when --fields is not given. */
  columns?: string[];
  examples?: string[];
  /** Commands whose work is more than one call (see special.ts). */
  special?: 'check' | 'upload' | 'watch' | 'download';
}

export interface ClientGroup {
  name: string;
  description: string;
  /** What one object of the group is called in a confirmation ("Delete identity ID?"). */
  noun?: string;
  commands: ClientCommand[];
}

/**
 * Commands that delete or end something: on a terminal they ask first ("Delete identity ID?
 * [y/N]") unless --yes; elsewhere they refuse without --yes (see confirm.ts).
 */
export const DESTRUCTIVE = new Set(['delete', 'revoke', 'cancel']);

const IDENTITY_COLUMNS = ['id', 'username', 'displayName', 'email', 'type', 'status'];
const NAMED_COLUMNS = ['id', 'name', 'description'];

export const CLIENT_GROUPS: ClientGroup[] = [
  {
    name: 'identities',
    noun: 'identity',
    description: 'people and service accounts',
    commands: [
      { name: 'list', op: 'getIdentities', columns: IDENTITY_COLUMNS, examples: ['grantory identities list --status active --q smith', 'grantory identities list --all -o ndjson > identities.ndjson'] },
      { name: 'get', op: 'getIdentitiesById', examples: ['grantory identities get 3f2b8c1e-7a4d-4e5f-9b6a-1c2d3e4f5a6b -o yaml'] },
      { name: 'create', op: 'postIdentities', examples: ['grantory identities create --username jdoe --email jdoe@example.com --display-name "Jane Doe" --attributes department=Finance', "grantory identities create --data @jane.json"] },
      { name: 'update', op: 'patchIdentitiesById', examples: ['grantory identities update ID --status on_leave'] },
      { name: 'delete', op: 'deleteIdentitiesById', examples: ['grantory identities delete ID'] },
    ],
  },
  {
    name: 'org-units',
    noun: 'org unit',
    description: 'organization units',
    commands: [
      { name: 'list', op: 'getOrgUnits', columns: ['id', 'name', 'parentId'] },
      { name: 'get', op: 'getOrgUnitsById' },
      { name: 'create', op: 'postOrgUnits', examples: ['grantory org-units create --name Finance'] },
      { name: 'update', op: 'patchOrgUnitsById' },
      { name: 'delete', op: 'deleteOrgUnitsById' },
    ],
  },
  {
    name: 'applications',
    noun: 'application',
    description: 'applications whose permissions Grantory governs',
    commands: [
      { name: 'list', op: 'getApplications', columns: NAMED_COLUMNS },
      { name: 'get', op: 'getApplicationsById' },
      { name: 'create', op: 'postApplications', examples: ['grantory applications create --name Payroll --description "Payroll runs"'] },
      { name: 'update', op: 'patchApplicationsById' },
      { name: 'delete', op: 'deleteApplicationsById' },
    ],
  },
  {
    name: 'permissions',
    noun: 'permission',
    description: "applications' permissions",
    commands: [
      { name: 'list', op: 'getPermissions', columns: ['id', 'applicationId', 'name', 'category', 'risk'], examples: ['grantory permissions list --application-id APP_ID'] },
      { name: 'get', op: 'getPermissionsById' },
      { name: 'create', op: 'postApplicationsByIdPermissions', args: ['application-id'], examples: ['grantory permissions create APP_ID --name payroll.approve --risk high'] },
      { name: 'update', op: 'patchPermissionsById' },
      { name: 'delete', op: 'deletePermissionsById' },
    ],
  },
  {
    name: 'roles',
    noun: 'role',
    description: 'roles: bundles of permissions and other roles',
    commands: [
      { name: 'list', op: 'getRoles', columns: NAMED_COLUMNS },
      { name: 'get', op: 'getRolesById' },
      { name: 'create', op: 'postRoles', examples: ['grantory roles create --name "Payroll clerk" --permission-ids PERM_ID1,PERM_ID2'] },
      { name: 'update', op: 'patchRolesById' },
      { name: 'delete', op: 'deleteRolesById' },
    ],
  },
  {
    name: 'assignments',
    noun: 'assignment',
    description: 'who is assigned which permission or role',
    commands: [
      { name: 'list', op: 'getAssignments', columns: ['id', 'assignee.type', 'assignee.id', 'resource.type', 'resource.id', 'state'], examples: ['grantory assignments list --assignee-id IDENTITY_ID --all'] },
      { name: 'get', op: 'getAssignmentsById' },
      { name: 'grant', op: 'postAssignments', examples: ['grantory assignments grant --assignee type=identity,id=IDENTITY_ID --resource type=permission,id=PERM_ID --reason "Quarter close"'] },
      { name: 'pause', op: 'postAssignmentsByIdPause', examples: ['grantory assignments pause ASSIGNMENT_ID --reason "Leave of absence"'] },
      { name: 'resume', op: 'postAssignmentsByIdResume' },
      { name: 'revoke', op: 'postAssignmentsByIdRevoke', examples: ['grantory assignments revoke ASSIGNMENT_ID --reason "Left the team"'] },
      { name: 'delegate', op: 'postAssignmentsByIdDelegate' },
    ],
  },
  {
    name: 'access',
    description: 'effective access: who has what, why, and since when',
    commands: [
      { name: 'list', op: 'getIdentitiesByIdAccess', args: ['identity-id'], examples: ['grantory access list IDENTITY_ID --application-id APP_ID'] },
      { name: 'explain', op: 'getAccessExplain', examples: ['grantory access explain --identity jdoe --application Payroll --permission payroll.approve'] },
      { name: 'holders', op: 'getPermissionsByIdHolders', args: ['permission-id'], columns: ['identity.id', 'identity.username', 'identity.displayName', 'identity.status'], examples: ['grantory access holders PERM_ID --all -o csv'] },
      { name: 'drift', op: 'getAccessDrift', examples: ['grantory access drift --application-id APP_ID'] },
      { name: 'at', op: 'getAccessAt', examples: ['grantory access at --at 2026-01-31T23:59:59Z --identity jdoe'] },
    ],
  },
  {
    name: 'imports',
    noun: 'import',
    description: "imports of applications' accounts and grants",
    commands: [
      { name: 'list', op: 'getImports', columns: ['id', 'number', 'applicationId', 'status', 'phase', 'createdAt'] },
      { name: 'get', op: 'getImportsById' },
      { name: 'stage', op: 'postImportsStage', examples: ['grantory imports stage --application-id APP_ID --dry-run'] },
      {
        name: 'upload',
        op: 'postImportsUpload',
        special: 'upload',
        description: 'upload files for an import (one --file FILE-GROUP=PATH per file group) and optionally --watch it to its end',
        examples: ['grantory imports upload --application-id APP_ID --file accounts=accounts.csv --file grants=grants.csv --watch'],
      },
      { name: 'cancel', op: 'postImportsByIdCancel' },
      { name: 'approve', op: 'postImportsByIdApprove' },
      { name: 'reject', op: 'postImportsByIdReject' },
      {
        name: 'watch',
        op: 'getImportsById',
        special: 'watch',
        description: 'follow an import to its end (progress on stderr on a terminal); exit 1 when it failed or was canceled',
        examples: ['grantory imports watch IMPORT_ID && echo imported'],
      },
    ],
  },
  {
    name: 'requests',
    noun: 'access request',
    description: 'access requests',
    commands: [
      { name: 'list', op: 'getAccessRequests', columns: ['id', 'number', 'action', 'status', 'requesterId', 'createdAt'] },
      { name: 'get', op: 'getAccessRequestsById' },
      { name: 'create', op: 'postAccessRequests', examples: ['grantory requests create --action add --target-identity-id ID --resource type=permission,id=PERM_ID --justification "Quarter close"'] },
      { name: 'approve', op: 'postAccessRequestsByIdApprove' },
      { name: 'reject', op: 'postAccessRequestsByIdReject' },
      { name: 'cancel', op: 'postAccessRequestsByIdCancel' },
      { name: 'comment', op: 'postAccessRequestsByIdComments' },
    ],
  },
  {
    name: 'approvals',
    description: 'approval steps waiting for the caller',
    commands: [
      { name: 'list', op: 'getApprovals', columns: ['id', 'kind', 'step', 'dueAt', 'via'] },
      { name: 'approve', op: 'postApprovalsByIdApprove', examples: ['grantory approvals approve APPROVAL_ID --comment ok'] },
      { name: 'reject', op: 'postApprovalsByIdReject' },
    ],
  },
  {
    name: 'assignment-rules',
    noun: 'assignment rule',
    description: 'rules that assign access to the identities matching a condition (birthright access)',
    commands: [
      { name: 'list', op: 'getAssignmentRules', columns: ['id', 'name', 'enabled', 'description'] },
      { name: 'get', op: 'getAssignmentRulesById' },
      { name: 'create', op: 'postAssignmentRules', examples: ['grantory assignment-rules create --name "Finance basics" --condition \'{"attributes":[{"name":"department","equals":"Finance"}]}\' --resources \'[{"type":"role","id":"ROLE_ID"}]\''] },
      { name: 'update', op: 'patchAssignmentRulesById', examples: ['grantory assignment-rules update RULE_ID --no-enabled'] },
      { name: 'delete', op: 'deleteAssignmentRulesById', description: "delete an assignment rule; its assignments are revoked (asks first on a terminal)", examples: ['grantory assignment-rules delete RULE_ID --yes'] },
    ],
  },
  {
    name: 'approval-policies',
    noun: 'approval policy',
    description: 'who approves access requests, in which steps',
    commands: [
      { name: 'list', op: 'getApprovalPolicies', columns: ['id', 'name', 'autoApprove', 'updatedAt'], examples: ['grantory approval-policies list --all -o yaml'] },
      { name: 'get', op: 'getApprovalPoliciesById' },
      { name: 'create', op: 'postApprovalPolicies', examples: ['grantory approval-policies create --name "Manager then owner" --steps \'[{"name":"Manager","approver":"manager"},{"name":"Owner","approver":"application_owner"}]\' --auto-approve low', 'grantory approval-policies create --data @policy.json'] },
      { name: 'update', op: 'patchApprovalPoliciesById', examples: ['grantory approval-policies update POLICY_ID --auto-approve medium'] },
      { name: 'delete', op: 'deleteApprovalPoliciesById', examples: ['grantory approval-policies delete POLICY_ID --yes'] },
    ],
  },
  {
    name: 'sod-policies',
    noun: 'separation-of-duties policy',
    description: 'separation-of-duties policies: access no one may hold together',
    commands: [
      { name: 'list', op: 'getSodPolicies', columns: ['id', 'name', 'mode', 'severity', 'enabled'], examples: ['grantory sod-policies list --enabled'] },
      { name: 'get', op: 'getSodPoliciesById' },
      { name: 'create', op: 'postSodPolicies', examples: ['grantory sod-policies create --name "Pay and approve" --conflicting \'[[{"type":"permission","id":"PERM_A"}],[{"type":"permission","id":"PERM_B"}]]\' --mode require_exception --severity high'] },
      { name: 'update', op: 'patchSodPoliciesById', examples: ['grantory sod-policies update POLICY_ID --no-enabled'] },
      { name: 'delete', op: 'deleteSodPoliciesById', examples: ['grantory sod-policies delete POLICY_ID --yes'] },
    ],
  },
  {
    name: 'sod-violations',
    description: 'current separation-of-duties violations',
    commands: [
      { name: 'list', op: 'getSodViolations', columns: ['policy.name', 'policy.severity', 'identity.username', 'identity.displayName', 'exception.id'], examples: ['grantory sod-violations list --policy-id POLICY_ID --all -o csv'] },
    ],
  },
  {
    name: 'sod-exceptions',
    noun: 'separation-of-duties exception',
    description: 'separation-of-duties exceptions: a conflict allowed for a time, with a reason',
    commands: [
      { name: 'list', op: 'getSodExceptions', columns: ['id', 'policyId', 'identityId', 'reason', 'expiresAt'], examples: ['grantory sod-exceptions list --identity-id IDENTITY_ID --active'] },
      { name: 'get', op: 'getSodExceptionsById' },
      { name: 'create', op: 'postSodExceptions', examples: ['grantory sod-exceptions create --policy-id POLICY_ID --identity-id IDENTITY_ID --reason "Month-end cover" --expires-at 2026-12-31T23:59:59Z'] },
      { name: 'revoke', op: 'postSodExceptionsByIdRevoke', examples: ['grantory sod-exceptions revoke EXCEPTION_ID --reason "Cover no longer needed" --yes'] },
    ],
  },
  {
    name: 'reviews',
    noun: 'access review',
    description: 'access review campaigns (certifications), their items and decisions',
    commands: [
      { name: 'list', op: 'getAccessReviews', columns: ['id', 'number', 'name', 'status', 'itemCount', 'dueAt'], examples: ['grantory reviews list --status active'] },
      { name: 'get', op: 'getAccessReviewsById' },
      { name: 'create', op: 'postAccessReviews', examples: ['grantory reviews create --name "Q3 Payroll" --scope \'{"applicationIds":["APP_ID"]}\' --reviewer type=manager --due-days 14', 'grantory reviews create --data @campaign.json'] },
      { name: 'start', op: 'postAccessReviewsByIdStart', examples: ['grantory reviews start REVIEW_ID'] },
      { name: 'close', op: 'postAccessReviewsByIdClose', examples: ['grantory reviews close REVIEW_ID --apply-default-decision'] },
      { name: 'items', op: 'getAccessReviewsByIdItems', args: ['review-id'], columns: ['id', 'identity.name', 'application.name', 'permission.name', 'risk', 'decision', 'reviewerId'], examples: ['grantory reviews items REVIEW_ID --state open --all -o ndjson', 'grantory reviews decide-many --decision certify --item-ids "$(grantory reviews items REVIEW_ID --state open -q | paste -sd, -)"'] },
      { name: 'progress', op: 'getAccessReviewsByIdProgress', examples: ['grantory reviews progress REVIEW_ID -o yaml'] },
      { name: 'decide', op: 'postReviewItemsByIdDecide', args: ['item-id'], examples: ['grantory reviews decide ITEM_ID --decision revoke --comment "Left the team"', 'grantory reviews decide ITEM_ID --decision modify --valid-to 2026-12-31'] },
      { name: 'decide-many', op: 'postReviewItemsDecisions', examples: ['grantory reviews decide-many --item-ids ITEM_1,ITEM_2 --decision certify'] },
      { name: 'delegate', op: 'postReviewItemsByIdDelegate', args: ['item-id'], examples: ['grantory reviews delegate ITEM_ID --to IDENTITY_ID --comment "Owns this now"'] },
      { name: 'report', op: 'getAccessReviewsByIdReport', special: 'download', description: "download the auditor's report (CSV of every item, or PDF) to stdout or --out", examples: ['grantory reviews report REVIEW_ID --out q3-payroll.csv', 'grantory reviews report REVIEW_ID --format pdf --out q3-payroll.pdf'] },
    ],
  },
  {
    name: 'personnel-events',
    noun: 'personnel event',
    description: 'joiners, movers, leavers and leaves of absence',
    commands: [
      { name: 'list', op: 'getPersonnelEvents', columns: ['id', 'number', 'type', 'status', 'identityName', 'effectiveDate'], examples: ['grantory personnel-events list --status scheduled --all'] },
      { name: 'get', op: 'getPersonnelEventsById' },
      { name: 'onboard', op: 'postPersonnelEventsOnboard', examples: ['grantory personnel-events onboard --identity \'firstName=Jane,lastName=Doe,username=jdoe,email=jdoe@example.com\' --effective-date 2026-09-01 --dry-run', 'grantory personnel-events onboard --identity @joiner.json --effective-date 2026-09-01'] },
      { name: 'offboard', op: 'postPersonnelEventsOffboard', examples: ['grantory personnel-events offboard --identity-id IDENTITY_ID --effective-date 2026-06-30 --comment "Resigned"'] },
      { name: 'role-transition', op: 'postPersonnelEventsRoleTransition', examples: ['grantory personnel-events role-transition --identity-id IDENTITY_ID --effective-date 2026-07-01 --changes department=Sales'] },
      { name: 'leave', op: 'postPersonnelEventsLeaveOfAbsence', examples: ['grantory personnel-events leave --identity-id IDENTITY_ID --effective-date 2026-05-01 --end-date 2026-08-01'] },
      { name: 'preview', op: 'getPersonnelEventsByIdPreview', examples: ['grantory personnel-events preview EVENT_ID -o json'] },
      { name: 'update', op: 'patchPersonnelEventsById', examples: ['grantory personnel-events update EVENT_ID --end-date 2026-09-15'] },
      { name: 'cancel', op: 'postPersonnelEventsByIdCancel', examples: ['grantory personnel-events cancel EVENT_ID --comment "Offer withdrawn" --yes'] },
      { name: 'comment', op: 'postPersonnelEventsByIdComments', examples: ['grantory personnel-events comment EVENT_ID --comment "Laptop ordered"'] },
    ],
  },
  {
    name: 'event-sinks',
    noun: 'event sink',
    description: 'where the audit trail is delivered (webhooks, syslog) and how delivery goes',
    commands: [
      { name: 'list', op: 'getEventSinks', columns: ['id', 'name', 'type', 'format', 'status', 'deadLetterCount', 'lastDeliveredAt'] },
      { name: 'get', op: 'getEventSinksById', description: 'a sink with its deliveries: status, cursor, last error and dead letters', examples: ['grantory event-sinks get SINK_ID -o yaml'] },
      { name: 'create', op: 'postEventSinks', examples: ['grantory event-sinks create --name siem --type webhook --webhook url=https://siem.example.com/grantory --format ocsf -o json | jq -r .secret', 'grantory event-sinks create --name rsyslog --type syslog --syslog \'{"host":"logs.example.com","port":514,"transport":"tcp"}\''] },
      { name: 'retry', op: 'postEventSinksByIdRetry', examples: ['grantory event-sinks retry SINK_ID'] },
      { name: 'delete', op: 'deleteEventSinksById', examples: ['grantory event-sinks delete SINK_ID --yes'] },
    ],
  },
  {
    name: 'orphans',
    description: "accounts the last import could not match to an identity",
    commands: [{ name: 'list', op: 'getOrphans', columns: ['applicationId', 'accountName', 'state', 'importId', 'firstSeenAt'], examples: ['grantory orphans list --application-id APP_ID --state orphan --all -o csv'] }],
  },
  {
    name: 'settings',
    description: "the tenant's settings",
    commands: [
      { name: 'get', op: 'getSettings', examples: ['grantory settings get -o yaml'] },
      { name: 'update', op: 'patchSettings', examples: ['grantory settings update --time-zone Europe/Oslo', 'grantory settings update --personnel-events @personnel-settings.json'] },
    ],
  },
  {
    name: 'audit',
    description: "the audit trail (list and export over the API; verify and checkpoint read the server's database)",
    commands: [
      { name: 'list', op: 'getAuditEvents', columns: ['seq', 'time', 'action', 'actor.name', 'targetType', 'targetId'], examples: ['grantory audit list --action identity.create --from 2026-01-01T00:00:00Z --all -o ndjson'] },
      { name: 'export', op: 'getExportsAuditEvents', special: 'download', examples: ['grantory audit export --format csv --out audit.csv'] },
    ],
  },
  {
    name: 'exports',
    description: 'bulk exports',
    commands: [
      {
        name: 'effective-permissions',
        op: 'getExportsEffectivePermissions',
        special: 'download',
        examples: ['grantory exports effective-permissions --space assigned --format csv --out effective.csv', 'grantory exports effective-permissions --space provisioned --format ndjson | jq .'],
      },
    ],
  },
  {
    name: 'api-keys',
    noun: 'API key',
    description: 'API keys (each acts as an identity)',
    commands: [
      { name: 'list', op: 'getApiKeys', columns: ['id', 'name', 'identityId', 'scopes', 'expiresAt'] },
      { name: 'create', op: 'postApiKeys', examples: ['grantory api-keys create --name nightly-sync -o json | jq -r .secret'] },
      { name: 'delete', op: 'deleteApiKeysById' },
    ],
  },
  {
    name: 'clients',
    noun: 'OAuth client',
    description: 'OAuth 2.0 clients (client credentials)',
    commands: [
      { name: 'list', op: 'getClients', columns: ['id', 'clientId', 'name', 'scopes'] },
      { name: 'create', op: 'postClients', examples: ["grantory clients create --name opcon --scopes 'grantory:*'"] },
      { name: 'delete', op: 'deleteClientsById' },
    ],
  },
];

/** `check` is a command of its own (exit 0 allowed, 1 denied). */
export const CHECK_COMMAND: ClientCommand = {
  name: 'check',
  op: 'postCheck',
  special: 'check',
  description: 'may this identity use this permission? exit 0 allowed, 1 denied (for shell `if`)',
  examples: ['if grantory check --identity jdoe --application Payroll --permission payroll.approve; then echo allowed; fi'],
};

/** Names of the top-level commands that need register.ts. */
export const CLIENT_COMMAND_NAMES = [...CLIENT_GROUPS.map((g) => g.name), 'check', 'login', 'logout', 'profiles', 'api', 'completion'];
