/**
 * Credentials that act as someone else (issue 12, escalation path 4 and the mint step of
 * path 1): a key or client for another identity needs `manage-credentials-of-others`; its
 * rights are capped on every request by the current rights of the identity on whose
 * authority it was made (the first identity of a chain of keys); a client bound only to an
 * application acts as no identity with one right; the audit trail names who acts through whom.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RIGHTS, type Right } from '../../src/domain/rights.ts';
import { verifyAuditTrail } from '../../src/services/audit/trail.ts';
import { rightIds, v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { apiKeyFor, createApplication, createIdentityWithRights } from '../support/security-fixtures.ts';

let t: TestApp;
let adminId = '';
let ids = new Map<string, string>();
beforeAll(async () => {
  t = await createTestApp();
  const admin = await t.store.read(t.tenantId).db.selectFrom('identities').select('id').where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow();
  adminId = admin.id;
  ids = await rightIds(t);
});
afterAll(async () => t.close());

const { get, post, del } = v1Calls(() => t);
const bearer = (secret: string) => ({ authorization: `Bearer ${secret}` });

interface Me {
  identityId: string | null;
  authorityId: string | null;
  applicationId: string | null;
  rights: string[];
}
async function me(auth: { authorization: string }): Promise<Me> {
  const res = await get('/me', auth);
  expect(res.statusCode, res.body).toBe(200);
  return res.json() as Me;
}

/** Assigns a Grantory right to an identity or unit as the administrator; returns the assignment id. */
async function assign(assignee: { type: 'identity' | 'orgUnit'; id: string }, right: Right): Promise<string> {
  const res = await post('/assignments', { assignee, resource: { type: 'permission', id: ids.get(right)! } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json().id as string;
}

async function setState(assignmentId: string, action: 'pause' | 'resume' | 'revoke', auth = t.auth) {
  const res = await post(`/assignments/${assignmentId}/${action}`, {}, auth);
  expect(res.statusCode, res.body).toBe(200);
}

/** Creates an API key through the API as `auth`; the whole response. */
const createKey = (auth: { authorization: string }, body: Record<string, unknown>) => post('/api-keys', { name: 'k', ...body }, auth);

/** A key (made by the system, so capped by nothing but its identity) of a new identity holding `rights`. */
async function keyOf(subject: string, rights: Right[]): Promise<{ identityId: string; auth: { authorization: string } }> {
  const identityId = await createIdentityWithRights(t.store, t.tenantId, subject, rights);
  return { identityId, auth: bearer((await apiKeyFor(t.services, t.tenantId, identityId)).secret) };
}

async function tokenOf(clientId: string, clientSecret: string): Promise<{ authorization: string }> {
  const res = await t.app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret } });
  expect(res.statusCode, res.body).toBe(200);
  return bearer(res.json().access_token as string);
}

