/**
 * The CoreOne profile: every call of the seed document (coreone-permission-api.md) replayed
 * against Grantory — by user context (a user id given as a number), by organization-unit
 * context, and by user subject with an application name containing spaces — on both
 * endpoints, reading the provisioned space only.
 */
import { mkdtempSync, rmSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { exportJWK, generateKeyPair, SignJWT, type CryptoKey, type JWTPayload } from 'jose';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { EXTERNAL_ALGORITHMS } from '../../src/services/index.ts';
import { buildApp } from '../../src/api/app.ts';
import type { App } from '../../src/api/deps.ts';
import type { Services } from '../../src/services/index.ts';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
let fx: AccessFixtures;
/** The same store and services, but every caller is a client of `trusteeApp` (caller.applicationId). */
let clientApp: App;
const ids = {} as Record<'company' | 'jdoe' | 'asmith' | 'trustee' | 'trusteeTest' | 'addBill' | 'view' | 'reader' | 'ouAssignment' | 'pausedAssignment', string>;

const ISSUER = 'https://idp.example.test/realms/coreone';
let idpKey: CryptoKey;
let jwksDir = '';

/** A user token of the external issuer, issued to the OIDC client `azp`. */
async function userToken(sub: string, claims: JWTPayload = {}): Promise<Record<string, string>> {
  const iat = Math.floor(Date.now() / 1000);
  const jwt = await new SignJWT({ iss: ISSUER, aud: 'grantory-api', sub, iat, exp: iat + 300, scope: 'openid cos_auth_api', ...claims })
    .setProtectedHeader({ alg: 'RS256', kid: 'idp-1' })
    .sign(idpKey);
  return { authorization: `Bearer ${jwt}` };
}

beforeAll(async () => {
  const pair = await generateKeyPair('RS256', { extractable: true });
  idpKey = pair.privateKey;
  jwksDir = mkdtempSync(join(tmpdir(), 'grantory-coreone-jwks-'));
  const jwksFile = join(jwksDir, 'jwks.json');
  writeFileSync(jwksFile, JSON.stringify({ keys: [{ ...(await exportJWK(pair.publicKey)), kid: 'idp-1', alg: 'RS256', use: 'sig' }] }));
  t = await createTestApp({
    security: { externalIssuer: { issuer: ISSUER, audience: 'grantory-api', tenant: 'default', subjectClaim: 'sub', algorithms: EXTERNAL_ALGORITHMS, jwksFile } },
  });
  fx = new AccessFixtures(t.store, t.tenantId);
  await fx.batch(async (tx) => {
    ids.company = await fx.unit({ name: 'Trustee Ltd', number: 5445 }, tx);
    ids.jdoe = await fx.identity({ number: 17173, subject: 'c1s:17173', username: 'jdoe', email: 'jdoe@example.com' }, tx);
    ids.asmith = await fx.identity({ number: 17175, subject: 'c1s:17175', username: 'asmith', email: 'asmith@example.com' }, tx);
    ids.trustee = await fx.application({ name: 'trusteeApp' }, tx);
    ids.trusteeTest = await fx.application({ name: 'Trustee Test Application', kind: 'connected' }, tx);
    ids.addBill = await fx.permission({ applicationId: ids.trustee, name: 'TrusteeApp_AddBill' }, tx);
    ids.view = await fx.permission({ applicationId: ids.trustee, name: 'TrusteeApp_View' }, tx);
    ids.reader = await fx.permission({ applicationId: ids.trusteeTest, name: 'Reader' }, tx);
    // jdoe may add bills for company 5445 only, and view what concerns user 17175.
    ids.ouAssignment = await fx.assignment({ assigneeId: ids.jdoe, resourceId: ids.addBill, contextType: 'orgUnit', contextId: ids.company }, tx);
    await fx.assignment({ assigneeId: ids.jdoe, resourceId: ids.view, contextType: 'identity', contextId: ids.asmith }, tx);
    await fx.assignment({ assigneeId: ids.asmith, resourceId: ids.addBill, contextType: 'identity', contextId: ids.asmith }, tx);
    // Assigned (IAM space) but paused: not provisioned, never returned.
    ids.pausedAssignment = await fx.assignment({ assigneeId: ids.jdoe, resourceId: ids.view, state: 'paused' }, tx);
  });
  const put = await t.app.inject({
    method: 'PUT',
    url: `/api/v1/applications/${ids.trusteeTest}/accounts/jdoe`,
    headers: t.auth,
    payload: { identityId: ids.jdoe, grants: [{ permission: 'Reader' }] },
  });
  expect(put.statusCode, put.body).toBe(201);
  await t.access.syncNow(t.tenantId);
  const services: Services = {
    ...t.services,
    authenticate: async (header) => ({ ...(await t.services.authenticate(header)), applicationId: ids.trustee }),
  };
  clientApp = await buildApp({ services, store: t.store, logLevel: 'silent' });
});
afterAll(async () => {
  await clientApp.close();
  await t.close();
  rmSync(jwksDir, { recursive: true, force: true });
});

const row = (over: Record<string, unknown>) => ({ application: 'trusteeApp', userEmail: expect.anything(), ...over });
const call = (url: string, app: App = t.app, headers: Record<string, string> = t.auth) => app.inject({ method: 'GET', url, headers });

async function keyWith(scopes: string[] | null, rolePermissionNames: string[]): Promise<Record<string, string>> {
  const identity = await fx.identity({ subject: `c1s:client-${Math.random()}` });
  const db = t.store.read(t.tenantId).db;
  for (const name of rolePermissionNames) {
    const p = await db.selectFrom('permissions').select('id').where('tenant_id', '=', t.tenantId).where('name', '=', name).executeTakeFirstOrThrow();
    await fx.assignment({ assigneeId: identity, resourceId: p.id });
  }
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name: `client ${identity}`, identityId: identity, scopes } });
  expect(res.statusCode, res.body).toBe(201);
  return { authorization: `Bearer ${(res.json() as { secret: string }).secret}` };
}

