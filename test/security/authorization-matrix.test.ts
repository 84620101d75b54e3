/**
 * The authorization matrix: every route of the app × every kind of caller. Generated from
 * the app's route table, so a route added without a row here fails the "every route has a
 * row" test, and a row whose route is gone fails too.
 *
 * Callers: no credential; the administrator; an identity without rights; an identity with
 * only the route's declared right; the administrator of another tenant. Expectations follow
 * from the route's declared auth:
 * - public: nobody gets 401 or 403;
 * - authenticated: no credential → 401 with WWW-Authenticate; every credential allowed;
 * - rights: no credential → 401; no rights → 403; the declared right or admin → allowed;
 *   another tenant → allowed on collections, 404 on an object of this tenant (never 403);
 * - client (OAuth endpoints): no client credentials → 401; a wrong secret → 401; the client → allowed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Right } from '../../src/domain/rights.ts';
import { routeTableOf } from '../../src/api/app.ts';
import type { RouteTableEntry } from '../../src/api/route-auth.ts';
import { createTestApp } from '../support/harness.ts';
import {
  apiKeyFor,
  appKeyFor,
  basic,
  clientFor,
  createApplication,
  createIdentityWithRights,
  createOtherTenant,
} from '../support/security-fixtures.ts';

const t = await createTestApp();
afterAll(async () => t.close());

const applicationId = await createApplication(t.store, t.tenantId, 'matrix-app');
const other = await createOtherTenant(t.store);
const otherAdminKey = await apiKeyFor(t.services, other.tenantId, other.adminId);
const noRightsIdentity = await createIdentityWithRights(t.store, t.tenantId, 'matrix:none', []);
const noRightsKey = await apiKeyFor(t.services, t.tenantId, noRightsIdentity);
const client = await clientFor(t.services, t.tenantId, { identityId: noRightsIdentity });

const keysByRights = new Map<string, string>();
async function keyHolding(rights: readonly Right[]): Promise<string> {
  const name = [...rights].sort().join(',');
  let key = keysByRights.get(name);
  if (!key) {
    const identity = await createIdentityWithRights(t.store, t.tenantId, `matrix:${name}`, rights);
    key = (await apiKeyFor(t.services, t.tenantId, identity)).secret;
    keysByRights.set(name, key);
  }
  return key;
}

async function tokenOf(c: { clientId: string; clientSecret: string }): Promise<string> {
  const res = await t.app.inject({
    method: 'POST',
    url: '/oauth/token',
    headers: { authorization: basic(c.clientId, c.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
    payload: 'grant_type=client_credentials',
  });
  return (res.json() as { access_token: string }).access_token;
}

interface MatrixRequest {
  url: string;
  payload?: unknown;
  /** Form-encoded body (the OAuth endpoints). */
  form?: string;
}

interface Row {
  /** Builds a valid request; called once per caller, so deletions get a fresh object each time. */
  request: () => Promise<MatrixRequest> | MatrixRequest;
  /** The route names an object of the tenant in its path: another tenant must get 404. */
  tenantObject?: boolean;
  /**
   * Rights the "declared right" caller also needs because the service refuses to grant what
   * the caller does not hold (e.g. an application key reads permissions).
   */
  alsoHolds?: Right[];
}

/** An id no object has: the routes answer 400 or 404 once authorization lets the request through. */
const MISSING_ID = '00000000-0000-4000-8000-000000000000';

const fixed = (url: string, payload?: unknown): Row['request'] => () => ({ url, ...(payload === undefined ? {} : { payload }) });
const tokenRow = (url: string): Row => ({ request: () => ({ url, form: 'grant_type=client_credentials' }) });
const tokenUseRow = (url: string): Row => ({ request: async () => ({ url, form: `token=${await tokenOf(client)}` }) });