describe('acting as another identity needs manage-credentials-of-others', () => {
  it('a key with manage-clients only cannot create a key or a client for the administrator, even narrowed to its own rights', async () => {
    const m = await keyOf('act:clients-only', ['manage-clients']);
    const before = (await get('/api-keys')).json().items.length as number;
    for (const [url, body] of [
      ['/api-keys', { name: 'as admin', identityId: adminId }],
      ['/api-keys', { name: 'as admin', identityId: adminId, scopes: ['grantory:manage-clients'] }],
      ['/clients', { name: 'as admin', identityId: adminId, scopes: ['grantory:manage-clients'] }],
    ] as const) {
      const res = await post(url, body, m.auth);
      expect(res.statusCode, res.body).toBe(403);
      expect(res.json()).toMatchObject({ code: 'forbidden', requiredRights: ['manage-credentials-of-others'] });
      expect(res.json().detail).toContain('manage-credentials-of-others');
    }
    expect((await get('/api-keys')).json().items.length).toBe(before);

    // For itself it needs nothing more, and its key holds what it holds.
    const own = await createKey(m.auth, {});
    expect(own.statusCode, own.body).toBe(201);
    expect(own.json()).toMatchObject({ identityId: m.identityId, authorityId: m.identityId });
    expect(await me(bearer(own.json().secret))).toMatchObject({ identityId: m.identityId, authorityId: m.identityId, rights: ['manage-clients'] });
  });

  it("caps the created key by the creator's current rights: a revoked right is lost on the next request, regained only up to the key identity's rights", async () => {
    const c = await keyOf('act:creator', ['manage-clients', 'manage-credentials-of-others']);
    const creatorAudit = await assign({ type: 'identity', id: c.identityId }, 'read-audit');
    const v = await createIdentityWithRights(t.store, t.tenantId, 'act:target', ['read-audit']);

    const created = await createKey(c.auth, { identityId: v });
    expect(created.statusCode, created.body).toBe(201);
    expect(created.json()).toMatchObject({ identityId: v, authorityId: c.identityId });
    const k = bearer(created.json().secret);
    expect(await me(k)).toMatchObject({ identityId: v, authorityId: c.identityId, rights: ['read-audit'] });

    // The key's identity gains rights its creator lacks: the key does not.
    await assign({ type: 'identity', id: v }, 'manage-users');
    expect((await me(k)).rights).toEqual(['read-audit']);
    expect((await get('/identities?limit=1', k)).statusCode).toBe(403);

    // Revoked from the creator: gone from the key on the next request.
    await setState(creatorAudit, 'revoke');
    expect((await me(k)).rights).toEqual([]);
    expect((await get('/audit-events?limit=1', k)).statusCode).toBe(403);

    // Given back (and more): regained only where the key's identity holds it too.
    for (const right of ['read-audit', 'manage-users', 'approve-requests'] as const) await assign({ type: 'identity', id: c.identityId }, right);
    expect((await me(k)).rights).toEqual(['manage-users', 'read-audit']);
    expect((await get('/audit-events?limit=1', k)).statusCode).toBe(200);
  });

  it('a chain key -> key stays capped by the first creator, never by the identity the middle key acts as', async () => {
    const c = await keyOf('act:chain-creator', ['manage-clients', 'manage-credentials-of-others']);
    const creatorAudit = await assign({ type: 'identity', id: c.identityId }, 'read-audit');
    const v = await createIdentityWithRights(t.store, t.tenantId, 'act:chain-middle', ['read-audit', 'manage-clients', 'manage-credentials-of-others']);
    const w = await createIdentityWithRights(t.store, t.tenantId, 'act:chain-end', ['read-audit']);

    const k1 = await createKey(c.auth, { identityId: v });
    expect(k1.statusCode, k1.body).toBe(201);
    const k2 = await createKey(bearer(k1.json().secret), { identityId: w });
    expect(k2.statusCode, k2.body).toBe(201);
    expect(k2.json()).toMatchObject({ identityId: w, authorityId: c.identityId });
    const client = await post('/clients', { name: 'chained', identityId: w }, bearer(k1.json().secret));
    expect(client.statusCode, client.body).toBe(201);
    expect(client.json()).toMatchObject({ identityId: w, authorityId: c.identityId });
    const token = await tokenOf(client.json().clientId, client.json().clientSecret);

    expect((await me(bearer(k2.json().secret))).rights).toEqual(['read-audit']);
    expect((await me(token)).rights).toEqual(['read-audit']);
    await setState(creatorAudit, 'revoke');
    // The middle key's identity still holds read-audit; the end of the chain does not.
    expect((await me(bearer(k2.json().secret))).rights).toEqual([]);
    expect((await me(token)).rights).toEqual([]);
    expect((await me(bearer(k1.json().secret))).rights).toEqual(['manage-clients', 'manage-credentials-of-others']);
  });

  it('a key whose authority was deleted holds nothing, and still authenticates', async () => {
    const unit = await post('/org-units', { name: 'Credential desk' });
    expect(unit.statusCode, unit.body).toBe(201);
    for (const right of ['manage-clients', 'manage-credentials-of-others', 'read-audit'] as const) await assign({ type: 'orgUnit', id: unit.json().id }, right);
    const d = await createIdentityWithRights(t.store, t.tenantId, 'act:leaver', [], { orgUnitId: unit.json().id });
    const dKey = await apiKeyFor(t.services, t.tenantId, d);
    const v = await createIdentityWithRights(t.store, t.tenantId, 'act:left-behind', ['read-audit']);
    const created = await createKey(bearer(dKey.secret), { identityId: v });
    expect(created.statusCode, created.body).toBe(201);
    const k = bearer(created.json().secret);
    expect((await me(k)).rights).toEqual(['read-audit']);

    expect((await del(`/api-keys/${dKey.id}`)).statusCode).toBe(200);
    const gone = await del(`/identities/${d}`);
    expect(gone.statusCode, gone.body).toBe(200);
    expect(await me(k)).toMatchObject({ identityId: v, authorityId: d, rights: [] });
  });
});

describe('a client bound only to an application', () => {
  it('acts as no identity with read-permissions-my-application only, whether identityId is left out or null', async () => {
    const applicationId = await createApplication(t.store, t.tenantId, 'act-app');
    for (const body of [{ applicationId }, { applicationId, identityId: null }]) {
      const res = await post('/clients', { name: 'app reader', ...body });
      expect(res.statusCode, res.body).toBe(201);
      expect(res.json()).toMatchObject({ applicationId, identityId: null, authorityId: adminId });
      const token = await tokenOf(res.json().clientId, res.json().clientSecret);
      expect(await me(token)).toEqual(expect.objectContaining({ identityId: null, applicationId, rights: ['read-permissions-my-application'] }));
      expect((await get('/identities?limit=1', token)).statusCode).toBe(403);
    }
  });

  it('cannot be made by a caller who cannot read permissions, and loses its right with its creator', async () => {
    const applicationId = await createApplication(t.store, t.tenantId, 'act-app-2');
    const m = await keyOf('act:app-clients-only', ['manage-clients']);
    const refused = await post('/clients', { name: 'x', applicationId }, m.auth);
    expect(refused.statusCode, refused.body).toBe(403);
    expect(refused.json()).toMatchObject({ rightsBeyondCaller: ['read-permissions-my-application'] });

    const r = await keyOf('act:app-reader', ['manage-clients']);
    const read = await assign({ type: 'identity', id: r.identityId }, 'read-permissions-any-application');
    const made = await post('/clients', { name: 'y', applicationId }, r.auth);
    expect(made.statusCode, made.body).toBe(201);
    const token = await tokenOf(made.json().clientId, made.json().clientSecret);
    expect((await me(token)).rights).toEqual(['read-permissions-my-application']);
    await setState(read, 'revoke');
    expect((await me(token)).rights).toEqual([]);
  });
});

