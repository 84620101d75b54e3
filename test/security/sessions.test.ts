/**
 * Console sessions and local passwords: who may set a password (and the escalation refusal),
 * sign-in with an API key and with a password, the cookie's flags, CSRF, the current
 * session, listing and signing out, idle and absolute expiry, a key's revocation ending its
 * sessions, lockout and its audit trail.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { Right } from '../../src/domain/rights.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { apiKeyFor, createIdentityWithRights, waitForAudit } from '../support/security-fixtures.ts';

let t: TestApp;
let now = Date.parse('2026-03-02T09:00:00Z');
const IDLE = 1800;
const MAX = 43_200;

beforeAll(async () => {
  t = await createTestApp({
    now: () => new Date(now),
    rateLimits: { windowSeconds: 60, perCredential: 0, decisionPerCredential: 0, tokenPerClient: 0, authFailuresPerIp: 0 },
  });
});
afterAll(async () => t.close());

const PASSWORD = 'correct horse battery staple';
let counter = 0;
const unique = (name: string) => `${name}-${(counter += 1)}-${Math.random().toString(36).slice(2, 8)}`;

async function person(rights: readonly Right[] = []): Promise<{ id: string; username: string; key: string }> {
  const username = unique('session-user');
  const id = await createIdentityWithRights(t.store, t.tenantId, username, rights);
  return { id, username, key: `Bearer ${(await apiKeyFor(t.services, t.tenantId, id)).secret}` };
}

const setPassword = (id: string, password: string, authorization = t.auth.authorization) =>
  t.app.inject({ method: 'PUT', url: `/api/v1/identities/${id}/password`, headers: { authorization }, payload: { password } });

interface SessionAnswer {
  id: string;
  csrfToken: string;
  expiresAt: string;
  me: { kind: string; credentialId: string; identityId: string; authorityId: string | null; scopes: string[] | null; rights: string[] };
}

async function signIn(payload: object, host?: string) {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', payload, ...(host ? { headers: { host } } : {}) });
  const setCookie = String(res.headers['set-cookie'] ?? '');
  const cookie = /^grantory_session=([^;]+)/.exec(setCookie)?.[1];
  return { res, setCookie, cookie: cookie ? `grantory_session=${cookie}` : '', body: res.statusCode === 201 ? (res.json() as SessionAnswer) : null };
}

async function signedIn(payload: object) {
  const s = await signIn(payload);
  expect(s.res.statusCode, s.res.body).toBe(201);
  return { cookie: s.cookie, csrf: s.body!.csrfToken, body: s.body! };
}

const withCookie = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, cookie: string, extra: { csrf?: string; payload?: object } = {}) =>
  t.app.inject({ method, url, headers: { cookie, ...(extra.csrf !== undefined ? { 'x-csrf-token': extra.csrf } : {}) }, ...(extra.payload ? { payload: extra.payload } : {}) });

describe('local passwords', () => {
  it('lets an administrator set and remove a password, audited without the password', async () => {
    const p = await person();
    const res = await setPassword(p.id, PASSWORD);
    expect(res.statusCode, res.body).toBe(204);
    const audit = await waitForAudit(t.store, t.services, t.tenantId, 'identity.password.set');
    expect(audit.length).toBeGreaterThan(0);
    expect(audit.map((a) => a.after ?? '').join('\n')).not.toContain(PASSWORD);
    const row = await t.store.read(t.tenantId).db.selectFrom('identity_passwords').selectAll().where('identity_id', '=', p.id).executeTakeFirstOrThrow();
    expect(row.password_hash).toMatch(/^\$argon2id\$v=19\$/);
    expect(row.password_hash).not.toContain(PASSWORD);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/identities/${p.id}/password`, headers: t.auth })).statusCode).toBe(204);
    const again = await t.app.inject({ method: 'DELETE', url: `/api/v1/identities/${p.id}/password`, headers: t.auth });
    expect(again.statusCode).toBe(404);
  });

  it('lets the identity set its own password without any right, but not a colleague', async () => {
    const p = await person();
    const colleague = await person();
    expect((await setPassword(p.id, PASSWORD, p.key)).statusCode).toBe(204);
    const refused = await setPassword(p.id, PASSWORD, colleague.key);
    expect(refused.statusCode).toBe(403);
    expect(refused.json()).toMatchObject({ code: 'forbidden', requiredRights: ['manage-users'] });
  });

  it('refuses a manage-users holder the password of an identity holding more rights than it does', async () => {
    const admin = await person(['manage-users']);
    const securityAdmin = await person(['manage-users', 'manage-roles', 'read-audit']);
    const peer = await person(['manage-users']);
    const refused = await setPassword(securityAdmin.id, PASSWORD, admin.key);
    expect(refused.statusCode).toBe(403);
    const body = refused.json() as { code: string; detail: string; rightsBeyondCaller: string[] };
    expect(body.code).toBe('forbidden');
    expect(body.rightsBeyondCaller).toEqual(['manage-roles', 'read-audit']);
    expect(body.detail).toMatch(/password would let whoever knows it act with them/);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/identities/${securityAdmin.id}/password`, headers: { authorization: admin.key } })).statusCode).toBe(403);
    // Within its own rights it may.
    expect((await setPassword(peer.id, PASSWORD, admin.key)).statusCode).toBe(204);
  });

  it('refuses a scoped key its own identity\'s password (it would escape the key\'s scopes)', async () => {
    const p = await person(['manage-users', 'read-audit']);
    const scoped = await apiKeyFor(t.services, t.tenantId, p.id, { scopes: ['grantory:read-audit'] });
    const res = await setPassword(p.id, PASSWORD, `Bearer ${scoped.secret}`);
    expect(res.statusCode).toBe(403);
    expect((res.json() as { rightsBeyondCaller: string[] }).rightsBeyondCaller).toEqual(['manage-users']);
  });

  it('applies the password policy with field errors', async () => {
    const p = await person();
    const short = await setPassword(p.id, 'short');
    expect(short.statusCode).toBe(400);
    expect(short.json()).toMatchObject({ code: 'validation_failed', errors: [{ field: '/password', message: 'must have at least 12 characters' }] });
    const named = await setPassword(p.id, `my ${p.username} password`);
    expect(named.statusCode).toBe(400);
    expect(JSON.stringify(named.json())).toContain("must not contain the identity's username");
    expect((await setPassword(p.id, 'a'.repeat(20))).statusCode).toBe(400);
  });
});

describe('signing in', () => {
  it('answers which sign-in methods exist', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/sessions/methods' });
    expect(res.json()).toEqual({ apiKey: true, password: true, oidc: { enabled: false, startUrl: null } });
  });

  it('exchanges an API key for a session acting exactly as the key', async () => {
    const p = await person(['manage-users', 'read-audit']);
    const scoped = await apiKeyFor(t.services, t.tenantId, p.id, { scopes: ['grantory:read-audit'] });
    const s = await signIn({ apiKey: scoped.secret });
    expect(s.res.statusCode, s.res.body).toBe(201);
    const keyMe = (await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${scoped.secret}` } })).json() as SessionAnswer['me'];
    expect(s.body!.me).toMatchObject({ kind: 'session', credentialId: s.body!.id, identityId: p.id, scopes: ['grantory:read-audit'], rights: ['read-audit'] });
    expect(s.body!.me.rights).toEqual(keyMe.rights);
    expect(s.body!.me.authorityId).toBe(keyMe.authorityId);
    const me = await withCookie('GET', '/api/v1/me', s.cookie);
    expect(me.statusCode).toBe(200);
    expect(me.json()).toEqual(s.body!.me);
    // The key's narrowing holds for the session.
    expect((await withCookie('GET', '/api/v1/identities', s.cookie)).statusCode).toBe(403);
  });

  it('sets an HttpOnly, SameSite=Strict cookie, Secure except for plain HTTP to localhost', async () => {
    const local = await signIn({ apiKey: t.adminKey });
    expect(local.setCookie).toMatch(/^grantory_session=gtys_[A-Za-z0-9]+; HttpOnly; SameSite=Strict; Path=\/$/);
    for (const host of ['127.0.0.1:8080', '[::1]:8080']) expect((await signIn({ apiKey: t.adminKey }, host)).setCookie).not.toContain('Secure');
    const remote = await signIn({ apiKey: t.adminKey }, 'grantory.example.com');
    expect(remote.setCookie).toMatch(/; HttpOnly; SameSite=Strict; Path=\/; Secure$/);
    // Only the keyed hash of the secret is stored.
    const secret = local.cookie.split('=')[1]!;
    const rows = await t.store.read(t.tenantId).db.selectFrom('sessions').select(['secret_hash']).execute();
    expect(rows.some((r) => r.secret_hash.includes(secret))).toBe(false);
    expect(rows.some((r) => r.secret_hash === t.services.deps.secrets.hashCredential(secret))).toBe(true);
  });

  it('signs in with a password as the identity with its rights, on its own authority', async () => {
    const p = await person(['read-audit']);
    await setPassword(p.id, PASSWORD);
    const s = await signIn({ username: p.username, password: PASSWORD });
    expect(s.res.statusCode, s.res.body).toBe(201);
    expect(s.body!.me).toMatchObject({ kind: 'session', identityId: p.id, authorityId: p.id, scopes: null, rights: ['read-audit'] });
    const signIns = await waitForAudit(t.store, t.services, t.tenantId, 'auth.signIn');
    expect(signIns.some((a) => a.after?.includes(p.username))).toBe(true);
  });

  it('answers a wrong password and an unknown user alike', async () => {
    const p = await person();
    await setPassword(p.id, PASSWORD);
    const wrong = await signIn({ username: p.username, password: 'not the password at all' });
    const unknown = await signIn({ username: unique('nobody'), password: PASSWORD });
    const noPassword = await signIn({ username: (await person()).username, password: PASSWORD });
    for (const res of [wrong.res, unknown.res, noPassword.res]) {
      expect(res.statusCode).toBe(401);
      expect(res.headers['set-cookie']).toBeUndefined();
    }
    const detail = (r: typeof wrong) => (r.res.json() as { detail: string }).detail;
    expect(detail(wrong)).toBe('the username or password is wrong');
    expect(detail(unknown)).toBe(detail(wrong));
    expect(detail(noPassword)).toBe(detail(wrong));
    expect((await signIn({ apiKey: 'gty_notakeyatallnotakeyatallnotakeyatall' })).res.statusCode).toBe(401);
    const failures = await waitForAudit(t.store, t.services, t.tenantId, 'auth.failure');
    expect(failures.map((f) => f.after ?? '').join('\n')).not.toContain('not the password at all');
  });
});

describe('a signed-in session', () => {
  it('needs the CSRF token for unsafe methods, not for reads nor with an Authorization header', async () => {
    const s = await signedIn({ apiKey: t.adminKey });
    const payload = { name: unique('csrf-unit') };
    const missing = await withCookie('POST', '/api/v1/org-units', s.cookie, { payload });
    expect(missing.statusCode).toBe(403);
    expect(missing.json()).toMatchObject({ code: 'csrf_token_invalid' });
    const wrong = await withCookie('POST', '/api/v1/org-units', s.cookie, { payload, csrf: `${s.csrf.slice(0, -1)}${s.csrf.endsWith('A') ? 'B' : 'A'}` });
    expect(wrong.statusCode).toBe(403);
    expect(wrong.json()).toMatchObject({ code: 'csrf_token_invalid' });
    // Another session's token is no good either.
    const other = await signedIn({ apiKey: t.adminKey });
    expect((await withCookie('POST', '/api/v1/org-units', s.cookie, { payload, csrf: other.csrf })).statusCode).toBe(403);
    expect((await withCookie('GET', '/api/v1/org-units', s.cookie)).statusCode).toBe(200);
    const ok = await withCookie('POST', '/api/v1/org-units', s.cookie, { payload, csrf: s.csrf });
    expect(ok.statusCode, ok.body).toBe(201);
    const header = await t.app.inject({ method: 'POST', url: '/api/v1/org-units', headers: { ...t.auth, cookie: s.cookie }, payload: { name: unique('csrf-unit') } });
    expect(header.statusCode).toBe(201);
  });

  it('answers the current session with its CSRF token, and only to the cookie', async () => {
    const s = await signedIn({ apiKey: t.adminKey });
    const current = await withCookie('GET', '/api/v1/sessions/current', s.cookie);
    expect(current.statusCode).toBe(200);
    expect(current.json()).toEqual(s.body);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/sessions/current', headers: t.auth })).statusCode).toBe(401);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/sessions/current' })).statusCode).toBe(401);
    expect((await withCookie('GET', '/api/v1/sessions/current', 'grantory_session=gtys_forgedforgedforgedforgedforgedforged')).statusCode).toBe(401);
  });

  it("lists the identity's sessions, marks the current one, and ends one or all", async () => {
    const p = await person();
    await setPassword(p.id, PASSWORD);
    const a = await signedIn({ username: p.username, password: PASSWORD });
    const b = await signedIn({ apiKey: p.key.slice('Bearer '.length) });
    const list = await withCookie('GET', '/api/v1/sessions', a.cookie);
    expect(list.statusCode).toBe(200);
    const items = (list.json() as { items: { id: string; method: string; current: boolean; ip: string; userAgent: string | null }[] }).items;
    expect(items.map((i) => i.id).sort()).toEqual([a.body.id, b.body.id].sort());
    expect(items.find((i) => i.id === a.body.id)).toMatchObject({ method: 'password', current: true, ip: '127.0.0.1' });
    expect(items.find((i) => i.id === b.body.id)).toMatchObject({ method: 'api_key', current: false });
    // Someone else cannot end it (404, as if it did not exist); the identity can.
    const stranger = await person();
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/sessions/${b.body.id}`, headers: { authorization: stranger.key } })).statusCode).toBe(404);
    expect((await withCookie('DELETE', `/api/v1/sessions/${b.body.id}`, a.cookie, { csrf: a.csrf })).statusCode).toBe(204);
    expect((await withCookie('GET', '/api/v1/me', b.cookie)).statusCode).toBe(401);
    // Signing out clears the cookie and ends the session.
    const out = await withCookie('DELETE', '/api/v1/sessions/current', a.cookie, { csrf: a.csrf });
    expect(out.statusCode).toBe(204);
    expect(String(out.headers['set-cookie'])).toMatch(/^grantory_session=; HttpOnly; SameSite=Strict; Path=\/; Max-Age=0/);
    expect((await withCookie('GET', '/api/v1/me', a.cookie)).statusCode).toBe(401);
    const deleted = await waitForAudit(t.store, t.services, t.tenantId, 'session.delete');
    expect(deleted.length).toBeGreaterThanOrEqual(2);
  });

  it('expires when idle, slides with use, and ends at its maximum age', async () => {
    const start = now;
    try {
      const idle = await signedIn({ apiKey: t.adminKey });
      now += (IDLE + 1) * 1000;
      expect((await withCookie('GET', '/api/v1/me', idle.cookie)).statusCode).toBe(401);

      const used = await signedIn({ apiKey: t.adminKey });
      let last = '';
      // Used every 25 minutes, it outlives its idle timeout many times over.
      for (let elapsed = 0; elapsed + 1500 < MAX; elapsed += 1500) {
        now += 1500 * 1000;
        const res = await withCookie('GET', '/api/v1/sessions/current', used.cookie);
        expect(res.statusCode, `after ${elapsed + 1500} s`).toBe(200);
        const expiresAt = (res.json() as SessionAnswer).expiresAt;
        expect(Date.parse(expiresAt)).toBeLessThanOrEqual(Date.parse(used.body.expiresAt) - (IDLE * 1000) + MAX * 1000);
        last = expiresAt;
      }
      expect(Date.parse(last)).toBeGreaterThan(Date.parse(used.body.expiresAt));
      now += 1500 * 1000;
      expect((await withCookie('GET', '/api/v1/me', used.cookie)).statusCode).toBe(401);
    } finally {
      now = start;
    }
  });

  it('ends with the API key it was opened with', async () => {
    const p = await person();
    const key = await apiKeyFor(t.services, t.tenantId, p.id);
    const s = await signedIn({ apiKey: key.secret });
    expect((await withCookie('GET', '/api/v1/me', s.cookie)).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${key.id}`, headers: t.auth })).statusCode).toBe(200);
    expect((await withCookie('GET', '/api/v1/me', s.cookie)).statusCode).toBe(401);
    const rows = await t.store.read(t.tenantId).db.selectFrom('sessions').select('id').where('id', '=', s.body.id).execute();
    expect(rows).toEqual([]);
  });

  it('ends password sessions when the password changes', async () => {
    const p = await person();
    await setPassword(p.id, PASSWORD);
    const s = await signedIn({ username: p.username, password: PASSWORD });
    expect((await setPassword(p.id, `${PASSWORD} again`)).statusCode).toBe(204);
    expect((await withCookie('GET', '/api/v1/me', s.cookie)).statusCode).toBe(401);
  });

  it('goes, with the password, when its identity is deleted', async () => {
    const username = unique('session-deleted');
    const id = await createIdentityWithRights(t.store, t.tenantId, username, []);
    await setPassword(id, PASSWORD);
    const s = await signedIn({ username, password: PASSWORD });
    const deleted = await t.app.inject({ method: 'DELETE', url: `/api/v1/identities/${id}`, headers: t.auth });
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect((await withCookie('GET', '/api/v1/me', s.cookie)).statusCode).toBe(401);
    const db = t.store.read(t.tenantId).db;
    expect(await db.selectFrom('sessions').select('id').where('identity_id', '=', id).execute()).toEqual([]);
    expect(await db.selectFrom('identity_passwords').select('identity_id').where('identity_id', '=', id).execute()).toEqual([]);
  });

  it('is not accepted as a Bearer token', async () => {
    const s = await signedIn({ apiKey: t.adminKey });
    const secret = s.cookie.split('=')[1]!;
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${secret}` } })).statusCode).toBe(401);
  });
});

describe('lockout', () => {
  it('locks an identity after 5 failures in 15 minutes for 15 minutes, audited', async () => {
    const start = now;
    try {
      const p = await person();
      await setPassword(p.id, PASSWORD);
      for (let i = 0; i < 5; i += 1) expect((await signIn({ username: p.username, password: `wrong password ${i}` })).res.statusCode).toBe(401);
      const locked = await signIn({ username: p.username, password: PASSWORD });
      expect(locked.res.statusCode).toBe(401);
      expect((locked.res.json() as { detail: string }).detail).toMatch(/try again later/);
      expect(Number(locked.res.headers['retry-after'])).toBe(900);
      const lockouts = await waitForAudit(t.store, t.services, t.tenantId, 'auth.lockout');
      expect(lockouts.some((a) => a.after?.includes(p.username))).toBe(true);
      now += 899 * 1000;
      expect((await signIn({ username: p.username, password: PASSWORD })).res.statusCode).toBe(401);
      now += 2 * 1000;
      expect((await signIn({ username: p.username, password: PASSWORD })).res.statusCode).toBe(201);
    } finally {
      now = start;
    }
  });

  it('forgets failures older than the window', async () => {
    const start = now;
    try {
      const p = await person();
      await setPassword(p.id, PASSWORD);
      for (let i = 0; i < 4; i += 1) await signIn({ username: p.username, password: `wrong password ${i}` });
      now += 901 * 1000;
      for (let i = 0; i < 4; i += 1) await signIn({ username: p.username, password: `wrong password ${i}` });
      expect((await signIn({ username: p.username, password: PASSWORD })).res.statusCode).toBe(201);
    } finally {
      now = start;
    }
  });
});
