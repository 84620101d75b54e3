/**
 * The per-tenant switch of each compatibility profile (tenant setting `compatibility`,
 * `GET`/`PATCH /api/v1/settings`; every profile is on by default). A profile that is off
 * answers, once the caller is authenticated, as the vendor does when its API is disabled:
 *
 * - Permission Assist documents the switch ("the API feature enabled in System
 *   Configuration"): `403` `forbidden` in its error envelope.
 * - Checkmarx, CoreOne and Celonis have no such switch: their routes are not served, a
 *   `404` in the profile's own error form.
 *
 * ```ts
 * gateProfile(app, deps, 'celonis');  // in the profile's plugin scope
 * ```
 */
import type { App, RouteDeps } from '../deps.ts';
import { AppError } from '../../domain/errors.ts';
import type { CompatProfile } from '../../domain/settings.ts';
import { getSettings } from '../../services/kernel/index.ts';
import { maybeActorOf } from '../request-context.ts';

const VENDOR_NAMES: Record<CompatProfile, string> = {
  checkmarx: 'Checkmarx',
  coreone: 'CoreOne',
  celonis: 'Celonis',
  permissionAssist: 'Permission Assist',
};

/** The answer of a turned-off profile. */
export function profileDisabled(profile: CompatProfile): AppError {
  if (profile === 'permissionAssist') {
    return new AppError('forbidden', 'The API feature is not enabled in System Configuration (setting compatibility.permissionAssist)', {
      details: { setting: 'compatibility.permissionAssist' },
    });
  }
  return new AppError('route_not_found', `the ${VENDOR_NAMES[profile]} API is turned off for this tenant (setting compatibility.${profile})`);
}

/** Refuses every authenticated request of this plugin scope while the tenant has `profile` off. */
export function gateProfile(app: App, deps: RouteDeps, profile: CompatProfile): void {
  // Runs after the app's authentication hook (a parent's hooks run first): the caller is known.
  app.addHook('onRequest', async (request) => {
    const actor = maybeActorOf(request);
    if (!actor) return;
    const settings = await getSettings(deps.services.deps, actor);
    if (!settings.compatibility[profile]) throw profileDisabled(profile);
  });
}
