/**
 * The server's log: pino (Fastify's logger), credentials redacted, in one of two formats —
 * `pretty` (pino-pretty: a short, readable line, for a person at a terminal) or `json` (one
 * JSON object a line, for a log collector). A request is one line when its answer is sent:
 *
 *   pretty: 14:02:11.532 INFO: GET /api/v1/identities?limit=5 200 3.1 ms
 *   json:   {"level":30,"time":...,"reqId":"...","method":"GET","url":"/api/v1/identities?limit=5","statusCode":200,"responseTime":3.1,"msg":"GET /api/v1/identities?limit=5 200 3.1 ms"}
 *
 * Health probes and metrics scrapes (/livez, /readyz, /metrics) are logged at debug only.
 * At debug a request is also logged when it arrives (`incoming request`), so one that never
 * ends can be found.
 */
import type { FastifyInstance, FastifyServerOptions } from 'fastify';
import pinoPretty from 'pino-pretty';

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
export function loggerOptions(level: string | undefined, format: LogFormat = 'json'): FastifyServerOptions['logger'] {
  if (!level || level === 'silent') return false;
  const options = { level, redact: { paths: LOG_REDACT, censor: '[redacted]' } };
  if (format === 'json') return options;
  return { ...options, stream: pinoPretty({ sync: true, singleLine: true, translateTime: 'SYS:HH:MM:ss.l', ignore: REQUEST_FIELDS }) };
}

const PROBES = new Set(['/livez', '/readyz', '/metrics']);

/** Logs each answered request as one line (instead of Fastify's two: received and completed). */
export function registerRequestLog(app: FastifyInstance, level: string | undefined): void {
  if (!level || level === 'silent') return;
  const probesLogged = level === 'debug' || level === 'trace';
  if (probesLogged) {
    app.addHook('onRequest', async (request) => {
      request.log.debug({ method: request.method, url: request.url }, 'incoming request');
    });
  }
  app.addHook('onResponse', async (request, reply) => {
    const route = request.routeOptions.url;
    const probe = route !== undefined && PROBES.has(route);
    if (probe && !probesLogged) return;
    const responseTime = Math.round(reply.elapsedTime * 10) / 10;
    const { method, url } = request;
    request.log[probe ? 'debug' : 'info']({ method, url, statusCode: reply.statusCode, responseTime }, `${method} ${url} ${reply.statusCode} ${responseTime} ms`);
  });
}
