/**
 * Rate limits, counted by `@fastify/rate-limit` (fixed windows) in one of two stores:
 *
 * - one process alone (a single SQLite node): the library's in-memory store, exact;
 * - several processes (PostgreSQL nodes, or the workers of one node): a store over a
 *   {@link SharedRateCounter} — each process counts locally and adds its counts to the shared
 *   total every 100 ms (services/kernel/rate-counters.ts), so a limit holds per tenant and
 *   credential across nodes and workers, overrun by at most what the others admit in 100 ms.
 *
 * Five limits (`RateLimitConfig`), all per window (`windowSeconds`): requests per credential
 * (tenant + credential id, not per IP address: many callers share a proxy) on decision routes
 * (check, batch check, an identity's access, the vendors' permission queries: what an
 * application asks on its own hot path), and separately, lower, on every other route; token
 * requests per client id; and failed authentications per IP address, which once exceeded
 * refuse further attempts from that address until the window ends. A limit of 0 is off.
 *
 * ```ts
 * const limiters = await registerRateLimiters(app, config, null);
 * const state = await limiters.perCredential.hit(request, 'tenant\u0000api_key\u0000id');
 * if (!state.allowed) throw rateLimited(reply, state, 'too many requests with this credential');
 * ```
 */
import fastifyRateLimit, { type RateLimitPluginOptions } from '@fastify/rate-limit';
import type { FastifyInstance, FastifyReply, FastifyRequest } from 'fastify';
import type { RateLimitConfig } from '../config.ts';
import { AppError } from '../domain/errors.ts';
import type { SharedRateCounter } from '../services/kernel/index.ts';

export interface RateLimitState {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window ends. */
  resetMs: number;
}

/** One limit, keyed by what the caller passes (a credential, a client id, an address). */
export interface KeyedLimiter {
  /** Requests allowed per window; 0: off. */
  readonly limit: number;
  /** Counts one request for `key`. */
  hit(request: FastifyRequest, key: string): Promise<RateLimitState>;
  /** The state of `key` without counting a request (`allowed`: one more would be admitted). */
  peek(request: FastifyRequest, key: string): Promise<RateLimitState>;
}

export interface RateLimiters {
  /** Management routes, per tenant + credential. */
  perCredential: KeyedLimiter;
  /** Decision routes, per tenant + credential (higher; counted apart from management). */
  decisionPerCredential: KeyedLimiter;
  tokenPerClient: KeyedLimiter;
  authFailuresPerIp: KeyedLimiter;
}

export const DEFAULT_RATE_LIMITS: RateLimitConfig = {
  windowSeconds: 60,
  perCredential: 600,
  decisionPerCredential: 6_000_000,
  tokenPerClient: 60,
  authFailuresPerIp: 30,
};

/** The key a limiter counts for the request at hand (set just before the library reads it). */
const LIMIT_KEY = Symbol('grantory.rateLimitKey');
type Keyed = FastifyRequest & { [LIMIT_KEY]?: string };

type StoreCallback = (err: Error | null, res?: { current: number; ttl: number }) => void;

/** `@fastify/rate-limit`'s store interface over a counter shared between processes. */
function sharedStore(counter: SharedRateCounter) {
  return class SharedCounterStore {
    incr(key: string, cb: StoreCallback, timeWindow: number): void {
      cb(null, counter.count(key, timeWindow, 1));
    }

    read(key: string, cb: StoreCallback, timeWindow: number): void {
      cb(null, counter.count(key, timeWindow, 0));
    }

    child(): SharedCounterStore {
      return new SharedCounterStore();
    }
  };
}

type CreateRateLimit = (options: { max: number; timeWindow: number }) => (
  request: FastifyRequest,
  callOptions?: { increment?: boolean },
) => Promise<{ isAllowed: boolean; max?: number; remaining?: number; ttl?: number; isExceeded?: boolean }>;

/**
 * Registers `@fastify/rate-limit` (no route limited by itself: the app's authentication hook
 * asks once it knows the caller) and returns the five limiters; `shared` counts across
 * processes (null: this process alone).
 */
export async function registerRateLimiters(app: FastifyInstance, config: RateLimitConfig = DEFAULT_RATE_LIMITS, shared: SharedRateCounter | null = null): Promise<RateLimiters> {
  const options: RateLimitPluginOptions = {
    global: false,
    keyGenerator: (request) => (request as Keyed)[LIMIT_KEY] ?? request.ip,
    cache: 100_000,
    ...(shared ? { store: sharedStore(shared) as unknown as RateLimitPluginOptions['store'] } : {}),
  };
  await app.register(fastifyRateLimit, options);
  const create = (app as unknown as { createRateLimit: CreateRateLimit }).createRateLimit;
  const windowMs = config.windowSeconds * 1000;
  const limiter = (name: string, limit: number): KeyedLimiter => {
    const off: RateLimitState = { allowed: true, limit: 0, remaining: 0, resetMs: 0 };
    if (limit <= 0) return { limit: 0, hit: async () => off, peek: async () => off };
    const apply = create({ max: limit, timeWindow: windowMs });
    const run = async (request: FastifyRequest, key: string, increment: boolean): Promise<RateLimitState> => {
      // Read synchronously by the library's first step (before anything else can run).
      (request as Keyed)[LIMIT_KEY] = `${name}\u0000${key}`;
      const r = await apply(request, { increment });
      const remaining = r.remaining ?? limit;
      return { allowed: increment ? !r.isExceeded : remaining > 0, limit, remaining, resetMs: r.ttl ?? windowMs };
    };
    return { limit, hit: (request, key) => run(request, key, true), peek: (request, key) => run(request, key, false) };
  };
  return {
    perCredential: limiter('credential', config.perCredential),
    decisionPerCredential: limiter('decision', config.decisionPerCredential),
    tokenPerClient: limiter('token', config.tokenPerClient),
    authFailuresPerIp: limiter('auth-failures', config.authFailuresPerIp),
  };
}

/** Sets `x-ratelimit-limit`, `x-ratelimit-remaining` and `x-ratelimit-reset` (seconds until the window ends). */
export function setRateLimitHeaders(reply: FastifyReply, state: RateLimitState): void {
  if (state.limit <= 0) return;
  reply.header('x-ratelimit-limit', String(state.limit));
  reply.header('x-ratelimit-remaining', String(state.remaining));
  reply.header('x-ratelimit-reset', String(Math.max(1, Math.ceil(state.resetMs / 1000))));
}

/** Sets the headers of a refusal and returns the `rate_limited` error (429) to throw. */
export function rateLimited(reply: FastifyReply, state: RateLimitState, what: string): AppError {
  setRateLimitHeaders(reply, { ...state, remaining: 0 });
  const seconds = Math.max(1, Math.ceil(state.resetMs / 1000));
  reply.header('retry-after', String(seconds));
  return new AppError('rate_limited', `${what}; retry after ${seconds} s`, { details: { retryAfterSeconds: seconds } });
}
