/**
 * Builds the HTTP application: a Fastify instance with validation, authentication,
 * problem+json errors, metrics, OpenAPI and every route. Built by a function so tests
 * drive it with `inject()` and no port.
 *
 * ```ts
 * const app = await buildApp({ services, store, bodyLimit: 1 << 20, logLevel: 'silent' });
 * const res = await app.inject({ method: 'GET', url: '/livez' });
 * ```
 */
import { randomUUID } from 'node:crypto';
import Fastify, {
  LogController,
  type FastifyReply,
  type FastifyRequest,
} from 'fastify';
import type { TypeBoxTypeProvider } from '@fastify/type-provider-typebox';
import swagger from '@fastify/swagger';
import { Ajv } from 'ajv';
import addFormatsModule from 'ajv-formats';
import { createLazySchemas, type LazySchemas } from './lazy-schemas.ts';
import FindMyWay from 'find-my-way';
import { AppError } from '../domain/errors.ts';
import type { Right } from '../domain/rights.ts';
import type { Store } from '../store/store.ts';
import type { Services } from '../services/index.ts';
import { requireRight, findIdempotentResponse, requestFingerprint, saveIdempotentResponse, validIdempotencyKey } from '../services/kernel/index.ts';
import { recordDenial, recordRateLimited } from '../services/audit/index.ts';
import type { Actor, SharedRateCounter } from '../services/kernel/index.ts';
import { type Metrics, createMetrics } from './metrics.ts';
import { sendProblem, toAppError } from './problem.ts';
import { isDecisionRoute, routeAuthOf, type RouteTableEntry } from './route-auth.ts';

export type { App, RouteDeps, RouteRegistrar } from './deps.ts';
import { declareErrorResponses, ProblemSchema } from './error-responses.ts';
import { maybeActorOf, requestMetaOf, setActor } from './request-context.ts';
import type { App, RouteDeps } from './deps.ts';
import { badUrlEncoding, jsonParser, registerTextGuard } from './text-guard.ts';
import { registerQueryGuard } from './query-guard.ts';
import { passingReadBodies } from './route-body.ts';
import { registerOperationsRoutes } from './routes/operations.ts';
import { registerFrontDoor } from './routes/front-door.ts';
import { loggerOptions, registerRequestLog, type LogFormat } from './request-log.ts';
export { LOG_REDACT } from './request-log.ts';
import { registerOAuthRoutes } from './routes/oauth.ts';
import { registerDocsRoutes } from './routes/docs.ts';
import { registerScimRoutes } from './routes/scim.ts';
import { describeOperation, finishDocument, PRODUCT_VERSION } from './openapi-document.ts';
import { registerRateLimiters, rateLimited, setRateLimitHeaders } from './rate-limit.ts';
import { CSRF_HEADER, isUnsafeMethod, sessionCookieOf, setCookieSession } from './session-cookie.ts';
import { csrfTokenMatches, noSession } from '../services/credentials/index.ts';
import { DEFAULT_CONNECTION_LIMITS, type AccessLog, type ConnectionLimits, type RateLimitConfig } from '../config.ts';
import { registerRequestDeadlines } from './request-deadline.ts';
import { NATIVE_ROUTES } from './routes/index.ts';
import { COMPAT_PROFILES, unroutedRendererFor } from './compat/index.ts';
import { DEFAULT_CONSOLE_DIR, registerConsoleRoutes } from './console.ts';

export interface AppOptions {
  services: Services;
  store: Store;
  metrics?: Metrics;
  bodyLimit?: number;
  logLevel?: string;
  /** `json` (the default) or `pretty` (request-log.ts). */
  logFormat?: LogFormat;
  /** Readiness checks beyond the store (e.g. the access index built). */
  readiness?: () => Promise<string | null>;
  /** Rate limits (see rate-limit.ts); defaults apply when absent. */
  rateLimits?: RateLimitConfig;
  /** Counts the rate limits across processes (nodes, workers); absent: this process alone. */
  rateCounter?: SharedRateCounter | null;
  /** Which answered requests are logged at info (request-log.ts); `useful` by default. */
  accessLog?: AccessLog;
  /** A request slower than this (ms) is logged at info; 1000 by default. */
  slowRequestMs?: number;
  /** Timeouts and the connection cap (see config.ts); defaults apply when absent. */
  connections?: ConnectionLimits;
  /** The built web console served at /console (web/dist of this checkout by default); `GET /` leads to it when it holds index.html (front-door.ts). */
  consoleDir?: string;
}


