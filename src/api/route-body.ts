/**
 * A route whose JSON body has one fixed shape, which a general parse and schema validation
 * would spend much of the request on (`POST /check/batch`: 100 checks, 10 KB), may read the
 * body itself from its text: its `config.readBody` returns the body as its handler takes it,
 * or null for anything it does not recognise exactly — that body takes the general path
 * (JSON.parse, the text guard, schema validation), which answers it, errors included.
 *
 * A reader promises that what it returns is what the general path would have accepted: text
 * of printable ASCII (nothing for the text guard to refuse) that the route's body schema
 * accepts. So its body is not walked by the text guard and passes schema validation as it
 * is. A request with an `Idempotency-Key` is not read so: its fingerprint is taken from the
 * general parse.
 *
 * ```ts
 * app.post('/check/batch', { config: { ...AUTHENTICATED, ...readsBody(readCheckBatch) }, schema }, handler);
 * ```
 */
import type { FastifyRequest } from 'fastify';

/** The body read from its text (ASCII bytes as latin1), or null for the general path. */
export type BodyReader = (text: string) => object | null;

/** Route config of a route that reads its own body. */
export const readsBody = (read: BodyReader): { readBody: BodyReader } => ({ readBody: read });

/** The request's route's reader, when it has one and the request may use it. */
export function bodyReaderOf(request: FastifyRequest): BodyReader | undefined {
  const read = (request.routeOptions.config as { readBody?: BodyReader } | undefined)?.readBody;
  return read !== undefined && request.headers['idempotency-key'] === undefined ? read : undefined;
}

/** Bodies a route's reader returned: they pass their route's schema validation as they are. */
const READ_BODIES = new WeakSet<object>();

export function markReadBody(body: object): void {
  READ_BODIES.add(body);
}

type Validate = (data: never, context?: never) => unknown;

/**
 * A body validator that passes a body its route's reader returned and hands every other body
 * to `validate` (whose `errors` and `schemaEnv` Fastify reads through the returned function).
 */
export function passingReadBodies<F extends Validate>(validate: F): F {
  const passing = (data: unknown, context?: unknown): unknown => (typeof data === 'object' && data !== null && READ_BODIES.has(data)) || validate(data as never, context as never);
  const own = (key: 'errors' | 'schemaEnv') => ({ get: () => (validate as F & Record<typeof key, unknown>)[key] });
  Object.defineProperties(passing, { errors: own('errors'), schemaEnv: own('schemaEnv') });
  return passing as unknown as F;
}
