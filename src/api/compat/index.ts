/**
 * Vendor compatibility profiles: one folder each, a thin translator from the vendor's
 * documented routes and shapes onto the same services. Each registers at its own paths.
 */
import type { RouteRegistrar } from '../deps.ts';
import { registerCelonisProfile } from './celonis/index.ts';
import { registerCheckmarxProfile } from './checkmarx/index.ts';
import { registerCoreOneRoutes } from './coreone/index.ts';
import { registerPermissionAssist } from './permission-assist/index.ts';

export const COMPAT_PROFILES: RouteRegistrar[] = [registerCheckmarxProfile, registerCoreOneRoutes, registerCelonisProfile, registerPermissionAssist];
