/**
 * Validation errors say each problem once: a union of literals lists its allowed values, a
 * nullable field that breaks a bound says the bound, a wrong type says the types allowed.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { fieldErrorsFromValidation } from '../../src/api/problem.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

describe('validation messages', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('lists the allowed values of an enum once (query string)', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/exports/audit-events?format=xml', headers: t.auth });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ detail: 'querystring.format must be one of ndjson, csv, json', errors: [{ field: 'querystring.format', message: 'must be one of ndjson, csv, json' }] });
  });

  it('lists the allowed values of a body field once, and keeps other fields apart', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/identities', headers: t.auth, payload: { username: 'x'.repeat(201), type: 'robot', status: 7 } });
    expect(res.statusCode).toBe(400);
    const errors = res.json().errors as { field: string; message: string }[];
    expect(errors).toContainEqual({ field: 'type', message: 'must be one of employee, contractor, vendor, partner, service, other' });
    expect(errors).toContainEqual({ field: 'username', message: 'must NOT have more than 200 characters' });
    expect(errors.filter((e) => e.field === 'type')).toHaveLength(1);
    expect(errors.filter((e) => e.field === 'username')).toHaveLength(1);
    expect(errors.filter((e) => e.field === 'status')).toHaveLength(1);
    expect(JSON.stringify(res.json())).not.toContain('must be equal to constant');
    expect(JSON.stringify(res.json())).not.toContain('must match a schema in anyOf');
  });

  it('names the types a nullable field takes when the value has none of them', () => {
    const issues = [
      { instancePath: '/email', schemaPath: '#/properties/email/anyOf/0/type', keyword: 'type', params: { type: 'string' }, message: 'must be string' },
      { instancePath: '/email', schemaPath: '#/properties/email/anyOf/1/type', keyword: 'type', params: { type: 'null' }, message: 'must be null' },
      { instancePath: '/email', schemaPath: '#/properties/email/anyOf', keyword: 'anyOf', params: {}, message: 'must match a schema in anyOf' },
    ];
    expect(fieldErrorsFromValidation(issues, 'body')).toEqual([{ field: 'email', message: 'must be string or null' }]);
  });

  it('says a nullable enum may also be null, and a single literal by its value', () => {
    const nullableEnum = [
      { instancePath: '/state', schemaPath: '#/properties/state/anyOf/0/anyOf/0/const', keyword: 'const', params: { allowedValue: 'open' } },
      { instancePath: '/state', schemaPath: '#/properties/state/anyOf/0/anyOf/1/const', keyword: 'const', params: { allowedValue: 'closed' } },
      { instancePath: '/state', schemaPath: '#/properties/state/anyOf/0/anyOf', keyword: 'anyOf', params: {} },
      { instancePath: '/state', schemaPath: '#/properties/state/anyOf/1/type', keyword: 'type', params: { type: 'null' } },
      { instancePath: '/state', schemaPath: '#/properties/state/anyOf', keyword: 'anyOf', params: {} },
    ];
    expect(fieldErrorsFromValidation(nullableEnum, 'querystring')).toEqual([{ field: 'querystring.state', message: 'must be one of open, closed, null' }]);
    expect(fieldErrorsFromValidation([{ instancePath: '/kind', schemaPath: '#/properties/kind/const', keyword: 'const', params: { allowedValue: 'team' } }], 'body')).toEqual([{ field: 'kind', message: 'must be team' }]);
  });
});
