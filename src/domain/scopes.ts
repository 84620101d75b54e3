/**
 * OAuth scopes and how they narrow a caller's Grantory rights. A credential never gains a
 * right from a scope: its rights are its identity's (or its application's) rights,
 * intersected with what its scopes allow. A credential without scopes (`null`) is not
 * narrowed.
 *
 * | scope | keeps |
 * | --- | --- |
 * | `grantory:*` | every right |
 * | `grantory:<right>` | that right |
 * | `authorization.permissions`, `authorization.permissions:read` (Celonis) | read-permissions-any-application, read-permissions-my-application |
 * | `cos_auth_api` (CoreOne) | read-permissions-any-application, read-permissions-my-application |
 * | `audit.log`, `audit.log:read` (Celonis) | read-audit |
 * | `access_control_api` (Checkmarx) | manage-users, manage-roles, manage-clients, manage-system-settings |
 * | `sast_rest_api` (Checkmarx) | no right (accepted because Checkmarx scripts ask for it; the SAST API is not served) |
 * | `email` (CoreOne) | no right; lets permission reads include e-mail addresses |
 *
 * ```ts
 * narrowRights(new Set(['read-audit', 'manage-users']), ['audit.log']) // Set {'read-audit'}
 * ```
 */
import { RIGHTS, isRight, type Right } from './rights.ts';

const READ_PERMISSIONS: readonly Right[] = ['read-permissions-any-application', 'read-permissions-my-application'];

/** Vendor scope names (COMPAT.md) and the rights each one keeps. */
export const VENDOR_SCOPES: Readonly<Record<string, readonly Right[]>> = {
  'authorization.permissions': READ_PERMISSIONS,
  'authorization.permissions:read': READ_PERMISSIONS,
  cos_auth_api: READ_PERMISSIONS,
  'audit.log': ['read-audit'],
  'audit.log:read': ['read-audit'],
  access_control_api: ['manage-users', 'manage-roles', 'manage-clients', 'manage-system-settings'],
  sast_rest_api: [],
  email: [],
};

export const ALL_RIGHTS_SCOPE = 'grantory:*';

/** Every scope name Grantory accepts, in a stable order (discovery's `scopes_supported`). */
export const SUPPORTED_SCOPES: readonly string[] = [
  ALL_RIGHTS_SCOPE,
  ...RIGHTS.map((r) => `grantory:${r}`),
  ...Object.keys(VENDOR_SCOPES),
];

export function isKnownScope(scope: string): boolean {
  return SUPPORTED_SCOPES.includes(scope);
}

/** The rights a list of scopes keeps (before intersecting with what the caller holds). */
export function rightsOfScopes(scopes: readonly string[]): Set<Right> {
  if (scopes.includes(ALL_RIGHTS_SCOPE)) return new Set(RIGHTS);
  const kept = new Set<Right>();
  for (const scope of scopes) {
    if (scope.startsWith('grantory:')) {
      const right = scope.slice('grantory:'.length);
      if (isRight(right)) kept.add(right);
      continue;
    }
    for (const right of VENDOR_SCOPES[scope] ?? []) kept.add(right);
  }
  return kept;
}

/** Scopes narrow rights; `null` scopes keep every right the caller holds. */
export function narrowRights(rights: ReadonlySet<Right>, scopes: readonly string[] | null): Set<Right> {
  if (scopes === null) return new Set(rights);
  const allowed = rightsOfScopes(scopes);
  return new Set(RIGHTS.filter((r) => rights.has(r) && allowed.has(r)));
}

/** Parses an OAuth `scope` parameter (space-delimited, RFC 6749 §3.3) into unique names. */
export function parseScopeParam(scope: string): string[] {
  return [...new Set(scope.split(' ').filter((s) => s.length > 0))];
}
