/** The authenticated actor of each request, kept beside the request rather than on it. */
import type { FastifyReply, FastifyRequest } from 'fastify';
import { AppError } from '../domain/errors.ts';
import type { Actor, RequestMeta } from '../services/kernel/index.ts';

const actors = new WeakMap<FastifyRequest, Actor>();

export function setActor(request: FastifyRequest, actor: Actor): void {
  actors.set(request, actor);
}

/** The request's actor; throws `unauthenticated` on a route that did not authenticate. */
export function actorOf(request: FastifyRequest): Actor {
  const actor = actors.get(request);
  if (!actor) throw new AppError('unauthenticated', 'this route needs credentials');
  return actor;
}

export function maybeActorOf(request: FastifyRequest): Actor | undefined {
  return actors.get(request);
}

export const REVISION_HEADER = 'grantory-revision';

/** Sends the result of a write: its body and the revision it committed as. */
export function sendWritten<T extends object>(reply: FastifyReply, status: number, body: T, revision: number): FastifyReply {
  return reply.status(status).header(REVISION_HEADER, String(revision)).send({ ...body, revision });
}

/** Sends an object with its ETag (from the row's version). */
export function sendWithEtag<T extends object>(reply: FastifyReply, body: T, version: number): FastifyReply {
  return reply.header('etag', `"${version}"`).send(body);
}

/**
 * The caller's TCP source port: the socket's remote port when the request's address is the
 * socket's own (no proxy in between whose port it would be), else null.
 */
function sourcePortOf(request: FastifyRequest): number | null {
  const socket = request.socket as { remotePort?: number; remoteAddress?: string } | undefined;
  const port = socket?.remotePort;
  if (typeof port !== 'number' || !Number.isInteger(port) || port < 0 || port > 65535) return null;
  return socket?.remoteAddress === request.ip ? port : null;
}

/** Where a request came from, for the audit trail. */
export function requestMetaOf(request: FastifyRequest): RequestMeta {
  const origin = request.headers['cxorigin'];
  return {
    requestId: request.id,
    sourceIp: request.ip,
    sourcePort: sourcePortOf(request),
    userAgent: request.headers['user-agent']?.slice(0, 512) ?? null,
    origin: typeof origin === 'string' ? origin.slice(0, 200) : null,
  };
}
