/**
 * `/sessions`: console sign-in. An API key or a username and password is exchanged for a
 * session cookie (`grantory_session`, see session-cookie.ts) and a CSRF token that requests
 * with an unsafe method must carry in `X-CSRF-Token`. Sessions can be listed and ended.
 */
import { Type } from '@sinclair/typebox';
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../../domain/errors.ts';
import { csrfTokenOf, endSession, listSessions, noSession, SignInRefused, signIn, type OpenedSession } from '../../services/credentials/index.ts';
import type { Caller } from '../../services/kernel/index.ts';
import type { App, RouteDeps } from '../deps.ts';
import { rateLimited } from '../rate-limit.ts';
import { actorOf, requestMetaOf, REVISION_HEADER } from '../request-context.ts';
import { AUTHENTICATED, PUBLIC, SESSION } from '../route-auth.ts';
import { clearSessionCookie, cookieSessionOf, setSessionCookie } from '../session-cookie.ts';
import { IdParams, Nullable, Timestamp } from '../schemas.ts';
import { Me, meOf } from './me.ts';

const TAGS = ['sessions'];

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
      schema: { tags: TAGS, summary: 'How one may sign in to the console', security: [], response: { 200: Methods } },
    },
    async () => ({ apiKey: true, password: true, oidc: services.settings.consoleOidc ? { enabled: true, startUrl: '/api/v1/sessions/oidc/start' } : { enabled: false, startUrl: null } }),
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
        response: { 201: SessionBody },
      },
    },
    async (request, reply) => {
      const blocked = rateLimiters.authFailuresPerIp.peek(request.ip);
      if (!blocked.allowed) throw rateLimited(reply, blocked, 'too many failed authentications from this address');
      let result;
      try {
        result = await signIn(services, request.body, requestMetaOf(request));
      } catch (e) {
        if (e instanceof AppError && e.code === 'unauthenticated') {
          rateLimiters.authFailuresPerIp.hit(request.ip);
          if (e instanceof SignInRefused && e.retryAfterSeconds !== undefined) reply.header('retry-after', String(e.retryAfterSeconds));
        }
        throw e;
      }
      reply.header('cache-control', 'no-store');
      setSessionCookie(request, reply, result.session.secret);
      return reply.status(201).send(sessionBody(result.session, result.caller));
    },
  );

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
