/**
 * The OAuth 2.0 authorization server for machine clients: the client credentials grant
 * (RFC 6749 §4.4) with `client_secret_basic` and `client_secret_post`, JWT access tokens
 * (RFC 9068: `typ: at+jwt`, `iss`, `aud`, `sub`, `client_id`, `exp`, `iat`, `jti`, `scope`,
 * plus `tid`, the tenant), introspection (RFC 7662) and revocation (RFC 7009).
 *
 * Checking a token verifies its signature (ES256 only, by `kid` from the key ring), `typ`,
 * `iss`, `aud`, `exp`/`nbf`/`iat` within the clock tolerance, then finds its client (a
 * deleted client's tokens stop working at once) and its `jti` among the revoked tokens.
 */
import { randomUUID } from 'node:crypto';
import { errors as joseErrors, jwtVerify, SignJWT, type JWTPayload } from 'jose';
import { isKnownScope, parseScopeParam, scopesRefused } from '../../domain/scopes.ts';
import { digestsEqual, hashSecret, hasValidChecksum } from '../../domain/secret-format.ts';
import type { Database } from '../../store/schema.ts';
import type { WithTenantRevision } from '../../store/store.ts';
import { writeMeta, type Actor, type Caller, type RequestMeta } from '../kernel/index.ts';
import { CredentialRejected } from './authentication.ts';
import { CLIENT_SECRET_PREFIX, clientRights } from './oauth-clients.ts';
import type { SecuritySettings, ServiceDeps } from '../deps.ts';
import type { AuthFailureRecorder } from './auth-failures.ts';
import { type KeyRing, SIGNING_ALG } from './signing-keys.ts';

/** What token issuing and checking use of the assembled services ({@link Services} has them all). */
export interface TokenServices {
  deps: ServiceDeps;
  settings: SecuritySettings;
  keyRing: KeyRing;
  authFailures: AuthFailureRecorder;
}

export type OAuthErrorCode =
  | 'invalid_request'
  | 'invalid_client'
  | 'invalid_grant'
  | 'unauthorized_client'
  | 'unsupported_grant_type'
  | 'invalid_scope'
  | 'unsupported_token_type';

/** An error in the OAuth wire format (RFC 6749 §5.2): `{error, error_description}`. */
export class OAuthError extends Error {
  constructor(
    readonly error: OAuthErrorCode,
    readonly description: string,
    readonly status: number = error === 'invalid_client' ? 401 : 400,
    /** Set on `invalid_client` when the client authenticated with HTTP Basic. */
    readonly basicChallenge = false,
  ) {
    super(description);
  }
}

export interface ClientCredentials {
  clientId: string;
  clientSecret: string;
  method: 'client_secret_basic' | 'client_secret_post';
}

/** Reads client credentials from HTTP Basic (RFC 6749 §2.3.1) or the form; one method only. */
export function clientCredentialsOf(authorization: string | undefined, form: Record<string, string | undefined>): ClientCredentials | null {
  const basic = authorization && /^basic\s+/i.test(authorization.trim()) ? authorization.trim().replace(/^basic\s+/i, '') : null;
  if (basic !== null) {
    if (form.client_secret !== undefined) throw new OAuthError('invalid_request', 'use one client authentication method, not HTTP Basic and client_secret together');
    const decoded = Buffer.from(basic, 'base64').toString('utf8');
    const colon = decoded.indexOf(':');
    if (colon < 0) throw new OAuthError('invalid_client', 'the HTTP Basic credentials are malformed', 401, true);
    let clientId: string;
    let clientSecret: string;
    try {
      clientId = decodeURIComponent(decoded.slice(0, colon).replace(/\+/g, ' '));
      clientSecret = decodeURIComponent(decoded.slice(colon + 1).replace(/\+/g, ' '));
    } catch {
      throw new OAuthError('invalid_client', 'the HTTP Basic credentials are malformed', 401, true);
    }
    if (form.client_id !== undefined && form.client_id !== clientId) throw new OAuthError('invalid_request', 'client_id differs from the HTTP Basic user');
    return { clientId, clientSecret, method: 'client_secret_basic' };
  }
  if (form.client_id !== undefined && form.client_secret !== undefined) {
    return { clientId: form.client_id, clientSecret: form.client_secret, method: 'client_secret_post' };
  }
  return null;
}