const addFormats = addFormatsModule as unknown as (ajv: Ajv) => Ajv;

function makeAjv(coerce: boolean): Ajv {
  const ajv = new Ajv({
    allErrors: true,
    removeAdditional: false,
    useDefaults: true,
    coerceTypes: coerce ? 'array' : false,
    strict: false,
  });
  addFormats(ajv);
  return ajv;
}

const NATIVE_PREFIX = '/api/v1';

const headerValue = (v: string | string[] | undefined): string | undefined => (Array.isArray(v) ? undefined : v);

/** Which (credential, limit) had a refusal audited in which window: one audit event per window. */
class RefusedWindows {
  private readonly seen = new Map<string, number>();

  /** True when this window's refusal was already recorded; records it otherwise. */
  has(state: { resetMs: number }, tenantId: string, credentialId: string, limit: string): boolean {
    const now = Date.now();
    const key = `${tenantId}\u0000${credentialId}\u0000${limit}`;
    const until = this.seen.get(key);
    if (until !== undefined && until > now) return true;
    if (this.seen.size >= 10_000) for (const [k, end] of this.seen) if (end <= now) this.seen.delete(k);
    if (this.seen.size >= 10_000) this.seen.clear();
    this.seen.set(key, now + state.resetMs);
    return false;
  }
}

const HTTP_METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE', 'HEAD', 'OPTIONS'] as const;

