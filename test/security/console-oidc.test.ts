/**
 * Console sign-in through an OpenID Connect provider, against a small real provider started
 * here (an HTTP server: discovery document, JWKS, an authorize endpoint that redirects back
 * with a code, and a token endpoint that checks the client, the redirect URI and the PKCE
 * verifier and signs an ID token with jose).
 */
import { createHash, randomBytes } from 'node:crypto';
import { createServer, type Server } from 'node:http';
import type { AddressInfo } from 'node:net';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { createIdentityWithRights, waitForAudit } from '../support/security-fixtures.ts';

const CLIENT_ID = 'grantory-console';
const CLIENT_SECRET = 'console-client-secret';
const REDIRECT_BASE = 'http://localhost';

interface Pending {
  challenge: string;
  nonce: string;
  redirectUri: string;
  subject: string;
}

/** A minimal OIDC provider; `nextSubject` is who "signs in" at its authorize endpoint. */
class Provider {
  server!: Server;
  issuer = '';
  nextSubject = '';
  /** When set, the ID token carries this nonce instead of the one asked for. */
  forcedNonce: string | null = null;
  tokenRequests: URLSearchParams[] = [];
  private readonly codes = new Map<string, Pending>();
  private key!: CryptoKey;
  private jwk: Record<string, unknown> = {};

  async start(): Promise<void> {
    const { privateKey, publicKey } = await generateKeyPair('ES256');
    this.key = privateKey;
    this.jwk = { ...(await exportJWK(publicKey)), kid: 'test-key', alg: 'ES256', use: 'sig' };
    this.server = createServer((req, res) => void this.handle(req.url ?? '/', req.method ?? 'GET', req.headers.authorization, req, res));
    await new Promise<void>((r) => this.server.listen(0, '127.0.0.1', r));
    this.issuer = `http://127.0.0.1:${(this.server.address() as AddressInfo).port}`;
  }

  private async handle(url: string, method: string, authorization: string | undefined, req: import('node:http').IncomingMessage, res: import('node:http').ServerResponse): Promise<void> {
    const u = new URL(url, this.issuer);
    const json = (status: number, body: unknown) => {
      res.writeHead(status, { 'content-type': 'application/json' });
      res.end(JSON.stringify(body));
    };
    if (u.pathname === '/.well-known/openid-configuration') {
      return json(200, { issuer: this.issuer, authorization_endpoint: `${this.issuer}/authorize`, token_endpoint: `${this.issuer}/token`, jwks_uri: `${this.issuer}/jwks` });
    }
    if (u.pathname === '/jwks') return json(200, { keys: [this.jwk] });
    if (u.pathname === '/authorize') {
      const p = u.searchParams;
      if (p.get('client_id') !== CLIENT_ID || p.get('response_type') !== 'code' || p.get('code_challenge_method') !== 'S256' || !p.get('code_challenge') || !p.get('nonce') || !p.get('state')) {
        return json(400, { error: 'invalid_request' });
      }
      const code = randomBytes(16).toString('hex');
      this.codes.set(code, { challenge: p.get('code_challenge')!, nonce: p.get('nonce')!, redirectUri: p.get('redirect_uri')!, subject: this.nextSubject });
      const back = new URL(p.get('redirect_uri')!);
      back.searchParams.set('code', code);
      back.searchParams.set('state', p.get('state')!);
      res.writeHead(302, { location: back.toString() });
      return void res.end();
    }
    if (u.pathname === '/token' && method === 'POST') {
      const chunks: Buffer[] = [];
      for await (const c of req) chunks.push(c as Buffer);
      const form = new URLSearchParams(Buffer.concat(chunks).toString('utf8'));
      this.tokenRequests.push(form);
      if (authorization !== `Basic ${Buffer.from(`${CLIENT_ID}:${CLIENT_SECRET}`).toString('base64')}`) return json(401, { error: 'invalid_client' });
      const pending = this.codes.get(form.get('code') ?? '');
      this.codes.delete(form.get('code') ?? '');
      if (!pending || form.get('grant_type') !== 'authorization_code' || form.get('redirect_uri') !== pending.redirectUri) return json(400, { error: 'invalid_grant' });
      const challenge = createHash('sha256').update(form.get('code_verifier') ?? '').digest('base64url');
      if (challenge !== pending.challenge) return json(400, { error: 'invalid_grant', error_description: 'PKCE verification failed' });
      const idToken = await new SignJWT({ nonce: this.forcedNonce ?? pending.nonce })
        .setProtectedHeader({ alg: 'ES256', kid: 'test-key' })
        .setIssuer(this.issuer)
        .setAudience(CLIENT_ID)
        .setSubject(pending.subject)
        .setIssuedAt()
        .setExpirationTime('5m')
        .sign(this.key);
      return json(200, { access_token: 'opaque', token_type: 'Bearer', id_token: idToken, expires_in: 300 });
    }
    json(404, { error: 'not_found' });
  }
}

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
  await new Promise((r) => provider.server.close(r));
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
