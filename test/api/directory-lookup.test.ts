/**
 * GET /api/v1/directory/identities: the directory lookup a person without manage-users uses to
 * pick a colleague (whom to delegate to). Only active identities of the caller's tenant whose
 * name or username contains q; only id, username and name; not for callers acting as no identity.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { apiKeyFor, appKeyFor, createApplication, createIdentityWithRights, createOtherTenant } from '../support/security-fixtures.ts';

let t: TestApp;
let plain: { authorization: string };
const ids: Record<string, string> = {};

beforeAll(async () => {
  t = await createTestApp();
  const me = await createIdentityWithRights(t.store, t.tenantId, 'lookup:plain', []);
  plain = { authorization: `Bearer ${(await apiKeyFor(t.services, t.tenantId, me)).secret}` };
  const people = [
    { key: 'grace', body: { username: 'ghopper', firstName: 'Grace', lastName: 'Hopper', email: 'grace.hopper@example.com', employeeNumber: 'E-7001' } },
    { key: 'graceLeft', body: { username: 'gbrewster', displayName: 'Grace Brewster', status: 'terminated' } },
    { key: 'alan', body: { username: 'aturing', displayName: 'Alan Turing', email: 'hopper.fan@example.com' } },
  ];
  for (const { key, body } of people) {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/identities', headers: t.auth, payload: body });
    expect(res.statusCode, res.body).toBe(201);
    ids[key] = res.json<{ id: string }>().id;
  }
});
afterAll(async () => t.close());

const lookUp = (query: string, headers = plain) => t.app.inject({ method: 'GET', url: `/api/v1/directory/identities?${query}`, headers });

describe('the directory lookup', () => {
  it('finds active identities by name or username for a caller without any right, with id, username and name only', async () => {
    const byName = await lookUp('q=hopp');
    expect(byName.statusCode, byName.body).toBe(200);
    // Grace Hopper by her last name; not Alan, whose e-mail address (not searched) contains "hopper".
    expect(byName.json()).toEqual({ items: [{ id: ids.grace, username: 'ghopper', displayName: 'Grace Hopper' }] });
    const byUsername = await lookUp('q=ATURING');
    expect(byUsername.json()).toEqual({ items: [{ id: ids.alan, username: 'aturing', displayName: 'Alan Turing' }] });
    // A terminated identity is not offered; neither is a match on the employee number.
    expect((await lookUp('q=grace')).json<{ items: { id: string }[] }>().items.map((i) => i.id)).toEqual([ids.grace]);
    expect((await lookUp('q=E-7001')).json()).toEqual({ items: [] });
  });

  it('needs two characters and caps the matches at 20', async () => {
    expect((await lookUp('q=g')).statusCode).toBe(400);
    expect((await lookUp('q=%20%20g%20')).statusCode).toBe(400);
    expect((await lookUp('q=gr&limit=21')).statusCode).toBe(400);
    expect((await lookUp('q=gr&email=x')).statusCode).toBe(400);
    expect((await lookUp('')).statusCode).toBe(400);
  });

  it("answers only the caller's tenant, and not an application key (which acts as no identity)", async () => {
    const other = await createOtherTenant(t.store);
    const otherKey = await apiKeyFor(t.services, other.tenantId, other.adminId);
    expect((await lookUp('q=hopper', { authorization: `Bearer ${otherKey.secret}` })).json()).toEqual({ items: [] });
    const applicationId = await createApplication(t.store, t.tenantId, 'lookup-app');
    const appKey = await appKeyFor(t.services, t.tenantId, applicationId);
    const refused = await lookUp('q=hopper', { authorization: `AppKey ${appKey.secret}` });
    expect(refused.statusCode).toBe(403);
    expect((await t.app.inject({ method: 'GET', url: '/api/v1/directory/identities?q=hopper' })).statusCode).toBe(401);
  });
});