describe('CoreOne /api/permission (seed calls)', () => {
  it('by user context, the user id given as a number', async () => {
    const res = await call('/api/permission?contextType=User&contextObjectIdentifier=17175&application=trusteeApp');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual([
      row({ username: 'jdoe', userId: 17173, userEmail: 'jdoe@example.com', role: 'TrusteeApp_View', contextType: 'User', contextObjectIdentifier: '17175' }),
      row({ username: 'asmith', userId: 17175, userEmail: 'asmith@example.com', role: 'TrusteeApp_AddBill', contextType: 'User', contextObjectIdentifier: '17175' }),
    ]);
  });

  it('by organization-unit context', async () => {
    const res = await call('/api/permission?contextType=OrganizationUnit&contextObjectIdentifier=5445&application=trusteeApp');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual([row({ username: 'jdoe', userId: 17173, role: 'TrusteeApp_AddBill', contextType: 'OrganizationUnit', contextObjectIdentifier: '5445' })]);
  });

  it('by user subject, with an application name containing spaces', async () => {
    for (const url of [
      '/api/permission?application=Trustee%20Test%20Application&userSubject=c1s:17173',
      '/api/permission?application=Trustee+Test+Application&userSubject=c1s%3A17173',
    ]) {
      const res = await call(url);
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual([row({ username: 'jdoe', userId: 17173, role: 'Reader', application: 'Trustee Test Application', contextType: 'All', contextObjectIdentifier: null })]);
    }
  });

  it('reads the provisioned space: a paused assignment does not show, resumed it does', async () => {
    const all = await call('/api/permission?userSubject=c1s:17173');
    const roles = (all.json() as { role: string; contextType: string }[]).map((r) => `${r.role}@${r.contextType}`).sort();
    expect(roles).toEqual(['Reader@All', 'TrusteeApp_AddBill@OrganizationUnit', 'TrusteeApp_View@User']);
    await fx.setAssignmentState(ids.pausedAssignment, 'active');
    await t.access.syncNow(t.tenantId);
    expect((await call('/api/permission?userSubject=c1s:17173&application=trusteeApp')).json()).toContainEqual(row({ role: 'TrusteeApp_View', contextType: 'All', contextObjectIdentifier: null, username: 'jdoe', userId: 17173 }));
    await fx.setAssignmentState(ids.pausedAssignment, 'paused');
    await fx.setAssignmentState(ids.ouAssignment, 'paused');
    await t.access.syncNow(t.tenantId);
    expect((await call('/api/permission?contextType=OrganizationUnit&contextObjectIdentifier=5445&application=trusteeApp')).json()).toEqual([]);
    await fx.setAssignmentState(ids.ouAssignment, 'active');
    await t.access.syncNow(t.tenantId);
  });

  it('returns userEmail only with the email scope', async () => {
    const plain = await keyWith(['grantory:read-permissions-any-application', 'cos_auth_api'], ['read-permissions-any-application']);
    const noEmail = await call('/api/permission?contextType=OrganizationUnit&contextObjectIdentifier=5445', t.app, plain);
    expect(noEmail.statusCode, noEmail.body).toBe(200);
    expect(noEmail.json()).toEqual([{ username: 'jdoe', userId: 17173, role: 'TrusteeApp_AddBill', application: 'trusteeApp', contextType: 'OrganizationUnit', contextObjectIdentifier: '5445' }]);
    const withEmail = await keyWith(['grantory:read-permissions-any-application', 'cos_auth_api', 'email'], ['read-permissions-any-application']);
    expect((await call('/api/permission?contextType=OrganizationUnit&contextObjectIdentifier=5445', t.app, withEmail)).json()).toEqual([
      expect.objectContaining({ userEmail: 'jdoe@example.com' }),
    ]);
  });

  it('enforces the rights and validates the query', async () => {
    const none = await keyWith(null, []);
    expect((await call('/api/permission?userSubject=c1s:17173', t.app, none)).statusCode).toBe(403);
    const mine = await keyWith(null, ['read-permissions-my-application']);
    expect((await call('/api/permission?userSubject=c1s:17173', t.app, mine)).statusCode).toBe(403);
    expect((await call('/api/permission?contextType=User')).statusCode).toBe(400);
    expect((await call('/api/permission?contextType=Planet&contextObjectIdentifier=1')).statusCode).toBe(400);
    expect((await call('/api/permission?contextType=User&contextObjectIdentifier=99999')).json()).toEqual([]);
    // Unit and user found by other unique attributes too; the identifier comes back as sent.
    const byUnitId = await call(`/api/permission?contextType=OrganizationUnit&contextObjectIdentifier=${ids.company}`);
    expect(byUnitId.json()).toEqual([expect.objectContaining({ contextType: 'OrganizationUnit', contextObjectIdentifier: ids.company })]);
    expect((await call('/api/permission?contextType=User&contextObjectIdentifier=c1s:17175&application=trusteeApp')).json()).toHaveLength(2);
  });
});

