/** The native API's route modules, registered under `/api/v1`. */
import type { RouteRegistrar } from '../app.ts';
import { registerApiKeyRoutes } from './api-keys.ts';
import { registerImportRoutes } from './imports.ts';
import { registerMeRoutes } from './me.ts';
import { registerAccessRoutes } from './access.ts';
import { registerAssignmentRoutes } from './assignments.ts';

export const NATIVE_ROUTES: RouteRegistrar[] = [registerMeRoutes, registerApiKeyRoutes, registerAssignmentRoutes, registerAccessRoutes, registerImportRoutes];
