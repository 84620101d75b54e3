/**
 * Signing in: exchanging an API key or a username and password for a session (the console's
 * `POST /api/v1/sessions`), and the Checkmarx password grant, which exchanges a username and
 * password for a short-lived Bearer token (a session of method `token`).
 *
 * ```ts
 * const { session, caller } = await signIn(services, { username: 'ada', password: '...' }, meta);
 * ```
 */
import { AppError } from '../../domain/errors.ts';
import { isKnownScope, parseScopeParam, scopesRefused } from '../../domain/scopes.ts';
import type { Database } from '../../store/schema.ts';
import type { Caller, RequestMeta } from '../kernel/index.ts';
import type { AuthFailureRecorder } from './auth-failures.ts';
import { authenticateApiKey, CredentialRejected } from './authentication.ts';
import type { SecuritySettings, ServiceDeps } from '../deps.ts';
import { authenticateClient, clientCredentialsOf, OAuthError, type TokenResponse, type TokenServices } from './oauth-tokens.ts';
import { SignInRefused, verifyPasswordSignIn } from './passwords.ts';
import { authenticateSession, openSession, type OpenedSession } from './sessions.ts';

export interface SignInServices {
  deps: ServiceDeps;
  settings: SecuritySettings;
  authFailures: AuthFailureRecorder;
}

export type SignInInput = { apiKey: string } | { username: string; password: string };

/** The wrong-API-key answer of sign-in: the same whatever was wrong with the key. */
export const WRONG_API_KEY = 'the API key is not valid';

/**
 * Opens a console session. A wrong credential is a 401 (`unauthenticated`); a locked
 * identity a {@link SignInRefused} with `retryAfterSeconds`.
 */
export async function signIn(services: SignInServices, input: SignInInput, meta: RequestMeta): Promise<{ session: OpenedSession; caller: Caller }> {
  const { deps, settings } = services;
  let opened: OpenedSession;
  if ('apiKey' in input) {
    let key: Caller;
    try {
      key = await authenticateApiKey(deps, input.apiKey);
    } catch (e) {
      if (e instanceof CredentialRejected) {
        services.authFailures.record({ ...e.failure, meta });
        throw new AppError('unauthenticated', WRONG_API_KEY);
      }
      throw e;
    }
    if (!key.identityId) throw new AppError('unauthenticated', WRONG_API_KEY);
    opened = await openSession(deps, settings.sessions, { tenantId: key.tenantId, identityId: key.identityId, apiKeyId: key.id, method: 'api_key', actorName: key.name }, meta);
  } else {
    const who = await verifyPasswordSignIn(deps, settings.sessions, { username: input.username, password: input.password, via: 'console' }, meta);
    opened = await openSession(deps, settings.sessions, { tenantId: who.tenantId, identityId: who.identityId, apiKeyId: null, method: 'password', actorName: who.name }, meta);
  }
  const { caller } = await authenticateSession(deps, settings.sessions, opened.secret, 'cookie');
  return { session: opened, caller };
}

/** The client Checkmarx scripts name for the password grant. */
export const CX_PASSWORD_CLIENT = 'resource_owner_client';
/** What a Checkmarx password-grant token is narrowed to when the request names no scope. */
const CX_DEFAULT_SCOPES = ['access_control_api'];

/**
 * The password grant (`grant_type=password`, `username`, `password`, `scope`): a Bearer
 * token for the identity, narrowed by the scopes asked for, valid for the access-token
 * lifetime. A compatibility path (docs/compat-checkmarx.md, docs/compat-coreone.md), served
 * for two kinds of client:
 *
 * - `client_id=resource_owner_client` (Checkmarx only, `checkmarxClient`): the client secret
 *   Checkmarx scripts send for it is a value Checkmarx publishes; it proves nothing and is
 *   only required to be present. The token acts for the user alone.
 * - a registered OAuth client (HTTP Basic or `client_id`/`client_secret` in the form): the
 *   client authenticates as for client credentials, may ask only for its own scopes (none
 *   asked: all of them), and the token acts for the user **and the client's application**
 *   (CoreOne `/api/permission/myapplication` answers for it, whoever the user is).
 *
 * The user must be of the client's tenant. Failures answer in OAuth's format:
 * `invalid_client`, `invalid_scope`, `invalid_grant` (wrong username or password, locked,
 * or another tenant's user).
 */
export async function passwordGrant(
  services: SignInServices & Pick<TokenServices, 'keyRing'>,
  form: Record<string, string | undefined>,
  meta: RequestMeta,
  options: { authorization?: string | undefined; checkmarxClient: boolean },
): Promise<TokenResponse> {
  const { deps, settings } = services;
  let client: Database['oauth_clients'] | null = null;
  if (options.checkmarxClient && form.client_id === CX_PASSWORD_CLIENT) {
    if (!form.client_secret) throw new OAuthError('invalid_client', `the client ${CX_PASSWORD_CLIENT} sends its client_secret`, 401);
  } else {
    const credentials = clientCredentialsOf(options.authorization, form);
    if (!credentials && options.checkmarxClient) {
      throw new OAuthError('invalid_client', `the password grant is for the client ${CX_PASSWORD_CLIENT} (with its client_secret) or a registered OAuth client`, 401);
    }
    client = await authenticateClient(services, credentials, meta);
  }
  if (!form.username || !form.password) throw new OAuthError('invalid_request', 'username and password are required');
  const asked = form.scope && form.scope.trim() !== '' ? parseScopeParam(form.scope) : null;
  const unknown = (asked ?? []).filter((s) => !isKnownScope(s));
  if (unknown.length) throw new OAuthError('invalid_scope', `unknown scope ${unknown.join(' ')}`);
  let scopes: string[];
  if (client) {
    const allowed = JSON.parse(client.scopes) as string[];
    const refused = asked ? scopesRefused(allowed, asked) : [];
    if (refused.length) throw new OAuthError('invalid_scope', `the client may not ask for ${refused.join(' ')}`);
    scopes = asked ?? allowed;
  } else {
    scopes = asked ?? CX_DEFAULT_SCOPES;
  }
  let who;
  try {
    who = await verifyPasswordSignIn(deps, settings.sessions, { username: form.username, password: form.password, via: client ? 'password_grant' : 'checkmarx_password_grant' }, meta);
  } catch (e) {
    if (e instanceof SignInRefused) throw new OAuthError('invalid_grant', e.message);
    throw e;
  }
  if (client && client.tenant_id !== who.tenantId) throw new OAuthError('invalid_grant', 'the user is not of the client\'s tenant');
  const opened = await openSession(
    deps,
    settings.sessions,
    {
      tenantId: who.tenantId,
      identityId: who.identityId,
      apiKeyId: null,
      method: 'token',
      actorName: who.name,
      lifetimeSeconds: settings.accessTokenTtlSeconds,
      scopes,
      clientId: client?.id ?? null,
    },
    meta,
  );
  return { access_token: opened.secret, token_type: 'Bearer', expires_in: settings.accessTokenTtlSeconds, scope: scopes.join(' ') };
}
