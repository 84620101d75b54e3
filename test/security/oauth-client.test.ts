/**
 * A real third-party OAuth client (openid-client) against Grantory listening on a real
 * port: discovery, the client credentials grant with client_secret_basic and
 * client_secret_post, a protected call with the token, introspection and revocation.
 */
import * as oidc from 'openid-client';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { clientFor, createIdentityWithRights } from '../support/security-fixtures.ts';

let t: TestApp;
let issuer = '';
let base = '';
let clientId = '';
let clientSecret = '';

beforeAll(async () => {
  t = await createTestApp({ security: { issuer: () => issuer } });
  await t.app.listen({ port: 0, host: '127.0.0.1' });
  const address = t.app.server.address();
  if (!address || typeof address === 'string') throw new Error('no address');
  base = issuer = `http://127.0.0.1:${address.port}`;
  const identity = await createIdentityWithRights(t.store, t.tenantId, 'svc:siem', ['read-audit', 'manage-clients']);
  ({ clientId, clientSecret } = await clientFor(t.services, t.tenantId, { identityId: identity, scopes: ['grantory:manage-clients', 'audit.log'] }));
});
afterAll(async () => t.close());

const insecure = { execute: [oidc.allowInsecureRequests] };

describe('openid-client against the running server', () => {
  it('discovers, gets a token with client_secret_basic, and calls a protected route', async () => {
    const config = await oidc.discovery(new URL(base), clientId, undefined, oidc.ClientSecretBasic(clientSecret), insecure);
    expect(config.serverMetadata().token_endpoint).toBe(`${base}/oauth/token`);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'grantory:manage-clients' });
    expect(tokens.token_type).toBe('bearer');
    expect(tokens.expires_in).toBe(900);
    expect(tokens.scope).toBe('grantory:manage-clients');

    const res = await fetch(`${base}/api/v1/clients`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(res.status).toBe(200);
    const me = (await (await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json()) as { kind: string; rights: string[] };
    expect(me).toMatchObject({ kind: 'client', rights: ['manage-clients'] });
  });

  it('gets a token with client_secret_post at a vendor path; the vendor scope narrows the rights', async () => {
    const config = new oidc.Configuration(
      { issuer, token_endpoint: `${base}/oauth2/token` },
      clientId,
      undefined,
      oidc.ClientSecretPost(clientSecret),
    );
    oidc.allowInsecureRequests(config);
    const tokens = await oidc.clientCredentialsGrant(config, { scope: 'audit.log' });
    const me = (await (await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${tokens.access_token}` } })).json()) as { rights: string[]; scopes: string[] };
    expect(me).toMatchObject({ rights: ['read-audit'], scopes: ['audit.log'] });
    const refused = await fetch(`${base}/api/v1/clients`, { headers: { authorization: `Bearer ${tokens.access_token}` } });
    expect(refused.status).toBe(403);
  });

  it('refuses a scope the client may not ask for (invalid_scope)', async () => {
    const config = await oidc.discovery(new URL(base), clientId, undefined, oidc.ClientSecretBasic(clientSecret), insecure);
    await expect(oidc.clientCredentialsGrant(config, { scope: 'grantory:manage-users' })).rejects.toMatchObject({ error: 'invalid_scope' });
  });

  it('introspects and revokes (round trips); a revoked token stops working', async () => {
    const config = await oidc.discovery(new URL(base), clientId, undefined, oidc.ClientSecretBasic(clientSecret), insecure);
    const { access_token: token } = await oidc.clientCredentialsGrant(config);
    const active = await oidc.tokenIntrospection(config, token);
    expect(active).toMatchObject({ active: true, client_id: clientId, sub: clientId, iss: issuer, token_type: 'Bearer' });
    expect(active.scope).toBe('grantory:manage-clients audit.log');

    await oidc.tokenRevocation(config, token);
    expect(await oidc.tokenIntrospection(config, token)).toEqual({ active: false });
    const res = await fetch(`${base}/api/v1/me`, { headers: { authorization: `Bearer ${token}` } });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toMatch(/error="invalid_token"/);
  });

  it('answers a wrong secret with invalid_client and a Basic challenge', async () => {
    const res = await fetch(`${base}/connect/token`, {
      method: 'POST',
      headers: {
        authorization: `Basic ${Buffer.from(`${clientId}:gtyc_wrong`).toString('base64')}`,
        'content-type': 'application/x-www-form-urlencoded',
      },
      body: 'grant_type=client_credentials',
    });
    expect(res.status).toBe(401);
    expect(res.headers.get('www-authenticate')).toBe('Basic realm="grantory"');
    expect(await res.json()).toMatchObject({ error: 'invalid_client' });
  });

  it('publishes the signing key set', async () => {
    const jwks = (await (await fetch(`${base}/.well-known/jwks.json`)).json()) as { keys: { kty: string; alg: string; kid: string; d?: string }[] };
    expect(jwks.keys.length).toBeGreaterThan(0);
    for (const key of jwks.keys) {
      expect(key).toMatchObject({ kty: 'EC', alg: 'ES256', kid: expect.any(String) });
      expect(key.d).toBeUndefined();
    }
  });
});
