/**
 * `/sessions`: console sign-in. An API key or a username and password is exchanged for a
 * session cookie (`grantory_session`, see session-cookie.ts) and a CSRF token that requests
 * with an unsafe method must carry in `X-CSRF-Token`. Sessions can be listed and ended.
 */
import { Type } from '@sinclair/typebox';
import { errorResponses } from '../error-responses.ts';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../domain/errors.ts';
import { csrfTokenOf, OIDC_START_PATH, OidcSignInFailed, endSession, listSessions, noSession, SignInRefused, signIn, type OpenedSession } from '../../services/credentials/index.ts';
import type { Caller } from '../../services/kernel/index.ts';
import type { App, RouteDeps } from '../deps.ts';
import { rateLimited } from '../rate-limit.ts';
import { actorOf, requestMetaOf, REVISION_HEADER } from '../request-context.ts';
import { AUTHENTICATED, PUBLIC, SESSION } from '../route-auth.ts';
import { clearOidcCookie, clearSessionCookie, cookieOf, cookieSessionOf, OIDC_COOKIE, sessionCookieHeader, setOidcCookie, setSessionCookie } from '../session-cookie.ts';
import { IdParams, Nullable, Timestamp } from '../schemas.ts';
import { Me, meOf } from './me.ts';

const TAGS = ['Sessions'];

const Methods = Type.Object({
  apiKey: Type.Boolean(),
  password: Type.Boolean(),
  oidc: Type.Object({ enabled: Type.Boolean(), startUrl: Nullable(Type.String()) }),
});

const SignIn = Type.Union(
  [
    Type.Object({ apiKey: Type.String({ minLength: 1, maxLength: 512, description: 'An API key (e.g. the printed administrator key)' }) }, { additionalProperties: false }),
    Type.Object(
      {
        username: Type.String({ minLength: 1, maxLength: 300, description: "The identity's username (or subject), in the sign-in tenant" }),
        password: Type.String({ minLength: 1, maxLength: 1024 }),
      },
      { additionalProperties: false },
    ),
  ],
  { description: 'Either an API key, or a username and password' },
);

const SessionBody = Type.Object({
  id: Type.String(),
  csrfToken: Type.String({ description: 'Send it as X-CSRF-Token with every POST, PUT, PATCH and DELETE made with the session cookie' }),
  expiresAt: Timestamp,
  me: Me,
});

const SessionItem = Type.Object({
  id: Type.String(),
  createdAt: Timestamp,
  lastSeenAt: Timestamp,
  expiresAt: Timestamp,
  userAgent: Nullable(Type.String()),
  ip: Nullable(Type.String()),
  method: Type.Union([Type.Literal('api_key'), Type.Literal('password'), Type.Literal('oidc')]),
  current: Type.Boolean(),
});

function sessionBody(session: Pick<OpenedSession, 'id' | 'csrfToken' | 'expiresAt'>, caller: Caller) {
  return { id: session.id, csrfToken: session.csrfToken, expiresAt: session.expiresAt, me: meOf(caller) };
}

function noContent(reply: FastifyReply, revision: number): FastifyReply {
  return reply.status(204).header(REVISION_HEADER, String(revision)).send(null);
}