describe('the audit trail names who acts through whom', () => {
  it("records the identity acted for and the authority on a key's events, filterable by authority, and the chain still verifies", async () => {
    const c = await keyOf('act:audited-creator', ['manage-clients', 'manage-credentials-of-others']);
    const v = await createIdentityWithRights(t.store, t.tenantId, 'act:audited-target', ['manage-clients']);
    const k1 = await createKey(c.auth, { identityId: v });
    expect(k1.statusCode, k1.body).toBe(201);
    const k2 = await createKey(bearer(k1.json().secret), {});
    expect(k2.statusCode, k2.body).toBe(201);

    const events = await get(`/audit-events?authorityId=${c.identityId}&action=api_key.create`);
    expect(events.statusCode, events.body).toBe(200);
    const items = events.json().items as { targetId: string; actor: { id: string }; onBehalfOfId: string; authorityId: string }[];
    expect(items).toEqual([expect.objectContaining({ targetId: k2.json().id, actor: expect.objectContaining({ id: k1.json().id }), onBehalfOfId: v, authorityId: c.identityId })]);
    // The creator's own key acts for itself: its events need no authority.
    const own = (await get(`/audit-events?targetId=${k1.json().id}&action=api_key.create`)).json().items;
    expect(own).toEqual([expect.objectContaining({ onBehalfOfId: c.identityId, authorityId: null })]);

    const csv = await t.app.inject({ method: 'GET', url: `/api/v1/exports/audit-events?format=csv&authorityId=${c.identityId}`, headers: t.auth });
    expect(csv.statusCode, csv.body).toBe(200);
    expect(csv.body.split('\n')[0]).toContain('authorityId');
    expect(csv.body).toContain(`,${v},${c.identityId},`);
    const [verified] = await verifyAuditTrail(t.store);
    expect(verified).toMatchObject({ problem: null });
  });
});

describe('path 1, the mint step: pause the administrator, mint a key as the administrator, resume', () => {
  it('is refused without manage-credentials-of-others, and with it the minted key stays capped by its creator after the resume', async () => {
    // A second full administrator resumes what is paused (and keeps the tenant administered).
    const second = await keyOf('act:second-admin', [...RIGHTS]);
    const adminRole = (await get(`/assignments?assigneeType=identity&assigneeId=${adminId}&limit=100`)).json().items.find(
      (a: { resource: { type: string } }) => a.resource.type === 'role',
    ) as { id: string };

    const p = await keyOf('act:pauser', ['manage-users', 'manage-clients']);
    const paused = await post(`/assignments/${adminRole.id}/pause`, {}, p.auth);
    // Refused by the rights guard, or allowed: either way minting a key as the administrator must fail.
    expect([200, 403, 409]).toContain(paused.statusCode);
    if (paused.statusCode !== 200) await setState(adminRole.id, 'pause', second.auth);
    for (const url of ['/api-keys', '/clients']) {
      const mint = await post(url, { name: 'mint', identityId: adminId }, p.auth);
      expect(mint.statusCode, mint.body).toBe(403);
      expect(mint.json()).toMatchObject({ requiredRights: ['manage-credentials-of-others'] });
    }

    const p2 = await keyOf('act:pauser-with-right', ['manage-users', 'manage-clients', 'manage-credentials-of-others']);
    const minted = await createKey(p2.auth, { identityId: adminId });
    expect(minted.statusCode, minted.body).toBe(201);
    expect((await me(bearer(minted.json().secret))).rights).toEqual([]);
    await setState(adminRole.id, 'resume', second.auth);

    expect((await me(t.auth)).rights).toEqual([...RIGHTS].sort());
    expect(await me(bearer(minted.json().secret))).toMatchObject({
      identityId: adminId,
      authorityId: p2.identityId,
      rights: ['manage-clients', 'manage-credentials-of-others', 'manage-users'],
    });
    expect((await get('/audit-events?limit=1', bearer(minted.json().secret))).statusCode).toBe(403);
  });

  it('the bootstrap key acts as the administrator with every right and no cap', async () => {
    expect(await me(t.auth)).toMatchObject({ identityId: adminId, authorityId: null, rights: [...RIGHTS].sort() });
  });
});