/** Authenticates a client by its credentials; a failure is audited and is `invalid_client`. */
export async function authenticateClient(services: TokenServices, credentials: ClientCredentials | null, meta: RequestMeta): Promise<Database['oauth_clients']> {
  const { deps } = services;
  const fail = (reason: string, client?: Database['oauth_clients']): never => {
    services.authFailures.record({
      tenantId: client?.tenant_id ?? null,
      credentialType: 'client',
      credentialId: client?.id ?? null,
      label: credentials?.clientId.slice(0, 100) ?? null,
      reason,
      meta,
    });
    throw new OAuthError('invalid_client', 'client authentication failed', 401, credentials?.method === 'client_secret_basic');
  };
  if (!credentials) return fail('no client credentials');
  if (credentials.clientId.length > 200 || credentials.clientSecret.length > 512) return fail('client credentials too long');
  if (!hasValidChecksum(credentials.clientSecret, CLIENT_SECRET_PREFIX)) return fail('the client secret is not valid');
  const client = await deps.store.findClientByClientId(credentials.clientId);
  const digest = deps.secrets.hashCredential(credentials.clientSecret);
  if (!client) return fail('unknown client');
  if (!digestsEqual(client.secret_hash, digest)) return fail('wrong client secret', client);
  return client;
}

export interface TokenResponse {
  access_token: string;
  token_type: 'Bearer';
  expires_in: number;
  scope: string;
}

/** The token endpoint: `grant_type=client_credentials`, optional `scope`. */
export async function issueToken(
  services: TokenServices,
  client: Database['oauth_clients'],
  params: { grant_type?: string | undefined; scope?: string | undefined },
  meta: RequestMeta,
): Promise<TokenResponse> {
  const { deps, settings } = services;
  if (!params.grant_type) throw new OAuthError('invalid_request', 'grant_type is required');
  if (params.grant_type !== 'client_credentials') throw new OAuthError('unsupported_grant_type', `the grant type "${params.grant_type}" is not supported; use client_credentials`);
  const allowed = JSON.parse(client.scopes) as string[];
  let scopes = allowed;
  if (params.scope !== undefined && params.scope.trim() !== '') {
    scopes = parseScopeParam(params.scope);
    const unknown = scopes.filter((s) => !isKnownScope(s));
    if (unknown.length) throw new OAuthError('invalid_scope', `unknown scope ${unknown.join(' ')}`);
    const refused = scopesRefused(allowed, scopes);
    if (refused.length) throw new OAuthError('invalid_scope', `the client may not ask for ${refused.join(' ')}`);
  }
  const { kid, key } = await services.keyRing.signingKey();
  const now = deps.now();
  const iat = Math.floor(now.getTime() / 1000);
  const exp = iat + settings.accessTokenTtlSeconds;
  const jti = randomUUID();
  const scope = scopes.join(' ');
  const accessToken = await new SignJWT({ client_id: client.client_id, scope, tid: client.tenant_id })
    .setProtectedHeader({ alg: SIGNING_ALG, kid, typ: 'at+jwt' })
    .setIssuer(settings.issuer())
    .setAudience(settings.audience)
    .setSubject(client.client_id)
    .setIssuedAt(iat)
    .setExpirationTime(exp)
    .setJti(jti)
    .sign(key);
  await deps.store.write(client.tenant_id, writeMeta(clientActor(client, meta)), async (tx) => {
    await tx.db.updateTable('oauth_clients').set({ last_used_at: tx.now }).where('id', '=', client.id).execute();
    tx.audit({ action: 'oauth_token.issue', targetType: 'client', targetId: client.id, after: { jti, scope, expiresAt: new Date(exp * 1000).toISOString() } });
  });
  return { access_token: accessToken, token_type: 'Bearer', expires_in: settings.accessTokenTtlSeconds, scope };
}

interface AccessTokenClaims extends JWTPayload {
  client_id: string;
  scope: string;
  tid: string;
  jti: string;
  exp: number;
  iat: number;
  sub: string;
}

type Inspection =
  | { ok: true; claims: AccessTokenClaims; client: WithTenantRevision<Database['oauth_clients']>; verifiedWith: { kid: string; key: CryptoKey; issuer: string } }
  | { ok: false; reason: string; expired: boolean; claims: AccessTokenClaims | null; client: Database['oauth_clients'] | null };

