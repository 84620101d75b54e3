/**
 * Control characters, lone surrogates and bytes that are not UTF-8 are refused with a 400
 * naming the field — in bodies, query strings and path parameters, on native routes and in
 * every vendor profile's own error envelope — the same on SQLite and PostgreSQL (which
 * cannot store U+0000 and used to answer 500).
 */
import Fastify, { type FastifyRequest } from 'fastify';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { controlCharacterErrors, jsonParser } from '../../src/api/text-guard.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

type Res = { statusCode: number; body: string; json(): unknown };
const send = (method: 'GET' | 'POST' | 'PUT' | 'PATCH', url: string, payload?: string | Buffer, headers: Record<string, string> = {}) =>
  t.app.inject({ method, url, headers: { ...t.auth, ...(payload !== undefined ? { 'content-type': 'application/json' } : {}), ...headers }, ...(payload !== undefined ? { payload } : {}) });
const post = (url: string, body: unknown) => send('POST', url, JSON.stringify(body));

function expectRefused(res: Res, field: string, code = 'validation_failed') {
  expect(res.statusCode, res.body).toBe(400);
  const body = res.json() as { code: string; errors?: { field: string; message: string }[] };
  expect(body.code).toBe(code);
  if (field) expect(body.errors?.map((e) => e.field)).toContain(field);
}

describe('control characters in native requests', () => {
  it.each([
    ['NUL', '\u0000'],
    ['a C0 control', '\u001b'],
    ['DEL', '\u007f'],
    ['a C1 control', '\u0085'],
    ['a line feed', '\n'],
    ['a tab', '\t'],
  ])('refuses %s in an identifier and stores nothing', async (_label, char) => {
    const subject = `c1s:ctl-${char.charCodeAt(0)}${char}x`;
    expectRefused(await post('/api/v1/identities', { subject, firstName: 'Ann' }), 'subject');
    const list = await send('GET', `/api/v1/identities?q=ctl-${char.charCodeAt(0)}`);
    expect((list.json() as { items: unknown[] }).items).toEqual([]);
  });

  it('refuses them in names, attribute values and attribute names', async () => {
    expectRefused(await post('/api/v1/identities', { subject: 'c1s:ok-1', firstName: 'A\u0000nn' }), 'firstName');
    expectRefused(await post('/api/v1/identities', { subject: 'c1s:ok-2', attributes: { team: 'x\u0000' } }), 'attributes.team');
    expectRefused(await post('/api/v1/identities', { subject: 'c1s:ok-3', attributes: { 'te\u0000am': 'x' } }), 'attributes.te\u0000am');
    expectRefused(await post('/api/v1/applications', { name: 'App\u0000' }), 'name');
  });

  it('allows tab and line breaks in free text, but no other control', async () => {
    const ok = await post('/api/v1/applications', { name: 'Free text app', description: 'line 1\r\nline 2\tand a tab' });
    expect(ok.statusCode, ok.body).toBe(201);
    expect((ok.json() as { description: string }).description).toBe('line 1\r\nline 2\tand a tab');
    expectRefused(await post('/api/v1/applications', { name: 'Free text app 2', description: 'bad \u0000' }), 'description');
    expectRefused(await post('/api/v1/applications', { name: 'Free text app 3', description: 'bad \u009b' }), 'description');
  });

  it('refuses them in query strings and path parameters', async () => {
    expectRefused(await send('GET', '/api/v1/identities?q=a%00b'), 'querystring.q');
    expectRefused(await send('GET', '/api/v1/identities/abc%00'), 'params.id');
    expectRefused(await send('GET', '/api/v1/audit-events?action=x%1B'), 'querystring.action');
  });

  it('refuses lone surrogates', async () => {
    expectRefused(await send('POST', '/api/v1/identities', '{"subject":"c1s:\\ud800x"}'), 'subject');
    // A well-formed pair (an emoji) is text.
    const ok = await send('POST', '/api/v1/applications', '{"name":"Emoji \\ud83d\\ude00"}');
    expect(ok.statusCode, ok.body).toBe(201);
  });

  it('does not overflow on a deeply nested body', async () => {
    const res = await send('POST', '/api/v1/applications', `{"name":"deep","connector":${'['.repeat(5000)}${']'.repeat(5000)}}`);
    expect(res.statusCode, res.body).toBe(400);
  });
});

