/**
 * The error responses every operation declares in the OpenAPI document. The app's `onRoute`
 * hook adds them to each route's `schema.response` from what the route declares anyway —
 * its authorization, its path parameters, its body and headers — so the document says
 * which failures an operation can answer without 133 hand-kept lists:
 *
 * | status | declared when |
 * | --- | --- |
 * | 400 | the caller authenticates, or the route takes parameters, a query, headers or a body |
 * | 401, 429 | the caller must authenticate |
 * | 403 | the route needs a right, or takes parameters or a body its service may refuse |
 * | 404 | the path names an object (`:id`, `:number`, ...) |
 * | 404 | also: an authenticated route whose body, or a query whose `...Id`, names an object |
 * | 409 | an authenticated write (a unique field taken, or a state that forbids the change) |
 * | 412 | the route takes `If-Match` |
 * | 413, 415 | the route takes a body, or is a write (a body sent anyway is parsed) |
 * | 422 | an authenticated POST (`Idempotency-Key` reused with another request) |
 * | 422, 503 | the route takes `minRevision` (422: beyond the tenant's head; 503: this node has not applied it yet) |
 *
 * A route adds what is its own with {@link errorResponses} (`response: { 200: X, ...errorResponses(406) }`).
 * A vendor profile renders errors in its vendor's body: it calls {@link declareVendorErrors}
 * in its scope, which swaps the problem schema for the vendor's body (and status).
 */
import { Type, type TSchema } from '@sinclair/typebox';
import type { RouteOptions } from 'fastify';
import { ERROR_CATALOGUE, type ErrorCode } from '../domain/errors.ts';
import { PROBLEM_CONTENT_TYPE } from './problem.ts';
import { routeAuthOf } from './route-auth.ts';

const CODES = Object.keys(ERROR_CATALOGUE) as ErrorCode[];

export const ProblemSchema = Type.Object(
  {
    type: Type.String({ description: 'urn:grantory:error:<code>' }),
    title: Type.String(),
    status: Type.Integer(),
    detail: Type.String(),
    code: Type.Unsafe<ErrorCode>({ type: 'string', enum: CODES, description: 'The stable error code (docs/api.md)' }),
    instance: Type.Optional(Type.String()),
    requestId: Type.Optional(Type.String()),
    errors: Type.Optional(Type.Array(Type.Object({ field: Type.String(), message: Type.String() }), { description: 'The fields at fault' })),
  },
  { $id: 'Problem', additionalProperties: true, description: 'RFC 9457 problem details; some codes add members (requiredRights, retryAfterSeconds, ...)' },
);

/** The reference the responses use; the app adds {@link ProblemSchema} as a shared schema. */
const PROBLEM_REF = { $ref: 'Problem#' };

const DESCRIPTIONS: Record<number, string> = {
  400: 'The request is not valid (validation_failed, malformed_json, invalid_cursor)',
  401: 'No, malformed, unknown or expired credentials (unauthenticated)',
  403: 'The caller lacks the right (forbidden)',
  404: 'The object does not exist in the caller’s tenant (not_found)',
  405: 'The route exists with other methods (method_not_allowed)',
  406: 'The requested representation is not available (not_acceptable)',
  409: 'A unique field is taken, or the state forbids the change (conflict)',
  412: 'If-Match does not match the current version (precondition_failed)',
  413: 'The body exceeds the size limit (payload_too_large)',
  415: 'The body is not in a supported media type (unsupported_media_type)',
  422: 'The request cannot be carried out, or its Idempotency-Key was used with another request',
  428: 'An If-Match header is required (precondition_required)',
  429: 'Too many requests (rate_limited); see Retry-After',
  503: 'This node is not ready for the request (not_ready); see Retry-After',
};

/** One response entry per status; the same object each time, so a profile can recognise it. */
const PROBLEM_RESPONSES = new Map<number, object>(
  Object.entries(DESCRIPTIONS).map(([status, description]) => [
    Number(status),
    { description, content: { [PROBLEM_CONTENT_TYPE]: { schema: PROBLEM_REF } } },
  ]),
);

function problemResponse(status: number): object {
  const response = PROBLEM_RESPONSES.get(status);
  if (!response) throw new Error(`no error response is described for status ${status}`);
  return response;
}

/** Problem+json responses for the statuses a route answers beyond the defaults. */
export function errorResponses(...statuses: number[]): Record<number, object> {
  return Object.fromEntries(statuses.map((s) => [s, problemResponse(s)]));
}

type RouteSchema = { body?: unknown; querystring?: unknown; params?: unknown; headers?: unknown; response?: Record<string, unknown>; hide?: boolean };

const WRITES = new Set(['POST', 'PUT', 'PATCH', 'DELETE']);

