/**
 * A caller's rights come from the access index, and a change of access through the API is
 * in force on the very next request: granting a right opens a route, pausing the assignment
 * closes it again, resuming reopens it — for an API key and for an OAuth client's token.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessEngine } from '../../src/engine/engine.ts';
import { createServices } from '../../src/services/index.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { apiKeyFor, clientFor, createIdentityWithRights } from '../support/security-fixtures.ts';
import { rightIds } from '../support/catalog.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const admin = () => ({ authorization: `Bearer ${t.adminKey}` });

async function tokenFor(clientId: string, clientSecret: string): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/oauth/token',
    payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret },
  });
  expect(res.statusCode).toBe(200);
  return res.json().access_token as string;
}

describe('rights follow assignment changes on the next request', () => {
  it('grant, pause, resume and revoke of read-audit change what an API key and a token may do', async () => {
    const identityId = await createIdentityWithRights(t.store, t.tenantId, 'svc:auditor', []);
    const key = await apiKeyFor(t.services, t.tenantId, identityId);
    const client = await clientFor(t.services, t.tenantId, { identityId, scopes: ['grantory:*'] });
    const token = await tokenFor(client.clientId, client.clientSecret);
    const callers = [`Bearer ${key.secret}`, `Bearer ${token}`];
    const auditStatus = async () =>
      Promise.all(callers.map(async (authorization) => (await t.app.inject({ method: 'GET', url: '/api/v1/audit-events?limit=1', headers: { authorization } })).statusCode));

    expect(await auditStatus()).toEqual([403, 403]);

    const readAudit = (await rightIds(t)).get('read-audit')!;
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/assignments',
      headers: admin(),
      payload: { assignee: { type: 'identity', id: identityId }, resource: { type: 'permission', id: readAudit } },
    });
    expect(created.statusCode).toBe(201);
    const assignmentId = created.json().id as string;
    expect(await auditStatus()).toEqual([200, 200]);

    const act = async (action: string) =>
      expect((await t.app.inject({ method: 'POST', url: `/api/v1/assignments/${assignmentId}/${action}`, headers: admin(), payload: {} })).statusCode).toBe(200);
    await act('pause');
    expect(await auditStatus()).toEqual([403, 403]);
    await act('resume');
    expect(await auditStatus()).toEqual([200, 200]);
    await act('revoke');
    expect(await auditStatus()).toEqual([403, 403]);
  });

  it('holds on a second node that does not follow the change feed by itself: the revision read with the credential makes it catch up', async () => {
    // Node B: its own access index over the same database, never started (no timer).
    const engineB = new AccessEngine(t.store, { clock: () => Date.now() });
    const nodeB = createServices({ ...t.services.deps, access: engineB });
    const identityId = await createIdentityWithRights(t.store, t.tenantId, 'svc:second-node', []);
    const key = await apiKeyFor(t.services, t.tenantId, identityId);
    const client = await clientFor(t.services, t.tenantId, { identityId, scopes: ['grantory:*'] });
    const token = await tokenFor(client.clientId, client.clientSecret);
    const rightsOnB = async () =>
      Promise.all([`Bearer ${key.secret}`, `Bearer ${token}`].map(async (authorization) => [...(await nodeB.authenticate(authorization)).rights]));
    expect(await rightsOnB()).toEqual([[], []]); // B has built its index now

    const readAudit = (await rightIds(t)).get('read-audit')!;
    const created = await t.app.inject({
      method: 'POST',
      url: '/api/v1/assignments',
      headers: admin(),
      payload: { assignee: { type: 'identity', id: identityId }, resource: { type: 'permission', id: readAudit } },
    });
    expect(created.statusCode).toBe(201);
    expect(await rightsOnB()).toEqual([['read-audit'], ['read-audit']]);
  });
});