describe('CoreOne identifiers, application names and parameterless queries', () => {
  it('echoes an external unit id as sent, and shows it for holder queries', async () => {
    const unit = await fx.unit({ name: 'Trustee Branch', externalId: '98765' });
    await fx.assignment({ assigneeId: ids.asmith, resourceId: ids.view, contextType: 'orgUnit', contextId: unit });
    await t.access.syncNow(t.tenantId);
    const res = await call('/api/permission?contextType=OrganizationUnit&contextObjectIdentifier=98765&application=trusteeApp');
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json()).toEqual([row({ username: 'asmith', userId: 17175, role: 'TrusteeApp_View', contextType: 'OrganizationUnit', contextObjectIdentifier: '98765' })]);
    const bySubject = (await call('/api/permission?userSubject=c1s:17175&application=trusteeApp')).json() as { contextType: string; contextObjectIdentifier: string }[];
    expect(bySubject).toContainEqual(expect.objectContaining({ contextType: 'OrganizationUnit', contextObjectIdentifier: '98765' }));
  });

  it('finds a user by e-mail address (any case) and a unit by an e-mail kept as its external id', async () => {
    const res = await call('/api/permission?contextType=User&contextObjectIdentifier=ASmith%40Example.com&application=trusteeApp');
    expect(res.statusCode, res.body).toBe(200);
    expect((res.json() as { role: string; contextObjectIdentifier: string }[]).map((r) => [r.role, r.contextObjectIdentifier])).toEqual([
      ['TrusteeApp_View', 'ASmith@Example.com'],
      ['TrusteeApp_AddBill', 'ASmith@Example.com'],
    ]);
    const unit = await fx.unit({ name: 'Mail Unit', externalId: 'billing@trustee.example' });
    await fx.assignment({ assigneeId: ids.asmith, resourceId: ids.view, contextType: 'orgUnit', contextId: unit });
    await t.access.syncNow(t.tenantId);
    const byMail = await call('/api/permission?contextType=OrganizationUnit&contextObjectIdentifier=Billing%40Trustee.example');
    expect(byMail.json()).toEqual([row({ username: 'asmith', userId: 17175, role: 'TrusteeApp_View', contextType: 'OrganizationUnit', contextObjectIdentifier: 'Billing@Trustee.example' })]);
  });

  it('matches the application by exact name, else ignoring case when only one application has the name', async () => {
    for (const name of ['trusteeApp', 'TRUSTEEAPP', 'TrusteeApp']) {
      const res = await call(`/api/permission?contextType=OrganizationUnit&contextObjectIdentifier=5445&application=${name}`);
      expect(res.json(), name).toEqual([row({ username: 'jdoe', userId: 17173, role: 'TrusteeApp_AddBill', contextType: 'OrganizationUnit', contextObjectIdentifier: '5445' })]);
    }
    expect((await call('/api/permission?contextType=OrganizationUnit&contextObjectIdentifier=5445&application=trustee')).json()).toEqual([]);
  });

  it('answers a query without parameters with every provisioned row of the readable applications', async () => {
    const all = await call('/api/permission');
    expect(all.statusCode, all.body).toBe(200);
    const rows = all.json() as { application: string; role: string; username: string; contextType: string }[];
    expect(rows).toContainEqual(row({ username: 'jdoe', userId: 17173, role: 'TrusteeApp_AddBill', contextType: 'OrganizationUnit', contextObjectIdentifier: '5445' }));
    expect(rows).toContainEqual(expect.objectContaining({ application: 'Trustee Test Application', role: 'Reader', username: 'jdoe', contextType: 'All' }));
    // Paused assignments stay out here too.
    expect(rows.filter((r) => r.application === 'trusteeApp' && r.contextType === 'All' && r.username === 'jdoe')).toEqual([]);
    const onlyOne = (await call('/api/permission?application=Trustee%20Test%20Application')).json() as { application: string }[];
    expect(onlyOne.length).toBeGreaterThan(0);
    expect(new Set(onlyOne.map((r) => r.application))).toEqual(new Set(['Trustee Test Application']));
    const mine = (await call('/api/permission/myapplication', clientApp)).json() as { application: string }[];
    expect(mine.length).toBeGreaterThan(0);
    expect(new Set(mine.map((r) => r.application))).toEqual(new Set(['trusteeApp']));
  });
});