const MATRIX: Record<string, Row> = {
  'GET /livez': { request: fixed('/livez') },
  'GET /readyz': { request: fixed('/readyz') },
  'GET /metrics': { request: fixed('/metrics') },
  'GET /openapi.json': { request: fixed('/openapi.json') },
  'GET /.well-known/jwks.json': { request: fixed('/.well-known/jwks.json') },
  'GET /.well-known/openid-configuration': { request: fixed('/.well-known/openid-configuration') },
  'GET /.well-known/oauth-authorization-server': { request: fixed('/.well-known/oauth-authorization-server') },
  'POST /oauth/token': tokenRow('/oauth/token'),
  'POST /oauth2/token': tokenRow('/oauth2/token'),
  'POST /connect/token': tokenRow('/connect/token'),
  'POST /cxrestapi/auth/identity/connect/token': tokenRow('/cxrestapi/auth/identity/connect/token'),
  'POST /oauth/introspect': tokenUseRow('/oauth/introspect'),
  'POST /connect/introspect': tokenUseRow('/connect/introspect'),
  'POST /oauth/revoke': tokenUseRow('/oauth/revoke'),
  'POST /connect/revocation': tokenUseRow('/connect/revocation'),
  'GET /api/v1/me': { request: fixed('/api/v1/me') },
  'POST /api/v1/api-keys': { request: fixed('/api/v1/api-keys', { name: 'matrix' }) },
  'GET /api/v1/api-keys': { request: fixed('/api/v1/api-keys') },
  'DELETE /api/v1/api-keys/:id': {
    tenantObject: true,
    request: async () => ({ url: `/api/v1/api-keys/${(await apiKeyFor(t.services, t.tenantId, noRightsIdentity)).id}` }),
  },
  'POST /api/v1/clients': { request: fixed('/api/v1/clients', { name: 'matrix' }) },
  'GET /api/v1/clients': { request: fixed('/api/v1/clients') },
  'DELETE /api/v1/clients/:id': {
    tenantObject: true,
    request: async () => ({ url: `/api/v1/clients/${(await clientFor(t.services, t.tenantId, { identityId: noRightsIdentity })).id}` }),
  },
  'POST /api/v1/applications/:id/keys': {
    tenantObject: true,
    alsoHolds: ['read-permissions-my-application'],
    request: fixed(`/api/v1/applications/${applicationId}/keys`, { name: 'matrix' }),
  },
  'GET /api/v1/applications/:id/keys': { tenantObject: true, request: fixed(`/api/v1/applications/${applicationId}/keys`) },
  'DELETE /api/v1/applications/:id/keys/:keyId': {
    tenantObject: true,
    request: async () => ({ url: `/api/v1/applications/${applicationId}/keys/${(await appKeyFor(t.services, t.tenantId, applicationId)).id}` }),
  },
  // The routes main added (directory, access, audit, exports, event sinks, imports and the
  // compatibility profiles): an object the route names that does not exist, or an empty body,
  // is enough here — a 400 or 404 still shows that authorization let the request through.
  'DELETE /api/v1/applications/:id': {
    request: async () => ({ url: `/api/v1/applications/${await createApplication(t.store, t.tenantId, `matrix-delete-${randomUUID()}`)}` }),
  },
  'DELETE /api/v1/applications/:id/accounts/:accountName': { request: fixed(`/api/v1/applications/${applicationId}/accounts/matrix-nobody`) },
  'DELETE /api/v1/assignment-rules/:id': { request: fixed(`/api/v1/assignment-rules/${MISSING_ID}`) },
  'DELETE /api/v1/event-sinks/:id': { request: fixed(`/api/v1/event-sinks/${MISSING_ID}`) },
  'DELETE /api/v1/identities/:id': { request: fixed(`/api/v1/identities/${MISSING_ID}`) },
  'DELETE /api/v1/org-units/:id': { request: fixed(`/api/v1/org-units/${MISSING_ID}`) },
  'DELETE /api/v1/permissions/:id': { request: fixed(`/api/v1/permissions/${MISSING_ID}`) },
  'DELETE /api/v1/roles/:id': { request: fixed(`/api/v1/roles/${MISSING_ID}`) },
  'DELETE /cxrestapi/auth/Roles/:id': { request: fixed(`/cxrestapi/auth/Roles/${MISSING_ID}`) },
  'DELETE /cxrestapi/auth/Teams/:id': { request: fixed(`/cxrestapi/auth/Teams/${MISSING_ID}`) },
  'DELETE /cxrestapi/auth/Teams/:teamId/Users/:userId': { request: fixed(`/cxrestapi/auth/Teams/${MISSING_ID}/Users/${MISSING_ID}`) },
  'DELETE /cxrestapi/auth/Users/:id': { request: fixed(`/cxrestapi/auth/Users/${MISSING_ID}`) },
  'GET /api/application-imports': { request: fixed(`/api/application-imports`) },
  'GET /api/application-imports/:id': { request: fixed(`/api/application-imports/${MISSING_ID}`) },
  'GET /api/applications': { request: fixed(`/api/applications`) },
  'GET /api/applications/:id': { request: fixed(`/api/applications/${applicationId}`) },
  'GET /api/authorization/external/permissions': { request: fixed(`/api/authorization/external/permissions`) },
  'GET /api/external/authentication-events': { request: fixed(`/api/external/authentication-events`) },
  'GET /api/external/members': { request: fixed(`/api/external/members`) },
  'GET /api/identities': { request: fixed(`/api/identities`) },
  'GET /api/identities/:id': { request: fixed(`/api/identities/${MISSING_ID}`) },
  'GET /api/permission': { request: fixed(`/api/permission`) },
  'GET /api/permission/myapplication': { request: fixed(`/api/permission/myapplication`) },
  'GET /api/v1/access/drift': { request: fixed(`/api/v1/access/drift`) },
  'GET /api/v1/access/explain': { request: fixed(`/api/v1/access/explain`) },
  'GET /api/v1/applications': { request: fixed(`/api/v1/applications`) },
  'GET /api/v1/applications/:id': { request: fixed(`/api/v1/applications/${applicationId}`) },
  'GET /api/v1/applications/:id/accounts': { request: fixed(`/api/v1/applications/${applicationId}/accounts`) },
  'GET /api/v1/applications/:id/connector': { request: fixed(`/api/v1/applications/${applicationId}/connector`) },
  'GET /api/v1/applications/:id/permissions': { request: fixed(`/api/v1/applications/${applicationId}/permissions`) },
  'GET /api/v1/assignment-rules': { request: fixed(`/api/v1/assignment-rules`) },
  'GET /api/v1/assignment-rules/:id': { request: fixed(`/api/v1/assignment-rules/${MISSING_ID}`) },
  'GET /api/v1/assignments': { request: fixed(`/api/v1/assignments`) },
  'GET /api/v1/assignments/:id': { request: fixed(`/api/v1/assignments/${MISSING_ID}`) },
  'GET /api/v1/audit-checkpoints': { request: fixed(`/api/v1/audit-checkpoints`) },
  'GET /api/v1/audit-events': { request: fixed(`/api/v1/audit-events`) },
  'GET /api/v1/event-sinks': { request: fixed(`/api/v1/event-sinks`) },
  'GET /api/v1/event-sinks/:id': { request: fixed(`/api/v1/event-sinks/${MISSING_ID}`) },
  'GET /api/v1/exports/audit-events': { request: fixed(`/api/v1/exports/audit-events`) },
  'GET /api/v1/exports/effective-permissions': { request: fixed(`/api/v1/exports/effective-permissions`) },
  'GET /api/v1/exports/permission-configuration': { request: fixed(`/api/v1/exports/permission-configuration`) },
  'GET /api/v1/identities': { request: fixed(`/api/v1/identities`) },
  'GET /api/v1/identities/:id': { request: fixed(`/api/v1/identities/${MISSING_ID}`) },
  'GET /api/v1/identities/:id/access': { request: fixed(`/api/v1/identities/${MISSING_ID}/access`) },
  'GET /api/v1/imports': { request: fixed(`/api/v1/imports`) },
  'GET /api/v1/imports/:id': { request: fixed(`/api/v1/imports/${MISSING_ID}`) },
  'GET /api/v1/imports/:id/changes': { request: fixed(`/api/v1/imports/${MISSING_ID}/changes`) },
  'GET /api/v1/org-units': { request: fixed(`/api/v1/org-units`) },
  'GET /api/v1/org-units/:id': { request: fixed(`/api/v1/org-units/${MISSING_ID}`) },
  'GET /api/v1/orphans': { request: fixed(`/api/v1/orphans`) },
  'GET /api/v1/permissions': { request: fixed(`/api/v1/permissions`) },
  'GET /api/v1/permissions/:id': { request: fixed(`/api/v1/permissions/${MISSING_ID}`) },
  'GET /api/v1/permissions/:id/holders': { request: fixed(`/api/v1/permissions/${MISSING_ID}/holders`) },
  'GET /api/v1/roles': { request: fixed(`/api/v1/roles`) },
  'GET /api/v1/roles/:id': { request: fixed(`/api/v1/roles/${MISSING_ID}`) },
  'GET /cxrestapi/auth/Permissions': { request: fixed(`/cxrestapi/auth/Permissions`) },
  'GET /cxrestapi/auth/Permissions/:id': { request: fixed(`/cxrestapi/auth/Permissions/${MISSING_ID}`) },
  'GET /cxrestapi/auth/Roles': { request: fixed(`/cxrestapi/auth/Roles`) },
  'GET /cxrestapi/auth/Roles/:id': { request: fixed(`/cxrestapi/auth/Roles/${MISSING_ID}`) },
  'GET /cxrestapi/auth/ServiceProviders': { request: fixed(`/cxrestapi/auth/ServiceProviders`) },
  'GET /cxrestapi/auth/ServiceProviders/:id': { request: fixed(`/cxrestapi/auth/ServiceProviders/${MISSING_ID}`) },
  'GET /cxrestapi/auth/Teams': { request: fixed(`/cxrestapi/auth/Teams`) },
  'GET /cxrestapi/auth/Teams/:id': { request: fixed(`/cxrestapi/auth/Teams/${MISSING_ID}`) },
  'GET /cxrestapi/auth/Teams/:id/Users': { request: fixed(`/cxrestapi/auth/Teams/${MISSING_ID}/Users`) },
  'GET /cxrestapi/auth/Users': { request: fixed(`/cxrestapi/auth/Users`) },
  'GET /cxrestapi/auth/Users/:id': { request: fixed(`/cxrestapi/auth/Users/${MISSING_ID}`) },
  'GET /log/api/external/audit': { request: fixed(`/log/api/external/audit`) },
  'GET /log/api/external/v2/audit': { request: fixed(`/log/api/external/v2/audit`) },
  'PATCH /api/v1/applications/:id': { request: fixed(`/api/v1/applications/${applicationId}`, {}) },
  'PATCH /api/v1/assignment-rules/:id': { request: fixed(`/api/v1/assignment-rules/${MISSING_ID}`, {}) },
  'PATCH /api/v1/identities/:id': { request: fixed(`/api/v1/identities/${MISSING_ID}`, {}) },
  'PATCH /api/v1/org-units/:id': { request: fixed(`/api/v1/org-units/${MISSING_ID}`, {}) },
  'PATCH /api/v1/permissions/:id': { request: fixed(`/api/v1/permissions/${MISSING_ID}`, {}) },
  'PATCH /api/v1/roles/:id': { request: fixed(`/api/v1/roles/${MISSING_ID}`, {}) },
  'POST /api/application-imports/cancel': { request: fixed(`/api/application-imports/cancel`, {}) },
  'POST /api/application-imports/stage': { request: fixed(`/api/application-imports/stage`, {}) },
  'POST /api/application-imports/upload': { request: fixed(`/api/application-imports/upload`, {}) },
  'POST /api/v1/applications': { request: fixed(`/api/v1/applications`, {}) },
  'POST /api/v1/applications/:id/permissions': { request: fixed(`/api/v1/applications/${applicationId}/permissions`, {}) },
  'POST /api/v1/assignment-rules': { request: fixed(`/api/v1/assignment-rules`, {}) },
  'POST /api/v1/assignments': { request: fixed(`/api/v1/assignments`, {}) },
  'POST /api/v1/assignments/:id/delegate': { request: fixed(`/api/v1/assignments/${MISSING_ID}/delegate`, {}) },
  'POST /api/v1/assignments/:id/pause': { request: fixed(`/api/v1/assignments/${MISSING_ID}/pause`, {}) },
  'POST /api/v1/assignments/:id/resume': { request: fixed(`/api/v1/assignments/${MISSING_ID}/resume`, {}) },
  'POST /api/v1/assignments/:id/revoke': { request: fixed(`/api/v1/assignments/${MISSING_ID}/revoke`, {}) },
  'POST /api/v1/audit-checkpoints': { request: fixed(`/api/v1/audit-checkpoints`, {}) },
  'POST /api/v1/check': { request: fixed(`/api/v1/check`, {}) },
  'POST /api/v1/check/batch': { request: fixed(`/api/v1/check/batch`, {}) },
  'POST /api/v1/event-sinks': { request: fixed(`/api/v1/event-sinks`, {}) },
  'POST /api/v1/event-sinks/:id/retry': { request: fixed(`/api/v1/event-sinks/${MISSING_ID}/retry`, {}) },
  'POST /api/v1/identities': { request: fixed(`/api/v1/identities`, {}) },
  'POST /api/v1/imports/:id/approve': { request: fixed(`/api/v1/imports/${MISSING_ID}/approve`, {}) },
  'POST /api/v1/imports/:id/cancel': { request: fixed(`/api/v1/imports/${MISSING_ID}/cancel`, {}) },
  'POST /api/v1/imports/:id/reject': { request: fixed(`/api/v1/imports/${MISSING_ID}/reject`, {}) },
  'POST /api/v1/imports/dry-run': { request: fixed(`/api/v1/imports/dry-run`, {}) },
  'POST /api/v1/imports/stage': { request: fixed(`/api/v1/imports/stage`, {}) },
  'POST /api/v1/imports/upload': { request: fixed(`/api/v1/imports/upload`, {}) },
  'POST /api/v1/org-units': { request: fixed(`/api/v1/org-units`, {}) },
  'POST /api/v1/roles': { request: fixed(`/api/v1/roles`, {}) },
  'POST /cxrestapi/auth/Roles': { request: fixed(`/cxrestapi/auth/Roles`, {}) },
  'POST /cxrestapi/auth/Teams': { request: fixed(`/cxrestapi/auth/Teams`, {}) },
  'POST /cxrestapi/auth/Teams/:teamId/Users/:userId': { request: fixed(`/cxrestapi/auth/Teams/${MISSING_ID}/Users/${MISSING_ID}`, {}) },
  'POST /cxrestapi/auth/Users': { request: fixed(`/cxrestapi/auth/Users`, {}) },
  'PUT /api/v1/applications/:id/account-resolutions/:accountName': { request: fixed(`/api/v1/applications/${applicationId}/account-resolutions/matrix-nobody`, {}) },
  'PUT /api/v1/applications/:id/accounts/:accountName': { request: fixed(`/api/v1/applications/${applicationId}/accounts/matrix-nobody`, {}) },
  'PUT /api/v1/applications/:id/connector': { request: fixed(`/api/v1/applications/${applicationId}/connector`, {}) },
  'PUT /cxrestapi/auth/Roles/:id': { request: fixed(`/cxrestapi/auth/Roles/${MISSING_ID}`, {}) },
  'PUT /cxrestapi/auth/Teams/:id': { request: fixed(`/cxrestapi/auth/Teams/${MISSING_ID}`, {}) },
  'PUT /cxrestapi/auth/Teams/:id/Users': { request: fixed(`/cxrestapi/auth/Teams/${MISSING_ID}/Users`, {}) },
  'PUT /cxrestapi/auth/Users/:id': { request: fixed(`/cxrestapi/auth/Users/${MISSING_ID}`, {}) },
};

