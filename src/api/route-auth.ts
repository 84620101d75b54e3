/**
 * Every route declares who may call it, in its `config.auth`:
 *
 * ```ts
 * app.get('/api/v1/identities', { config: needs('manage-users'), schema }, handler);
 * app.get('/livez', { config: PUBLIC }, handler);
 * ```
 *
 * The app refuses to start with a route that has no declaration, and the declarations
 * form the route table that the authorization tests are generated from.
 */
import type { Right } from '../domain/rights.ts';

export type RouteAuth =
  | { kind: 'public' }
  /** Any authenticated caller; the service decides further (e.g. GET /me). */
  | { kind: 'authenticated' }
  /** The caller must hold at least one of `rights`. */
  | { kind: 'rights'; rights: readonly Right[] }
  /**
   * An OAuth 2.0 client authenticates itself in the request (HTTP Basic or client_id and
   * client_secret in the form): the token, introspection and revocation endpoints.
   */
  | { kind: 'client' }
  /**
   * A signed-in console session (the `grantory_session` cookie) only: `GET` and `DELETE
   * /api/v1/sessions/current`. An `Authorization` header is no session.
   */
  | { kind: 'session' };

export const PUBLIC = { auth: { kind: 'public' } satisfies RouteAuth };
export const AUTHENTICATED = { auth: { kind: 'authenticated' } satisfies RouteAuth };
export const CLIENT_AUTH = { auth: { kind: 'client' } satisfies RouteAuth };
export const SESSION = { auth: { kind: 'session' } satisfies RouteAuth };

/** The caller needs at least one of these rights. */
export function needs(...rights: Right[]): { auth: RouteAuth } {
  return { auth: { kind: 'rights', rights } };
}

/**
 * Marks a decision route (what an application asks on its own hot path: checks, an
 * identity's access, the vendors' permission queries): it has its own, higher rate limit
 * and is not logged at info when it succeeds quickly. `config: { ...AUTHENTICATED, ...DECISION }`.
 */
export const DECISION = { decision: true } as const;

export function isDecisionRoute(config: unknown): boolean {
  return (config as { decision?: unknown } | undefined)?.decision === true;
}

export function routeAuthOf(config: unknown): RouteAuth | undefined {
  const auth = (config as { auth?: RouteAuth } | undefined)?.auth;
  return auth && typeof auth === 'object' && 'kind' in auth ? auth : undefined;
}

export interface RouteTableEntry {
  method: string;
  url: string;
  auth: RouteAuth;
}
