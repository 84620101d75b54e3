/** The native API's route modules, registered under `/api/v1`. */
import type { RouteRegistrar } from '../app.ts';
import { registerApiKeyRoutes } from './api-keys.ts';
import { registerApplicationKeyRoutes } from './application-keys.ts';
import { registerClientRoutes } from './clients.ts';
import { registerMeRoutes } from './me.ts';

export const NATIVE_ROUTES: RouteRegistrar[] = [registerMeRoutes, registerApiKeyRoutes, registerClientRoutes, registerApplicationKeyRoutes];
