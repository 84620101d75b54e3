/** The native API's route modules, registered under `/api/v1`. */
import type { RouteRegistrar } from '../deps.ts';
import { registerApiKeyRoutes } from './api-keys.ts';
import { registerApplicationRoutes } from './applications.ts';
import { registerIdentityRoutes } from './identities.ts';
import { registerAuditRoutes } from './audit.ts';
import { registerEventSinkRoutes } from './event-sinks.ts';
import { registerExportRoutes } from './exports.ts';
import { registerImportRoutes } from './imports.ts';
import { registerApplicationKeyRoutes } from './application-keys.ts';
import { registerClientRoutes } from './clients.ts';
import { registerMeRoutes } from './me.ts';
import { registerOrgUnitRoutes } from './org-units.ts';
import { registerPermissionRoutes } from './permissions.ts';
import { registerRoleRoutes } from './roles.ts';
import { registerAccessRoutes } from './access.ts';
import { registerAccessHistoryRoutes } from './access-history.ts';
import { registerAssignmentRoutes } from './assignments.ts';
import { registerSettingsRoutes } from './settings.ts';
import { registerApprovalPolicyRoutes } from './approval-policies.ts';
import { registerAccessRequestRoutes } from './access-requests.ts';
import { registerApprovalRoutes } from './approvals.ts';
import { registerPersonnelEventRoutes } from './personnel-events.ts';
import { registerSodRoutes } from './sod.ts';
import { registerSessionRoutes } from './sessions.ts';
import { registerAccessReviewRoutes } from './access-reviews.ts';

export const NATIVE_ROUTES: RouteRegistrar[] = [
  registerMeRoutes,
  registerSessionRoutes,
  registerApiKeyRoutes,
  registerClientRoutes,
  registerApplicationKeyRoutes,
  registerIdentityRoutes,
  registerOrgUnitRoutes,
  registerApplicationRoutes,
  registerPermissionRoutes,
  registerRoleRoutes,
  registerAssignmentRoutes,
  registerAccessRoutes,
  registerAccessHistoryRoutes,
  registerAuditRoutes,
  registerExportRoutes,
  registerEventSinkRoutes,
  registerImportRoutes,
  registerSettingsRoutes,
  registerApprovalPolicyRoutes,
  registerAccessRequestRoutes,
  registerApprovalRoutes,
  registerPersonnelEventRoutes,
  registerSodRoutes,
  registerAccessReviewRoutes,
];
