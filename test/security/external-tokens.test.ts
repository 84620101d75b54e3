/**
 * Tokens of an external identity provider: accepted when signed by a key of its JWKS (file
 * or URL) with its issuer and audience, mapped by `sub` to an identity's subject; refused
 * otherwise.
 */
import { createServer, type Server } from 'node:http';
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTERNAL_ALGORITHMS } from '../../src/services/index.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { createIdentityWithRights } from '../support/security-fixtures.ts';

const ISSUER = 'https://idp.example.test/realms/acme';
const AUDIENCE = 'grantory-api';
let idpKey: CryptoKey;
let dir = '';
let fileApp: TestApp;
let urlApp: TestApp;
let jwksServer: Server;

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  idpKey = pair.privateKey;
  const jwks = { keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' }] };
  dir = mkdtempSync(join(tmpdir(), 'grantory-jwks-'));
  const file = join(dir, 'jwks.json');
  writeFileSync(file, JSON.stringify(jwks));
  jwksServer = createServer((_req, res) => {
    res.setHeader('content-type', 'application/json');
    res.end(JSON.stringify(jwks));
  });
  await new Promise<void>((r) => jwksServer.listen(0, '127.0.0.1', r));
  const address = jwksServer.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  const common = { issuer: ISSUER, audience: AUDIENCE, tenant: 'default', subjectClaim: 'sub', algorithms: EXTERNAL_ALGORITHMS };
  fileApp = await createTestApp({ security: { externalIssuer: { ...common, jwksFile: file } } });
  urlApp = await createTestApp({ security: { externalIssuer: { ...common, jwksUrl: `http://127.0.0.1:${address.port}/jwks` } } });
  for (const t of [fileApp, urlApp]) await createIdentityWithRights(t.store, t.tenantId, 'c1s:17173', ['read-audit', 'manage-users']);
});
afterAll(async () => {
  await fileApp?.close();
  await urlApp?.close();
  await new Promise((r) => jwksServer.close(r));
  rmSync(dir, { recursive: true, force: true });
});

async function idpToken(claims: JWTPayload = {}, key: CryptoKey = idpKey): Promise<string> {
  const iat = Math.floor(Date.now() / 1000);
  return new SignJWT({ iss: ISSUER, aud: AUDIENCE, sub: 'c1s:17173', iat, exp: iat + 300, ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
    .sign(key);
}

const me = (t: TestApp, token: string) => t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${token}` } });

describe('external issuer', () => {
  it('accepts its tokens (JWKS file and JWKS URL) as the identity named by sub', async () => {
    for (const t of [fileApp, urlApp]) {
      const res = await me(t, await idpToken());
      expect(res.statusCode).toBe(200);
      expect(res.json()).toMatchObject({ kind: 'identity', scopes: null, rights: ['manage-users', 'read-audit'] });
    }
  });

  it('finds the identity of a subject sent in another Unicode normal form (stored in NFC)', async () => {
    const created = await fileApp.app.inject({ method: 'POST', url: '/api/v1/identities', headers: fileApp.auth, payload: { subject: 'idp:Jose\u0301' } });
    expect(created.json().subject).toBe('idp:Jos\u00e9');
    const res = await me(fileApp, await idpToken({ sub: 'idp:Jose\u0301' }));
    expect(res.statusCode).toBe(200);
    expect(res.json()).toMatchObject({ kind: 'identity', identityId: created.json().id });
  });

  it("narrows by the token's Grantory scopes and ignores others", async () => {
    const res = await me(fileApp, await idpToken({ scope: 'openid profile audit.log' }));
    expect(res.json()).toMatchObject({ scopes: ['audit.log'], rights: ['read-audit'] });
    const entra = await me(fileApp, await idpToken({ scp: 'grantory:manage-users' }));
    expect(entra.json()).toMatchObject({ rights: ['manage-users'] });
  });

  it('refuses a wrong audience, an unknown subject, an expired token and a foreign key', async () => {
    const foreign = (await generateKeyPair('RS256')).privateKey;
    const cases = [
      await idpToken({ aud: 'someone-else' }),
      await idpToken({ sub: 'c1s:nobody' }),
      await idpToken({ exp: Math.floor(Date.now() / 1000) - 120 }),
      await idpToken({ iss: 'https://idp.example.test/realms/other' }),
      await idpToken({}, foreign),
    ];
    for (const token of cases) {
      const res = await me(fileApp, token);
      expect(res.statusCode).toBe(401);
      expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
    }
  });
});
