/**
 * API keys and application keys: checksum refusal without a store lookup, keyed hashes,
 * expiry, deletion effective on the next request, lastUsedAt, scope narrowing, tenant
 * isolation, never granting beyond the creator's rights, and failed authentications in the
 * audit trail without the secret.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.ts';
import { hashSecret, generateSecret } from '../../src/domain/secret-format.ts';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';
import { createServices } from '../../src/services/index.ts';
import type { Store } from '../../src/store/store.ts';
import { createTestApp, TEST_SECRET_KEY, type TestApp } from '../support/harness.ts';
import { apiKeyFor, appKeyFor, createApplication, createIdentityWithRights, createOtherTenant, waitForAudit } from '../support/security-fixtures.ts';

let t: TestApp;
let now = Date.now();
beforeAll(async () => {
  t = await createTestApp({ now: () => new Date(now) });
});
afterAll(async () => t.close());

const me = (authorization: string) => t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization } });

describe('API keys', () => {
  it('refuses a key with a wrong checksum without looking it up in the store', async () => {
    let lookups = 0;
    const counting = new Proxy(t.store, {
      get(target, prop, receiver) {
        if (prop === 'findApiKeyByHash') {
          return async (hash: string) => {
            lookups += 1;
            return target.findApiKeyByHash(hash);
          };
        }
        const value = Reflect.get(target, prop, receiver) as unknown;
        return typeof value === 'function' ? (value as (...a: unknown[]) => unknown).bind(target) : value;
      },
    }) as Store;
    const services = createServices({ store: counting, now: () => new Date(now), secrets: createServerSecrets(TEST_SECRET_KEY) });
    const app = await buildApp({ services, store: counting, logLevel: 'silent' });
    try {
      const { secret } = await apiKeyFor(t.services, t.tenantId, (await createIdentityWithRights(t.store, t.tenantId, 'k:checksum', [])));
      const good = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${secret}` } });
      expect(good.statusCode).toBe(200);
      expect(lookups).toBe(1);
      const last = secret.at(-1) === 'A' ? 'B' : 'A';
      const mistyped = `${secret.slice(0, -1)}${last}`;
      const res = await app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${mistyped}` } });
      expect(res.statusCode).toBe(401);
      expect(lookups).toBe(1);
    } finally {
      await app.close();
    }
  });

  it('stores a keyed hash, never the key or its plain SHA-256', async () => {
    const identity = await createIdentityWithRights(t.store, t.tenantId, 'k:hash', []);
    const { id, secret } = await apiKeyFor(t.services, t.tenantId, identity);
    const row = await t.store.read(t.tenantId).db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.key_hash).toBe(createServerSecrets(TEST_SECRET_KEY).hashCredential(secret));
    expect(row.key_hash).not.toBe(hashSecret(secret));
    expect(JSON.stringify(row)).not.toContain(secret);
    expect(row.hash_scheme).toBe('hmac-sha256');
  });

  it('re-hashes a key stored before hashes were keyed, on its first use', async () => {
    const identity = await createIdentityWithRights(t.store, t.tenantId, 'k:legacy', []);
    const { id, secret } = await apiKeyFor(t.services, t.tenantId, identity);
    const db = t.store.read(t.tenantId).db;
    await db.updateTable('api_keys').set({ key_hash: hashSecret(secret), hash_scheme: 'sha256' }).where('id', '=', id).execute();
    expect((await me(`Bearer ${secret}`)).statusCode).toBe(200);
    const row = await db.selectFrom('api_keys').selectAll().where('id', '=', id).executeTakeFirstOrThrow();
    expect(row).toMatchObject({ hash_scheme: 'hmac-sha256', key_hash: createServerSecrets(TEST_SECRET_KEY).hashCredential(secret) });
    expect((await me(`Bearer ${secret}`)).statusCode).toBe(200);
  });

  it('refuses a deleted key on the very next request', async () => {
    const identity = await createIdentityWithRights(t.store, t.tenantId, 'k:deleted', []);
    const { id, secret } = await apiKeyFor(t.services, t.tenantId, identity);
    expect((await me(`Bearer ${secret}`)).statusCode).toBe(200);
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${id}`, headers: t.auth });
    expect(del.statusCode).toBe(200);
    const res = await me(`Bearer ${secret}`);
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/error="invalid_token"/);
  });

  it('refuses an expired key', async () => {
    const identity = await createIdentityWithRights(t.store, t.tenantId, 'k:expiring', []);
    const start = now;
    const { secret } = await apiKeyFor(t.services, t.tenantId, identity, { expiresAt: new Date(start + 60_000).toISOString() });
    try {
      expect((await me(`Bearer ${secret}`)).statusCode).toBe(200);
      now = start + 61_000;
      const res = await me(`Bearer ${secret}`);
      expect(res.statusCode).toBe(401);
      expect(res.json()).toMatchObject({ code: 'unauthenticated', detail: 'the API key has expired' });
    } finally {
      now = start;
    }
  });

  it('records lastUsedAt', async () => {
    const identity = await createIdentityWithRights(t.store, t.tenantId, 'k:used', []);
    const { id, secret } = await apiKeyFor(t.services, t.tenantId, identity);
    await me(`Bearer ${secret}`);
    const list = (await t.app.inject({ method: 'GET', url: '/api/v1/api-keys', headers: t.auth })).json() as { items: { id: string; lastUsedAt: string | null }[] };
    expect(list.items.find((k) => k.id === id)?.lastUsedAt).toEqual(expect.any(String));
  });

  it('keeps lastUsedAt to the minute: a use within a minute of the last is not written again', async () => {
    const start = now;
    try {
      const identity = await createIdentityWithRights(t.store, t.tenantId, 'k:minute', []);
      const { id, secret } = await apiKeyFor(t.services, t.tenantId, identity);
      const lastUsed = async () => (await t.store.read(t.tenantId).db.selectFrom('api_keys').select('last_used_at').where('id', '=', id).executeTakeFirstOrThrow()).last_used_at;
      expect((await me(`Bearer ${secret}`)).statusCode).toBe(200);
      const first = await lastUsed();
      expect(first).toBe(new Date(start).toISOString());
      now = start + 30_000;
      expect((await me(`Bearer ${secret}`)).statusCode).toBe(200);
      expect(await lastUsed()).toBe(first);
      now = start + 61_000;
      expect((await me(`Bearer ${secret}`)).statusCode).toBe(200);
      expect(await lastUsed()).toBe(new Date(start + 61_000).toISOString());
    } finally {
      now = start;
    }
  });

  it('narrows rights by scopes, including vendor scopes', async () => {
    const identity = await createIdentityWithRights(t.store, t.tenantId, 'k:scoped', ['read-audit', 'manage-users', 'read-permissions-any-application']);
    const cases: [string[], string[]][] = [
      [['audit.log:read'], ['read-audit']],
      [['cos_auth_api'], ['read-permissions-any-application']],
      [['grantory:manage-users', 'email'], ['manage-users']],
      [['grantory:*'], ['manage-users', 'read-audit', 'read-permissions-any-application']],
    ];
    for (const [scopes, rights] of cases) {
      const { secret } = await apiKeyFor(t.services, t.tenantId, identity, { scopes });
      expect((await me(`Bearer ${secret}`)).json()).toMatchObject({ scopes, rights });
    }
    const bad = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name: 'x', scopes: ['grantory:fly'] } });
    expect(bad.statusCode).toBe(400);
  });

  it('records failed authentications in the audit trail without the secret', async () => {
    const invented = generateSecret('gty');
    expect((await me(`Bearer ${invented}`)).statusCode).toBe(401);
    const identity = await createIdentityWithRights(t.store, t.tenantId, 'k:audited', []);
    const start = now;
    const { id, secret } = await apiKeyFor(t.services, t.tenantId, identity, { expiresAt: new Date(start + 1000).toISOString() });
    now = start + 5000;
    try {
      expect((await me(`Bearer ${secret}`)).statusCode).toBe(401);
    } finally {
      now = start;
    }
    const events = await waitForAudit(t.store, t.services, t.tenantId, 'auth.failure');
    const text = JSON.stringify(events);
    expect(text).not.toContain(invented);
    expect(text).not.toContain(secret);
    expect(events.some((e) => e.actor_name === invented.slice(0, 8) && e.after?.includes('the API key is not valid'))).toBe(true);
    const expired = events.find((e) => e.after?.includes('expired'));
    expect(expired).toMatchObject({ target_type: 'api_key' });
    const rows = await t.store.read(t.tenantId).db.selectFrom('audit_events').select(['target_id']).where('action', '=', 'auth.failure').execute();
    expect(rows.map((r) => r.target_id)).toContain(id);
  });
});

describe('application keys', () => {
  let applicationId = '';
  beforeAll(async () => {
    applicationId = await createApplication(t.store, t.tenantId, 'trustee-app');
  });

  it('are created once with their secret, carry only read-permissions-my-application, and are bound to their application', async () => {
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/applications/${applicationId}/keys`, headers: t.auth, payload: { name: 'CoreOne reader' } });
    expect(res.statusCode).toBe(201);
    const key = res.json() as { id: string; secret: string; prefix: string };
    expect(key.secret).toMatch(/^gtya_[0-9A-Za-z]{38}$/);
    expect(key.secret.startsWith(key.prefix)).toBe(true);
    const list = await t.app.inject({ method: 'GET', url: `/api/v1/applications/${applicationId}/keys`, headers: t.auth });
    expect(JSON.stringify(list.json())).not.toContain(key.secret);
    const caller = await me(`AppKey ${key.secret}`);
    expect(caller.statusCode).toBe(200);
    expect(caller.json()).toMatchObject({ kind: 'app_key', applicationId, identityId: null, rights: ['read-permissions-my-application'] });
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/clients', headers: { authorization: `AppKey ${key.secret}` } })).statusCode).toBe(403);
  });

  it('are refused with a wrong checksum, when deleted (next request) and when expired', async () => {
    const { id, secret } = await appKeyFor(t.services, t.tenantId, applicationId);
    const wrong = `${secret.slice(0, -1)}${secret.at(-1) === 'A' ? 'B' : 'A'}`;
    const refused = await me(`AppKey ${wrong}`);
    expect(refused.statusCode).toBe(401);
    expect(refused.headers['www-authenticate']).toMatch(/^AppKey realm="grantory"/);
    expect((await me(`AppKey ${secret}`)).statusCode).toBe(200);
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/applications/${applicationId}/keys/${id}`, headers: t.auth })).statusCode).toBe(200);
    expect((await me(`AppKey ${secret}`)).statusCode).toBe(401);

    const start = now;
    const expiring = await appKeyFor(t.services, t.tenantId, applicationId, { expiresAt: new Date(start + 1000).toISOString() });
    now = start + 2000;
    try {
      expect((await me(`AppKey ${expiring.secret}`)).statusCode).toBe(401);
    } finally {
      now = start;
    }
  });

  it('cannot be created by a caller who cannot read permissions itself', async () => {
    const identity = await createIdentityWithRights(t.store, t.tenantId, 'k:clients-only', ['manage-clients']);
    const { secret } = await apiKeyFor(t.services, t.tenantId, identity);
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/applications/${applicationId}/keys`, headers: { authorization: `Bearer ${secret}` }, payload: { name: 'x' } });
    expect(res.statusCode).toBe(403);
    expect(res.json()).toMatchObject({ rightsBeyondCaller: ['read-permissions-my-application'] });
  });

  it("answer 404 for another tenant's application", async () => {
    const other = await createOtherTenant(t.store, 'keys-other');
    const { secret } = await apiKeyFor(t.services, other.tenantId, other.adminId);
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/applications/${applicationId}/keys`, headers: { authorization: `Bearer ${secret}` }, payload: { name: 'x' } });
    expect(res.statusCode).toBe(404);
  });
});

describe('OAuth clients', () => {
  it('cannot be created with rights beyond the creator', async () => {
    const creator = await createIdentityWithRights(t.store, t.tenantId, 'k:creator', ['manage-clients', 'manage-credentials-of-others']);
    const { secret } = await apiKeyFor(t.services, t.tenantId, creator);
    const admin = await t.store.read(t.tenantId).db.selectFrom('identities').select('id').where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow();
    const auth = { authorization: `Bearer ${secret}` };
    const beyond = await t.app.inject({ method: 'POST', url: '/api/v1/clients', headers: auth, payload: { name: 'escalate', identityId: admin.id } });
    expect(beyond.statusCode).toBe(403);
    expect((beyond.json() as { rightsBeyondCaller: string[] }).rightsBeyondCaller).toContain('manage-users');
    // Narrowed to what the creator holds, the same identity is fine.
    const narrowed = await t.app.inject({ method: 'POST', url: '/api/v1/clients', headers: auth, payload: { name: 'narrow', identityId: admin.id, scopes: ['grantory:manage-clients'] } });
    expect(narrowed.statusCode).toBe(201);
    const body = narrowed.json() as { clientId: string; clientSecret: string; scopes: string[] };
    expect(body.clientSecret).toMatch(/^gtyc_/);
    const list = await t.app.inject({ method: 'GET', url: '/api/v1/clients', headers: t.auth });
    expect(JSON.stringify(list.json())).not.toContain(body.clientSecret);
  });

  it('an application-bound client without identity reads only its application', async () => {
    const applicationId = await createApplication(t.store, t.tenantId, 'client-app');
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/clients', headers: t.auth, payload: { name: 'coreone', identityId: null, applicationId, scopes: ['cos_auth_api', 'email'] } });
    expect(res.statusCode).toBe(201);
    const { clientId, clientSecret } = res.json() as { clientId: string; clientSecret: string };
    const token = await t.app.inject({
      method: 'POST',
      url: '/connect/token',
      headers: { 'content-type': 'application/x-www-form-urlencoded' },
      payload: `grant_type=client_credentials&scope=cos_auth_api%20email&client_id=${clientId}&client_secret=${clientSecret}`,
    });
    expect(token.statusCode).toBe(200);
    const caller = await me(`Bearer ${(token.json() as { access_token: string }).access_token}`);
    expect(caller.json()).toMatchObject({ kind: 'client', applicationId, identityId: null, scopes: ['cos_auth_api', 'email'], rights: ['read-permissions-my-application'] });
  });

  it('rejects a grant type other than client_credentials and a repeated parameter', async () => {
    const identity = await createIdentityWithRights(t.store, t.tenantId, 'k:grant', []);
    const c = await t.app.inject({ method: 'POST', url: '/api/v1/clients', headers: t.auth, payload: { name: 'g', identityId: identity } });
    const { clientId, clientSecret } = c.json() as { clientId: string; clientSecret: string };
    const form = (body: string) =>
      t.app.inject({ method: 'POST', url: '/oauth/token', headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: `${body}&client_id=${clientId}&client_secret=${clientSecret}` });
    const password = await form('grant_type=password&username=a&password=b');
    expect(password.statusCode).toBe(400);
    expect(password.json()).toEqual({ error: 'unsupported_grant_type', error_description: expect.any(String) });
    const repeated = await form('grant_type=client_credentials&scope=a&scope=b');
    expect(repeated.json()).toMatchObject({ error: 'invalid_request' });
  });
});