function describeJoseError(e: unknown): { reason: string; expired: boolean } {
  if (e instanceof joseErrors.JWTExpired) return { reason: 'the access token has expired', expired: true };
  if (e instanceof joseErrors.JWTClaimValidationFailed) return { reason: `the access token's "${e.claim}" claim is not valid (${e.reason})`, expired: false };
  if (e instanceof joseErrors.JOSEAlgNotAllowed) return { reason: "the access token's algorithm is not accepted", expired: false };
  if (e instanceof joseErrors.JWSSignatureVerificationFailed) return { reason: "the access token's signature is not valid", expired: false };
  if (e instanceof joseErrors.JWTInvalid || e instanceof joseErrors.JWSInvalid) return { reason: 'the access token is malformed', expired: false };
  if (e instanceof UnknownKid) return { reason: 'the access token was signed with an unknown key', expired: false };
  return { reason: 'the access token is not valid', expired: false };
}

class UnknownKid extends Error {}

/** Checks one of Grantory's access tokens completely; never throws. */
async function inspectAccessToken(services: TokenServices, token: string): Promise<Inspection> {
  const { deps, settings, keyRing } = services;
  let claims: AccessTokenClaims;
  const issuer = settings.issuer();
  let verifiedWith: { kid: string; key: CryptoKey; issuer: string } | null = null;
  try {
    const verified = await jwtVerify<AccessTokenClaims>(
      token,
      async (header) => {
        const key = header.kid ? await keyRing.verificationKey(header.kid) : undefined;
        if (!key || !header.kid) throw new UnknownKid();
        verifiedWith = { kid: header.kid, key, issuer };
        return key;
      },
      {
        algorithms: [SIGNING_ALG],
        issuer,
        audience: settings.audience,
        typ: 'at+jwt',
        clockTolerance: settings.clockToleranceSeconds,
        currentDate: deps.now(),
        requiredClaims: ['exp', 'iat', 'jti', 'sub', 'client_id', 'tid'],
      },
    );
    claims = verified.payload;
  } catch (e) {
    return { ok: false, ...describeJoseError(e), claims: null, client: null };
  }
  const nowSeconds = deps.now().getTime() / 1000;
  if (claims.iat > nowSeconds + settings.clockToleranceSeconds) {
    return { ok: false, reason: 'the access token was issued in the future', expired: false, claims, client: null };
  }
  if (typeof claims.client_id !== 'string' || typeof claims.tid !== 'string' || typeof claims.scope !== 'string') {
    return { ok: false, reason: 'the access token is malformed', expired: false, claims, client: null };
  }
  const client = await deps.store.findClientByClientId(claims.client_id);
  if (!client || client.tenant_id !== claims.tid) {
    return { ok: false, reason: "the access token's client no longer exists", expired: false, claims, client: null };
  }
  const revoked = await deps.store
    .read(client.tenant_id)
    .db.selectFrom('revoked_tokens')
    .select('jti')
    .where('jti', '=', claims.jti)
    .executeTakeFirst();
  if (revoked) return { ok: false, reason: 'the access token has been revoked', expired: false, claims, client };
  return { ok: true, claims, client, verifiedWith: verifiedWith! };
}

type CachedToken = Omit<Extract<Inspection, { ok: true }>, 'ok' | 'client'> & { client: Database['oauth_clients'] };

/**
 * A token checked before, while its tenant has not changed since (credential-cache.ts): no
 * client was deleted and no token revoked. What time or the server's key ring can change is
 * checked again: the expiry, the issuer, and that the key it was verified with is still in
 * the ring. Null when the token must be checked completely.
 */
async function inspectCachedToken(services: TokenServices, cacheKey: string): Promise<Inspection | null> {
  const { deps, settings, keyRing } = services;
  const fresh = await deps.credentialCache?.fresh<CachedToken>(cacheKey, (token) => token.client.tenant_id);
  if (!fresh) return null;
  const { claims, client, verifiedWith } = fresh.value;
  if (claims.exp <= deps.now().getTime() / 1000 - settings.clockToleranceSeconds) return null;
  if (verifiedWith.issuer !== settings.issuer()) return null;
  if ((await keyRing.verificationKey(verifiedWith.kid)) !== verifiedWith.key) return null;
  return { ok: true, claims, client: { ...client, tenant_revision: fresh.revision }, verifiedWith };
}

