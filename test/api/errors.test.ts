import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ bodyLimit: 2048 });
});
afterAll(async () => t.close());

const isProblem = (res: { headers: Record<string, unknown>; json: () => unknown }) => {
  expect(String(res.headers['content-type'])).toMatch(/^application\/problem\+json/);
  const body = res.json() as Record<string, unknown>;
  expect(body).toMatchObject({ type: expect.stringMatching(/^urn:grantory:error:/), title: expect.any(String), status: expect.any(Number), code: expect.any(String) });
  expect(JSON.stringify(body)).not.toMatch(/at .*\.ts:\d+|node_modules|SELECT |select /);
  return body;
};

describe('error shapes', () => {
  it('unknown route is a 404 problem', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/nothing-here' });
    expect(res.statusCode).toBe(404);
    expect(isProblem(res).code).toBe('route_not_found');
  });

  it('wrong method is a 405 problem with Allow', async () => {
    const res = await t.app.inject({ method: 'PUT', url: '/api/v1/api-keys', headers: t.auth });
    expect(res.statusCode).toBe(405);
    expect(res.headers.allow).toBe('GET, POST, HEAD');
    expect(isProblem(res).code).toBe('method_not_allowed');
  });

  it('a method no route uses (QUERY, PROPFIND) is a 405 with Allow, whatever its body, and a 404 on an unknown path', async () => {
    for (const [method, headers] of [
      ['QUERY', {}],
      ['QUERY', { 'content-type': 'text/plain' }],
      ['PROPFIND', { 'content-type': 'application/json' }],
    ] as const) {
      const res = await t.app.inject({ method: method as 'GET', url: '/api/v1/api-keys', headers: { ...t.auth, ...headers }, payload: method === 'QUERY' ? 'x' : undefined });
      expect(res.statusCode, `${method} ${JSON.stringify(headers)}`).toBe(405);
      expect(res.headers.allow).toBe('GET, POST, HEAD');
      expect(isProblem(res).code).toBe('method_not_allowed');
    }
    const elsewhere = await t.app.inject({ method: 'QUERY' as 'GET', url: '/nowhere', headers: t.auth });
    expect(elsewhere.statusCode).toBe(404);
    expect(isProblem(elsewhere).code).toBe('route_not_found');
  });

  it('malformed JSON is a 400 problem', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { ...t.auth, 'content-type': 'application/json' },
      payload: '{"name": ',
    });
    expect(res.statusCode).toBe(400);
    expect(isProblem(res).code).toBe('malformed_json');
  });

  it('oversized body is a 413 problem', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { ...t.auth, 'content-type': 'application/json' },
      payload: JSON.stringify({ name: 'x'.repeat(5000) }),
    });
    expect(res.statusCode).toBe(413);
    expect(isProblem(res).code).toBe('payload_too_large');
  });

  it('wrong content type is a 415 problem', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: { ...t.auth, 'content-type': 'text/plain' },
      payload: 'name=x',
    });
    expect(res.statusCode).toBe(415);
    expect(isProblem(res).code).toBe('unsupported_media_type');
  });

  it('unknown and wrongly typed fields are named', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/api/v1/api-keys',
      headers: t.auth,
      payload: { name: 5, colour: 'blue' },
    });
    expect(res.statusCode).toBe(400);
    const body = isProblem(res);
    expect(body.code).toBe('validation_failed');
    expect(body.errors).toEqual(expect.arrayContaining([
      { field: 'colour', message: 'is not a known field' },
      expect.objectContaining({ field: 'name' }),
    ]));
  });

  it('missing credentials are a 401 problem with WWW-Authenticate', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/me' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(isProblem(res).code).toBe('unauthenticated');
  });

  it('echoes a given request id and generates one otherwise', async () => {
    const given = await t.app.inject({ method: 'GET', url: '/livez', headers: { 'x-request-id': 'abc-123' } });
    expect(given.headers['x-request-id']).toBe('abc-123');
    const generated = await t.app.inject({ method: 'GET', url: '/livez' });
    expect(generated.headers['x-request-id']).toMatch(/^[0-9a-f-]{36}$/);
  });
});