export async function buildApp(options: AppOptions): Promise<App> {
  const metrics = options.metrics ?? createMetrics();
  const logger = await loggerOptions(options.logLevel, options.logFormat);

  const limits = options.connections ?? DEFAULT_CONNECTION_LIMITS;
  const outerRequestTimeout = limits.headersTimeoutMs + Math.max(limits.requestTimeoutMs, limits.uploadTimeoutMs);
  // Schemas compile on first use (and in warmUpSchemas() once serving), not before listening.
  const lazySchemas = createLazySchemas();
  const app = Fastify({
    logger,
    schemaController: { compilersFactory: { buildSerializer: lazySchemas.buildSerializer } },
    // One line a request, written when it is answered (request-log.ts).
    logController: new LogController({ disableRequestLogging: true }),
    bodyLimit: options.bodyLimit ?? 1024 * 1024,
    requestIdHeader: 'x-request-id',
    genReqId: (req) => {
      const given = req.headers['x-request-id'];
      return typeof given === 'string' && /^[A-Za-z0-9._:-]{1,128}$/.test(given) ? given : randomUUID();
    },
    return503OnClosing: true,
    // A path whose percent-escapes are not UTF-8 never reaches routing: same 400 as the query's.
    frameworkErrors: (error, request, reply) => {
      const appError = error.code === 'FST_ERR_BAD_URL' ? badUrlEncoding('path') : toAppError(error).appError;
      return sendProblem(reply, request, appError);
    },
    keepAliveTimeout: limits.keepAliveTimeoutMs,
    // Node's request timeout is one value per server: here only an outer bound, the
    // per-route deadlines are in request-deadline.ts.
    requestTimeout: outerRequestTimeout,
    http: {
      headersTimeout: limits.headersTimeoutMs,
      requestTimeout: outerRequestTimeout,
      // Node checks the header and request timeouts this often (30 s by default).
      connectionsCheckingInterval: Math.min(1000, limits.headersTimeoutMs),
    },
    ajv: { customOptions: { removeAdditional: false } },
  }).withTypeProvider<TypeBoxTypeProvider>();

  // Connections beyond the cap are closed as they arrive.
  app.server.maxConnections = limits.maxConnections;
  registerRequestDeadlines(app, limits);

  // JSON only (vendor profiles add what their documents need); other bodies are a 415.
  // Bodies that are not UTF-8 are refused, not decoded with replacement characters.
  app.removeContentTypeParser('text/plain');
  const json = app.getDefaultJsonParser('error', 'error');
  app.removeContentTypeParser('application/json');
  app.addContentTypeParser('application/json', { parseAs: 'buffer' }, jsonParser(json));
  registerTextGuard(app);
  registerQueryGuard(app, (url) => url.startsWith(`${NATIVE_PREFIX}/`));

  // Bodies are validated strictly (a string is not a number); query strings and params
  // arrive as text and are coerced to the declared types.
  const bodyAjv = makeAjv(false);
  const textAjv = makeAjv(true);
  app.setValidatorCompiler(({ schema, httpPart, method, url }) => {
    const validate = lazySchemas.validator(() => (httpPart === 'body' ? bodyAjv : textAjv).compile(schema as object), `${method} ${url} ${httpPart}`);
    // A body a route read itself (route-body.ts) is one its schema accepts.
    return httpPart === 'body' ? passingReadBodies(validate) : validate;
  });

  // The problem+json body every error response of the native API declares (error-responses.ts).
  app.addSchema(ProblemSchema);

  // Route table: every route declares its auth; a router mirror answers 405 vs 404.
  const routeTable: RouteTableEntry[] = [];
  const mirror = FindMyWay();
  const operationIds = new Set<string>();
  app.addHook('onRoute', (route) => {
    const auth = routeAuthOf(route.config);
    const methods = Array.isArray(route.method) ? route.method : [route.method];
    if (!auth) throw new Error(`route ${methods.join(',')} ${route.url} declares no auth (config.auth)`);
    for (const method of methods) {
      if (method === 'HEAD') continue;
      routeTable.push({ method, url: route.url, auth });
      mirror.on(method as 'GET', route.url, () => undefined);
    }
    declareErrorResponses(route);
    describeOperation(route, operationIds);
  });
  app.decorate('routeTable', routeTable);
  app.decorate('lazySchemas', lazySchemas);

  await app.register(swagger, {
    // Shared schemas keep their $id as their component name (#/components/schemas/Problem).
    refResolver: { buildLocalReference: (json, _baseUri, _fragment, i) => (typeof json.$id === 'string' ? json.$id : `def-${i}`) },
    openapi: {
      openapi: '3.1.0',
      info: {
        title: 'Grantory API',
        version: PRODUCT_VERSION,
        description:
          'Grantory keeps who has access to what, why and since when. The native API (version 1) is under /api/v1; ' +
          'the vendor compatibility profiles answer at their vendors\' paths, in their own tag group after it. ' +
          'Errors are RFC 9457 problem details (`Problem`); every operation lists the error statuses it can answer. ' +
          'Operation ids are `<method><Path words>` (`getIdentitiesById`), a vendor profile\'s prefixed with its name.',
      },
      components: {
        securitySchemes: {
          bearer: { type: 'http', scheme: 'bearer', description: 'An API key or an OAuth 2.0 access token' },
          appKey: { type: 'apiKey', in: 'header', name: 'Authorization', description: 'An application key: `AppKey <key>`' },
          oauth2: {
            type: 'oauth2',
            description: 'Client credentials; see docs/authentication.md for the scopes',
            flows: { clientCredentials: { tokenUrl: '/oauth/token', scopes: { 'grantory:*': "Every right of the client's identity" } } },
          },
        },
      },
      security: [{ bearer: [] }, { oauth2: [] }, { appKey: [] }],
    },
    transformObject: (document) => finishDocument((document as { openapiObject: Parameters<typeof finishDocument>[0] }).openapiObject) as object,
  });

  // A method no route uses (QUERY, PROPFIND, ...) is answered before its body is read:
  // 405 with Allow on a known path, 404 elsewhere — never a parse error.
  const routedMethods = new Set<string>(HTTP_METHODS);
  // The hooks that rarely wait are synchronous where they do not (no promise and no turn of
  // the microtask queue per request); a hook that answers does not call done.
  app.addHook('onRequest', (request, reply, done) => {
    if (routedMethods.has(request.method)) done();
    else answerUnrouted(request, reply);
  });

  const refusedWindows = new RefusedWindows();
  const limiters = await registerRateLimiters(app, options.rateLimits, options.rateCounter ?? null);
  const windowSeconds = (options.rateLimits ?? { windowSeconds: 60 }).windowSeconds;
  app.addHook('onRequest', async (request, reply) => {
    // Fastify builds `routeOptions` anew on each read.
    const { config } = request.routeOptions;
    const auth = routeAuthOf(config);
    // Client-authenticated routes (OAuth endpoints) authenticate and limit in their handlers.
    if (!auth || auth.kind === 'public' || auth.kind === 'client') return;
    const meta = requestMetaOf(request);
    const blocked = await limiters.authFailuresPerIp.peek(request, request.ip);
    if (!blocked.allowed) {
      metrics.rateLimited.inc({ limit: 'auth_failures' });
      throw rateLimited(reply, blocked, 'too many failed authentications from this address');
    }
    const { authorization } = request.headers;
    // A session cookie counts only without an Authorization header (which needs no CSRF token).
    const cookie = authorization ? undefined : sessionCookieOf(request);
    if (auth.kind === 'session' && !cookie) throw noSession();
    let caller;
    try {
      if (cookie) {
        const signedIn = await options.services.authenticateSession(cookie, meta);
        setCookieSession(request, { secret: cookie, expiresAt: signedIn.session.expiresAt });
        caller = signedIn.caller;
      } else {
        caller = await options.services.authenticate(authorization, meta);
      }
    } catch (e) {
      if (e instanceof AppError && e.code === 'unauthenticated' && (authorization || cookie)) await limiters.authFailuresPerIp.hit(request, request.ip);
      throw e;
    }
    if (cookie) {
      if (isUnsafeMethod(request.method) && !csrfTokenMatches(options.services.deps, cookie, headerValue(request.headers[CSRF_HEADER]))) {
        setActor(request, { caller, meta });
        throw new AppError('csrf_token_invalid', 'a request signed in by the session cookie must carry the header X-CSRF-Token with the session\'s CSRF token');
      }
    }
    const decision = isDecisionRoute(config);
    const limit = await (decision ? limiters.decisionPerCredential : limiters.perCredential).hit(request, `${caller.tenantId}\u0000${caller.kind}\u0000${caller.id}`);
    const actor = { caller, meta };
    if (!limit.allowed) {
      const which = decision ? 'decision' : 'management';
      metrics.rateLimited.inc({ limit: which });
      // The first refusal of a window is audited; the ones after it are counted (above).
      if (!refusedWindows.has(limit, caller.tenantId, caller.id, which)) {
        const refusal = { method: request.method, route: request.routeOptions.url ?? request.url, limit: which, max: limit.limit, windowSeconds };
        recordRateLimited(options.services.deps, actor, refusal).catch((recordError: unknown) => request.log.error({ err: recordError }, 'could not record a rate-limited request'));
      }
      throw rateLimited(reply, limit, decision ? 'too many decision requests with this credential' : 'too many requests with this credential');
    }
    setRateLimitHeaders(reply, limit);
    setActor(request, actor);
    // A denial is recorded with every other 403 (below).
    if (auth.kind === 'rights') requireRight(actor, ...auth.rights);
  });

  // Every 403 answer of an authenticated request is an `access.denied` audit event, recorded
  // once, whether the route check or a service refused it (and whichever profile renders it).
  const refusals = new WeakMap<object, AppError>();
  app.addHook('onError', async (request, _reply, error) => {
    if (error instanceof AppError && error.code === 'forbidden') refusals.set(request, error);
  });
  app.addHook('onSend', (request, reply, payload, done) => {
    const actor = reply.statusCode === 403 ? maybeActorOf(request) : undefined;
    if (!actor) done(null, payload);
    else recordRefusal(request, actor).then(() => done(null, payload), (e: unknown) => done(e as Error));
  });
  const recordRefusal = async (request: FastifyRequest, actor: Actor): Promise<void> => {
    const refusal = refusals.get(request);
    const auth = routeAuthOf(request.routeOptions.config);
    const required = refusal?.details?.requiredRights;
    const denial = {
      method: request.method,
      route: request.routeOptions.url ?? request.url,
      requiredRights: Array.isArray(required) ? (required as Right[]) : auth?.kind === 'rights' ? auth.rights : [],
      reason: refusal?.message ?? null,
    };
    // Failing to record it must not turn the 403 into a 500.
    await recordDenial(options.services.deps, actor, denial).catch((recordError: unknown) => request.log.error({ err: recordError }, 'could not record a denied request'));
  };

  app.addHook('onClose', async () => {
    await options.services.authFailures.flush();
  });

  // Idempotency-Key on POST: a retry with the same key and request gets the first response.
  const pendingIdempotency = new WeakMap<object, { key: string; fingerprint: string }>();
  app.addHook('preHandler', (request, reply, done) => {
    const key = request.headers['idempotency-key'];
    if (key === undefined || request.method !== 'POST') {
      done();
      return;
    }
    replayIdempotent(request, reply).then(
      () => {
        if (!reply.sent) done();
      },
      (e: unknown) => done(e as Error),
    );
  });
  const replayIdempotent = async (request: FastifyRequest, reply: FastifyReply): Promise<void> => {
    const key = request.headers['idempotency-key'];
    const actor = maybeActorOf(request);
    if (typeof key !== 'string' || !actor) return;
    if (!validIdempotencyKey(key)) throw new AppError('validation_failed', 'Idempotency-Key must be 1-255 visible ASCII characters');
    const fingerprint = requestFingerprint(request.method, request.url, request.body);
    const now = options.services.deps.now();
    const stored = await findIdempotentResponse(options.store, actor.caller, key, fingerprint, now);
    if (stored) {
      reply.status(stored.status).type(stored.contentType).header('idempotent-replayed', 'true').send(stored.body);
      return;
    }
    pendingIdempotency.set(request, { key, fingerprint });
  };

  app.addHook('onSend', (request, reply, payload, done) => {
    reply.header('x-request-id', request.id);
    const pending = pendingIdempotency.get(request);
    const actor = pending && maybeActorOf(request);
    if (!pending || !actor || reply.statusCode >= 500 || typeof payload !== 'string') {
      done(null, payload);
      return;
    }
    pendingIdempotency.delete(request);
    const contentType = String(reply.getHeader('content-type') ?? 'application/json');
    saveIdempotentResponse(options.store, actor.caller, pending.key, pending.fingerprint, { status: reply.statusCode, body: payload, contentType }, options.services.deps.now()).then(
      () => done(null, payload),
      (e: unknown) => done(e as Error),
    );
  });

  registerRequestLog(app, options.logLevel, { accessLog: options.accessLog ?? 'useful', slowMs: options.slowRequestMs ?? 1000 });
  app.addHook('onResponse', (request, reply, done) => {
    const route = request.routeOptions.url ?? 'unmatched';
    metrics.httpRequests.inc({ method: request.method, route, status: String(reply.statusCode) });
    metrics.httpDuration.observe({ method: request.method, route }, reply.elapsedTime / 1000);
    done();
  });

  app.setErrorHandler(async (error, request, reply) => {
    const { appError, unexpected } = toAppError(error);
    if (unexpected) request.log.error({ err: error }, 'unexpected error');
    return sendProblem(reply, request, appError);
  });

  const answerUnrouted = (request: FastifyRequest, reply: FastifyReply) => {
    const path = request.url.split('?')[0] ?? '/';
    // Under a compatibility profile's prefix, in that vendor's error form.
    const send = unroutedRendererFor(path) ?? sendProblem;
    const allowed = HTTP_METHODS.filter((m) => m !== 'HEAD' && mirror.find(m as 'GET', path));
    if (allowed.length) {
      if (allowed.includes('GET')) allowed.push('HEAD');
      reply.header('Allow', allowed.join(', '));
      return send(reply, request, new AppError('method_not_allowed', `${request.method} is not allowed on ${path}; use ${allowed.join(', ')}`));
    }
    return send(reply, request, new AppError('route_not_found', `no route ${request.method} ${path}`));
  };
  app.setNotFoundHandler(async (request, reply) => answerUnrouted(request, reply));

  const deps: RouteDeps = { services: options.services, store: options.store, metrics, readiness: options.readiness, rateLimiters: limiters };
  await app.register(async (scope) => registerOperationsRoutes(scope, deps));
  await app.register(async (scope) => registerFrontDoor(scope, { consoleDir: options.consoleDir }));
  await app.register(async (scope) => registerOAuthRoutes(scope, deps));
  await app.register(async (scope) => registerDocsRoutes(scope));
  for (const register of NATIVE_ROUTES) await app.register(async (scope) => register(scope, deps), { prefix: NATIVE_PREFIX });
  await app.register(async (scope) => registerScimRoutes(scope, deps));
  for (const register of COMPAT_PROFILES) await app.register(async (scope) => register(scope, deps));
  await app.register(async (scope) => registerConsoleRoutes(scope, { dir: options.consoleDir ?? DEFAULT_CONSOLE_DIR }));

  await app.ready();
  return app;
}




/** Compiles the route schemas no request has needed yet (lazy-schemas.ts): a started server runs it once it serves. */
export function warmUpSchemas(app: App): ReturnType<LazySchemas['warmUp']> {
  return (app as unknown as { lazySchemas: LazySchemas }).lazySchemas.warmUp();
}

/** The declared routes of a built app (for the authorization tests). */
export function routeTableOf(app: App): RouteTableEntry[] {
  return (app as unknown as { routeTable: RouteTableEntry[] }).routeTable;
}
