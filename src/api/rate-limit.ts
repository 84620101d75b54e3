/**
 * Rate limits, kept in memory on each node (a deployment of N nodes admits up to N times a
 * limit; good enough to stop a runaway script or a brute-force attempt, and free of any
 * shared-state round trip). Fixed windows per key, bounded in memory: beyond `maxKeys`
 * expired windows are dropped first, then the oldest.
 *
 * Three limits (`RateLimitConfig`): requests per credential (tenant + credential id, not per
 * IP address: many callers share a proxy); token requests per client id; and failed
 * authentications per IP address, which once exceeded refuse further attempts from that
 * address until the window ends.
 *
 * ```ts
 * const limiter = new FixedWindowLimiter({ limit: 2, windowMs: 1000 });
 * limiter.hit('k').allowed // true, true, then false until the window ends
 * ```
 */
import type { FastifyReply } from 'fastify';
import type { RateLimitConfig } from '../config.ts';
import { AppError } from '../domain/errors.ts';

export interface RateLimitRule {
  /** Requests allowed per window; 0 turns the limit off. */
  limit: number;
  windowMs: number;
}

export interface RateLimitState {
  allowed: boolean;
  limit: number;
  remaining: number;
  /** Milliseconds until the window ends. */
  resetMs: number;
}

export class FixedWindowLimiter {
  private readonly windows = new Map<string, { start: number; count: number }>();

  constructor(
    readonly rule: RateLimitRule,
    private readonly maxKeys = 100_000,
    private readonly clock: () => number = Date.now,
  ) {}

  get enabled(): boolean {
    return this.rule.limit > 0;
  }

  /** Counts one request for `key`. */
  hit(key: string): RateLimitState {
    return this.check(key, 1);
  }

  /** The state of `key` without counting a request. */
  peek(key: string): RateLimitState {
    return this.check(key, 0);
  }

  private check(key: string, cost: number): RateLimitState {
    const { limit, windowMs } = this.rule;
    if (limit <= 0) return { allowed: true, limit: 0, remaining: 0, resetMs: 0 };
    const now = this.clock();
    let w = this.windows.get(key);
    if (!w || now - w.start >= windowMs) {
      if (!w) this.makeRoom(now);
      w = { start: now, count: 0 };
      this.windows.set(key, w);
    }
    const allowed = w.count + cost <= limit;
    if (allowed) w.count += cost;
    return { allowed: cost === 0 ? w.count < limit : allowed, limit, remaining: Math.max(0, limit - w.count), resetMs: w.start + windowMs - now };
  }

  private makeRoom(now: number): void {
    if (this.windows.size < this.maxKeys) return;
    for (const [k, w] of this.windows) if (now - w.start >= this.rule.windowMs) this.windows.delete(k);
    while (this.windows.size >= this.maxKeys) {
      const oldest = this.windows.keys().next();
      if (oldest.done) break;
      this.windows.delete(oldest.value);
    }
  }
}

export interface RateLimiters {
  perCredential: FixedWindowLimiter;
  tokenPerClient: FixedWindowLimiter;
  authFailuresPerIp: FixedWindowLimiter;
}

export const DEFAULT_RATE_LIMITS: RateLimitConfig = { windowSeconds: 60, perCredential: 600, tokenPerClient: 60, authFailuresPerIp: 30 };

export function createRateLimiters(config: RateLimitConfig = DEFAULT_RATE_LIMITS): RateLimiters {
  const windowMs = config.windowSeconds * 1000;
  return {
    perCredential: new FixedWindowLimiter({ limit: config.perCredential, windowMs }),
    tokenPerClient: new FixedWindowLimiter({ limit: config.tokenPerClient, windowMs }),
    authFailuresPerIp: new FixedWindowLimiter({ limit: config.authFailuresPerIp, windowMs }),
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
