/**
 * Identifiers people compare by eye: usernames that look like `admin` are refused next to
 * it, invisible characters are refused in identifiers and names, text is stored in NFC,
 * and the reserved `grantory:` subject prefix holds in any case — through the native API
 * and the Checkmarx profile, on the run's database.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { identifierSkeleton, normalizeIdentifier } from '../../src/domain/identifiers.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const api = (method: 'GET' | 'POST' | 'PATCH', url: string, payload?: unknown) =>
  t.app.inject({ method, url: `/api/v1${url}`, headers: t.auth, ...(payload === undefined ? {} : { payload: payload as object }) });

const CX_TYPE = 'application/json;v=1.0';
const cx = (method: 'POST' | 'PUT', path: string, body: unknown) =>
  t.app.inject({ method, url: `/cxrestapi/auth${path}`, headers: { accept: CX_TYPE, 'content-type': CX_TYPE, authorization: t.auth.authorization }, payload: JSON.stringify(body) });

/** Nine usernames that a reader takes for `admin` (the bootstrap administrator's username). */
const LOOK_ALIKE_ADMINS = [
  ['Cyrillic а', '\u0430dmin'],
  ['Greek α', '\u03b1dmin'],
  ['fullwidth ａ', '\uff41dmin'],
  ['capital A', 'Admin'],
  ['all capitals', 'ADMIN'],
  ['Cyrillic і', 'adm\u0456n'],
  ['rn for m', 'adrnin'],
  ['mathematical 𝐚', '\u{1d41a}dmin'],
  ['Cyrillic а and і', '\u0430dm\u0456n'],
] as const;

const INVISIBLE = [
  ['zero-width joiner', 'ad\u200dmin'],
  ['zero-width space', 'adm\u200bin'],
  ['right-to-left override', '\u202eadmin'],
  ['first-strong isolate', 'admin\u2068'],
  ['variation selector', 'admin\ufe0f'],
  ['BOM', '\ufeffadmin'],
  ['soft hyphen', 'ad\u00admin'],
  ['non-character', 'admin\ufdd0'],
  ['Hangul filler', 'admin\u3164'],
] as const;

describe('identifier rules (pure)', () => {
  it('normalises to NFC and refuses invisible characters naming the field and code point', () => {
    expect(normalizeIdentifier('Jose\u0301', 'username')).toBe('Jos\u00e9');
    expect(() => normalizeIdentifier('ad\u200dmin', 'username')).toThrow('username must not contain invisible or formatting characters (U+200D at position 3)');
    for (const [, text] of INVISIBLE) expect(() => normalizeIdentifier(text, 'name'), text).toThrow(/^name must not contain/);
    // Visible non-ASCII letters are fine.
    for (const text of ['Zoë', 'Łukasz', '渡辺', 'Ἀθῆναι', 'ناصر']) expect(normalizeIdentifier(text, 'username')).toBe(text.normalize('NFC'));
  });

  it('gives look-alikes one skeleton and different names different ones', () => {
    for (const [label, text] of LOOK_ALIKE_ADMINS) expect(identifierSkeleton(text), label).toBe(identifierSkeleton('admin'));
    expect(identifierSkeleton('Jose\u0301')).toBe(identifierSkeleton('Jos\u00e9'));
    for (const other of ['admins', 'adnin', 'badmin', 'ad-min', 'admín']) expect(identifierSkeleton(other), other).not.toBe(identifierSkeleton('admin'));
  });
});

