/**
 * Forged, altered and stale access tokens are refused with 401 and WWW-Authenticate. Tokens
 * with wrong claims are signed with the server's real key (decrypted from the store with
 * the test secret), so only the claim under test is wrong.
 */
import { createPublicKey, randomUUID } from 'node:crypto';
import { exportJWK, generateKeyPair, importJWK, SignJWT, type JWK, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';
import { createTestApp, TEST_ISSUER, TEST_SECRET_KEY, type TestApp } from '../support/harness.ts';
import { basic, clientFor, createIdentityWithRights } from '../support/security-fixtures.ts';

let t: TestApp;
let now = Date.now();
let client: { id: string; clientId: string; clientSecret: string };

beforeAll(async () => {
  t = await createTestApp({ now: () => new Date(now), security: { clockToleranceSeconds: 30, accessTokenTtlSeconds: 900 } });
  const identity = await createIdentityWithRights(t.store, t.tenantId, 'svc:attacked', ['manage-clients']);
  client = await clientFor(t.services, t.tenantId, { identityId: identity });
});
afterAll(async () => t.close());

async function issue(c = client): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { authorization: basic(c.clientId, c.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=client_credentials',
  });
  expect(res.statusCode).toBe(200);
  return (res.json() as { access_token: string }).access_token;
}

async function me(token: string) {
  return t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });
}

async function expectRefused(token: string, reason?: RegExp) {
  const res = await me(token);
  expect(res.statusCode).toBe(401);
  const challenge = String(res.headers['www-authenticate']);
  expect(challenge).toMatch(/^Bearer realm="grantory", error="invalid_token"/);
  if (reason) expect(challenge).toMatch(reason);
}

async function serverKey(): Promise<{ kid: string; privateJwk: JWK; publicPem: string }> {
  await issue(); // makes sure a key exists
  const [row] = await t.store.listSigningKeys();
  if (!row) throw new Error('no signing key');
  const privateJwk = JSON.parse(createServerSecrets(TEST_SECRET_KEY).decrypt(row.private_key)) as JWK;
  const publicPem = createPublicKey({ key: JSON.parse(row.public_jwk) as JWK & { kty: 'EC' }, format: 'jwk' }).export({ type: 'spki', format: 'pem' }).toString();
  return { kid: row.kid, privateJwk, publicPem };
}

function validClaims(overrides: JWTPayload = {}): JWTPayload {
  const iat = Math.floor(now / 1000);
  return {
    iss: TEST_ISSUER,
    aud: 'urn:grantory:api',
    sub: client.clientId,
    client_id: client.clientId,
    tid: t.tenantId,
    scope: 'grantory:*',
    iat,
    exp: iat + 600,
    jti: randomUUID(),
    ...overrides,
  };
}

async function signWithServerKey(claims: JWTPayload, header: Record<string, unknown> = {}): Promise<string> {
  const { kid, privateJwk } = await serverKey();
  const key = await importJWK(privateJwk, 'ES256');
  return new SignJWT(claims).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt', ...header }).sign(key);
}

const b64 = (v: unknown) => Buffer.from(JSON.stringify(v)).toString('base64url');

