/**
 * The server's log: pino (Fastify's logger), credentials redacted, in one of two formats —
 * `pretty` (pino-pretty: a short, readable line, for a person at a terminal) or `json` (one
 * JSON object a line, for a log collector). A request is one line when its answer is sent:
 *
 *   pretty: 14:02:11.532 INFO: GET /api/v1/identities?limit=5 200 3.1 ms
 *   json:   {"level":30,"time":...,"reqId":"...","method":"GET","url":"/api/v1/identities?limit=5","statusCode":200,"responseTime":3.1,"msg":"GET /api/v1/identities?limit=5 200 3.1 ms"}
 *
 * Which answered requests get their line at info (GRANTORY_ACCESS_LOG):
 *
 * - `useful` (the default): errors (status 400 and above), slow requests (GRANTORY_SLOW_REQUEST_MS,
 *   1000 by default) and writes (methods other than GET/HEAD/OPTIONS, except decision routes,
 *   which only read) — an application's stream of successful checks is not a line each;
 *   the others are logged at debug;
 * - `all`: every request (health probes and metrics scrapes still at debug);
 * - `off`: none at info (errors the server did not expect are still logged as errors).
 *
 * Health probes and metrics scrapes (/livez, /readyz, /metrics) are logged at debug only.
 * At debug a request is also logged when it arrives (`incoming request`), so one that never
 * ends can be found. The line names the method, the URL (path and query: no credential is
 * ever sent there), the status and the time; never a header.
 */
import type { FastifyInstance, FastifyReply, FastifyRequest, FastifyServerOptions } from 'fastify';
import type { AccessLog } from '../config.ts';
import { isDecisionRoute } from './route-auth.ts';

export type LogFormat = 'pretty' | 'json';

/** Secrets never reach the log. */
export const LOG_REDACT = [
  'req.headers.authorization',
  'req.headers.cookie',
  'req.headers["x-api-key"]',
  'headers.authorization',
  '*.client_secret',
  '*.password',
  '*.secret',
  '*.key',
];

/** Fields of the request line the pretty format leaves out (they are in its message). */
const REQUEST_FIELDS = 'pid,hostname,reqId,method,url,statusCode,responseTime';

/** Fastify's logger option for a level and format; `false` when the level is silent or unset. */
export async function loggerOptions(level: string | undefined, format: LogFormat = 'json'): Promise<FastifyServerOptions['logger']> {
  if (!level || level === 'silent') return false;
  const options = { level, redact: { paths: LOG_REDACT, censor: '[redacted]' } };
  if (format === 'json') return options;
  // Loaded only for the pretty format (a person at a terminal).
  const { default: pinoPretty } = await import('pino-pretty');
  return { ...options, stream: pinoPretty({ sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: REQUEST_FIELDS }) };
}

const PROBES = new Set(['/livez', '/readyz', '/metrics']);

const READS = new Set(['GET', 'HEAD', 'OPTIONS']);

/** Query parameters whose values may be secrets (no Grantory route takes one, but a caller may send it). */
const SECRET_PARAM = /^(?:[^=&]*(?:token|secret|password|passwd|key|code|session|auth)[^=&]*)=[^&]*/gi;

/** The URL as logged: the value of any query parameter named like a secret replaced. */
export function loggedUrl(url: string): string {
  const q = url.indexOf('?');
  if (q < 0) return url;
  return `${url.slice(0, q + 1)}${url
    .slice(q + 1)
    .split('&')
    .map((part) => part.replace(SECRET_PARAM, (m) => `${m.slice(0, m.indexOf('='))}=[redacted]`))
    .join('&')}`;
}

/** Logs each answered request as one line (instead of Fastify's two: received and completed). */
export function registerRequestLog(app: FastifyInstance, level: string | undefined, options: { accessLog: AccessLog; slowMs: number } = { accessLog: 'useful', slowMs: 1000 }): void {
  if (!level || level === 'silent') return;
  const probesLogged = level === 'debug' || level === 'trace';
  // Nothing below info is written: a line that would be debug is not even composed.
  if (!probesLogged && options.accessLog === 'off') return;
  if (probesLogged) {
    app.addHook('onRequest', async (request) => {
      request.log.debug({ method: request.method, url: loggedUrl(request.url) }, 'incoming request');
    });
  }
  // Synchronous: no promise per request.
  app.addHook('onResponse', (request, reply, done) => {
    logAnswered(request, reply);
    done();
  });

  function logAnswered(request: FastifyRequest, reply: FastifyReply): void {
    const { url: route, config } = request.routeOptions;
    const probe = route !== undefined && PROBES.has(route);
    if (probe && !probesLogged) return;
    const { method } = request;
    const status = reply.statusCode;
    const elapsed = reply.elapsedTime;
    const useful = status >= 400 || elapsed >= options.slowMs || (!READS.has(method) && !isDecisionRoute(config));
    const atInfo = !probe && (options.accessLog === 'all' || (options.accessLog === 'useful' && useful));
    if (!atInfo && !probesLogged) return;
    const url = loggedUrl(request.url);
    const responseTime = Math.round(elapsed * 10) / 10;
    request.log[atInfo ? 'info' : 'debug']({ method, url, statusCode: status, responseTime }, `${method} ${url} ${status} ${responseTime} ms`);
  }
}
