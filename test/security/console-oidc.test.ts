/**
 * Console sign-in through an OpenID Connect provider, against a small real provider started
 * here (test/support/oidc-provider.ts: discovery document, JWKS, an authorize endpoint that
 * redirects back with a code, and a token endpoint that checks the client, the redirect URI
 * and the PKCE verifier and signs an ID token with jose).
 */
import { createHash } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { createIdentityWithRights, waitForAudit } from '../support/security-fixtures.ts';
import { CLIENT_ID, CLIENT_SECRET, Provider } from '../support/oidc-provider.ts';

const REDIRECT_BASE = 'http://localhost';

const provider = new Provider();
let t: TestApp;

beforeAll(async () => {
  await provider.start();
  t = await createTestApp({
    security: { consoleOidc: { issuer: provider.issuer, clientId: CLIENT_ID, clientSecret: CLIENT_SECRET, redirectBase: REDIRECT_BASE, tenant: 'default', subjectClaim: 'sub' } },
    rateLimits: { windowSeconds: 60, perCredential: 0, decisionPerCredential: 0, tokenPerClient: 0, authFailuresPerIp: 0 },
  });
});
afterAll(async () => {
  await t?.close();
  await provider.stop();
});

const cookieValue = (setCookie: unknown, name: string): string | undefined => {
  const all = Array.isArray(setCookie) ? setCookie : [String(setCookie ?? '')];
  for (const c of all as string[]) {
    const m = new RegExp(`^${name}=([^;]*)`).exec(c);
    if (m) return m[1];
  }
  return undefined;
};

/** Runs the browser's part: start, follow the provider's redirect, come back to the callback. */
async function browserSignIn(returnTo = '/console/identities', tamper?: (callback: URL) => void, oidcCookie?: string) {
  const start = await t.app.inject({ method: 'GET', url: `/api/v1/sessions/oidc/start?returnTo=${encodeURIComponent(returnTo)}` });
  expect(start.statusCode, start.body).toBe(302);
  const authorize = new URL(String(start.headers.location));
  const transaction = cookieValue(start.headers['set-cookie'], 'grantory_oidc');
  const atProvider = await fetch(authorize, { redirect: 'manual' });
  expect(atProvider.status).toBe(302);
  const callback = new URL(atProvider.headers.get('location')!);
  tamper?.(callback);
  const back = await t.app.inject({ method: 'GET', url: `${callback.pathname}${callback.search}`, headers: { cookie: `grantory_oidc=${oidcCookie ?? transaction}` } });
  return { start, authorize, callback, back };
}

describe('console sign-in through OIDC', () => {
  it('offers OIDC among the sign-in methods', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/sessions/methods' });
    expect(res.json()).toEqual({ apiKey: true, password: true, oidc: { enabled: true, startUrl: '/api/v1/sessions/oidc/start' } });
  });

  it('runs the code flow with PKCE, state and nonce, and opens a session for the mapped identity', async () => {
    const subject = 'oidc:ada';
    const id = await createIdentityWithRights(t.store, t.tenantId, subject, ['read-audit']);
    provider.nextSubject = subject;
    const { start, authorize, callback, back } = await browserSignIn('/console/identities?tab=access');
    expect(String(start.headers['set-cookie'])).toMatch(/^grantory_oidc=[^;]+; HttpOnly; SameSite=Lax; Path=\/api\/v1\/sessions\/oidc; Max-Age=600$/);
    expect(authorize.searchParams.get('redirect_uri')).toBe(`${REDIRECT_BASE}/api/v1/sessions/oidc/callback`);
    expect(authorize.searchParams.get('code_challenge_method')).toBe('S256');
    expect(authorize.searchParams.get('scope')).toBe('openid profile email');
    expect(callback.pathname).toBe('/api/v1/sessions/oidc/callback');
    // The verifier sent to the token endpoint is the one whose hash was sent to authorize.
    const verifier = provider.tokenRequests.at(-1)!.get('code_verifier')!;
    expect(createHash('sha256').update(verifier).digest('base64url')).toBe(authorize.searchParams.get('code_challenge'));
    expect(back.statusCode, back.body).toBe(302);
    expect(back.headers.location).toBe('/console/identities?tab=access');
    const session = cookieValue(back.headers['set-cookie'], 'grantory_session');
    expect(session).toMatch(/^gtys_/);
    expect(cookieValue(back.headers['set-cookie'], 'grantory_oidc')).toBe('');
    const current = await t.app.inject({ method: 'GET', url: '/api/v1/sessions/current', headers: { cookie: `grantory_session=${session}` } });
    expect(current.statusCode).toBe(200);
    expect((current.json() as { me: unknown }).me).toMatchObject({ kind: 'session', identityId: id, authorityId: id, rights: ['read-audit'] });
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/sessions', headers: { cookie: `grantory_session=${session}` } });
    expect((list.json() as { items: { method: string }[] }).items.map((i) => i.method)).toEqual(['oidc']);
  });

  it('refuses a callback whose state differs, or without the transaction cookie', async () => {
    provider.nextSubject = 'oidc:ada';
    const wrongState = await browserSignIn('/console/', (cb) => cb.searchParams.set('state', 'forged-state'));
    expect(wrongState.back.statusCode).toBe(401);
    expect(wrongState.back.headers['set-cookie']).not.toMatch(/grantory_session=gtys_/);
    const noCookie = await browserSignIn('/console/', undefined, 'not-a-sealed-transaction');
    expect(noCookie.back.statusCode).toBe(401);
  });

  it('refuses when the PKCE verifier does not match (another browser\'s code)', async () => {
    provider.nextSubject = 'oidc:ada';
    // A code obtained in one flow, presented with another flow's transaction (and so its verifier).
    const first = await t.app.inject({ method: 'GET', url: '/api/v1/sessions/oidc/start' });
    const other = cookieValue(first.headers['set-cookie'], 'grantory_oidc')!;
    const otherState = new URL(String(first.headers.location)).searchParams.get('state')!;
    const flow = await browserSignIn('/console/', (cb) => cb.searchParams.set('state', otherState), other);
    expect(flow.back.statusCode).toBe(401);
    expect((flow.back.json() as { detail: string }).detail).toMatch(/token endpoint refused the code/);
  });

  it('refuses a wrong nonce, an unknown subject, and a returnTo outside this server', async () => {
    provider.nextSubject = 'oidc:ada';
    provider.forcedNonce = 'replayed-nonce';
    try {
      expect((await browserSignIn()).back.statusCode).toBe(401);
    } finally {
      provider.forcedNonce = null;
    }
    provider.nextSubject = 'oidc:nobody';
    const unknown = await browserSignIn();
    expect(unknown.back.statusCode).toBe(401);
    expect((unknown.back.json() as { detail: string }).detail).toMatch(/names no known identity/);
    for (const returnTo of ['https://evil.example/', '//evil.example/x', '/\\evil.example']) {
      const res = await t.app.inject({ method: 'GET', url: `/api/v1/sessions/oidc/start?returnTo=${encodeURIComponent(returnTo)}` });
      expect(res.statusCode, returnTo).toBe(400);
    }
    const failures = await waitForAudit(t.store, t.services, t.tenantId, 'auth.failure');
    expect(failures.some((f) => f.after?.includes('OIDC sign-in: the ID token names no known identity'))).toBe(true);
  });
});
