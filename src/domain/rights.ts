/**
 * Grantory's own administrative rights. They are the permissions of the built-in
 * application `grantory`; a caller holds a right when its identity effectively holds that
 * permission (and its credential's scopes, if any, allow it).
 */
export const GRANTORY_APPLICATION = 'grantory';

export const RIGHTS = [
  'manage-users',
  'manage-roles',
  'manage-applications',
  'manage-clients',
  'manage-system-settings',
  'read-audit',
  'read-permissions-any-application',
  'read-permissions-my-application',
  'approve-requests',
  'manage-imports',
  'manage-personnel-events',
  // New rights go last: a tenant's permission numbers (the Checkmarx permission ids) follow this order.
  'manage-credentials-of-others',
  'manage-reviews',
] as const;

export type Right = (typeof RIGHTS)[number];

export const RIGHT_DESCRIPTIONS: Record<Right, string> = {
  'manage-users': 'Create, change and delete identities and organization units',
  'manage-roles': 'Create, change and delete roles',
  'manage-applications': 'Create, change and delete applications and their permissions',
  'manage-clients': 'Manage API keys, OAuth clients and application keys',
  'manage-system-settings': 'Change system settings',
  'read-audit': 'Read and export the audit trail',
  'read-permissions-any-application': 'Read the permissions of any application',
  'read-permissions-my-application': "Read the permissions of the caller's own application",
  'approve-requests': 'Approve or reject access requests',
  'manage-imports': 'Stage, upload, approve and cancel application imports',
  'manage-personnel-events': 'Create and process personnel events',
  'manage-credentials-of-others':
    'Create API keys and OAuth clients that act as another identity (besides manage-clients); their rights stay capped by the creator\'s own',
  'manage-reviews': 'Create, start, close and schedule access-review campaigns and read every review item',
};

export const ADMIN_ROLE = 'Admin';

export const isRight = (s: string): s is Right => (RIGHTS as readonly string[]).includes(s);

/**
 * The rights of `rights` that `held` covers: each right covers itself, and
 * `read-permissions-any-application` also covers `read-permissions-my-application` (reading
 * every application's permissions includes reading one's own).
 *
 * ```ts
 * rightsCoveredBy(new Set(['read-permissions-my-application', 'manage-users']), new Set(['read-permissions-any-application']))
 * // Set {'read-permissions-my-application'}
 * ```
 */
export function rightsCoveredBy(rights: ReadonlySet<Right>, held: ReadonlySet<Right>): Set<Right> {
  return new Set(RIGHTS.filter((r) => rights.has(r) && coversRight(held, r)));
}

/** The rights of `rights` that `held` does not cover (see {@link rightsCoveredBy}), in RIGHTS order. */
export function rightsBeyond(rights: ReadonlySet<Right>, held: ReadonlySet<Right>): Right[] {
  return RIGHTS.filter((r) => rights.has(r) && !coversRight(held, r));
}

function coversRight(held: ReadonlySet<Right>, right: Right): boolean {
  return held.has(right) || (right === 'read-permissions-my-application' && held.has('read-permissions-any-application'));
}