describe('CoreOne /api/permission/myapplication (seed calls)', () => {
  it("returns only the calling client's application", async () => {
    const byUser = await call('/api/permission/myapplication?contextType=User&contextObjectIdentifier=17175', clientApp);
    expect(byUser.statusCode, byUser.body).toBe(200);
    expect((byUser.json() as { role: string }[]).map((r) => r.role)).toEqual(['TrusteeApp_View', 'TrusteeApp_AddBill']);
    const byUnit = await call('/api/permission/myapplication?contextType=OrganizationUnit&contextObjectIdentifier=5445', clientApp);
    expect(byUnit.json()).toEqual([row({ username: 'jdoe', userId: 17173, role: 'TrusteeApp_AddBill', contextType: 'OrganizationUnit', contextObjectIdentifier: '5445' })]);
    const bySubject = await call('/api/permission/myapplication?userSubject=c1s:17173', clientApp);
    const rows = bySubject.json() as { application: string; role: string }[];
    expect(rows.map((r) => r.application)).toEqual(['trusteeApp', 'trusteeApp']);
    expect(rows.map((r) => r.role).sort()).toEqual(['TrusteeApp_AddBill', 'TrusteeApp_View']);
    // `application` is not a parameter of this endpoint.
    expect((await call('/api/permission/myapplication?userSubject=c1s:17173&application=Trustee%20Test%20Application', clientApp)).statusCode).toBe(200);
  });

  it('refuses a credential that is not bound to an application', async () => {
    const res = await call('/api/permission/myapplication?userSubject=c1s:17173');
    expect(res.statusCode).toBe(403);
  });
});

