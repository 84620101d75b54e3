/** The native API's route modules, registered under `/api/v1`. */
import type { RouteRegistrar } from '../app.ts';
import { registerApiKeyRoutes } from './api-keys.ts';
import { registerApplicationRoutes } from './applications.ts';
import { registerMeRoutes } from './me.ts';
import { registerPermissionRoutes } from './permissions.ts';
import { registerRoleRoutes } from './roles.ts';

export const NATIVE_ROUTES: RouteRegistrar[] = [
  registerMeRoutes,
  registerApiKeyRoutes,
  registerApplicationRoutes,
  registerPermissionRoutes,
  registerRoleRoutes,
];