describe('access token attacks', () => {
  it('accepts a correctly signed token with valid claims (the control case)', async () => {
    expect((await me(await signWithServerKey(validClaims()))).statusCode).toBe(200);
    expect((await me(await issue())).statusCode).toBe(200);
  });

  it('refuses alg "none"', async () => {
    const { kid } = await serverKey();
    const token = `${b64({ alg: 'none', typ: 'at+jwt', kid })}.${b64(validClaims())}.`;
    await expectRefused(token, /algorithm/);
  });

  it('refuses HS256 signed with the public key as the HMAC secret', async () => {
    const { kid, publicPem } = await serverKey();
    const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'HS256', kid, typ: 'at+jwt' }).sign(new TextEncoder().encode(publicPem));
    await expectRefused(token, /algorithm/);
  });

  it('refuses an unknown kid, and a known kid with a foreign key', async () => {
    const { privateKey } = await generateKeyPair('ES256');
    const unknown = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'ES256', kid: randomUUID(), typ: 'at+jwt' }).sign(privateKey);
    await expectRefused(unknown, /unknown key/);
    const { kid } = await serverKey();
    const forged = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'ES256', kid, typ: 'at+jwt' }).sign(privateKey);
    await expectRefused(forged, /signature/);
  });

  it('refuses an altered payload', async () => {
    const token = await issue();
    const [h, , s] = token.split('.');
    await expectRefused(`${h}.${b64({ ...validClaims(), scope: 'grantory:* extra' })}.${s}`, /signature/);
  });

  it('refuses an expired token beyond the clock tolerance, accepts one within it', async () => {
    const token = await issue();
    const issuedAt = now;
    try {
      now = issuedAt + (900 + 20) * 1000; // 20 s past exp, tolerance 30 s
      expect((await me(token)).statusCode).toBe(200);
      now = issuedAt + (900 + 40) * 1000; // 40 s past exp
      await expectRefused(token, /expired/);
    } finally {
      now = issuedAt;
    }
  });

  it('refuses a token not yet valid (nbf, or issued in the future) beyond the tolerance', async () => {
    const at = Math.floor(now / 1000);
    await expectRefused(await signWithServerKey(validClaims({ nbf: at + 120 })), /nbf/);
    expect((await me(await signWithServerKey(validClaims({ nbf: at + 10 })))).statusCode).toBe(200);
    await expectRefused(await signWithServerKey(validClaims({ iat: at + 120, exp: at + 900 })), /future/);
    expect((await me(await signWithServerKey(validClaims({ iat: at + 10 })))).statusCode).toBe(200);
  });

  it('refuses a wrong audience and a wrong issuer', async () => {
    await expectRefused(await signWithServerKey(validClaims({ aud: 'urn:someone-else' })), /aud/);
    await expectRefused(await signWithServerKey(validClaims({ iss: 'https://evil.example' })), /iss/);
  });

  it('refuses typ other than at+jwt (e.g. an ID token or a plain JWT)', async () => {
    await expectRefused(await signWithServerKey(validClaims(), { typ: 'JWT' }), /typ/);
    const { kid, privateJwk } = await serverKey();
    const noTyp = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'ES256', kid }).sign(await importJWK(privateJwk, 'ES256'));
    await expectRefused(noTyp, /typ/);
  });

  it('refuses a token whose tenant claim does not match its client', async () => {
    await expectRefused(await signWithServerKey(validClaims({ tid: randomUUID() })), /client/);
  });

  it("refuses a deleted client's token on the next request", async () => {
    const identity = await createIdentityWithRights(t.store, t.tenantId, 'svc:doomed', []);
    const doomed = await clientFor(t.services, t.tenantId, { identityId: identity });
    const token = await issue(doomed);
    expect((await me(token)).statusCode).toBe(200);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/clients/${doomed.clientId}`, headers: t.auth });
    expect(del.statusCode).toBe(200);
    await expectRefused(token, /no longer exists/);
  });

  it('refuses a revoked token; revocation by another client is refused', async () => {
    const token = await issue();
    const identity = await createIdentityWithRights(t.store, t.tenantId, 'svc:bystander', []);
    const bystander = await clientFor(t.services, t.tenantId, { identityId: identity });
    const foreign = await t.app.inject({
      method: 'POST',
      url: '/oauth/revoke',
      headers: { authorization: basic(bystander.clientId, bystander.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${token}`,
    });
    expect(foreign.statusCode).toBe(400);
    expect((await me(token)).statusCode).toBe(200);
    const own = await t.app.inject({
      method: 'POST',
      url: '/connect/revocation',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `token=${token}&client_id=${client.clientId}&client_secret=${client.clientSecret}`,
    });
    expect(own.statusCode).toBe(200);
    await expectRefused(token, /revoked/);
  });

  it('keeps verifying tokens after a key rotation and across a restart (keys live in the store)', async () => {
    const before = await issue();
    const { rotateSigningKey } = await import('../../src/services/credentials/signing-keys.ts');
    const { systemActor } = await import('../../src/services/kernel/actor.ts');
    const { kid } = await rotateSigningKey(t.services.deps, systemActor(t.tenantId), { retiredKeyTtlSeconds: 3600 });
    t.services.keyRing.invalidate();
    const after = await issue();
    expect(JSON.parse(Buffer.from(after.split('.')[0]!, 'base64url').toString()).kid).toBe(kid);
    expect((await me(before)).statusCode).toBe(200);
    expect((await me(after)).statusCode).toBe(200);
    const jwks = (await t.app.inject({ method: 'GET', url: '/.well-known/jwks.json' })).json() as { keys: { kid: string }[] };
    expect(jwks.keys.map((k) => k.kid)).toContain(kid);
    expect(jwks.keys.length).toBeGreaterThanOrEqual(2);

    // A second node (or a restart) on the same store verifies both.
    const { createServices } = await import('../../src/services/index.ts');
    const { buildApp } = await import('../../src/api/app.ts');
    const services = createServices({ store: t.store, now: () => new Date(now), secrets: createServerSecrets(TEST_SECRET_KEY), security: { issuer: () => TEST_ISSUER } });
    const node2 = await buildApp({ services, store: t.store, logLevel: 'silent' });
    try {
      for (const token of [before, after]) {
        const res = await node2.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });
        expect(res.statusCode).toBe(200);
      }
    } finally {
      await node2.close();
    }
  });

  it('refuses a token of another server (a different secret, hence different keys)', async () => {
    const other = await generateKeyPair('ES256', { extractable: true });
    const jwk = await exportJWK(other.privateKey);
    const token = await new SignJWT(validClaims()).setProtectedHeader({ alg: 'ES256', kid: 'k1', typ: 'at+jwt' }).sign(await importJWK(jwk, 'ES256'));
    await expectRefused(token);
  });
});