describe('CoreOne /api/permission/myapplication with a user token of the external issuer', () => {
  it("answers for the application of the client the user signed in with (azp), whoever the user is", async () => {
    // Two different users holding "read permissions for my application" sign in through the trusteeApp client.
    for (const sub of ['c1s:reader-1', 'c1s:reader-2']) {
      const user = await fx.identity({ subject: sub, username: sub.slice(4) });
      const right = await t.store.read(t.tenantId).db.selectFrom('permissions').select('id').where('tenant_id', '=', t.tenantId).where('name', '=', 'read-permissions-my-application').executeTakeFirstOrThrow();
      await fx.assignment({ assigneeId: user, resourceId: right.id });
    }
    await t.access.syncNow(t.tenantId);
    for (const sub of ['c1s:reader-1', 'c1s:reader-2']) {
      const res = await call('/api/permission/myapplication?contextType=OrganizationUnit&contextObjectIdentifier=5445', t.app, await userToken(sub, { azp: 'trusteeApp' }));
      expect(res.statusCode, res.body).toBe(200);
      expect(res.json()).toEqual([{ username: 'jdoe', userId: 17173, role: 'TrusteeApp_AddBill', application: 'trusteeApp', contextType: 'OrganizationUnit', contextObjectIdentifier: '5445' }]);
    }
    // RFC 9068's client_id names the client when azp is absent; the application is matched by name ignoring case.
    const byClientId = await call('/api/permission/myapplication?userSubject=c1s:17173', t.app, await userToken('c1s:reader-1', { client_id: 'TRUSTEEAPP' }));
    expect((byClientId.json() as { application: string }[]).map((r) => r.application)).toEqual(expect.arrayContaining(['trusteeApp']));
    expect(new Set((byClientId.json() as { application: string }[]).map((r) => r.application))).toEqual(new Set(['trusteeApp']));
    // The email scope adds addresses.
    const withEmail = await call('/api/permission/myapplication?contextType=OrganizationUnit&contextObjectIdentifier=5445', t.app, await userToken('c1s:reader-2', { azp: 'trusteeApp', scope: 'openid cos_auth_api email' }));
    expect(withEmail.json()).toEqual([expect.objectContaining({ userEmail: 'jdoe@example.com' })]);
  });

  it('refuses a user token of a client that names no application, and a user without the right', async () => {
    const noApp = await call('/api/permission/myapplication?userSubject=c1s:17173', t.app, await userToken('c1s:reader-1', { azp: 'unknown-portal' }));
    expect(noApp.statusCode).toBe(403);
    const noClient = await call('/api/permission/myapplication?userSubject=c1s:17173', t.app, await userToken('c1s:reader-1'));
    expect(noClient.statusCode).toBe(403);
    const withoutRight = await call('/api/permission/myapplication?userSubject=c1s:17173', t.app, await userToken('c1s:17175', { azp: 'trusteeApp' }));
    expect(withoutRight.statusCode).toBe(403);
  });
});

