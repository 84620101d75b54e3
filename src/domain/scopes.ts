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
 * | `sast_rest_api` (Checkmarx) | no right: Grantory serves no SAST API; accepted so the vendor's documented token request works |
 * | `email` (CoreOne) | no right; lets permission reads include e-mail addresses |
 * | `scim` | manage-users; and a narrowed credential needs it to call `/scim/v2` |
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
  scim: ['manage-users'],
};

/**
 * Spellings of one scope: the Celonis documentation says `authorization.permissions` and
 * `audit.log`, its OpenAPI file `...:read`. Each pair is one scope everywhere — a client
 * registered with either spelling may ask for the other, and both keep the same rights.
 */
const SCOPE_ALIASES: Readonly<Record<string, string>> = {
  'authorization.permissions:read': 'authorization.permissions',
  'audit.log:read': 'audit.log',
};

/** The one name a scope's spellings share (`authorization.permissions:read` → `authorization.permissions`). */
export const canonicalScope = (scope: string): string => SCOPE_ALIASES[scope] ?? scope;

/**
 * The requested scopes a client registered with `allowed` may not ask for (spellings of
 * one scope are the same scope; `grantory:*` allows every scope).
 *
 * ```ts
 * scopesRefused(['authorization.permissions'], ['authorization.permissions:read']) // []
 * ```
 */
export function scopesRefused(allowed: readonly string[], requested: readonly string[]): string[] {
  if (allowed.includes(ALL_RIGHTS_SCOPE)) return [];
  const granted = new Set(allowed.map(canonicalScope));
  return requested.filter((s) => !granted.has(canonicalScope(s)));
}

/** Whether `scopes` (null: not narrowed) include `scope` under any of its spellings. */
export function hasScope(scopes: readonly string[] | null, scope: string): boolean {
  return scopes !== null && scopes.some((s) => canonicalScope(s) === canonicalScope(scope));
}

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