describe('bytes that are not UTF-8', () => {
  it('refuses a JSON body that is not UTF-8 instead of replacing the bytes', async () => {
    const body = Buffer.concat([Buffer.from('{"name":"Caf'), Buffer.from([0xe9]), Buffer.from('"}')]);
    expectRefused(await send('POST', '/api/v1/applications', body), '', 'malformed_json');
    const list = await send('GET', '/api/v1/applications?q=caf');
    expect((list.json() as { items: unknown[] }).items).toEqual([]);
  });

  it('still answers malformed JSON and empty bodies as before', async () => {
    expectRefused(await send('POST', '/api/v1/applications', '{"name":'), '', 'malformed_json');
    expect((await send('POST', '/api/v1/applications', '{"__proto__":{"x":1},"name":"p"}')).statusCode).toBe(400);
  });

  it('answers plain ASCII bodies (parsed without the poisoning scan) exactly as other bodies', async () => {
    // Printable ASCII without a backslash takes JSON.parse alone; these must still be refused.
    expect((await send('POST', '/api/v1/applications', '{"constructor":{"prototype":{"x":1}},"name":"p"}')).statusCode).toBe(400);
    expect((await send('POST', '/api/v1/applications', '{"\\u005f_proto__":{"x":1},"name":"p"}')).statusCode).toBe(400);
    expectRefused(await send('POST', '/api/v1/applications', '{"name":"raw \u007f DEL"}'), 'name');
    expectRefused(await send('POST', '/api/v1/applications', '{"name":"raw \u0001 control"}'), '', 'malformed_json');
    expectRefused(await send('POST', '/api/v1/applications', '   '), '', 'malformed_json');
    expectRefused(await send('POST', '/api/v1/applications', '{"name":"x"} trailing'), '', 'malformed_json');
    const plain = await send('POST', '/api/v1/applications', '{ "name" : "Plain ASCII app" ,\n "description": "ok" }');
    expect(plain.statusCode, plain.body).toBe(201);
    expect(plain.json()).toMatchObject({ name: 'Plain ASCII app', description: 'ok' });
  });

  it('refuses percent-encoded bytes that are not UTF-8 in the path and the query', async () => {
    expectRefused(await send('GET', '/api/v1/identities?q=%FF'), 'querystring');
    expectRefused(await send('GET', '/api/v1/identities/%C3%28'), 'path');
    // Percent-encoded UTF-8 is fine.
    expect((await send('GET', '/api/v1/identities?q=%C3%A9')).statusCode).toBe(200);
  });

  it('refuses a token request form that is not UTF-8', async () => {
    const res = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials&client_id=%FF',
    });
    expect(res.statusCode, res.body).toBe(400);
  });
});

describe('vendor profiles answer in their own envelopes', () => {
  it('Checkmarx: messageCode 40001 naming the field, 40002 for bytes that are not UTF-8', async () => {
    const headers = { accept: 'application/json;v=1.0', 'content-type': 'application/json;v=1.0' };
    const res = await send('POST', '/cxrestapi/auth/Roles', JSON.stringify({ name: 'Ro\u0000le', permissionIds: [] }), headers);
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ messageCode: 40001, code: 'validation_failed', errors: [{ field: 'name' }] });
    const bytes = await send('POST', '/cxrestapi/auth/Roles', Buffer.concat([Buffer.from('{"name":"R'), Buffer.from([0xff]), Buffer.from('"}')]), headers);
    expect(bytes.statusCode, bytes.body).toBe(400);
    expect(bytes.json()).toMatchObject({ messageCode: 40002, code: 'malformed_json' });
  });

  it('Permission Assist: validation_error naming the field', async () => {
    const res = await post('/api/application-imports/stage', { applicationId: '\u0000' });
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ error: 'validation_error', errors: [{ field: 'applicationId' }] });
  });

  it('Celonis: INVALID_PARAMETER', async () => {
    const res = await send('GET', '/log/api/external/audit?from=%00');
    expect(res.statusCode, res.body).toBe(400);
    expect(res.json()).toMatchObject({ frontendErrorKey: 'INVALID_PARAMETER' });
  });

  it('CoreOne: a 400', async () => {
    const res = await send('GET', '/api/permission?userSubject=c1s%00');
    expect(res.statusCode, res.body).toBe(400);
  });
});

describe('the JSON parser: plain ASCII bodies take JSON.parse alone', () => {
  const parse = jsonParser(Fastify().getDefaultJsonParser('error', 'error'));
  const run = (text: string | Buffer) =>
    new Promise<{ error: Error | null; value: unknown }>((resolve) => parse({ routeOptions: { config: {} }, headers: {} } as unknown as FastifyRequest, Buffer.isBuffer(text) ? text : Buffer.from(text), (error, value) => resolve({ error, value })));

  it('keeps the prototype-poisoning refusals, spelled plainly or escaped', async () => {
    for (const text of ['{"constructor":{"prototype":{"x":1}}}', '{"__proto__":{"x":1}}', '{"\\u005f_proto__":{"x":1}}', '{"a":{"constructor":{"prototype":{}}}}']) {
      const { error } = await run(text);
      expect(error, text).not.toBeNull();
    }
  });

  it('leaves every character the text guard refuses to the guard: DEL, C1, escapes', async () => {
    for (const [text, field] of [
      ['{"a":"x\u007fy"}', 'a'],
      ['{"a":["ok","x\u0085"]}', 'a.1'],
      ['{"b":"\\u0000"}', 'b'],
      ['{"b":"\\ud800"}', 'b'],
    ] as const) {
      const { error, value } = await run(text);
      expect(error, text).toBeNull();
      expect(controlCharacterErrors(value, '').map((e) => e.field), text).toEqual([field]);
    }
  });

  it('parses a plain body as JSON.parse does and refuses what it refuses as before', async () => {
    const text = JSON.stringify({ checks: [{ identity: 'i-1', permission: 'p-2', context: { type: 'all' } }], n: 1.5, t: true, z: null });
    const { error, value } = await run(text);
    expect(error).toBeNull();
    expect(value).toEqual(JSON.parse(text));
    expect(controlCharacterErrors(value, '')).toEqual([]);
    for (const bad of ['{"a":', '{"a":"raw \u0001"}', '', '  ', '{"a":1} x']) expect((await run(bad)).error, bad).not.toBeNull();
  });
});