describe('CoreOne /api/permission/myapplication with a token of the password grant', () => {
  const PASSWORD = 'CoreOne reader password 1';
  let client: { id: string; clientId: string; clientSecret: string };

  /** A user with a local password holding the given Grantory rights. */
  async function userWithPassword(username: string, rights: string[]): Promise<string> {
    const user = await fx.identity({ subject: `c1s:${username}`, username });
    const db = t.store.read(t.tenantId).db;
    for (const name of rights) {
      const right = await db.selectFrom('permissions').select('id').where('tenant_id', '=', t.tenantId).where('name', '=', name).executeTakeFirstOrThrow();
      await fx.assignment({ assigneeId: user, resourceId: right.id });
    }
    const res = await t.app.inject({ method: 'PUT', url: `/api/v1/identities/${user}/password`, headers: t.auth, payload: { password: PASSWORD } });
    expect(res.statusCode, res.body).toBe(204);
    return user;
  }

  /** The token request as a CoreOne-integrated application sends it (form-encoded). */
  const tokenRequest = (path: string, fields: Record<string, string>, headers: Record<string, string> = {}) =>
    t.app.inject({ method: 'POST', url: path, headers: { 'content-type': 'application/x-www-form-urlencoded', ...headers }, payload: new URLSearchParams(fields).toString() });
  const passwordForm = (username: string, extra: Record<string, string> = {}) => ({ grant_type: 'password', username, password: PASSWORD, client_id: client.clientId, client_secret: client.clientSecret, scope: 'cos_auth_api', ...extra });
  const bearer = (res: { json: () => unknown }) => ({ authorization: `Bearer ${(res.json() as { access_token: string }).access_token}` });

  beforeAll(async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/clients', headers: t.auth, payload: { name: 'trustee portal', applicationId: ids.trustee, scopes: ['cos_auth_api', 'email'] } });
    expect(res.statusCode, res.body).toBe(201);
    client = res.json() as typeof client;
    await userWithPassword('pw.reader1', ['read-permissions-my-application']);
    await userWithPassword('pw.reader2', ['read-permissions-my-application']);
    await userWithPassword('pw.norights', []);
    await t.access.syncNow(t.tenantId);
  });

  it("answers for the application of the client the token was issued to, whoever the user is, on /connect/token and the Checkmarx path", async () => {
    const expected = [{ username: 'jdoe', userId: 17173, role: 'TrusteeApp_AddBill', application: 'trusteeApp', contextType: 'OrganizationUnit', contextObjectIdentifier: '5445' }];
    for (const [path, username] of [['/connect/token', 'pw.reader1'], ['/connect/token', 'pw.reader2'], ['/cxrestapi/auth/identity/connect/token', 'pw.reader1']] as const) {
      const token = await tokenRequest(path, passwordForm(username));
      expect(token.statusCode, token.body).toBe(200);
      expect(token.json()).toMatchObject({ token_type: 'Bearer', scope: 'cos_auth_api' });
      const res = await call('/api/permission/myapplication?contextType=OrganizationUnit&contextObjectIdentifier=5445', t.app, bearer(token));
      expect(res.statusCode, `${path} ${username}: ${res.body}`).toBe(200);
      expect(res.json()).toEqual(expected);
      // Only the client's application, never another one.
      const all = (await call('/api/permission/myapplication', t.app, bearer(token))).json() as { application: string }[];
      expect(new Set(all.map((r) => r.application))).toEqual(new Set(['trusteeApp']));
    }
    // HTTP Basic client authentication works as well; the client's email scope adds addresses.
    const basic = Buffer.from(`${client.clientId}:${client.clientSecret}`).toString('base64');
    const { client_id: _id, client_secret: _secret, ...withoutClient } = passwordForm('pw.reader2', { scope: 'cos_auth_api email' });
    const viaBasic = await tokenRequest('/connect/token', withoutClient, { authorization: `Basic ${basic}` });
    expect(viaBasic.statusCode, viaBasic.body).toBe(200);
    const withEmail = await call('/api/permission/myapplication?contextType=OrganizationUnit&contextObjectIdentifier=5445', t.app, bearer(viaBasic));
    expect(withEmail.json()).toEqual([{ ...expected[0], userEmail: 'jdoe@example.com' }]);
    // The token is the user's: the sign-in is audited with the client.
    const opened = await t.app.inject({ method: 'GET', url: '/api/v1/audit-events?action=session.create&limit=200', headers: t.auth });
    expect((opened.json() as { items: { after: { clientId?: string } }[] }).items.some((e) => e.after.clientId === client.id)).toBe(true);
    // Celonis's login history lists these sign-ins as successful logins.
    const logins = (await call('/api/external/authentication-events?pageSize=200')).json() as { content: { authenticationEventType: string; success: boolean }[] };
    expect(logins.content).toContainEqual(expect.objectContaining({ authenticationEventType: 'LOGIN', success: true }));
  });

  it('refuses a user without the right, a Checkmarx resource_owner_client token, a wrong client secret, a scope the client lacks, and a deleted client', async () => {
    const noRight = await tokenRequest('/connect/token', passwordForm('pw.norights'));
    expect(noRight.statusCode, noRight.body).toBe(200);
    expect((await call('/api/permission/myapplication?userSubject=c1s:17173', t.app, bearer(noRight))).statusCode).toBe(403);

    const cx = await tokenRequest('/cxrestapi/auth/identity/connect/token', { ...passwordForm('pw.reader1'), client_id: 'resource_owner_client', client_secret: '014DF517-39D1-4453-B7B3-9930C563627C', scope: 'access_control_api' });
    expect(cx.statusCode, cx.body).toBe(200);
    expect((await call('/api/permission/myapplication?userSubject=c1s:17173', t.app, bearer(cx))).statusCode).toBe(403);
    // resource_owner_client is Checkmarx's: on CoreOne's path it is an unknown client.
    const cxOnCoreOne = await tokenRequest('/connect/token', { ...passwordForm('pw.reader1'), client_id: 'resource_owner_client', client_secret: '014DF517-39D1-4453-B7B3-9930C563627C' });
    expect(cxOnCoreOne.statusCode).toBe(401);
    expect(cxOnCoreOne.json()).toMatchObject({ error: 'invalid_client' });

    const wrongSecret = await tokenRequest('/connect/token', { ...passwordForm('pw.reader1'), client_secret: `${client.clientSecret.slice(0, -4)}AAAA` });
    expect(wrongSecret.statusCode).toBe(401);
    expect(wrongSecret.json()).toMatchObject({ error: 'invalid_client' });
    const wrongPassword = await tokenRequest('/connect/token', { ...passwordForm('pw.reader1'), password: 'not the password' });
    expect(wrongPassword.statusCode).toBe(400);
    expect(wrongPassword.json()).toMatchObject({ error: 'invalid_grant' });
    const tooWide = await tokenRequest('/connect/token', passwordForm('pw.reader1', { scope: 'cos_auth_api grantory:manage-users' }));
    expect(tooWide.statusCode).toBe(400);
    expect(tooWide.json()).toMatchObject({ error: 'invalid_scope' });
    // The native token endpoint stays client credentials only.
    const native = await tokenRequest('/oauth/token', passwordForm('pw.reader1'));
    expect(native.json()).toMatchObject({ error: 'unsupported_grant_type' });

    const token = await tokenRequest('/connect/token', passwordForm('pw.reader1'));
    expect((await call('/api/permission/myapplication?userSubject=c1s:17173', t.app, bearer(token))).statusCode).toBe(200);
    const deleted = await t.app.inject({ method: 'DELETE', url: `/api/v1/clients/${client.id}`, headers: t.auth });
    expect(deleted.statusCode, deleted.body).toBe(200);
    expect((await call('/api/permission/myapplication?userSubject=c1s:17173', t.app, bearer(token))).statusCode).toBe(401);
  });
});

