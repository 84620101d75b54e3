/**
 * `POST /check/batch` reads a plain body from its text (src/api/routes/check-batch-body.ts)
 * and leaves every other body to the general path (JSON.parse, text guard, schema
 * validation). Both must answer alike: every body here is sent as it is and again with an
 * Idempotency-Key (which always takes the general path), and the answers compared; the
 * reader must recognise the plain valid bodies and nothing the general path would refuse.
 */
import { Ajv } from 'ajv';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { CheckBatchBody } from '../../src/api/routes/access-schemas.ts';
import { readCheckBatch } from '../../src/api/routes/check-batch-body.ts';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
const ids = {} as Record<'root' | 'finance' | 'alice' | 'bob' | 'app' | 'read' | 'write', string>;

beforeAll(async () => {
  t = await createTestApp();
  const fx = new AccessFixtures(t.store, t.tenantId);
  await fx.batch(async (tx) => {
    ids.app = await fx.application({ name: 'Ledger' }, tx);
    ids.read = await fx.permission({ applicationId: ids.app, name: 'Read' }, tx);
    ids.write = await fx.permission({ applicationId: ids.app, name: 'Write' }, tx);
    ids.root = await fx.unit({ name: 'Corp' }, tx);
    ids.finance = await fx.unit({ name: 'Treasury', parentId: ids.root }, tx);
    ids.alice = await fx.identity({ subject: 'c1s:alice', username: 'alice', unitId: ids.finance }, tx);
    ids.bob = await fx.identity({ subject: 'c1s:bob', username: 'bob', unitId: ids.root }, tx);
    await fx.assignment({ assigneeId: ids.alice, resourceId: ids.read }, tx);
    await fx.assignment({ assigneeId: ids.bob, resourceId: ids.write, contextType: 'orgUnit', contextId: ids.finance }, tx);
  });
  await t.access.syncNow(t.tenantId);
});
afterAll(async () => t.close());

let keys = 0;
/** The answer as the reader's path gives it (when it recognises the body) and as the general path gives it. */
async function bothPaths(text: string): Promise<{ own: { status: number; body: string }; general: { status: number; body: string } }> {
  const send = async (extra: Record<string, string>) => {
    // One request id for both: a problem names it.
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/check/batch', headers: { ...t.auth, 'content-type': 'application/json', 'x-request-id': 'compare-paths', ...extra }, payload: text });
    return { status: res.statusCode, body: res.body };
  };
  keys += 1;
  return { own: await send({}), general: await send({ 'idempotency-key': `general-path-${keys}` }) };
}

const check = (identity: string, permission: string, more: Record<string, unknown> = {}) => ({ identity, permission, ...more });
const long = (n: number) => 'x'.repeat(n);

