/**
 * Route schemas compiled on first use. Fastify compiles every route's request validators
 * (Ajv) and response serializers (fast-json-stringify) before it listens: for this API's
 * few hundred routes that is most of a first start's CPU time (BENCHMARKS.md, "Startup").
 * Here each compiler hands Fastify a stand-in that compiles its schema the first time a
 * request needs it, and `warmUp()` compiles the rest a few at a time once the server serves,
 * so later first requests do not pay either.
 *
 * A schema that does not compile fails its first request (or the warm-up, which logs it)
 * instead of the start; test/api/lazy-schemas.test.ts compiles every route's schemas.
 */
import { SerializerSelector } from '@fastify/fast-json-stringify-compiler';

/** An Ajv validate function as Fastify calls it (errors and schemaEnv read after a call). */
type Validate = (data: never, context?: never) => unknown;
type Serialize = (doc: unknown) => string;
type RouteDefinition = Parameters<ReturnType<ReturnType<typeof SerializerSelector>>>[0];

export interface LazySchemas {
  /** Wraps a validator compile: the returned function compiles on its first call; `label` names it in the warm-up's errors. */
  validator<F extends Validate>(compile: () => F, label: string): F;
  /** A serializer factory for Fastify's `schemaController.compilersFactory.buildSerializer`. */
  buildSerializer: (externalSchemas?: unknown, options?: object) => (route: RouteDefinition) => Serialize;
  /** Compiles every schema not compiled yet, yielding to requests between batches: how many compiled, and the errors of those that did not. */
  warmUp(): Promise<{ compiled: number; errors: Error[] }>;
}

export function createLazySchemas(): LazySchemas {
  /** What is not compiled yet, with the route part it is for. */
  const pending = new Map<() => void, string>();

  /** Holds `compile` until first needed; `pending` lets warmUp() run it earlier. */
  const once = <T>(compile: () => T, label: string): (() => T) => {
    let compiled: T | undefined;
    const get = (): T => {
      if (compiled === undefined) {
        pending.delete(get);
        compiled = compile();
      }
      return compiled;
    };
    pending.set(get, label);
    return get;
  };

  const validator = <F extends Validate>(compile: () => F, label: string): F => {
    const get = once(compile, label);
    const lazy = (data: never, context?: never) => get()(data, context);
    // Fastify reads `errors` after a failed call, and passes the parent object (so Ajv can
    // coerce the root value) when `schemaEnv` is set: both belong to the compiled function.
    const own = (key: 'errors' | 'schemaEnv') => ({ get: () => (get() as F & Record<typeof key, unknown>)[key] });
    Object.defineProperties(lazy, { errors: own('errors'), schemaEnv: own('schemaEnv') });
    return lazy as unknown as F;
  };

  const buildSerializer: LazySchemas['buildSerializer'] = (externalSchemas, options) => {
    const compileFor = SerializerSelector()(externalSchemas, options);
    return (route) => {
      const get = once(() => compileFor(route), `${route.method} ${route.url} response ${route.httpStatus}`);
      return (doc) => get()(doc);
    };
  };

  const warmUp: LazySchemas['warmUp'] = async () => {
    let compiled = 0;
    const errors: Error[] = [];
    while (pending.size) {
      // A few schemas at a time (milliseconds), then let requests in.
      for (const [get, label] of [...pending].slice(0, 8)) {
        pending.delete(get);
        try {
          get();
          compiled += 1;
        } catch (e) {
          errors.push(new Error(`${label}: ${(e as Error).message}`, { cause: e }));
        }
      }
      await new Promise((resolve) => setImmediate(resolve));
    }
    return { compiled, errors };
  };

  return { validator, buildSerializer, warmUp };
}
