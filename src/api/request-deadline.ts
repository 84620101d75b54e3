/**
 * Request deadlines: a request whose body has not fully arrived `requestTimeoutMs` after
 * its headers loses its connection, so a client that trickles a body cannot hold a socket.
 * An import upload (a route with `config.upload`) may take longer, but only once its caller
 * is authenticated: until then it has the short deadline too.
 *
 * Node's own `requestTimeout` cannot tell an upload from any other request (it is one value
 * per server), so it is set only as an outer bound (see app.ts) and the deadlines are here.
 * Headers have Node's `headersTimeout`; idle keep-alive connections its `keepAliveTimeout`.
 *
 * ```ts
 * app.post('/imports/upload', { config: { ...needs('manage-imports'), upload: true } }, handler);
 * ```
 */
import type { IncomingMessage } from 'node:http';
import { Socket } from 'node:net';
import type { FastifyInstance, FastifyRequest } from 'fastify';
import { maybeActorOf } from './request-context.ts';

export interface RequestDeadlines {
  requestTimeoutMs: number;
  uploadTimeoutMs: number;
}

/** Route config of a route whose body may be a long upload. */
export const UPLOAD = { upload: true } as const;

function isUploadRoute(request: FastifyRequest): boolean {
  return (request.routeOptions.config as { upload?: unknown } | undefined)?.upload === true;
}

/** How often the deadlines are checked: a tenth of the shorter one, between 10 ms and 1 s. */
export function deadlineTick(limits: RequestDeadlines): number {
  return Math.max(10, Math.min(1000, Math.floor(Math.min(limits.requestTimeoutMs, limits.uploadTimeoutMs) / 10)));
}

/**
 * Adds the deadline hooks: the short deadline when a request arrives, a longer one for an
 * authenticated upload once authentication (an `onRequest` hook) has run, before its body is read.
 *
 * The requests in flight are kept with their deadline in one map, checked every
 * {@link deadlineTick} (while any is in flight) and left once answered with their body
 * read: no timer and no listeners per request. A connection is cut between its deadline
 * and one tick after it.
 */
export function registerRequestDeadlines(app: FastifyInstance, limits: RequestDeadlines): void {
  const deadlines = new Map<IncomingMessage, number>();
  const tick = deadlineTick(limits);
  let sweeper: NodeJS.Timeout | null = null;
  const sweep = (): void => {
    const now = Date.now();
    for (const [raw, deadline] of deadlines) {
      if (raw.complete || raw.destroyed) deadlines.delete(raw);
      else if (deadline <= now) {
        // The body is still arriving: drop the connection (a client that is still sending
        // would not read an answer).
        deadlines.delete(raw);
        raw.socket.destroy();
      }
    }
    if (deadlines.size === 0 && sweeper !== null) {
      clearInterval(sweeper);
      sweeper = null;
    }
  };
  const arm = (request: FastifyRequest, ms: number): void => {
    const raw = request.raw;
    // Requests made with inject() have no socket to cut.
    if (raw.complete || !(raw.socket instanceof Socket)) return;
    deadlines.set(raw, Date.now() + ms);
    if (sweeper === null) {
      sweeper = setInterval(sweep, tick);
      sweeper.unref();
    }
  };
  // Synchronous hooks: no promise and no turn of the microtask queue per request.
  app.addHook('onRequest', (request, _reply, done) => {
    arm(request, limits.requestTimeoutMs);
    done();
  });
  app.addHook('preParsing', (request, _reply, _payload, done) => {
    if (isUploadRoute(request) && maybeActorOf(request)) arm(request, limits.uploadTimeoutMs);
    done();
  });
  // An answered request whose body has arrived needs no deadline; one answered early (a 401
  // before the body) keeps it: the body must still arrive in time.
  app.addHook('onResponse', (request, _reply, done) => {
    if (request.raw.complete) deadlines.delete(request.raw);
    done();
  });
  app.addHook('onClose', (_instance, done) => {
    if (sweeper !== null) clearInterval(sweeper);
    sweeper = null;
    deadlines.clear();
    done();
  });
}