export function registerSessionRoutes(app: App, deps: RouteDeps): void {
  const { services, rateLimiters } = deps;

  app.get(
    '/sessions/methods',
    {
      config: PUBLIC,
      schema: { tags: TAGS, summary: 'How one may sign in to the console', security: [], response: { 200: Methods, ...errorResponses(400) } },
    },
    async () => ({ apiKey: true, password: true, oidc: services.consoleOidc ? { enabled: true, startUrl: OIDC_START_PATH } : { enabled: false, startUrl: null } }),
  );

  app.post(
    '/sessions',
    {
      config: PUBLIC,
      schema: {
        tags: TAGS,
        summary: 'Sign in: exchange an API key or a username and password for a session cookie',
        description:
          'Sets `grantory_session` (HttpOnly, SameSite=Strict, Secure except for plain HTTP to localhost). Wrong credentials: 401 with the same ' +
          'message whether or not the user exists; a locked identity: 401 with Retry-After.',
        security: [],
        body: SignIn,
        response: { 201: SessionBody, ...errorResponses(401, 429) },
      },
    },
    async (request, reply) => {
      const blocked = await rateLimiters.authFailuresPerIp.peek(request, request.ip);
      if (!blocked.allowed) throw rateLimited(reply, blocked, 'too many failed authentications from this address');
      let result;
      try {
        result = await signIn(services, request.body, requestMetaOf(request));
      } catch (e) {
        if (e instanceof AppError && e.code === 'unauthenticated') {
          await rateLimiters.authFailuresPerIp.hit(request, request.ip);
          if (e instanceof SignInRefused && e.retryAfterSeconds !== undefined) reply.header('retry-after', String(e.retryAfterSeconds));
        }
        throw e;
      }
      reply.header('cache-control', 'no-store');
      setSessionCookie(request, reply, result.session.secret);
      return reply.status(201).send(sessionBody(result.session, result.caller));
    },
  );

  app.get(
    '/sessions/oidc/start',
    {
      config: PUBLIC,
      schema: {
        tags: TAGS,
        summary: "Sign in through the configured OIDC provider: redirects to its authorization endpoint (code flow with PKCE)",
        description: '404 when no console OIDC provider is configured. `returnTo`: a path of this server to land on after sign-in (default /console/).',
        security: [],
        querystring: Type.Object({ returnTo: Type.Optional(Type.String({ maxLength: 1000 })) }),
        response: { 302: Type.Null(), ...errorResponses(404) },
      },
    },
    async (request, reply) => {
      const oidc = services.consoleOidc;
      if (!oidc) throw new AppError('not_found', 'console sign-in through OIDC is not configured');
      const { location, transaction, maxAgeSeconds } = await oidc.start(request.query.returnTo);
      setOidcCookie(request, reply, transaction, maxAgeSeconds);
      return reply.header('cache-control', 'no-store').redirect(location, 302);
    },
  );

  app.get(
    '/sessions/oidc/callback',
    {
      config: PUBLIC,
      schema: {
        tags: TAGS,
        summary: 'Where the OIDC provider sends the browser back: sets the session cookie and redirects to returnTo',
        description:
          'A failed sign-in (the provider answered an error, the state or the transaction cookie does not match, the ID token names no active identity) ' +
          'redirects a browser (`Accept: text/html`) to the console\'s sign-in page, `/console/sign-in?signInError=<failure>&returnTo=<page>`, which shows ' +
          'a readable message; `failure` is provider_error, not_started, expired, state_mismatch, provider_unusable, unknown_identity or inactive_identity. ' +
          'Other callers get the 401 problem (with `failure`).',
        security: [],
        querystring: Type.Object({
          code: Type.Optional(Type.String({ maxLength: 4096 })),
          state: Type.Optional(Type.String({ maxLength: 512 })),
          error: Type.Optional(Type.String({ maxLength: 512 })),
          error_description: Type.Optional(Type.String({ maxLength: 2048 })),
          session_state: Type.Optional(Type.String({ maxLength: 512 })),
          iss: Type.Optional(Type.String({ maxLength: 1000 })),
        }),
        response: { 302: Type.Null(), ...errorResponses(401, 404) },
      },
    },
    async (request, reply) => {
      const oidc = services.consoleOidc;
      if (!oidc) throw new AppError('not_found', 'console sign-in through OIDC is not configured');
      const blocked = await rateLimiters.authFailuresPerIp.peek(request, request.ip);
      if (!blocked.allowed) throw rateLimited(reply, blocked, 'too many failed authentications from this address');
      reply.header('cache-control', 'no-store');
      let result;
      try {
        result = await oidc.finish(request.query, cookieOf(request, OIDC_COOKIE, 4096), requestMetaOf(request));
      } catch (e) {
        if (e instanceof AppError && e.code === 'unauthenticated') await rateLimiters.authFailuresPerIp.hit(request, request.ip);
        reply.header('set-cookie', clearOidcCookie(request));
        if (e instanceof OidcSignInFailed && acceptsHtml(request)) return reply.redirect(signInPageAfter(e), 302);
        throw e;
      }
      reply.header('set-cookie', [sessionCookieHeader(request, result.session.secret), clearOidcCookie(request)]);
      return reply.redirect(result.returnTo, 302);
    },
  );

  /** A browser's navigation (not an API client): it is shown the sign-in page rather than a problem document. */
  const acceptsHtml = (request: FastifyRequest) => (request.headers.accept ?? '').includes('text/html');

  /** The console's sign-in page naming the failure, returning to the console page the sign-in was for. */
  const signInPageAfter = (failure: OidcSignInFailed) => {
    const params = new URLSearchParams({ signInError: failure.failure });
    const page = failure.returnTo?.startsWith('/console/') ? failure.returnTo.slice('/console'.length) : null;
    if (page && page !== '/') params.set('returnTo', page);
    return `/console/sign-in?${params.toString()}`;
  };

  const currentSession = (request: FastifyRequest) => {
    const session = cookieSessionOf(request);
    if (!session) throw noSession();
    return session;
  };

  app.get(
    '/sessions/current',
    {
      config: SESSION,
      schema: { tags: TAGS, summary: 'The signed-in session (with its CSRF token, so a reloaded page can write again)', response: { 200: SessionBody } },
    },
    async (request, reply) => {
      const { caller } = actorOf(request);
      const { secret, expiresAt } = currentSession(request);
      reply.header('cache-control', 'no-store');
      return sessionBody({ id: caller.id, csrfToken: csrfTokenOf(services.deps, secret), expiresAt }, caller);
    },
  );

  app.get(
    '/sessions',
    {
      config: AUTHENTICATED,
      schema: { tags: TAGS, summary: "The caller's identity's console sessions", response: { 200: Type.Object({ items: Type.Array(SessionItem) }) } },
    },
    async (request) => ({ items: await listSessions(services.deps, actorOf(request)) }),
  );

  app.delete(
    '/sessions/current',
    {
      config: SESSION,
      schema: { tags: TAGS, summary: 'Sign out: end the signed-in session and clear its cookie', response: { 204: Type.Null() } },
    },
    async (request, reply) => {
      const actor = actorOf(request);
      currentSession(request);
      const { revision } = await endSession(services.deps, actor, actor.caller.id);
      clearSessionCookie(request, reply);
      return noContent(reply, revision);
    },
  );

  app.delete(
    '/sessions/:id',
    {
      config: AUTHENTICATED,
      schema: {
        tags: TAGS,
        summary: "End a session: one of the caller's identity's own, or any of the tenant's with manage-users",
        params: IdParams,
        response: { 204: Type.Null() },
      },
    },
    async (request, reply) => {
      const { revision } = await endSession(services.deps, actorOf(request), request.params.id);
      return noContent(reply, revision);
    },
  );
}