describe('CoreOne profile switch', () => {
  it('answers 404 while the tenant has the profile turned off, and again once on', async () => {
    const off = await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: t.auth, payload: { compatibility: { coreone: false } } });
    expect(off.statusCode, off.body).toBe(200);
    try {
      for (const url of ['/api/permission?userSubject=c1s:17173', '/api/permission/myapplication?userSubject=c1s:17173']) {
        const res = await call(url, url.includes('myapplication') ? clientApp : t.app);
        expect(res.statusCode, url).toBe(404);
        expect(res.json()).toMatchObject({ code: 'route_not_found' });
      }
    } finally {
      await t.app.inject({ method: 'PATCH', url: '/api/v1/settings', headers: t.auth, payload: { compatibility: { coreone: true } } });
    }
    expect((await call('/api/permission?userSubject=c1s:17173')).statusCode).toBe(200);
  });
});

describe('CoreOne paging (bounded answers)', () => {
  /** Follows `Link: <...>; rel="next"` from `url` to the end, as a script would. */
  async function followPages(url: string, app: App = t.app): Promise<{ pages: Record<string, unknown>[][]; statuses: number[] }> {
    const pages: Record<string, unknown>[][] = [];
    const statuses: number[] = [];
    let next: string | null = url;
    for (let i = 0; next && i < 200; i += 1) {
      const res = await call(next, app);
      statuses.push(res.statusCode);
      pages.push(res.json() as Record<string, unknown>[]);
      const link = res.headers.link as string | undefined;
      next = link ? /^<([^>]+)>; rel="next"$/.exec(link)![1]! : null;
    }
    return { pages, statuses };
  }

  it('pages every form of the query in a total order, each page bounded, the last without a next link', async () => {
    // Enough holders that the parameterless answer spans pages.
    await fx.batch(async (tx) => {
      const unit = await fx.unit({ name: 'Paged Ltd', number: 5446 }, tx);
      for (let i = 0; i < 12; i += 1) {
        const holder = await fx.identity({ number: 40000 + i, subject: `c1s:paged-${i}`, username: `paged${i}` }, tx);
        await fx.assignment({ assigneeId: holder, resourceId: ids.view }, tx);
        await fx.assignment({ assigneeId: holder, resourceId: ids.addBill, contextType: 'orgUnit', contextId: unit }, tx);
      }
    });
    await t.access.syncNow(t.tenantId);
    for (const url of ['/api/permission', '/api/permission?application=trusteeApp', '/api/permission?contextType=OrganizationUnit&contextObjectIdentifier=5446&application=trusteeApp']) {
      const whole = (await call(url)).json() as Record<string, unknown>[];
      expect(whole.length, url).toBeGreaterThan(5);
      for (const size of [1, 4, 5]) {
        const { pages, statuses } = await followPages(`${url}${url.includes('?') ? '&' : '?'}pageSize=${size}`);
        expect(statuses.every((s) => s === 200)).toBe(true);
        expect(pages.every((p) => p.length <= size && p.length > 0), `${url} ${size}`).toBe(true);
        // The pages put together are the one-page answer, in the same order, without repeats.
        expect(pages.flat(), `${url} pageSize=${size}`).toEqual(whole);
      }
    }
    const mine = (await call('/api/permission/myapplication', clientApp)).json() as Record<string, unknown>[];
    expect((await followPages('/api/permission/myapplication?pageSize=3', clientApp)).pages.flat()).toEqual(mine);
  });

  it('caps a page at 1000 rows and refuses a bad pageSize or pageToken', async () => {
    expect((await call('/api/permission?pageSize=1001')).statusCode).toBe(400);
    expect((await call('/api/permission?pageSize=0')).statusCode).toBe(400);
    const forged = await call('/api/permission?pageToken=bm90LWEtdG9rZW4');
    expect(forged.statusCode).toBe(400);
    expect(forged.json()).toMatchObject({ code: 'invalid_cursor' });
    // A page that is full announces the next; the one-page answer of a small tenant has no link.
    expect((await call('/api/permission?pageSize=2')).headers.link).toMatch(/^<\/api\/permission\?pageSize=2&pageToken=[A-Za-z0-9_-]+>; rel="next"$/);
    expect((await call('/api/permission')).headers.link).toBeUndefined();
  });
});
