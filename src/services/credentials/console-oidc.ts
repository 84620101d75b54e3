/**
 * Console sign-in through an external OpenID Connect provider: the authorization-code flow
 * with PKCE (S256), `state` and `nonce`.
 *
 * 1. `start(returnTo)`: reads the provider's discovery document, makes a verifier, state and
 *    nonce, and answers the authorize URL plus a sealed transaction (AES-256-GCM with the
 *    server secret, valid 10 minutes) that the route keeps in a short-lived cookie.
 * 2. `finish(query, sealed)`: checks the state against the transaction, exchanges the code at
 *    the token endpoint (client_secret_basic, with the PKCE verifier), verifies the ID token
 *    (signature by the provider's JWKS, issuer, audience = client id, expiry, nonce), finds the
 *    identity whose `subject` is the configured claim (as for external tokens) in the
 *    configured tenant, and opens an `oidc` session for it.
 *
 * A failure is an {@link OidcSignInFailed} (`unauthenticated`), recorded as a failed
 * authentication; it names the kind of failure, so the callback can send a browser back to the
 * sign-in page with a readable message instead of the problem document.
 */
import { createHash, randomBytes } from 'node:crypto';
import { createRemoteJWKSet, jwtVerify, type JWTPayload } from 'jose';
import { AppError } from '../../domain/errors.ts';
import type { RequestMeta } from '../kernel/index.ts';
import type { ConsoleOidcSettings, ServiceDeps, SessionSettings } from '../deps.ts';
import type { AuthFailureRecorder } from './auth-failures.ts';
import { findIdentityBySubject } from './external-tokens.ts';
import { openSession, type OpenedSession } from './sessions.ts';

export const OIDC_CALLBACK_PATH = '/api/v1/sessions/oidc/callback';
export const OIDC_START_PATH = '/api/v1/sessions/oidc/start';
const TRANSACTION_SECONDS = 600;
const DEFAULT_RETURN = '/console/';

interface Discovery {
  issuer: string;
  authorization_endpoint: string;
  token_endpoint: string;
  jwks_uri: string;
}

interface Transaction {
  state: string;
  nonce: string;
  verifier: string;
  returnTo: string;
  exp: number;
}

/** Why an OIDC sign-in failed, as the sign-in page words it (the detail stays in the message and the audit trail). */
export type OidcFailure = 'provider_error' | 'not_started' | 'expired' | 'state_mismatch' | 'provider_unusable' | 'unknown_identity' | 'inactive_identity';

export class OidcSignInFailed extends AppError {
  constructor(
    message: string,
    readonly failure: OidcFailure,
    /** The page the sign-in was started for, when the transaction could be read. */
    readonly returnTo: string | null,
  ) {
    super('unauthenticated', message, { details: { failure } });
  }
}

export interface ConsoleOidc {
  start(returnTo: string | undefined): Promise<{ location: string; transaction: string; maxAgeSeconds: number }>;
  finish(query: { code?: string | undefined; state?: string | undefined; error?: string | undefined }, sealed: string | undefined, meta: RequestMeta): Promise<{ session: OpenedSession; returnTo: string }>;
}

/** A same-origin path to go back to after sign-in (`/console/...`); anything else is refused. */
export function safeReturnTo(returnTo: string | undefined): string {
  if (returnTo === undefined || returnTo === '') return DEFAULT_RETURN;
  if (!/^\/(?![/\\])[\x21-\x7e]*$/.test(returnTo) || returnTo.length > 1000) {
    throw new AppError('validation_failed', 'returnTo must be a path of this server (starting with one /)', { errors: [{ field: 'returnTo', message: 'must be a same-origin path' }] });
  }
  return returnTo;
}

const base64url = (b: Buffer) => b.toString('base64url');

