/**
 * The OAuth 2.0 endpoints for machine clients, at Grantory's paths and the vendor paths
 * scripts already use (COMPAT.md): the token endpoint (client credentials), introspection
 * (RFC 7662), revocation (RFC 7009), the key set and the discovery documents. Requests are
 * form-encoded (`application/x-www-form-urlencoded`; JSON is accepted too); answers use the
 * OAuth error format `{error, error_description}`.
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../domain/errors.ts';
import { SUPPORTED_SCOPES } from '../../domain/scopes.ts';
import type { Services } from '../../services/index.ts';
import { authenticateClient, clientActor, clientCredentialsOf, CX_PASSWORD_CLIENT, introspectToken, issueToken, OAuthError, passwordGrant, revokeToken, SIGNING_ALG } from '../../services/credentials/index.ts';
import type { App, RouteDeps } from '../deps.ts';
import { requestMetaOf } from '../request-context.ts';
import { rateLimited, setRateLimitHeaders } from '../rate-limit.ts';
import { CLIENT_AUTH, PUBLIC } from '../route-auth.ts';
import { isUtf8Form, strictUtf8 } from '../text-guard.ts';

export const CX_TOKEN_PATH = '/cxrestapi/auth/identity/connect/token';
export const TOKEN_PATHS = ['/oauth/token', '/oauth2/token', '/connect/token', CX_TOKEN_PATH];
/** The token paths that also serve the password grant (vendor compatibility paths). */
export const PASSWORD_GRANT_PATHS: readonly string[] = [CX_TOKEN_PATH, '/connect/token'];
export const INTROSPECTION_PATHS = ['/oauth/introspect', '/connect/introspect'];
export const REVOCATION_PATHS = ['/oauth/revoke', '/connect/revocation'];

const FORM = 'application/x-www-form-urlencoded';
type Form = Record<string, string | undefined>;

const FormBody = Type.Record(Type.String({ maxLength: 100 }), Type.Union([Type.String({ maxLength: 8192 }), Type.Array(Type.String({ maxLength: 8192 }), { maxItems: 10 })]), {
  description: 'Form parameters (application/x-www-form-urlencoded)',
});

const OAuthErrorBody = Type.Object({ error: Type.String(), error_description: Type.Optional(Type.String()) });

const TokenResponse = Type.Object({
  access_token: Type.String(),
  token_type: Type.Literal('Bearer'),
  expires_in: Type.Integer(),
  scope: Type.String(),
});

const Introspection = Type.Object({
  active: Type.Boolean(),
  scope: Type.Optional(Type.String()),
  client_id: Type.Optional(Type.String()),
  sub: Type.Optional(Type.String()),
  aud: Type.Optional(Type.Union([Type.String(), Type.Array(Type.String())])),
  iss: Type.Optional(Type.String()),
  exp: Type.Optional(Type.Integer()),
  iat: Type.Optional(Type.Integer()),
  jti: Type.Optional(Type.String()),
  token_type: Type.Optional(Type.String()),
});

/** RFC 6749 §3.2: a parameter sent twice is an invalid request. */
function formOf(body: unknown): Form {
  const form: Form = {};
  if (!body || typeof body !== 'object') return form;
  for (const [k, v] of Object.entries(body as Record<string, unknown>)) {
    if (Array.isArray(v)) throw new OAuthError('invalid_request', `the parameter ${k} is repeated`);
    if (typeof v === 'string') form[k] = v;
    else if (typeof v === 'number' || typeof v === 'boolean') form[k] = String(v);
  }
  return form;
}

function sendOAuthError(reply: FastifyReply, e: OAuthError): FastifyReply {
  if (e.basicChallenge) reply.header('WWW-Authenticate', 'Basic realm="grantory"');
  return reply.status(e.status).header('cache-control', 'no-store').send({ error: e.error, error_description: e.description });
}

/**
 * The OAuth endpoints answer in the OAuth error format (RFC 6749 §5.2), rate limits
 * included: a 429 with Retry-After and `temporarily_unavailable` (the code RFC 6749
 * §4.1.2.1 gives a server that cannot serve the request for now). Anything else is rethrown.
 */
function sendOAuthFailure(reply: FastifyReply, e: unknown): FastifyReply {
  if (e instanceof OAuthError) return sendOAuthError(reply, e);
  if (e instanceof AppError && e.code === 'rate_limited') {
    return reply.status(429).header('cache-control', 'no-store').send({ error: 'temporarily_unavailable', error_description: e.message });
  }
  throw e;
}

