/**
 * Route schemas compile on first use (src/api/lazy-schemas.ts): every route's validators and
 * serializers compile (the warm-up a started server runs), a stand-in behaves as the compiled
 * function it stands for, and a schema that does not compile is reported, not fatal.
 */
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { warmUpSchemas } from '../../src/api/app.ts';
import { createLazySchemas } from '../../src/api/lazy-schemas.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

describe('route schemas compiled on first use', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('compiles nothing before a request needs it, then every route schema in the warm-up', async () => {
    // A request compiles its route's schemas on the way (a 400 needs the validator, its answer the serializer).
    const bad = await t.app.inject({ method: 'GET', url: '/api/v1/identities?limit=zero', headers: t.auth });
    expect(bad.statusCode).toBe(400);
    const first = await warmUpSchemas(t.app);
    expect(first.errors).toEqual([]);
    // A few hundred routes, most with a querystring or body and several responses each.
    expect(first.compiled).toBeGreaterThan(500);
    expect(await warmUpSchemas(t.app)).toEqual({ compiled: 0, errors: [] });
    const good = await t.app.inject({ method: 'GET', url: '/api/v1/identities?limit=1', headers: t.auth });
    expect(good.statusCode).toBe(200);
    expect(good.json().items).toHaveLength(1);
  });

  it('stands in for the compiled validator: result, errors, coercion context', async () => {
    const lazy = createLazySchemas();
    const ajv = new Ajv({ coerceTypes: 'array', allErrors: true });
    let compiles = 0;
    const validate = lazy.validator(() => {
      compiles += 1;
      return ajv.compile({ type: 'object', properties: { n: { type: 'integer', minimum: 1 } } });
    }, 'GET /n querystring');
    expect(compiles).toBe(0);
    // Fastify passes the parent object when schemaEnv is set: reading it compiles.
    expect(validate.schemaEnv).toBeTruthy();
    const data = { n: '3' };
    expect(validate(data)).toBe(true);
    expect(data.n).toBe(3);
    expect(validate({ n: 0 })).toBe(false);
    expect(validate.errors?.[0]).toMatchObject({ instancePath: '/n', keyword: 'minimum' });
    expect(compiles).toBe(1);
    expect(await lazy.warmUp()).toEqual({ compiled: 0, errors: [] });
  });

  it('reports a schema that does not compile from the warm-up and keeps the others', async () => {
    const lazy = createLazySchemas();
    const ajv = new Ajv();
    lazy.validator(() => ajv.compile({ type: 'nonsense' }), 'POST /broken body');
    const fine = lazy.validator(() => ajv.compile({ type: 'string' }), 'POST /fine body');
    const serialize = lazy.buildSerializer()({ method: 'GET', url: '/x', httpStatus: '200', schema: { type: 'object', properties: { a: { type: 'integer' } } } });
    const { compiled, errors } = await lazy.warmUp();
    expect(compiled).toBe(2);
    expect(errors).toHaveLength(1);
    expect(errors[0]!.message).toMatch(/^POST \/broken body: schema is invalid: data\/type /);
    expect(fine('x')).toBe(true);
    expect(serialize({ a: 1, b: 2 })).toBe('{"a":1}');
  });
});