export function createConsoleOidc(deps: ServiceDeps, settings: ConsoleOidcSettings, sessions: SessionSettings, authFailures: AuthFailureRecorder): ConsoleOidc {
  let discovery: Promise<Discovery> | null = null;
  let keys: ReturnType<typeof createRemoteJWKSet> | null = null;

  async function discover(): Promise<Discovery> {
    discovery ??= (async () => {
      const res = await fetch(`${settings.issuer}/.well-known/openid-configuration`, { signal: AbortSignal.timeout(5000) });
      if (!res.ok) throw new Error(`the OIDC discovery document answered ${res.status}`);
      const doc = (await res.json()) as Partial<Discovery>;
      if (!doc.authorization_endpoint || !doc.token_endpoint || !doc.jwks_uri || doc.issuer?.replace(/\/+$/, '') !== settings.issuer) {
        throw new Error('the OIDC discovery document lacks endpoints or names another issuer');
      }
      return doc as Discovery;
    })().catch((e: unknown) => {
      discovery = null;
      throw new AppError('not_ready', `the console's OIDC provider cannot be reached: ${(e as Error).message}`);
    });
    return discovery;
  }

  const redirectUri = `${settings.redirectBase}${OIDC_CALLBACK_PATH}`;

  return {
    async start(returnTo) {
      const target = safeReturnTo(returnTo);
      const doc = await discover();
      const tx: Transaction = {
        state: base64url(randomBytes(24)),
        nonce: base64url(randomBytes(24)),
        verifier: base64url(randomBytes(32)),
        returnTo: target,
        exp: Math.floor(deps.now().getTime() / 1000) + TRANSACTION_SECONDS,
      };
      const url = new URL(doc.authorization_endpoint);
      url.searchParams.set('response_type', 'code');
      url.searchParams.set('client_id', settings.clientId);
      url.searchParams.set('redirect_uri', redirectUri);
      url.searchParams.set('scope', 'openid profile email');
      url.searchParams.set('state', tx.state);
      url.searchParams.set('nonce', tx.nonce);
      url.searchParams.set('code_challenge', base64url(createHash('sha256').update(tx.verifier).digest()));
      url.searchParams.set('code_challenge_method', 'S256');
      return { location: url.toString(), transaction: deps.secrets.encrypt(JSON.stringify(tx)), maxAgeSeconds: TRANSACTION_SECONDS };
    },

    async finish(query, sealed, meta) {
      let tenantId: string | null = null;
      let tx: Transaction | null = null;
      const fail = (failure: OidcFailure, reason: string): never => {
        authFailures.record({ tenantId, credentialType: 'session', credentialId: null, label: settings.issuer.slice(0, 100), reason: `OIDC sign-in: ${reason}`, meta });
        throw new OidcSignInFailed(`the sign-in through ${settings.issuer} failed: ${reason}; start it again`, failure, tx?.returnTo ?? null);
      };
      tenantId = (await deps.store.findTenantByName(settings.tenant))?.id ?? null;
      try {
        tx = JSON.parse(deps.secrets.decrypt(sealed ?? '')) as Transaction;
      } catch {
        tx = null;
      }
      if (query.error) return fail('provider_error', `the provider answered ${query.error.slice(0, 100)}`);
      if (!tx) return fail('not_started', 'the sign-in was not started from this browser (or its cookie is gone)');
      if (tx.exp < deps.now().getTime() / 1000) return fail('expired', 'the sign-in took too long');
      if (!query.state || query.state !== tx.state) return fail('state_mismatch', 'the state does not match');
      if (!query.code) return fail('provider_unusable', 'no authorization code');
      const doc = await discover();
      const res = await fetch(doc.token_endpoint, {
        method: 'POST',
        headers: {
          'content-type': 'application/x-www-form-urlencoded',
          authorization: `Basic ${Buffer.from(`${encodeURIComponent(settings.clientId)}:${encodeURIComponent(settings.clientSecret)}`).toString('base64')}`,
        },
        body: new URLSearchParams({ grant_type: 'authorization_code', code: query.code, redirect_uri: redirectUri, code_verifier: tx.verifier }).toString(),
        signal: AbortSignal.timeout(10_000),
      }).catch(() => null);
      if (!res) return fail('provider_unusable', 'the token endpoint cannot be reached');
      const tokens = (await res.json().catch(() => ({}))) as { id_token?: string; error?: string };
      if (!res.ok || typeof tokens.id_token !== 'string') return fail('provider_unusable', `the token endpoint refused the code (${tokens.error ?? res.status})`);
      keys ??= createRemoteJWKSet(new URL(doc.jwks_uri), { timeoutDuration: 5000 });
      let claims: JWTPayload;
      try {
        ({ payload: claims } = await jwtVerify(tokens.id_token, keys, {
          issuer: doc.issuer,
          audience: settings.clientId,
          currentDate: deps.now(),
          clockTolerance: 30,
          requiredClaims: ['exp', 'iat', 'nonce', settings.subjectClaim],
        }));
      } catch (e) {
        return fail('provider_unusable', `the ID token is not valid (${(e as { code?: string }).code ?? 'unverifiable'})`);
      }
      if (claims.nonce !== tx.nonce) return fail('provider_unusable', 'the ID token nonce does not match');
      if (!tenantId) return fail('provider_unusable', `the tenant "${settings.tenant}" does not exist`);
      const subject = claims[settings.subjectClaim];
      if (typeof subject !== 'string' || subject.length === 0 || subject.length > 300) return fail('unknown_identity', 'the ID token has no usable subject');
      const identity = await findIdentityBySubject(deps, tenantId, subject);
      if (!identity) return fail('unknown_identity', 'the ID token names no known identity');
      if (identity.status !== 'active') return fail('inactive_identity', `the identity is ${identity.status}`);
      const session = await openSession(deps, sessions, { tenantId, identityId: identity.id, apiKeyId: null, method: 'oidc', actorName: identity.display_name ?? identity.subject }, meta);
      return { session, returnTo: tx.returnTo };
    },
  };
}