/** Plain valid bodies: the reader recognises them. */
function validBodies(): string[] {
  const { alice, bob, read, write, finance, root } = ids;
  return [
    JSON.stringify({ checks: [check(alice, read), check(bob, read), check(alice, write)] }),
    JSON.stringify({ checks: [check(alice, read)] }),
    // By subject, by username, by name within an application; an identity that does not exist.
    JSON.stringify({ checks: [check('c1s:alice', 'Read', { application: 'Ledger' }), check('bob', write), check('nobody', read)] }),
    JSON.stringify({ checks: [check('alice', 'Read', { application: ids.app }), check('nobody', read), check('nobody', read), check('somebody', read)] }),
    // Contexts and spaces, every field in another order, whitespace anywhere.
    JSON.stringify({
      checks: [
        check(bob, write, { context: { type: 'orgUnit', id: finance } }),
        check(bob, write, { context: { type: 'orgUnit', id: root } }),
        check(bob, write, { context: { id: finance, type: 'orgUnit' } }),
        check(bob, write, { context: { type: 'all' } }),
        check(bob, write, { context: { type: 'all', id: 'ignored' } }),
        check(bob, write, { context: { type: 'identity', id: null } }),
        check(bob, write, { context: { type: 'object', id: 'doc-1' } }),
        check(alice, read, { space: 'provisioned' }),
        check(alice, read, { space: 'assigned' }),
        { space: 'provisioned', context: { type: 'orgUnit', id: finance }, permission: write, application: 'Ledger', identity: bob },
      ],
    }),
    JSON.stringify({ checks: [check(alice, read), check(alice, read)] }, null, '\t').replace(/\n/g, '\r\n'),
    ` \n {  "checks" :\t[ { "identity" : "${alice}" , "permission" : "${read}" } ] } \n`,
    // Repeated pairs (answered once) among others, and the most checks a batch holds.
    JSON.stringify({ checks: Array.from({ length: 1000 }, (_, i) => check([alice, bob, 'nobody'][i % 3]!, [read, write][i % 2]!, i % 5 === 0 ? { context: { type: 'orgUnit', id: finance } } : {})) }),
    // Strings of the longest length; names that are special elsewhere.
    JSON.stringify({ checks: [check(long(200), read), check('__proto__', read), check('constructor', read), check(alice, read, { context: { type: 'object', id: long(200) } })] }),
    // A 404 naming the check's index: the first unknown application or permission.
    JSON.stringify({ checks: [check(alice, read), check(alice, 'Nope', { application: 'Ledger' }), check(alice, 'Nope')] }),
    JSON.stringify({ checks: [check(alice, read), check(alice, read, { application: 'No such app' })] }),
    JSON.stringify({ checks: [check(alice, read), check(alice, 'Read')] }),
    JSON.stringify({ checks: [check(alice, write, { application: 'Ledger' })] }),
  ];
}

/** Bodies the reader leaves to the general path: valid in another spelling, or invalid. */
function otherBodies(): string[] {
  const { alice, read, finance } = ids;
  const one = (c: unknown) => JSON.stringify({ checks: [check(alice, read), c] });
  return [
    // Valid, but not plain: escapes, characters beyond ASCII, a field twice (the last counts).
    `{"checks":[{"identity":"\\u0063${alice.slice(1)}","permission":"${read}"}]}`,
    `{"checks":[{"identity":"${alice}","permission":"${read}\\/"}]}`,
    one(check('c1s:é', read)),
    one(check('c1s:😀', read)),
    one(check('\u2028', read)),
    `{"checks":[{"identity":"nobody","identity":"${alice}","permission":"${read}"}]}`,
    `{"checks":[{"identity":"${alice}","permission":"${read}","context":{"type":"orgUnit","type":"all"}}]}`,
    `{"checks":[],"checks":[{"identity":"${alice}","permission":"${read}"}]}`,
    `\ufeff{"checks":[{"identity":"${alice}","permission":"${read}"}]}`,
    // Invalid: extra fields, wrong types, missing fields, lengths, counts, enums.
    one({ ...check(alice, read), extra: 1 }),
    JSON.stringify({ checks: [check(alice, read)], extra: true }),
    one({ identity: 1, permission: read }),
    one({ identity: alice, permission: null }),
    one({ identity: alice, permission: [read] }),
    one({ identity: alice, permission: read, application: '' }),
    one({ identity: alice, permission: read, context: null }),
    one({ identity: alice, permission: read, context: {} }),
    one({ identity: alice, permission: read, context: { type: 'galaxy' } }),
    one({ identity: alice, permission: read, context: { type: 'orgUnit', id: finance, unit: 1 } }),
    one({ identity: alice, permission: read, context: { type: 'orgUnit', id: 7 } }),
    one({ identity: alice, permission: read, context: { type: 'orgUnit', id: '' } }),
    one({ identity: alice, permission: read, context: { type: 'orgUnit', id: long(201) } }),
    one({ identity: alice, permission: read, space: 'elsewhere' }),
    one({ identity: alice, permission: read, space: null }),
    one({ identity: alice }),
    one({ permission: read }),
    one({}),
    one(check(long(201), read)),
    one(check('', read)),
    one('not an object'),
    one(null),
    JSON.stringify({ checks: [] }),
    JSON.stringify({ checks: Array.from({ length: 1001 }, () => check(alice, read)) }),
    JSON.stringify({ checks: check(alice, read) }),
    JSON.stringify({ checks: 'all' }),
    JSON.stringify({}),
    JSON.stringify([check(alice, read)]),
    'null',
    '',
    // Text the general path refuses: not JSON, control characters, DEL, __proto__.
    `{"checks":[{"identity":"${alice}","permission":"${read}",}]}`,
    `{"checks":[{"identity":"${alice}","permission":"${read}"}]} x`,
    `{"checks":[{"identity":"${alice}","permission":"${read}"}]`,
    `{"checks":[{"identity":"${alice}\u0001","permission":"${read}"}]}`,
    `{"checks":[{"identity":"${alice}\u007f","permission":"${read}"}]}`,
    `{"checks":[{"identity":"${alice}","permission":"${read}","__proto__":{"x":1}}]}`,
    `{"checks":[{"identity":"${alice}\\u0000","permission":"${read}"}]}`,
  ];
}

