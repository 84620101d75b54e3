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
  commands: ClientCommand[];
}

const IDENTITY_COLUMNS = ['id', 'username', 'displayName', 'email', 'type', 'status'];
const NAMED_COLUMNS = ['id', 'name', 'description'];

export const CLIENT_GROUPS: ClientGroup[] = [
  {
    name: 'identities',
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
    description: 'API keys (each acts as an identity)',
    commands: [
      { name: 'list', op: 'getApiKeys', columns: ['id', 'name', 'identityId', 'scopes', 'expiresAt'] },
      { name: 'create', op: 'postApiKeys', examples: ['grantory api-keys create --name nightly-sync -o json | jq -r .secret'] },
      { name: 'delete', op: 'deleteApiKeysById' },
    ],
  },
  {
    name: 'clients',
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
