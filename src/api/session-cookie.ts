/**
 * The console's session cookie, `grantory_session`: `HttpOnly; SameSite=Strict; Path=/` and
 * `Secure` — left out only for a plain-HTTP request to localhost, 127.0.0.1 or ::1, where a
 * browser would otherwise not send it back. The request's session secret and whether the
 * request was authenticated by it are kept beside the request (for CSRF and
 * `GET /sessions/current`).
 */
import type { FastifyReply, FastifyRequest } from 'fastify';

export const SESSION_COOKIE = 'grantory_session';
export const CSRF_HEADER = 'x-csrf-token';

const LOCAL_HOSTS = new Set(['localhost', '127.0.0.1', '[::1]', '::1']);
const UNSAFE_METHODS = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const sessions = new WeakMap<FastifyRequest, CookieSession>();

/** The session that authenticated a request by its cookie. */
export interface CookieSession {
  secret: string;
  expiresAt: string;
}

/** The value of the session cookie the request carries, if any. */
export function sessionCookieOf(request: FastifyRequest): string | undefined {
  const header = request.headers.cookie;
  if (!header) return undefined;
  for (const part of header.split(';')) {
    const eq = part.indexOf('=');
    if (eq < 0 || part.slice(0, eq).trim() !== SESSION_COOKIE) continue;
    const value = part.slice(eq + 1).trim();
    return value.length > 0 && value.length <= 200 ? value : undefined;
  }
  return undefined;
}

export function setCookieSession(request: FastifyRequest, session: CookieSession): void {
  sessions.set(request, session);
}

/** The session whose cookie authenticated this request (undefined: not a cookie session). */
export function cookieSessionOf(request: FastifyRequest): CookieSession | undefined {
  return sessions.get(request);
}

export function isUnsafeMethod(method: string): boolean {
  return UNSAFE_METHODS.has(method);
}

/** Whether the cookie may be sent without `Secure`: plain HTTP to the local machine only. */
export function insecureLocalRequest(request: FastifyRequest): boolean {
  if (request.protocol !== 'http') return false;
  const host = request.hostname.toLowerCase();
  return LOCAL_HOSTS.has(host);
}

function cookieAttributes(request: FastifyRequest): string {
  return `HttpOnly; SameSite=Strict; Path=/${insecureLocalRequest(request) ? '' : '; Secure'}`;
}

export function setSessionCookie(request: FastifyRequest, reply: FastifyReply, secret: string): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=${secret}; ${cookieAttributes(request)}`);
}

export function clearSessionCookie(request: FastifyRequest, reply: FastifyReply): void {
  reply.header('set-cookie', `${SESSION_COOKIE}=; ${cookieAttributes(request)}; Max-Age=0; Expires=Thu, 01 Jan 1970 00:00:00 GMT`);
}
