/** The native API's route modules, registered under `/api/v1`. */
import type { RouteRegistrar } from '../app.ts';
import { registerApiKeyRoutes } from './api-keys.ts';
import { registerAuditRoutes } from './audit.ts';
import { registerEventSinkRoutes } from './event-sinks.ts';
import { registerExportRoutes } from './exports.ts';
import { registerMeRoutes } from './me.ts';

export const NATIVE_ROUTES: RouteRegistrar[] = [registerMeRoutes, registerApiKeyRoutes, registerAuditRoutes, registerExportRoutes, registerEventSinkRoutes];
