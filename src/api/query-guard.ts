/**
 * Unknown query parameters on native routes are refused, not ignored: a misspelt filter
 * (`/audit-events?acton=x`) would otherwise widen the result to everything. Each route's
 * declared query parameters are collected as it is registered; a request naming any other
 * is a `validation_failed` 400 that names them and lists the ones the route takes.
 * (Ajv cannot do this: with `additionalProperties: false` on a query string it would strip
 * the parameter silently under Fastify's defaults.) Vendor profiles keep their vendors'
 * behaviour and are not checked here.
 *
 * ```ts
 * registerQueryGuard(app, (url) => url.startsWith('/api/v1/')); // in buildApp, before the routes
 * ```
 */
import type { FastifyInstance } from 'fastify';
import { AppError } from '../domain/errors.ts';

/** The parameter names a query-string schema declares, or null when it does not list them. */
function declaredParameters(schema: unknown): string[] | null {
  if (schema === undefined) return [];
  const s = schema as { type?: unknown; properties?: Record<string, unknown>; additionalProperties?: unknown };
  if (!s.properties || s.additionalProperties === true) return null;
  return Object.keys(s.properties);
}

export function registerQueryGuard(app: FastifyInstance, isChecked: (url: string) => boolean): void {
  const allowedByRoute = new Map<string, ReadonlySet<string>>();
  app.addHook('onRoute', (route) => {
    if (!isChecked(route.url)) return;
    const declared = declaredParameters(route.schema?.querystring);
    if (declared === null) return;
    for (const method of Array.isArray(route.method) ? route.method : [route.method]) allowedByRoute.set(`${method} ${route.url}`, new Set(declared));
  });
  // Synchronous (no promise per request); a throw is the request's error.
  app.addHook('preValidation', (request, _reply, done) => {
    const { method, url } = request.routeOptions;
    const allowed = allowedByRoute.get(`${request.method} ${url}`) ?? allowedByRoute.get(`${String(method)} ${url}`);
    const unknown = allowed ? Object.keys((request.query ?? {}) as object).filter((name) => !allowed.has(name)) : [];
    if (!allowed || !unknown.length) {
      done();
      return;
    }
    const takes = allowed.size ? `this route takes ${[...allowed].join(', ')}` : 'this route takes no query parameters';
    throw new AppError('validation_failed', `unknown query parameter${unknown.length === 1 ? '' : 's'} ${unknown.join(', ')}; ${takes}`, {
      errors: unknown.map((name) => ({ field: `querystring.${name}`, message: 'is not a known parameter' })),
      details: { allowedParameters: [...allowed] },
    });
  });
}
