/**
 * A query parameter a native route does not declare is a 400 naming it (a misspelt filter
 * must not widen the result to everything); vendor profiles ignore unknown parameters, as
 * their vendors' documents do not say otherwise.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTableOf } from '../../src/api/app.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const get = (url: string) => t.app.inject({ method: 'GET', url, headers: t.auth });

describe('unknown query parameters', () => {
  it('are refused on a native list, naming them and the parameters the route takes', async () => {
    const res = await get('/api/v1/audit-events?acton=identity.create&limit=5');
    expect(res.statusCode, res.body).toBe(400);
    const body = res.json() as { code: string; detail: string; errors: { field: string }[]; allowedParameters: string[] };
    expect(body.code).toBe('validation_failed');
    expect(body.errors).toEqual([{ field: 'querystring.acton', message: 'is not a known parameter' }]);
    expect(body.allowedParameters).toContain('action');
    expect(body.detail).toMatch(/^unknown query parameter acton; this route takes .*\baction\b/);
    const spelt = await get('/api/v1/audit-events?action=identity.create&limit=5');
    expect(spelt.statusCode, spelt.body).toBe(200);
  });

  it('are refused on a native route that takes none, and on writes too', async () => {
    const res = await get('/api/v1/me?verbose=1');
    expect(res.statusCode, res.body).toBe(400);
    expect((res.json() as { detail: string }).detail).toBe('unknown query parameter verbose; this route takes no query parameters');
    const write = await t.app.inject({ method: 'POST', url: '/api/v1/applications?dryRun=true', headers: t.auth, payload: { name: 'Not dry' } });
    expect(write.statusCode, write.body).toBe(400);
    expect((await get('/api/v1/applications?q=Not%20dry')).json()).toMatchObject({ items: [] });
  });

  it('covers every native GET route that declares its parameters', async () => {
    const lists = routeTableOf(t.app).filter((r) => r.method === 'GET' && r.url.startsWith('/api/v1/') && !r.url.includes(':'));
    expect(lists.length).toBeGreaterThan(10);
    // A route of the console session answers its cookie only (a bearer key gets 401 first).
    const signIn = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { apiKey: t.adminKey } });
    const cookie = String(signIn.headers['set-cookie']).split(';')[0]!;
    for (const route of lists) {
      const res =
        route.auth?.kind === 'session'
          ? await t.app.inject({ method: 'GET', url: `${route.url}?surelyNotAParameter=1`, headers: { cookie } })
          : await get(`${route.url}?surelyNotAParameter=1`);
      expect(res.statusCode, `${route.url}: ${res.body}`).toBe(400);
      expect(res.json()).toMatchObject({ errors: [{ field: 'querystring.surelyNotAParameter' }] });
    }
  });

  it('are ignored by vendor profiles, as their vendors document nothing else', async () => {
    expect((await get('/api/identities?page=1&sort=name')).statusCode).toBe(200);
    expect((await get('/log/api/external/audit?pageNumber=0&sort=asc')).statusCode).toBe(200);
  });
});
