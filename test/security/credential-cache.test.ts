/**
 * The credential cache (src/services/credentials/credential-cache.ts): what authentication
 * read is reused while the tenant's revision is unchanged, and a deleted key or a revoked
 * token is refused on the next request by every node that cached it. Two nodes here are two
 * service sets, each with its own cache and access index, over the same database
 * (test/cli/workers.test.ts does the same with two server processes).
 */
import { afterAll, beforeAll, describe, expect, it, vi } from 'vitest';
import { AccessEngine } from '../../src/engine/engine.ts';
import { createServices, type Services } from '../../src/services/index.ts';
import { CredentialCache } from '../../src/services/credentials/index.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { apiKeyFor, clientFor, createIdentityWithRights } from '../support/security-fixtures.ts';

let t: TestApp;
let nodeB: Services;
beforeAll(async () => {
  t = await createTestApp();
  // Its own index and its own cache (the deps of node A without A's cache).
  nodeB = createServices({ ...t.services.deps, access: new AccessEngine(t.store, { clock: () => Date.now() }), credentialCache: undefined });
});
afterAll(async () => t.close());

async function tokenFor(clientId: string, clientSecret: string): Promise<string> {
  const res = await t.app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret } });
  expect(res.statusCode).toBe(200);
  return res.json().access_token as string;
}

const nodes = () => [t.services, nodeB];
const outcomes = async (authorization: string) =>
  Promise.all(nodes().map(async (node) => node.authenticate(authorization).then(() => 'accepted', (e: Error) => e.message)));

describe('credential cache', () => {
  it('answers a known key and token from the cache, and refuses them on both nodes once deleted or revoked', async () => {
    expect(nodeB.deps.credentialCache).not.toBe(t.services.deps.credentialCache);
    const identityId = await createIdentityWithRights(t.store, t.tenantId, 'svc:cached', []);
    const key = await apiKeyFor(t.services, t.tenantId, identityId);
    const client = await clientFor(t.services, t.tenantId, { identityId, scopes: ['grantory:*'] });
    const token = await tokenFor(client.clientId, client.clientSecret);

    expect(await outcomes(`Bearer ${key.secret}`)).toEqual(['accepted', 'accepted']);
    expect(await outcomes(`Bearer ${token}`)).toEqual(['accepted', 'accepted']);
    // Cached: neither the key nor the token's client is looked up again.
    const keyLookups = vi.spyOn(t.store, 'findApiKeyByHash');
    const clientLookups = vi.spyOn(t.store, 'findClientByClientId');
    try {
      expect(await outcomes(`Bearer ${key.secret}`)).toEqual(['accepted', 'accepted']);
      expect(await outcomes(`Bearer ${token}`)).toEqual(['accepted', 'accepted']);
      expect(keyLookups).not.toHaveBeenCalled();
      expect(clientLookups).not.toHaveBeenCalled();
    } finally {
      keyLookups.mockRestore();
      clientLookups.mockRestore();
    }

    // Deleted through node A's API: refused at once by both nodes.
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${key.id}`, headers: t.auth })).statusCode).toBe(200);
    expect(await outcomes(`Bearer ${key.secret}`)).toEqual(['the API key is not valid', 'the API key is not valid']);

    // Revoked: refused at once by both nodes.
    const revoked = await t.app.inject({ method: 'POST', url: '/oauth/revoke', payload: { token, client_id: client.clientId, client_secret: client.clientSecret } });
    expect(revoked.statusCode).toBe(200);
    expect(await outcomes(`Bearer ${token}`)).toEqual(['the access token has been revoked', 'the access token has been revoked']);
  });

  it("refuses a cached token once its client is deleted, and an unrelated write only makes the next request read the credential again", async () => {
    const identityId = await createIdentityWithRights(t.store, t.tenantId, 'svc:cached-client', []);
    const client = await clientFor(t.services, t.tenantId, { identityId, scopes: ['grantory:*'] });
    const token = await tokenFor(client.clientId, client.clientSecret);
    expect(await outcomes(`Bearer ${token}`)).toEqual(['accepted', 'accepted']);
    // An unrelated write: the entry is read again (not trusted), and still accepted.
    await createIdentityWithRights(t.store, t.tenantId, 'svc:unrelated', []);
    const clientLookups = vi.spyOn(t.store, 'findClientByClientId');
    try {
      expect(await outcomes(`Bearer ${token}`)).toEqual(['accepted', 'accepted']);
      expect(clientLookups).toHaveBeenCalledTimes(2);
    } finally {
      clientLookups.mockRestore();
    }
    expect((await t.app.inject({ method: 'DELETE', url: `/api/v1/clients/${client.id}`, headers: t.auth })).statusCode).toBe(200);
    expect(await outcomes(`Bearer ${token}`)).toEqual(["the access token's client no longer exists", "the access token's client no longer exists"]);
  });

  it('reads the revision once for the requests of one turn of the event loop, and never joins a read already under way', async () => {
    const cache = new CredentialCache(t.store);
    const reads = vi.spyOn(t.store, 'tenantRevisions');
    try {
      const together = await Promise.all(Array.from({ length: 20 }, () => cache.revisionOf(t.tenantId)));
      expect(new Set(together).size).toBe(1);
      expect(reads).toHaveBeenCalledTimes(1);

      // A request that arrives while a read is under way waits for a read of its own.
      const first = cache.revisionOf(t.tenantId);
      await new Promise((r) => setImmediate(r)); // the first read has been issued
      const second = cache.revisionOf(t.tenantId);
      await Promise.all([first, second]);
      expect(reads).toHaveBeenCalledTimes(3);
      expect(await cache.revisionOf('no-such-tenant')).toBeUndefined();
    } finally {
      reads.mockRestore();
    }
  });

  it('keeps at most its bound of entries, dropping the oldest', () => {
    const cache = new CredentialCache(t.store, 2);
    cache.set('a', { tenant: t.tenantId }, 1);
    cache.set('b', { tenant: t.tenantId }, 1);
    cache.set('c', { tenant: t.tenantId }, 1);
    expect(cache.size).toBe(2);
  });
});
