/**
 * A tenant's settings: the time zone its plain dates are read in, and the choices its
 * workflows make. Stored as JSON on the tenant; a key that is absent takes its default, so
 * adding a setting needs no migration.
 *
 * ```ts
 * const s = mergeSettings(DEFAULT_SETTINGS, { timeZone: 'Europe/Zurich' });
 * ```
 */
import { AppError } from './errors.ts';
import { isTimeZone } from './dates.ts';

export interface TenantSettings {
  /** IANA time zone; a plain date (`2026-03-15`) is midnight here. */
  timeZone: string;
  personnelEvents: {
    /** On a role transition, access the new position no longer justifies: kept for review until the end date (`review`), or removed on the day (`remove`). */
    unjustifiedAccess: 'review' | 'remove';
    /** Events created by HR integrations need no approval unless a policy names their type. */
    autoApproveHr: boolean;
  };
  provisioning: {
    /** A connected application's provisioning task fails after this many imports that do not show the grant. */
    failAfterImports: number;
  };
  /**
   * Which vendor compatibility profiles answer for this tenant (on by default, so a
   * script written for the vendor works against a fresh install). A profile that is off
   * answers as the vendor does when its API is disabled (docs/api.md).
   */
  compatibility: Record<CompatProfile, boolean>;
}

export const COMPAT_PROFILE_NAMES = ['checkmarx', 'coreone', 'celonis', 'permissionAssist'] as const;
export type CompatProfile = (typeof COMPAT_PROFILE_NAMES)[number];

export const DEFAULT_SETTINGS: TenantSettings = {
  timeZone: 'UTC',
  personnelEvents: { unjustifiedAccess: 'review', autoApproveHr: true },
  provisioning: { failAfterImports: 3 },
  compatibility: { checkmarx: true, coreone: true, celonis: true, permissionAssist: true },
};

/** A change to the settings: any subset, nested groups partially. */
export type SettingsPatch = {
  timeZone?: string;
  personnelEvents?: Partial<TenantSettings['personnelEvents']>;
  provisioning?: Partial<TenantSettings['provisioning']>;
  compatibility?: Partial<TenantSettings['compatibility']>;
};

/** `base` with `patch` applied, checked (400 naming the field when a value is not allowed). */
export function mergeSettings(base: TenantSettings, patch: SettingsPatch): TenantSettings {
  const next: TenantSettings = {
    timeZone: patch.timeZone ?? base.timeZone,
    personnelEvents: { ...base.personnelEvents, ...patch.personnelEvents },
    provisioning: { ...base.provisioning, ...patch.provisioning },
    compatibility: { ...base.compatibility, ...patch.compatibility },
  };
  if (!isTimeZone(next.timeZone)) {
    throw new AppError('validation_failed', `timeZone: "${next.timeZone}" is not an IANA time zone`, {
      errors: [{ field: 'timeZone', message: 'must be an IANA time zone name such as Europe/Zurich or UTC' }],
    });
  }
  return next;
}

/** The settings stored as `json` (defaults for what is absent; a stored value no longer valid falls back to its default). */
export function parseSettings(json: string): TenantSettings {
  let stored: SettingsPatch = {};
  try {
    const parsed: unknown = JSON.parse(json);
    if (parsed && typeof parsed === 'object') stored = parsed as SettingsPatch;
  } catch {
    stored = {};
  }
  try {
    return mergeSettings(DEFAULT_SETTINGS, stored);
  } catch {
    return mergeSettings(DEFAULT_SETTINGS, { ...stored, timeZone: DEFAULT_SETTINGS.timeZone });
  }
}