export function registerOAuthRoutes(app: App, deps: RouteDeps): void {
  const { services, rateLimiters } = deps;

  // Strict UTF-8, before and after percent-decoding (a form that is not is a 400, not mojibake).
  app.addContentTypeParser(FORM, { parseAs: 'buffer', bodyLimit: 64 * 1024 }, (_request, body, done) => {
    let text: string;
    try {
      text = strictUtf8(body, 'validation_failed');
      if (!isUtf8Form(text)) {
        throw new AppError('validation_failed', 'the form is not valid percent-encoded UTF-8', { errors: [{ field: '(body)', message: 'is not valid percent-encoded UTF-8' }] });
      }
    } catch (e) {
      done(e as Error, undefined);
      return;
    }
    const form: Record<string, string | string[]> = {};
    for (const [k, v] of new URLSearchParams(text)) {
      const seen = form[k];
      form[k] = seen === undefined ? v : Array.isArray(seen) ? [...seen, v] : [seen, v];
    }
    done(null, form);
  });

  /** Client authentication with the per-address failure limit and the per-client token limit. */
  async function authenticateClientRequest(request: FastifyRequest, reply: FastifyReply, form: Form, countTowardsTokenLimit: boolean) {
    const blocked = await rateLimiters.authFailuresPerIp.peek(request, request.ip);
    if (!blocked.allowed) throw rateLimited(reply, blocked, 'too many failed authentications from this address');
    const credentials = clientCredentialsOf(request.headers.authorization, form);
    if (credentials && countTowardsTokenLimit) {
      const limit = await rateLimiters.tokenPerClient.hit(request, credentials.clientId.slice(0, 200));
      if (!limit.allowed) throw rateLimited(reply, limit, 'too many token requests for this client');
      setRateLimitHeaders(reply, limit);
    }
    try {
      return await authenticateClient(services, credentials, requestMetaOf(request));
    } catch (e) {
      if (e instanceof OAuthError && e.error === 'invalid_client') await rateLimiters.authFailuresPerIp.hit(request, request.ip);
      throw e;
    }
  }

  /** The password grant, limited like client authentication: per address on failure, per username. */
  async function passwordGrantRequest(request: FastifyRequest, reply: FastifyReply, form: Form) {
    const blocked = await rateLimiters.authFailuresPerIp.peek(request, request.ip);
    if (!blocked.allowed) throw rateLimited(reply, blocked, 'too many failed authentications from this address');
    const limit = await rateLimiters.tokenPerClient.hit(request, `${CX_PASSWORD_CLIENT}\u0000${(form.username ?? '').slice(0, 200)}`);
    if (!limit.allowed) throw rateLimited(reply, limit, 'too many token requests for this user');
    setRateLimitHeaders(reply, limit);
    try {
      const path = request.url.split('?')[0];
      return await passwordGrant(services, form, requestMetaOf(request), { authorization: request.headers.authorization, checkmarxClient: path === CX_TOKEN_PATH });
    } catch (e) {
      if (e instanceof OAuthError && (e.error === 'invalid_grant' || e.error === 'invalid_client')) await rateLimiters.authFailuresPerIp.hit(request, request.ip);
      throw e;
    }
  }

  /** Introspection and revocation accept client authentication or a Bearer credential. */
  async function callerOf(request: FastifyRequest, reply: FastifyReply, form: Form) {
    const header = request.headers.authorization ?? '';
    const usesClientAuth = /^basic\s/i.test(header.trim()) || form.client_secret !== undefined || !header;
    if (usesClientAuth) {
      const client = await authenticateClientRequest(request, reply, form, false);
      return { actor: clientActor(client, requestMetaOf(request)), isClient: true, clientId: client.client_id, canManageClients: false };
    }
    const blocked = await rateLimiters.authFailuresPerIp.peek(request, request.ip);
    if (!blocked.allowed) throw rateLimited(reply, blocked, 'too many failed authentications from this address');
    const meta = requestMetaOf(request);
    let caller;
    try {
      caller = await services.authenticate(header, meta);
    } catch (e) {
      if (e instanceof AppError && e.code === 'unauthenticated') await rateLimiters.authFailuresPerIp.hit(request, request.ip);
      throw e;
    }
    return {
      actor: { caller, meta },
      isClient: caller.kind === 'client',
      clientId: null,
      canManageClients: caller.rights.has('manage-clients'),
    };
  }

  /**
   * One OAuth endpoint on each of its paths: a form (or JSON) body, answers that are never
   * cached, and failures in OAuth's error format.
   */
  function oauthEndpoint(
    paths: readonly string[],
    doc: { summary: (path: string) => string; description: string; security?: []; success: TSchema; pragmaNoCache?: true },
    handle: (request: FastifyRequest, reply: FastifyReply, form: Form) => Promise<unknown>,
  ): void {
    for (const path of paths) {
      app.post(
        path,
        {
          config: CLIENT_AUTH,
          schema: {
            tags: ['OAuth 2.0'],
            summary: doc.summary(path),
            description: doc.description,
            consumes: [FORM, 'application/json'],
            ...(doc.security ? { security: doc.security } : {}),
            body: FormBody,
            response: { 200: doc.success, 400: OAuthErrorBody, 401: OAuthErrorBody, 429: OAuthErrorBody },
          },
        },
        async (request, reply) => {
          reply.header('cache-control', 'no-store');
          if (doc.pragmaNoCache) reply.header('pragma', 'no-cache');
          try {
            return await handle(request, reply, formOf(request.body));
          } catch (e) {
            return sendOAuthFailure(reply, e);
          }
        },
      );
    }
  }

  oauthEndpoint(
    TOKEN_PATHS,
    {
      summary: (path) => (path === '/oauth/token' ? 'Get an access token (client credentials grant)' : 'Get an access token (alias of /oauth/token)'),
      description:
        'RFC 6749 §4.4. Authenticate the client with HTTP Basic (client_secret_basic) or client_id and client_secret in the form ' +
        '(client_secret_post). Returns a JWT access token (RFC 9068) for `Authorization: Bearer`. ' +
        'On the vendor compatibility paths /connect/token and /cxrestapi/auth/identity/connect/token the password grant ' +
        '(grant_type=password with username and password) is served too: an opaque token for the user, acting for the ' +
        "requesting client's application (docs/compat-coreone.md, docs/compat-checkmarx.md).",
      security: [],
      success: TokenResponse,
      pragmaNoCache: true,
    },
    async (request, reply, form) => {
      // The password grant, a compatibility path on the Checkmarx and CoreOne token paths only
      // (docs/compat-checkmarx.md, docs/compat-coreone.md).
      if (form.grant_type === 'password' && PASSWORD_GRANT_PATHS.includes(request.url.split('?')[0]!)) return passwordGrantRequest(request, reply, form);
      const client = await authenticateClientRequest(request, reply, form, true);
      return issueToken(services, client, { grant_type: form.grant_type, scope: form.scope }, requestMetaOf(request));
    },
  );

  oauthEndpoint(
    INTROSPECTION_PATHS,
    {
      summary: () => 'Introspect an access token (RFC 7662)',
      description: "Authenticate as a client of the token's tenant (HTTP Basic or form), or with a Bearer credential holding manage-clients.",
      success: Introspection,
    },
    async (request, reply, form) => {
      const caller = await callerOf(request, reply, form);
      if (!form.token) throw new OAuthError('invalid_request', 'token is required');
      return introspectToken(services, { tenantId: caller.actor.caller.tenantId, isClient: caller.isClient, canManageClients: caller.canManageClients }, form.token);
    },
  );

  oauthEndpoint(
    REVOCATION_PATHS,
    {
      summary: () => 'Revoke an access token (RFC 7009)',
      description: 'A client revokes its own tokens; a Bearer caller with manage-clients any token of its tenant. Unknown or expired tokens answer 200 too.',
      success: Type.Object({}),
    },
    async (request, reply, form) => {
      const caller = await callerOf(request, reply, form);
      if (!form.token) throw new OAuthError('invalid_request', 'token is required');
      await revokeToken(services, caller.actor, { clientId: caller.clientId, canManageClients: caller.canManageClients }, form.token);
      return {};
    },
  );

  app.get(
    '/.well-known/jwks.json',
    {
      config: PUBLIC,
      schema: {
        tags: ['OAuth 2.0'],
        summary: 'The public keys access tokens are signed with (JWKS)',
        security: [],
        response: { 200: Type.Object({ keys: Type.Array(Type.Record(Type.String(), Type.Unknown())) }) },
      },
    },
    async (_request, reply) => {
      reply.header('cache-control', 'public, max-age=300');
      // Make sure a key exists before it is first asked for.
      await services.keyRing.signingKey();
      return services.keyRing.jwks();
    },
  );

  for (const path of ['/.well-known/openid-configuration', '/.well-known/oauth-authorization-server']) {
    app.get(
      path,
      {
        config: PUBLIC,
        schema: {
          tags: ['OAuth 2.0'],
          summary: path.endsWith('openid-configuration') ? 'Discovery document (OpenID Connect Discovery form)' : 'Discovery document (RFC 8414)',
          security: [],
          response: { 200: Type.Record(Type.String(), Type.Unknown()) },
        },
      },
      async () => discoveryDocument(services),
    );
  }
}

export function discoveryDocument(services: Services): Record<string, unknown> {
  const issuer = services.settings.issuer();
  const authMethods = ['client_secret_basic', 'client_secret_post'];
  return {
    issuer,
    token_endpoint: `${issuer}/oauth/token`,
    jwks_uri: `${issuer}/.well-known/jwks.json`,
    introspection_endpoint: `${issuer}/oauth/introspect`,
    revocation_endpoint: `${issuer}/oauth/revoke`,
    grant_types_supported: ['client_credentials'],
    response_types_supported: ['token'],
    token_endpoint_auth_methods_supported: authMethods,
    introspection_endpoint_auth_methods_supported: authMethods,
    revocation_endpoint_auth_methods_supported: authMethods,
    scopes_supported: SUPPORTED_SCOPES,
    access_token_signing_alg_values_supported: [SIGNING_ALG],
    subject_types_supported: ['public'],
    id_token_signing_alg_values_supported: [SIGNING_ALG],
  };
}
