/**
 * The OpenAPI document tells the truth about errors and exports: every operation declares
 * the error responses its declarations imply, and each export's JSON form matches the
 * schema declared for it. (The fuzzer, test/security/fuzz.test.ts, checks every answer;
 * this suite pins the declarations themselves.)
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { routeTableOf } from '../../src/api/app.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { operationsOf, ResponseChecker, type Operation } from '../support/openapi-fuzz.ts';

describe('the OpenAPI contract', () => {
  let t: TestApp;
  let ops: Operation[];
  beforeAll(async () => {
    t = await createTestApp();
    ops = operationsOf((await t.app.inject({ method: 'GET', url: '/openapi.json' })).json());
  });
  afterAll(async () => t.close());

  it('declares 401 and 429 on every authenticated operation, 403 where a right is needed, 404 where the path names an object', () => {
    const missing: string[] = [];
    for (const route of routeTableOf(t.app)) {
      const path = route.url.replace(/:([A-Za-z]+)/g, '{$1}');
      const op = ops.find((o) => o.method === route.method && o.path === path);
      if (!op) continue; // hidden routes (metrics, the document itself)
      const expected: string[] = [];
      if (route.auth.kind === 'authenticated' || route.auth.kind === 'rights' || route.auth.kind === 'client') expected.push('401', '429');
      if (route.auth.kind === 'rights') expected.push('403');
      if (op.pathParams.length) expected.push('404');
      if (route.method !== 'GET') expected.push('400');
      for (const status of expected) if (!(status in op.responses)) missing.push(`${route.method} ${path} ${status}`);
    }
    expect(missing).toEqual([]);
    const withoutErrors = ops.filter((o) => !Object.keys(o.responses).some((s) => Number(s) >= 400)).map((o) => `${o.method} ${o.path}`);
    // Public documents that take nothing cannot fail.
    expect(withoutErrors).toEqual(['GET /livez', 'GET /.well-known/jwks.json', 'GET /.well-known/openid-configuration', 'GET /.well-known/oauth-authorization-server']);
  });

  it('declares the problem body on native errors and the vendor bodies in the profiles', () => {
    const responses = (method: string, path: string) => ops.find((o) => o.method === method && o.path === path)!.responses;
    expect(Object.keys(responses('GET', '/api/v1/identities/{id}')['404']!)).toEqual(['application/problem+json']);
    expect(Object.keys(responses('GET', '/cxrestapi/auth/Users/{id}')['404']!)).toEqual(['application/json']);
    expect(responses('GET', '/cxrestapi/auth/Users/{id}')['406']).toBeTruthy();
    expect(responses('GET', '/api/external/members')['401']).toBeNull();
    expect(responses('GET', '/api/external/members')['409']).toBeUndefined();
    expect(responses('POST', '/api/application-imports/stage')['413']).toBeUndefined();
  });

  it.each(['audit-events', 'permission-configuration', 'effective-permissions'])('exports/%s answers JSON that matches its declared schema', async (name) => {
    const checker = new ResponseChecker();
    const op = ops.find((o) => o.method === 'GET' && o.path === `/api/v1/exports/${name}`)!;
    for (const format of ['json', 'ndjson']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/exports/${name}?format=${format}`, headers: t.auth });
      expect(res.statusCode).toBe(200);
      expect(checker.check(op, res.statusCode, res.headers['content-type'] as string, res.body), format).toBeNull();
    }
  });
});