/** Authenticates a request that presents one of Grantory's access tokens. */
export async function authenticateAccessToken(services: TokenServices, token: string): Promise<Caller> {
  const cache = services.deps.credentialCache;
  const cacheKey = cache ? `access_token\u0000${hashSecret(token)}` : null;
  let inspection = cacheKey ? await inspectCachedToken(services, cacheKey) : null;
  if (!inspection) {
    inspection = await inspectAccessToken(services, token);
    if (inspection.ok && cache && cacheKey) {
      const { ok: _ok, client: { tenant_revision: revision, ...client }, ...checked } = inspection;
      cache.set(cacheKey, { ...checked, client } satisfies CachedToken, revision);
    }
  }
  if (!inspection.ok) {
    throw new CredentialRejected(inspection.reason, {
      tenantId: inspection.client?.tenant_id ?? null,
      credentialType: 'access_token',
      credentialId: inspection.client?.id ?? null,
      label: inspection.claims?.client_id?.slice(0, 100) ?? null,
    });
  }
  const { claims, client } = inspection;
  const now = services.deps.now().toISOString();
  const scopes = parseScopeParam(claims.scope);
  const rights = await clientRights(services.deps, client, scopes, now, client.tenant_revision);
  return { ...clientCaller(client, scopes), rights };
}

/** A client as a caller, with no rights yet (the token endpoints act as the client itself). */
function clientCaller(client: Database['oauth_clients'], scopes: readonly string[]): Caller {
  return {
    tenantId: client.tenant_id,
    kind: 'client',
    id: client.id,
    name: `OAuth client ${client.name}`,
    identityId: client.identity_id,
    authorityId: client.authority_id,
    scopes,
    rights: new Set(),
    applicationId: client.application_id,
  };
}

/** The actor of what a client does at the token endpoints (issuing, revoking its tokens). */
export function clientActor(client: Database['oauth_clients'], meta: RequestMeta): Actor {
  return { caller: clientCaller(client, JSON.parse(client.scopes) as string[]), meta };
}

export interface IntrospectionResponse {
  active: boolean;
  scope?: string;
  client_id?: string;
  sub?: string;
  aud?: string | string[];
  iss?: string;
  exp?: number;
  iat?: number;
  jti?: string;
  token_type?: 'Bearer';
}

/**
 * RFC 7662. Any client of the token's tenant may introspect it (resource servers do), and so
 * may a caller of that tenant with `manage-clients`; to anyone else the token is inactive.
 */
export async function introspectToken(services: TokenServices, caller: { tenantId: string; isClient: boolean; canManageClients: boolean }, token: string): Promise<IntrospectionResponse> {
  if (!token || token.length > 8192) return { active: false };
  const inspection = await inspectAccessToken(services, token);
  if (!inspection.ok) return { active: false };
  const { claims, client } = inspection;
  if (client.tenant_id !== caller.tenantId || !(caller.isClient || caller.canManageClients)) return { active: false };
  return {
    active: true,
    scope: claims.scope,
    client_id: claims.client_id,
    sub: claims.sub,
    ...(claims.aud !== undefined ? { aud: claims.aud } : {}),
    ...(claims.iss !== undefined ? { iss: claims.iss } : {}),
    exp: claims.exp,
    iat: claims.iat,
    jti: claims.jti,
    token_type: 'Bearer',
  };
}

/**
 * RFC 7009. A client revokes its own tokens; a caller with `manage-clients` any token of its
 * tenant. An invalid or expired token needs nothing done and is not an error.
 */
export async function revokeToken(
  services: TokenServices,
  actor: Actor,
  revoker: { clientId: string | null; canManageClients: boolean },
  token: string,
): Promise<void> {
  if (!token || token.length > 8192) return;
  const inspection = await inspectAccessToken(services, token);
  if (!inspection.ok) return;
  const { claims, client } = inspection;
  if (client.tenant_id !== actor.caller.tenantId) return;
  if (revoker.clientId !== claims.client_id && !revoker.canManageClients) {
    throw new OAuthError('invalid_request', 'the token was not issued to this client');
  }
  await services.deps.store.write(client.tenant_id, writeMeta(actor), async (tx) => {
    // Revoked tokens are kept only until they would have expired anyway.
    await tx.db.deleteFrom('revoked_tokens').where('expires_at', '<', tx.now).execute();
    await tx.db
      .insertInto('revoked_tokens')
      .values({ tenant_id: tx.tenantId, jti: claims.jti, client_id: claims.client_id, expires_at: new Date(claims.exp * 1000).toISOString(), revoked_at: tx.now })
      .onConflict((oc) => oc.columns(['tenant_id', 'jti']).doNothing())
      .execute();
    tx.audit({ action: 'oauth_token.revoke', targetType: 'client', targetId: client.id, after: { jti: claims.jti } });
  });
}