describe('POST /check/batch: the body read from its text', () => {
  it('recognises plain valid bodies and answers them exactly as the general path does', async () => {
    for (const text of validBodies()) {
      expect(readCheckBatch(text), text.slice(0, 200)).not.toBeNull();
      const { own, general } = await bothPaths(text);
      expect(own, text.slice(0, 200)).toEqual(general);
      expect([200, 404]).toContain(own.status);
    }
  });

  it('gives the answers the checks call for, a repeated pair alike each time', async () => {
    const { alice, bob, read, write, finance, root } = ids;
    const text = JSON.stringify({
      checks: [
        check(alice, read),
        check(bob, read),
        check(bob, write, { context: { type: 'orgUnit', id: finance } }),
        check(bob, write, { context: { type: 'orgUnit', id: root } }),
        check(alice, read),
        check('c1s:alice', 'Read', { application: 'Ledger' }),
        check('nobody', read),
      ],
    });
    const { own } = await bothPaths(text);
    const body = JSON.parse(own.body) as { results: unknown[]; revision: number };
    expect(body.results).toEqual([{ allowed: true }, { allowed: false }, { allowed: true }, { allowed: false }, { allowed: true }, { allowed: true }, { allowed: false, reason: 'identity nobody does not exist (by id, subject or username)' }]);
    expect(own.body).toBe(JSON.stringify(body));
  });

  it('leaves every other body to the general path, which answers it', async () => {
    for (const text of otherBodies()) {
      expect(readCheckBatch(text), text.slice(0, 200)).toBeNull();
      const { own, general } = await bothPaths(text);
      expect(own, text.slice(0, 200)).toEqual(general);
    }
  });

  it('never recognises a body the general path would refuse, or read differently (mutated bodies)', () => {
    const validate = new Ajv({ allErrors: true, strict: false }).compile(CheckBatchBody);
    const seeds = validBodies().filter((b) => b.length < 5000);
    const pieces = ['"', ',', ':', '{', '}', '[', ']', ' ', '\\', 'null', '"identity"', '"space"', '"context"', '"type"', '"id"', '"all"', '1', 'é', '\u0001', '\u007f'];
    let random = 7;
    const next = (n: number) => {
      random = (Math.imul(random, 1103515245) + 12345) >>> 0;
      return random % n;
    };
    let recognised = 0;
    for (let round = 0; round < 20_000; round += 1) {
      let text = seeds[next(seeds.length)]!;
      for (let edits = 1 + next(3); edits > 0; edits -= 1) {
        const at = next(text.length + 1);
        const cut = next(3) === 0 ? next(12) : 0;
        text = text.slice(0, at) + (next(2) === 0 ? pieces[next(pieces.length)]! : '') + text.slice(at + cut);
      }
      const read = readCheckBatch(text);
      if (read === null) continue;
      recognised += 1;
      let parsed: unknown;
      expect(() => (parsed = JSON.parse(text)), text).not.toThrow();
      expect(validate(parsed), text).toBe(true);
      expect(/^[\x20-\x7e\t\n\r]*$/.test(text), text).toBe(true);
      expect(read.toChecks(), text).toEqual((parsed as { checks: unknown[] }).checks);
    }
    // Some mutations keep a body valid (whitespace, a field's order): those were recognised.
    expect(recognised).toBeGreaterThan(50);
  });
});