const routes: RouteTableEntry[] = routeTableOf(t.app);
const keyOf = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

async function call(row: Row, method: string, authorization: string | null): Promise<{ status: number; headers: Record<string, unknown> }> {
  const req = await row.request();
  const headers: Record<string, string> = {};
  if (authorization) headers.authorization = authorization;
  if (req.form !== undefined) headers['content-type'] = 'application/x-www-form-urlencoded';
  const res = await t.app.inject({
    method: method as 'GET',
    url: req.url,
    headers,
    ...(req.form !== undefined ? { payload: req.form } : req.payload !== undefined ? { payload: req.payload as object } : {}),
  });
  return { status: res.statusCode, headers: res.headers };
}

const allowed = (status: number) => {
  expect(status, `status ${status}`).not.toBe(401);
  expect(status).not.toBe(403);
  expect(status).toBeLessThan(500);
};

describe('authorization matrix', () => {
  it('has a row for every route, and a route for every row', () => {
    const declared = routes.map(keyOf).sort();
    expect(declared.filter((k) => !MATRIX[k]), 'routes without a row in the matrix').toEqual([]);
    expect(Object.keys(MATRIX).filter((k) => !declared.includes(k)), 'rows without a route').toEqual([]);
  });

  describe.each(routes.map((r) => [keyOf(r), r] as const))('%s', (key, route) => {
    const row = MATRIX[key];
    if (!row) {
      it('has no row in the matrix', () => {
        expect.fail(`add a row for ${key} to test/security/authorization-matrix.test.ts`);
      });
      return;
    }
    const { auth, method } = route;

    if (auth.kind === 'public') {
      it('answers everyone, with or without credentials', async () => {
        allowed((await call(row, method, null)).status);
        allowed((await call(row, method, `Bearer ${noRightsKey.secret}`)).status);
        allowed((await call(row, method, `Bearer ${otherAdminKey.secret}`)).status);
      });
      return;
    }

    if (auth.kind === 'client') {
      it('refuses a request without client credentials (401)', async () => {
        expect((await call(row, method, null)).status).toBe(401);
      });
      it('refuses a wrong client secret (401)', async () => {
        const wrong = `${client.clientSecret.slice(0, -1)}${client.clientSecret.endsWith('A') ? 'B' : 'A'}`;
        expect((await call(row, method, basic(client.clientId, wrong))).status).toBe(401);
      });
      it('serves the authenticated client', async () => {
        const res = await call(row, method, basic(client.clientId, client.clientSecret));
        expect(res.status).toBe(200);
      });
      return;
    }

    it('refuses a request without credentials (401 with WWW-Authenticate)', async () => {
      const res = await call(row, method, null);
      expect(res.status).toBe(401);
      expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer realm="grantory"/);
    });
    it('serves the administrator', async () => {
      allowed((await call(row, method, t.auth.authorization)).status);
    });

    if (auth.kind === 'authenticated') {
      it('serves any authenticated caller', async () => {
        allowed((await call(row, method, `Bearer ${noRightsKey.secret}`)).status);
        allowed((await call(row, method, `Bearer ${otherAdminKey.secret}`)).status);
      });
      return;
    }

    it('refuses an identity without rights (403)', async () => {
      expect((await call(row, method, `Bearer ${noRightsKey.secret}`)).status).toBe(403);
    });
    it(`serves an identity holding only ${auth.rights[0]}`, async () => {
      const key = await keyHolding([auth.rights[0]!, ...(row.alsoHolds ?? [])]);
      allowed((await call(row, method, `Bearer ${key}`)).status);
    });
    if (row.tenantObject) {
      it("answers 404 to another tenant's administrator", async () => {
        expect((await call(row, method, `Bearer ${otherAdminKey.secret}`)).status).toBe(404);
      });
    } else {
      it("serves another tenant's administrator (its own tenant's data)", async () => {
        allowed((await call(row, method, `Bearer ${otherAdminKey.secret}`)).status);
      });
    }
  });
});