describe('usernames', () => {
  it.each(LOOK_ALIKE_ADMINS)('refuses %s next to admin with a 409 naming the existing identity', async (_label, username) => {
    const res = await api('POST', '/identities', { username });
    expect(res.statusCode).toBe(409);
    expect(res.headers['content-type']).toMatch(/^application\/problem\+json/);
    const body = res.json();
    expect(body.code).toBe('conflict');
    expect(body.errors).toEqual([{ field: 'username', message: expect.stringMatching(/cannot be told apart from "admin", the username of identity [0-9a-f-]{36}$/) }]);
  });

  it.each(INVISIBLE)('refuses a username with a %s (400 naming the field)', async (_label, username) => {
    const res = await api('POST', '/identities', { username });
    expect(res.statusCode, res.body).toBe(400);
    // (The route's schema refuses a BOM as white space before the service sees it.)
    expect(res.json(), res.body).toMatchObject({ code: 'validation_failed', errors: expect.arrayContaining([expect.objectContaining({ field: 'username' })]) });
  });

  it('stores NFC, so NFD and NFC spellings are the same username', async () => {
    const created = await api('POST', '/identities', { username: 'rene\u0301' });
    expect(created.statusCode).toBe(201);
    expect(created.json()).toMatchObject({ username: 'ren\u00e9' });
    const again = await api('POST', '/identities', { username: 'ren\u00e9' });
    expect(again.statusCode).toBe(409);
    expect(again.json().errors[0]).toMatchObject({ field: 'username' });
  });

  it('refuses renaming an identity to a look-alike, and keeps its own username on other changes', async () => {
    const carol = (await api('POST', '/identities', { username: 'carol' })).json();
    const other = (await api('POST', '/identities', { username: 'dave' })).json();
    const renamed = await api('PATCH', `/identities/${other.id}`, { username: 'C\u0430rol' });
    expect(renamed.statusCode).toBe(409);
    expect(renamed.json().errors[0].message).toContain(`the username of identity ${carol.id}`);
    expect((await api('PATCH', `/identities/${carol.id}`, { firstName: 'Carol', username: 'carol' })).statusCode).toBe(200);
    expect((await api('GET', `/identities/${other.id}`)).json().username).toBe('dave');
  });

  it('applies the same rules through the Checkmarx /Users route', async () => {
    const lookAlike = await cx('POST', '/Users', { userName: '\uff41dmin', firstName: 'Fake', lastName: 'Admin' });
    expect(lookAlike.statusCode).toBe(409);
    expect(lookAlike.json()).toMatchObject({ code: 'conflict' });
    const invisible = await cx('POST', '/Users', { userName: 'ad\u200dmin' });
    expect(invisible.statusCode).toBe(400);
    const erin = await cx('POST', '/Users', { userName: 'erin' });
    expect(erin.statusCode).toBe(201);
    const renamed = await cx('PUT', `/Users/${erin.json().id}`, { userName: 'ADMIN' });
    expect(renamed.statusCode).toBe(409);
    const list = (await api('GET', '/identities?limit=200')).json().items as { username: string | null }[];
    expect(list.filter((i) => i.username && identifierSkeleton(i.username) === identifierSkeleton('admin')).map((i) => i.username)).toEqual(['admin']);
  });
});

describe('subjects', () => {
  it.each(['grantory:7', 'GRANTORY:7', 'Grantory:admin', 'gr\u0430ntory:admin', '\uff47rantory:1', 'grant0ry:1'])('reserves %s for generated subjects', async (subject) => {
    const res = await api('POST', '/identities', { subject });
    expect(res.statusCode).toBe(400);
    expect(res.json()).toMatchObject({ code: 'validation_failed', errors: [{ field: 'subject' }] });
  });

  it('normalises subjects to NFC and refuses invisible characters in them', async () => {
    const created = await api('POST', '/identities', { subject: 'idp|Jose\u0301' });
    expect(created.statusCode).toBe(201);
    expect(created.json().subject).toBe('idp|Jos\u00e9');
    expect((await api('POST', '/identities', { subject: 'idp|Jos\u00e9' })).statusCode).toBe(409);
    const hidden = await api('POST', '/identities', { subject: 'idp|\u202eadmin' });
    expect(hidden.statusCode).toBe(400);
    expect(hidden.json().errors).toEqual([{ field: 'subject', message: expect.stringMatching(/^must not contain invisible/) }]);
  });
});

describe('names of units, applications, permissions and roles', () => {
  it('are stored in NFC and refuse invisible characters', async () => {
    const unit = await api('POST', '/org-units', { name: 'Cafe\u0301' });
    expect(unit.statusCode).toBe(201);
    expect(unit.json().name).toBe('Caf\u00e9');
    expect((await api('POST', '/org-units', { name: 'Fin\u200bance' })).json()).toMatchObject({ code: 'validation_failed', errors: [{ field: 'name' }] });

    const app = await api('POST', '/applications', { name: 'Ledger\u202e' });
    expect(app.statusCode).toBe(400);
    const ledger = (await api('POST', '/applications', { name: 'Ledger' })).json();
    const permission = await api('POST', `/applications/${ledger.id}/permissions`, { name: 'approve\u2066' });
    expect(permission.statusCode).toBe(400);
    expect(permission.json()).toMatchObject({ errors: [{ field: 'name' }] });
    const approve = await api('POST', `/applications/${ledger.id}/permissions`, { name: 'appro\u0301ve' });
    expect(approve.statusCode).toBe(201);
    expect(approve.json().name).toBe('appr\u00f3ve');
    expect((await api('PATCH', `/permissions/${approve.json().id}`, { name: 'ok\ufe0f' })).statusCode).toBe(400);
    expect((await api('POST', '/roles', { name: 'Auditor\u200d' })).statusCode).toBe(400);
  });
});
