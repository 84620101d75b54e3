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

/**
 * Adds the deadline hooks: the short deadline when a request arrives, a longer one for an
 * authenticated upload once authentication (an `onRequest` hook) has run, before its body is read.
 */
export function registerRequestDeadlines(app: FastifyInstance, limits: RequestDeadlines): void {
  const timers = new WeakMap<FastifyRequest, NodeJS.Timeout>();
  const arm = (request: FastifyRequest, ms: number): void => {
    clearTimeout(timers.get(request));
    const raw = request.raw;
    // Requests made with inject() have no socket to cut.
    if (raw.complete || !(raw.socket instanceof Socket)) return;
    const timer = setTimeout(() => {
      // The body is still arriving: drop the connection (a client that is still sending
      // would not read an answer).
      if (!raw.complete) raw.socket.destroy();
    }, ms);
    timer.unref();
    timers.set(request, timer);
    const clear = () => clearTimeout(timer);
    raw.once('end', clear);
    raw.once('close', clear);
  };
  app.addHook('onRequest', async (request) => {
    arm(request, limits.requestTimeoutMs);
  });
  app.addHook('preParsing', async (request) => {
    if (isUploadRoute(request) && maybeActorOf(request)) arm(request, limits.uploadTimeoutMs);
  });
}