const propertiesOf = (schema: unknown): Record<string, unknown> => ((schema as { properties?: Record<string, unknown> } | undefined)?.properties ?? {});

/** The error statuses a route can answer, from its declarations (table above). */
export function defaultErrorStatuses(route: Pick<RouteOptions, 'method' | 'url' | 'config'> & { schema?: RouteSchema }): number[] {
  const auth = routeAuthOf(route.config);
  const schema = route.schema ?? {};
  const methods = Array.isArray(route.method) ? route.method : [route.method];
  const authenticated = auth?.kind === 'authenticated' || auth?.kind === 'rights';
  const write = methods.some((m) => WRITES.has(m));
  const statuses = new Set<number>();
  // Authenticated routes also refuse unknown query parameters and text that is not valid.
  if (authenticated || schema.body || schema.querystring || schema.params || schema.headers) statuses.add(400);
  if (authenticated || auth?.kind === 'client') statuses.add(401).add(429);
  // A console session cookie: 401 without a valid one; a write without its CSRF token is 403.
  if (auth?.kind === 'session') statuses.add(400).add(401).add(429);
  if (auth?.kind === 'session' && write) statuses.add(403);
  // Routes open to any caller refuse in the service what is not the caller's (a colleague's assignment).
  if (auth?.kind === 'rights' || (authenticated && (schema.params || schema.body))) statuses.add(403);
  if (/[:*]/.test(route.url)) statuses.add(404);
  // A body is parsed whenever one is sent with a content type, declared or not.
  if (schema.body || write) statuses.add(400).add(413).add(415);
  if (authenticated && schema.body) statuses.add(404);
  if (Object.keys(propertiesOf(schema.querystring)).some((name) => /Id$/.test(name))) statuses.add(404);
  if (authenticated && write) statuses.add(409);
  if (authenticated && methods.includes('POST')) statuses.add(422);
  if ('if-match' in propertiesOf(schema.headers)) statuses.add(412);
  if ('minRevision' in propertiesOf(schema.querystring)) statuses.add(422).add(503);
  return [...statuses].sort();
}

/**
 * The app's `onRoute` hook: adds the default error responses a route does not declare
 * itself (routes that authenticate their client in the handler, the OAuth endpoints,
 * declare their own bodies; the defaults fill in what they leave out). Hidden routes are
 * not documented.
 */
export function declareErrorResponses(route: RouteOptions): void {
  const auth = routeAuthOf(route.config);
  const schema = (route.schema ?? {}) as RouteSchema;
  if (!auth || schema.hide) return;
  const response = { ...(schema.response ?? {}) };
  for (const status of defaultErrorStatuses({ ...route, schema })) {
    if (!(status in response)) response[status] = problemResponse(status);
  }
  route.schema = { ...schema, response } as RouteOptions['schema'];
}

/**
 * How a vendor profile answers a failure: the status it sends for one of Grantory's
 * (null: it does not answer that status), and its body schema (null: no body).
 */
export interface VendorErrors {
  statusOf(status: number): number | null;
  bodyOf(status: number): TSchema | null;
  description: string;
  /** Statuses every route of the profile can answer (e.g. 406 for a versioned media type). */
  always?: number[];
  /** The media type of its error bodies (default `application/json`). */
  contentType?: string;
}

/** In a profile's scope: its routes declare the vendor's error bodies instead of problem+json. */
export function declareVendorErrors(scope: { addHook(name: 'onRoute', hook: (route: RouteOptions) => void): unknown }, vendor: VendorErrors): void {
  scope.addHook('onRoute', (route) => {
    const schema = route.schema as RouteSchema | undefined;
    if (!schema?.response) return;
    const response: Record<string, unknown> = {};
    const entries = Object.entries({ ...errorResponses(...(vendor.always ?? [])), ...schema.response }).sort(([a], [b]) => Number(a) - Number(b));
    for (const [key, entry] of entries) {
      const status = Number(key);
      if (!PROBLEM_RESPONSES.has(status) || entry !== PROBLEM_RESPONSES.get(status)) {
        response[key] = entry;
        continue;
      }
      const sent = vendor.statusOf(status);
      if (sent === null || sent in response) continue;
      const body = vendor.bodyOf(sent);
      const description = `${DESCRIPTIONS[status] ?? 'Error'}; ${vendor.description}`;
      const mediaType = vendor.contentType ?? 'application/json';
      if (!body) response[sent] = { description, type: 'null' };
      else if (sent === 400) response[sent] = { description: `${description}; a URL that cannot be decoded is refused before routing, as problem+json`, content: { [mediaType]: { schema: body }, [PROBLEM_CONTENT_TYPE]: { schema: PROBLEM_REF } } };
      else response[sent] = { description, content: { [mediaType]: { schema: body } } };
    }
    route.schema = { ...schema, response } as RouteOptions['schema'];
  });
}
