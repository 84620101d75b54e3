/**
 * The authorization matrix: every route of the app × every kind of caller × the caller's
 * relation to the object. Generated from the app's route table, so a route added without a
 * row here fails the "every route has a row" test, and a row whose route is gone fails too.
 *
 * Callers: no credential; the administrator; an identity without rights; an identity with
 * only the route's declared right; the administrator of another tenant. Relations: the
 * caller itself, a colleague of its organization unit, an identity of another unit, and an
 * object of another tenant. Expectations follow from the route's declared auth:
 * - public: nobody gets 401 or 403;
 * - authenticated: no credential → 401 with WWW-Authenticate; every credential allowed,
 *   except on self-service routes (an assignment's holder or a delegation's delegator):
 *   the holder is served without any right, a colleague or someone of another unit gets 403;
 * - rights: no credential → 401; no rights → 403; the declared right or admin → allowed,
 *   whatever the relation (rights are tenant-wide);
 * - an object of the tenant named in the path (real objects, created through the API): this
 *   tenant's administrator does not get 404, another tenant's gets 404 — never 403;
 * - client (OAuth endpoints): no client credentials → 401; a wrong secret → 401; the client → allowed.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, describe, expect, it } from 'vitest';
import type { Right } from '../../src/domain/rights.ts';
import { routeTableOf } from '../../src/api/app.ts';
import type { RouteTableEntry } from '../../src/api/route-auth.ts';
import { createTestApp } from '../support/harness.ts';
import { CX_APPLICATION_PERMISSION_OFFSET } from '../../src/api/compat/checkmarx/catalog.ts';
import { multipartBody } from '../support/imports.ts';
import {
  apiKeyFor,
  appKeyFor,
  basic,
  clientFor,
  createApplication,
  createIdentityWithRights,
  createOtherTenant,
} from '../support/security-fixtures.ts';

// Every route is asked several times with the administrator's key: the per-credential rate
// limit (its own tests: test/security/rate-limit.test.ts) would answer 429 long before the end.
const t = await createTestApp({ rateLimits: { windowSeconds: 60, perCredential: 0, decisionPerCredential: 0, tokenPerClient: 60, authFailuresPerIp: 30 } });
afterAll(async () => t.close());

const applicationId = await createApplication(t.store, t.tenantId, 'matrix-app');
const other = await createOtherTenant(t.store);
const otherAdminKey = await apiKeyFor(t.services, other.tenantId, other.adminId);
// The 404 for another tenant's object is asked by the administrator of a tenant nothing else
// writes to: vendor routes name objects by per-tenant numbers (Checkmarx teams and users), and
// the other tenant above gains teams and users of its own as the matrix runs.
const stranger = await createOtherTenant(t.store, 'stranger');
const strangerAdminKey = await apiKeyFor(t.services, stranger.tenantId, stranger.adminId);
const noRightsIdentity = await createIdentityWithRights(t.store, t.tenantId, 'matrix:none', []);
const noRightsKey = await apiKeyFor(t.services, t.tenantId, noRightsIdentity);
const client = await clientFor(t.services, t.tenantId, { identityId: noRightsIdentity });

/** Objects of this tenant, created through the API by its administrator. */
interface Obj {
  id: string;
  number: number;
  [field: string]: unknown;
}
async function asAdmin(method: 'GET' | 'POST' | 'PUT', url: string, payload?: object): Promise<Obj> {
  const res = await t.app.inject({ method, url, headers: t.auth, ...(payload ? { payload } : {}) });
  if (res.statusCode >= 300) throw new Error(`${method} ${url}: ${res.statusCode} ${res.body}`);
  return res.json() as Obj;
}
const get = (url: string) => asAdmin('GET', url);
const unique = (prefix: string) => `${prefix}-${randomUUID().slice(0, 8)}`;
const once = <T>(make: () => Promise<T>): (() => Promise<T>) => {
  let made: Promise<T> | undefined;
  return () => (made ??= make());
};

/** A connected application whose connector takes one uploaded CSV file group. */
const IMPORT_CONNECTOR = {
  type: 'file',
  directory: 'matrix',
  fileGroups: [{ name: 'grants', pattern: 'grants*.csv', required: true, format: 'csv', columns: { accountName: 'login', username: 'login', permission: 'entitlement' } }],
  matching: ['username'],
};
const importTarget = once(async () => {
  const app = await make.application('connected');
  const configured = await asAdmin('PUT', `/api/v1/applications/${app.id}/connector`, IMPORT_CONNECTOR);
  return { applicationId: app.id, groupId: (configured.connector as { fileGroups: { id: string }[] }).fileGroups[0]!.id };
});

const make = {
  unit: () => asAdmin('POST', '/api/v1/org-units', { name: unique('matrix-unit') }),
  identity: (orgUnitId: string | null = null) => {
    const name = unique('matrix-person');
    return asAdmin('POST', '/api/v1/identities', { subject: `matrix:${name}`, username: name, orgUnitId });
  },
  application: (kind: 'managed' | 'connected' = 'managed') => asAdmin('POST', '/api/v1/applications', { name: unique('matrix-app'), kind }),
  permission: () => asAdmin('POST', `/api/v1/applications/${applicationId}/permissions`, { name: unique('matrix-permission'), delegable: true }),
  role: () => asAdmin('POST', '/api/v1/roles', { name: unique('matrix-role') }),
  assignment: async (identityId: string) =>
    asAdmin('POST', '/api/v1/assignments', { assignee: { type: 'identity', id: identityId }, resource: { type: 'permission', id: (await make.permission()).id } }),
  rule: async () =>
    asAdmin('POST', '/api/v1/assignment-rules', {
      name: unique('matrix-rule'),
      condition: { attributes: [{ name: 'department', equals: 'matrix' }] },
      resources: [{ type: 'permission', id: (await make.permission()).id }],
    }),
  sink: () => asAdmin('POST', '/api/v1/event-sinks', { name: unique('matrix-sink'), type: 'webhook', webhook: { url: 'http://127.0.0.1:9/matrix' } }),
  /** A Pending import (nothing runs imports in this app), uploaded as the administrator. */
  import: async () => {
    const { applicationId: appId, groupId } = await importTarget();
    const { payload, headers } = multipartBody([
      { name: 'applicationId', value: appId },
      { name: groupId, filename: 'grants.csv', content: 'login,entitlement\nmatrix,read\n' },
    ]);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/imports/upload', headers: { ...t.auth, ...headers }, payload });
    if (res.statusCode !== 201) throw new Error(`upload: ${res.statusCode} ${res.body}`);
    return res.json() as Obj;
  },
};
/** A fresh account (no grants) of the matrix application, recorded directly. */
async function account(): Promise<string> {
  const name = unique('matrix-account');
  await asAdmin('PUT', `/api/v1/applications/${applicationId}/accounts/${name}`, { grants: [] });
  return name;
}
/** A scheduled offboarding of a fresh identity, a year ahead (so it can still be canceled). */
async function newPersonnelEvent(): Promise<Obj> {
  const identity = await make.identity();
  const effectiveDate = new Date(Date.now() + 365 * 86_400_000).toISOString().slice(0, 10);
  return asAdmin('POST', '/api/v1/personnel-events/offboard', { identityId: identity.id, effectiveDate });
}
const personnelEvent = once(newPersonnelEvent);
const inDays = (days: number) => new Date(Date.now() + days * 86_400_000).toISOString().slice(0, 10);
/** A leave of absence of a fresh identity, a year ahead (its return date can still move). */
const leave = async () => asAdmin('POST', '/api/v1/personnel-events/leave-of-absence', { identityId: (await make.identity()).id, effectiveDate: inDays(365), endDate: inDays(380) });
const unitA = once(make.unit);
const unitB = once(make.unit);
const rule = once(make.rule);
const sink = once(make.sink);
const permission = once(make.permission);
const role = once(make.role);

/**
 * The relations of the matrix: an identity without Grantory rights in unit A that holds a
 * delegable permission (self), a colleague in unit A, and an identity in unit B.
 */
const holder = once(async () => {
  const [a, b] = [await unitA(), await unitB()];
  const person = (name: string, unitId: string) => createIdentityWithRights(t.store, t.tenantId, unique(`matrix:${name}`), [], { orgUnitId: unitId });
  const ids = { self: await person('holder', a.id), sameUnit: await person('colleague', a.id), otherUnit: await person('stranger', b.id) };
  const keyOf = async (identityId: string) => `Bearer ${(await apiKeyFor(t.services, t.tenantId, identityId)).secret}`;
  const keys = { self: await keyOf(ids.self), sameUnit: await keyOf(ids.sameUnit), otherUnit: await keyOf(ids.otherUnit) };
  return { ids, keys, assignmentId: (await make.assignment(ids.self)).id };
});
type Relation = 'self' | 'sameUnit' | 'otherUnit';
const RELATIONS: Relation[] = ['self', 'sameUnit', 'otherUnit'];

/** A fresh delegation by the holder (to a new identity), paused when asked. */
async function delegation(state: 'active' | 'paused' = 'active'): Promise<string> {
  const h = await holder();
  const as = { authorization: h.keys.self };
  const res = await t.app.inject({ method: 'POST', url: `/api/v1/assignments/${h.assignmentId}/delegate`, headers: as, payload: { assigneeId: (await make.identity()).id } });
  if (res.statusCode !== 201) throw new Error(`delegate: ${res.statusCode} ${res.body}`);
  const id = (res.json() as Obj).id;
  if (state === 'paused') {
    const paused = await t.app.inject({ method: 'POST', url: `/api/v1/assignments/${id}/pause`, headers: as, payload: {} });
    if (paused.statusCode !== 200) throw new Error(`pause: ${paused.statusCode} ${paused.body}`);
  }
  return id;
}

/** A key per set of rights, its identity in unit A (so relations to it can be drawn). */
const keysByRights = new Map<string, Promise<{ key: string; identityId: string }>>();
async function callerHolding(rights: readonly Right[]): Promise<{ key: string; identityId: string }> {
  const name = [...rights].sort().join(',');
  let made = keysByRights.get(name);
  if (!made) {
    made = (async () => {
      const identityId = await createIdentityWithRights(t.store, t.tenantId, `matrix:${name}`, rights, { orgUnitId: (await unitA()).id });
      return { key: (await apiKeyFor(t.services, t.tenantId, identityId)).secret, identityId };
    })();
    keysByRights.set(name, made);
  }
  return made;
}
async function keyHolding(rights: readonly Right[]): Promise<string> {
  return (await callerHolding(rights)).key;
}

/** The identity a relation names, seen from `self` (another identity of the same unit, or of unit B). */
async function related(relation: Relation, self: string): Promise<string> {
  if (relation === 'self') return self;
  return (await make.identity(relation === 'sameUnit' ? (await unitA()).id : (await unitB()).id)).id;
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
  request?: () => Promise<MatrixRequest> | MatrixRequest;
  /**
   * The route names an object of this tenant in its path: this tenant's administrator does
   * not get 404, another tenant's administrator does (never 403).
   */
  tenantObject?: boolean;
  /**
   * The route names an identity: it is called for the caller itself, a colleague of its unit
   * and an identity of another unit; the outcome depends on the caller's rights only.
   */
  identityTarget?: (identityId: string) => Promise<MatrixRequest> | MatrixRequest;
  /**
   * A self-service route on an assignment or delegation of the holder: the holder (self) is
   * served without any right; a colleague of its unit and an identity of another unit are
   * refused (403) unless they hold manage-users.
   */
  selfService?: () => Promise<MatrixRequest> | MatrixRequest;
  /** Only the holder may call it; even the administrator is refused (403). */
  holderOnly?: boolean;
  /**
   * Rights the "declared right" caller also needs because the service refuses to grant what
   * the caller does not hold (e.g. an application key reads permissions).
   */
  alsoHolds?: Right[];
}

const MATRIX_PASSWORD = 'matrix password for the holder';

/** A console session opened with an API key: its id, cookie and CSRF token. */
async function sessionOf(apiKey: string): Promise<{ id: string; cookie: string; csrf: string }> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/sessions', payload: { apiKey } });
  if (res.statusCode !== 201) throw new Error(`sign-in: ${res.statusCode} ${res.body}`);
  const body = res.json() as { id: string; csrfToken: string };
  return { id: body.id, cookie: String(res.headers['set-cookie']).split(';')[0]!, csrf: body.csrfToken };
}

const fixed = (url: string, payload?: unknown): Row['request'] => () => ({ url, ...(payload === undefined ? {} : { payload }) });
const tokenRow = (url: string): Row => ({ request: () => ({ url, form: 'grant_type=client_credentials' }) });
const tokenUseRow = (url: string): Row => ({ request: async () => ({ url, form: `token=${await tokenOf(client)}` }) });

/** A fresh pending access request by an identity holding manage-users; nobody owns the application, so the administrator approves it. */
async function accessRequest(): Promise<Obj> {
  const requester = await callerHolding(['manage-users']);
  const res = await t.app.inject({
    method: 'POST',
    url: '/api/v1/access-requests',
    headers: { authorization: `Bearer ${requester.key}` },
    payload: { action: 'add', targetIdentityId: (await make.identity()).id, resource: { type: 'permission', id: (await make.permission()).id } },
  });
  if (res.statusCode !== 201) throw new Error(`access request: ${res.statusCode} ${res.body}`);
  return res.json() as Obj;
}
/** The administrator's approval task of a fresh access request. */
async function approvalTask(): Promise<string> {
  const request = await accessRequest();
  const inbox = (await get('/api/v1/approvals')) as unknown as { items: { id: string; requestId?: string }[] };
  return inbox.items.find((i) => i.requestId === request.id)!.id;
}
const policy = () => asAdmin('POST', '/api/v1/approval-policies', { name: unique('matrix-policy'), appliesTo: { minRisk: 'critical' }, steps: [{ name: 'Manager', approver: 'manager' }] });
const somePolicy = once(policy);
/** A separation-of-duties policy between two fresh permissions (nobody holds both). */
const sodPolicy = async () =>
  asAdmin('POST', '/api/v1/sod-policies', {
    name: unique('matrix-sod'),
    conflicting: [[{ type: 'permission', id: (await make.permission()).id }], [{ type: 'permission', id: (await make.permission()).id }]],
    mode: 'block',
    severity: 'high',
  });
const someSodPolicy = once(sodPolicy);
/** A require_exception policy (one that takes exceptions) and an exception recorded for a fresh identity. */
const exceptionPolicy = once(async () =>
  asAdmin('POST', '/api/v1/sod-policies', {
    name: unique('matrix-sod-exception'),
    conflicting: [[{ type: 'permission', id: (await make.permission()).id }], [{ type: 'permission', id: (await make.permission()).id }]],
    mode: 'require_exception',
  }),
);
const inAYear = () => new Date(Date.now() + 365 * 86_400_000).toISOString();
const someSodException = once(async () => asAdmin('POST', '/api/v1/sod-exceptions', { policyId: (await exceptionPolicy()).id, identityId: (await make.identity()).id, reason: 'matrix', expiresAt: inAYear() }));
const someRequest = once(accessRequest);
/** A fresh active access review whose one item (a fresh identity's fresh permission) the identity without rights reviews. */
async function accessReview(): Promise<{ reviewId: string; itemId: string }> {
  const holder = await make.identity();
  const assignment = await make.assignment(holder.id as string);
  const app = await asAdmin('POST', '/api/v1/applications', { name: unique('matrix-review-app'), kind: 'managed' });
  const permission = await asAdmin('POST', `/api/v1/applications/${app.id as string}/permissions`, { name: unique('matrix-reviewed') });
  await asAdmin('POST', '/api/v1/assignments', { assignee: { type: 'identity', id: holder.id }, resource: { type: 'permission', id: permission.id } });
  void assignment;
  const review = await asAdmin('POST', '/api/v1/access-reviews', { name: unique('matrix-review'), reviewer: { type: 'identity', id: noRightsIdentity }, scope: { applicationIds: [app.id] } });
  await asAdmin('POST', `/api/v1/access-reviews/${review.id as string}/start`, {});
  const items = (await get(`/api/v1/access-reviews/${review.id as string}/items`)) as unknown as { items: { id: string }[] };
  return { reviewId: review.id as string, itemId: items.items[0]!.id };
}
const someReview = once(accessReview);

const MATRIX: Record<string, Row> = {
  'GET /': { request: fixed('/') },
  'GET /livez': { request: fixed('/livez') },
  'GET /readyz': { request: fixed('/readyz') },
  'GET /metrics': { request: fixed('/metrics') },
  'GET /openapi.json': { request: fixed('/openapi.json') },
  'GET /docs': { request: fixed('/docs') },
  'GET /docs/scalar.js': { request: fixed('/docs/scalar.js') },
  'GET /console': { request: fixed('/console') },
  'GET /console/*': { request: fixed('/console/identities') },
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
  'GET /api/v1/sessions/methods': { request: fixed('/api/v1/sessions/methods') },
  'POST /api/v1/sessions': { request: fixed('/api/v1/sessions', { apiKey: noRightsKey.secret }) },
  // Without a console OIDC provider configured (as here) both answer 404.
  'GET /api/v1/sessions/oidc/start': { request: fixed('/api/v1/sessions/oidc/start') },
  'GET /api/v1/sessions/oidc/callback': { request: fixed('/api/v1/sessions/oidc/callback') },
  'GET /api/v1/sessions/current': { request: fixed('/api/v1/sessions/current') },
  'DELETE /api/v1/sessions/current': { request: fixed('/api/v1/sessions/current') },
  'GET /api/v1/sessions': { request: fixed('/api/v1/sessions') },
  'DELETE /api/v1/sessions/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/sessions/${(await sessionOf(noRightsKey.secret)).id}` }) },
  'PUT /api/v1/identities/:id/password': {
    tenantObject: true,
    selfService: async () => ({ url: `/api/v1/identities/${(await holder()).ids.self}/password`, payload: { password: MATRIX_PASSWORD } }),
  },
  'DELETE /api/v1/identities/:id/password': {
    tenantObject: true,
    selfService: async () => {
      const id = (await holder()).ids.self;
      const set = await t.app.inject({ method: 'PUT', url: `/api/v1/identities/${id}/password`, headers: t.auth, payload: { password: MATRIX_PASSWORD } });
      if (set.statusCode !== 204) throw new Error(`set password: ${set.statusCode} ${set.body}`);
      return { url: `/api/v1/identities/${id}/password` };
    },
  },
  'GET /api/v1/settings': { request: fixed('/api/v1/settings') },
  'PATCH /api/v1/settings': { request: fixed('/api/v1/settings', { timeZone: 'UTC' }) },
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
  'DELETE /api/v1/applications/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/applications/${(await make.application()).id}` }) },
  'DELETE /api/v1/applications/:id/accounts/:accountName': { tenantObject: true, request: async () => ({ url: `/api/v1/applications/${applicationId}/accounts/${await account()}` }) },
  'DELETE /api/v1/assignment-rules/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/assignment-rules/${(await make.rule()).id}` }) },
  'DELETE /api/v1/event-sinks/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/event-sinks/${(await make.sink()).id}` }) },
  'DELETE /api/v1/identities/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/identities/${(await make.identity()).id}` }) },
  'DELETE /api/v1/org-units/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/org-units/${(await make.unit()).id}` }) },
  'DELETE /api/v1/permissions/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/permissions/${(await make.permission()).id}` }) },
  'DELETE /api/v1/roles/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/roles/${(await make.role()).id}` }) },
  'DELETE /cxrestapi/auth/Roles/:id': { tenantObject: true, request: async () => ({ url: `/cxrestapi/auth/Roles/${(await make.role()).number}` }) },
  'DELETE /cxrestapi/auth/Teams/:id': { tenantObject: true, request: async () => ({ url: `/cxrestapi/auth/Teams/${(await make.unit()).number}` }) },
  'DELETE /cxrestapi/auth/Teams/:teamId/Users/:userId': {
    tenantObject: true,
    request: async () => {
      const unit = await make.unit();
      return { url: `/cxrestapi/auth/Teams/${unit.number}/Users/${(await make.identity(unit.id)).number}` };
    },
  },
  'DELETE /cxrestapi/auth/Users/:id': { tenantObject: true, request: async () => ({ url: `/cxrestapi/auth/Users/${(await make.identity()).number}` }) },
  'GET /api/application-imports': { request: fixed(`/api/application-imports`) },
  'GET /api/application-imports/:id': { tenantObject: true, request: async () => ({ url: `/api/application-imports/${(await make.import()).id}` }) },
  'GET /api/applications': { request: fixed(`/api/applications`) },
  'GET /api/applications/:id': { tenantObject: true, request: fixed(`/api/applications/${applicationId}`) },
  'GET /api/authorization/external/permissions': { request: fixed(`/api/authorization/external/permissions`) },
  'GET /api/external/authentication-events': { request: fixed(`/api/external/authentication-events`) },
  'GET /api/external/members': { request: fixed(`/api/external/members`) },
  'GET /api/identities': { request: fixed(`/api/identities`) },
  'GET /api/identities/:id': { tenantObject: true, identityTarget: (id) => ({ url: `/api/identities/${id}` }) },
  'GET /api/permission': { request: fixed(`/api/permission`) },
  // The matrix's keys are bound to no application, which the service refuses (403; covered by
  // test/compat/coreone.test.ts): an invalid context type is answered 400 once the caller has
  // passed the route's rights, which is what this row is about.
  'GET /api/permission/myapplication': { request: fixed(`/api/permission/myapplication?contextType=Nonsense&contextObjectIdentifier=1`) },
  'GET /api/v1/access/at': { request: fixed(`/api/v1/access/at?at=${new Date().toISOString()}&identity=nobody`) },
  'GET /api/v1/access/drift': { request: fixed(`/api/v1/access/drift`) },
  'GET /api/v1/access/explain': { request: fixed(`/api/v1/access/explain`) },
  'GET /api/v1/applications': { request: fixed(`/api/v1/applications`) },
  'GET /api/v1/applications/:id': { tenantObject: true, request: fixed(`/api/v1/applications/${applicationId}`) },
  'GET /api/v1/applications/:id/accounts': { tenantObject: true, request: fixed(`/api/v1/applications/${applicationId}/accounts`) },
  'GET /api/v1/applications/:id/connector': { tenantObject: true, request: fixed(`/api/v1/applications/${applicationId}/connector`) },
  'GET /api/v1/applications/:id/permissions': { tenantObject: true, request: fixed(`/api/v1/applications/${applicationId}/permissions`) },
  'GET /api/v1/assignment-rules': { request: fixed(`/api/v1/assignment-rules`) },
  'GET /api/v1/assignment-rules/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/assignment-rules/${(await rule()).id}` }) },
  'GET /api/v1/assignments': { selfService: async () => ({ url: `/api/v1/assignments?assigneeType=identity&assigneeId=${(await holder()).ids.self}` }) },
  'GET /api/v1/access/drift/summary': { request: fixed(`/api/v1/access/drift/summary`) },
  'GET /api/v1/assignments/:id': { tenantObject: true, selfService: async () => ({ url: `/api/v1/assignments/${await delegation()}` }) },
  'GET /api/v1/audit-checkpoints': { request: fixed(`/api/v1/audit-checkpoints`) },
  'GET /api/v1/audit-events': { request: fixed(`/api/v1/audit-events`) },
  'GET /api/v1/audit-verification': { request: fixed(`/api/v1/audit-verification`) },
  'GET /api/v1/audit-verification/last': { request: fixed(`/api/v1/audit-verification/last`) },
  'GET /api/v1/event-sinks': { request: fixed(`/api/v1/event-sinks`) },
  'GET /api/v1/event-sinks/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/event-sinks/${(await sink()).id}` }) },
  'GET /api/v1/exports/audit-events': { request: fixed(`/api/v1/exports/audit-events`) },
  'GET /api/v1/exports/effective-permissions': { request: fixed(`/api/v1/exports/effective-permissions`) },
  'GET /api/v1/exports/permission-configuration': { request: fixed(`/api/v1/exports/permission-configuration`) },
  'GET /api/v1/directory/identities': { request: fixed(`/api/v1/directory/identities?q=ma`) },
  'GET /api/v1/identities': { request: fixed(`/api/v1/identities`) },
  'GET /api/v1/identities/:id': { tenantObject: true, identityTarget: (id) => ({ url: `/api/v1/identities/${id}` }) },
  'GET /api/v1/identities/:id/access/history': { tenantObject: true, identityTarget: (id) => ({ url: `/api/v1/identities/${id}/access/history` }) },
  'GET /api/v1/identities/:id/access': { tenantObject: true, identityTarget: (id) => ({ url: `/api/v1/identities/${id}/access` }) },
  'GET /api/v1/imports': { request: fixed(`/api/v1/imports`) },
  'GET /api/v1/imports/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/imports/${(await make.import()).id}` }) },
  'GET /api/v1/imports/:id/changes': { tenantObject: true, request: async () => ({ url: `/api/v1/imports/${(await make.import()).id}/changes` }) },
  'GET /api/v1/org-units': { request: fixed(`/api/v1/org-units`) },
  'GET /api/v1/org-units/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/org-units/${(await unitA()).id}` }) },
  'GET /api/v1/orphans': { request: fixed(`/api/v1/orphans`) },
  'GET /api/v1/permissions': { request: fixed(`/api/v1/permissions`) },
  'GET /api/v1/permissions/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/permissions/${(await permission()).id}` }) },
  'GET /api/v1/permissions/:id/holders': { tenantObject: true, request: async () => ({ url: `/api/v1/permissions/${(await permission()).id}/holders` }) },
  'GET /api/v1/roles': { request: fixed(`/api/v1/roles`) },
  'GET /api/v1/roles/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/roles/${(await role()).id}` }) },
  'GET /cxrestapi/auth/Permissions': { request: fixed(`/cxrestapi/auth/Permissions`) },
  'GET /cxrestapi/auth/Permissions/:id': { tenantObject: true, request: async () => ({ url: `/cxrestapi/auth/Permissions/${(await permission()).number + CX_APPLICATION_PERMISSION_OFFSET}` }) },
  'GET /cxrestapi/auth/Roles': { request: fixed(`/cxrestapi/auth/Roles`) },
  'GET /cxrestapi/auth/Roles/:id': { tenantObject: true, request: async () => ({ url: `/cxrestapi/auth/Roles/${(await role()).number}` }) },
  'GET /cxrestapi/auth/ServiceProviders': { request: fixed(`/cxrestapi/auth/ServiceProviders`) },
  'GET /cxrestapi/auth/ServiceProviders/:id': { tenantObject: true, request: async () => ({ url: `/cxrestapi/auth/ServiceProviders/${(await make.application()).number}` }) },
  'GET /cxrestapi/auth/Teams': { request: fixed(`/cxrestapi/auth/Teams`) },
  'GET /cxrestapi/auth/Teams/:id': { tenantObject: true, request: async () => ({ url: `/cxrestapi/auth/Teams/${(await unitA()).number}` }) },
  'GET /cxrestapi/auth/Teams/:id/Users': { tenantObject: true, request: async () => ({ url: `/cxrestapi/auth/Teams/${(await unitA()).number}/Users` }) },
  'GET /cxrestapi/auth/Users': { request: fixed(`/cxrestapi/auth/Users`) },
  'GET /cxrestapi/auth/Users/:id': { tenantObject: true, identityTarget: async (id) => ({ url: `/cxrestapi/auth/Users/${(await get(`/api/v1/identities/${id}`)).number}` }) },
  'GET /log/api/external/audit': { request: fixed(`/log/api/external/audit`) },
  'GET /log/api/external/v2/audit': { request: fixed(`/log/api/external/v2/audit`) },
  'PATCH /api/v1/applications/:id': { tenantObject: true, request: fixed(`/api/v1/applications/${applicationId}`, { description: 'matrix' }) },
  'PATCH /api/v1/assignment-rules/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/assignment-rules/${(await rule()).id}`, payload: { description: 'matrix' } }) },
  'PATCH /api/v1/identities/:id': { tenantObject: true, identityTarget: (id) => ({ url: `/api/v1/identities/${id}`, payload: { displayName: 'Matrix' } }) },
  'PATCH /api/v1/org-units/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/org-units/${(await unitA()).id}`, payload: { externalId: 'matrix' } }) },
  'PATCH /api/v1/permissions/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/permissions/${(await permission()).id}`, payload: { description: 'matrix' } }) },
  'PATCH /api/v1/roles/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/roles/${(await role()).id}`, payload: { description: 'matrix' } }) },
  'POST /api/application-imports/cancel': { request: fixed(`/api/application-imports/cancel`, {}) },
  'POST /api/application-imports/stage': { request: fixed(`/api/application-imports/stage`, {}) },
  'POST /api/application-imports/upload': { request: fixed(`/api/application-imports/upload`, {}) },
  'POST /api/v1/applications': { request: fixed(`/api/v1/applications`, {}) },
  'POST /api/v1/applications/:id/permissions': { tenantObject: true, request: () => ({ url: `/api/v1/applications/${applicationId}/permissions`, payload: { name: unique('matrix-permission') } }) },
  'POST /api/v1/assignment-rules': { request: fixed(`/api/v1/assignment-rules`, {}) },
  'POST /api/v1/assignments': { request: fixed(`/api/v1/assignments`, {}) },
  'POST /api/v1/assignments/:id/delegate': {
    tenantObject: true,
    holderOnly: true,
    selfService: async () => ({ url: `/api/v1/assignments/${(await holder()).assignmentId}/delegate`, payload: { assigneeId: (await make.identity()).id } }),
  },
  'POST /api/v1/assignments/:id/pause': { tenantObject: true, selfService: async () => ({ url: `/api/v1/assignments/${await delegation()}/pause`, payload: {} }) },
  'POST /api/v1/assignments/:id/resume': { tenantObject: true, selfService: async () => ({ url: `/api/v1/assignments/${await delegation('paused')}/resume`, payload: {} }) },
  'POST /api/v1/assignments/:id/revoke': { tenantObject: true, selfService: async () => ({ url: `/api/v1/assignments/${await delegation()}/revoke`, payload: {} }) },
  'POST /api/v1/audit-checkpoints': { request: fixed(`/api/v1/audit-checkpoints`, {}) },
  'POST /api/v1/check': { request: fixed(`/api/v1/check`, {}) },
  'POST /api/v1/check/batch': { request: fixed(`/api/v1/check/batch`, {}) },
  'POST /api/v1/event-sinks': { request: fixed(`/api/v1/event-sinks`, {}) },
  'POST /api/v1/event-sinks/:id/retry': { tenantObject: true, request: async () => ({ url: `/api/v1/event-sinks/${(await sink()).id}/retry`, payload: {} }) },
  'POST /api/v1/identities': { request: fixed(`/api/v1/identities`, {}) },
  'POST /api/v1/imports/:id/approve': { tenantObject: true, request: async () => ({ url: `/api/v1/imports/${(await make.import()).id}/approve`, payload: {} }) },
  'POST /api/v1/imports/:id/cancel': { tenantObject: true, request: async () => ({ url: `/api/v1/imports/${(await make.import()).id}/cancel`, payload: {} }) },
  'POST /api/v1/imports/:id/reject': { tenantObject: true, request: async () => ({ url: `/api/v1/imports/${(await make.import()).id}/reject`, payload: {} }) },
  'POST /api/v1/imports/dry-run': { request: fixed(`/api/v1/imports/dry-run`, {}) },
  'POST /api/v1/imports/stage': { request: fixed(`/api/v1/imports/stage`, {}) },
  'POST /api/v1/imports/upload': { request: fixed(`/api/v1/imports/upload`, {}) },
  'POST /api/v1/org-units': { request: fixed(`/api/v1/org-units`, {}) },
  'POST /api/v1/roles': { request: fixed(`/api/v1/roles`, {}) },
  'POST /cxrestapi/auth/Roles': { request: fixed(`/cxrestapi/auth/Roles`, {}) },
  'POST /cxrestapi/auth/Teams': { request: fixed(`/cxrestapi/auth/Teams`, {}) },
  'POST /cxrestapi/auth/Teams/:teamId/Users/:userId': {
    tenantObject: true,
    request: async () => ({ url: `/cxrestapi/auth/Teams/${(await make.unit()).number}/Users/${(await make.identity()).number}`, payload: {} }),
  },
  'POST /cxrestapi/auth/Users': { request: fixed(`/cxrestapi/auth/Users`, {}) },
  'PUT /api/v1/applications/:id/account-resolutions/:accountName': {
    tenantObject: true,
    request: async () => ({ url: `/api/v1/applications/${applicationId}/account-resolutions/${await account()}`, payload: { resolution: 'service' } }),
  },
  'PUT /api/v1/applications/:id/accounts/:accountName': { tenantObject: true, request: () => ({ url: `/api/v1/applications/${applicationId}/accounts/${unique('matrix-account')}`, payload: { grants: [] } }) },
  'PUT /api/v1/applications/:id/connector': { tenantObject: true, request: async () => ({ url: `/api/v1/applications/${(await make.application('connected')).id}/connector`, payload: IMPORT_CONNECTOR }) },
  'PUT /cxrestapi/auth/Roles/:id': { tenantObject: true, request: async () => ({ url: `/cxrestapi/auth/Roles/${(await role()).number}`, payload: { name: (await role()).name } }) },
  'PUT /cxrestapi/auth/Teams/:id': { tenantObject: true, request: async () => ({ url: `/cxrestapi/auth/Teams/${(await unitA()).number}`, payload: { name: (await unitA()).name } }) },
  'PUT /cxrestapi/auth/Teams/:id/Users': { tenantObject: true, request: async () => ({ url: `/cxrestapi/auth/Teams/${(await make.unit()).number}/Users`, payload: { userIds: [] } }) },
  'PUT /cxrestapi/auth/Users/:id': {
    tenantObject: true,
    identityTarget: async (id) => {
      const url = `/cxrestapi/auth/Users/${(await get(`/api/v1/identities/${id}`)).number}`;
      return { url, payload: { userName: (await get(url)).userName } };
    },
  },
  'GET /api/access-requests': { request: fixed(`/api/access-requests`) },
  'GET /api/access-requests/:id': { tenantObject: true, request: async () => ({ url: `/api/access-requests/${(await someRequest()).id}` }) },
  'GET /api/v1/access-requests': { request: fixed(`/api/v1/access-requests`) },
  'GET /api/v1/access-requests/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/access-requests/${(await someRequest()).id}` }) },
  'POST /api/v1/access-requests': { request: fixed(`/api/v1/access-requests`, {}) },
  'POST /api/v1/access-requests/:id/approve': { tenantObject: true, request: async () => ({ url: `/api/v1/access-requests/${(await accessRequest()).id}/approve`, payload: {} }) },
  'POST /api/v1/access-requests/:id/reject': { tenantObject: true, request: async () => ({ url: `/api/v1/access-requests/${(await accessRequest()).id}/reject`, payload: {} }) },
  'POST /api/v1/access-requests/:id/cancel': { tenantObject: true, request: async () => ({ url: `/api/v1/access-requests/${(await accessRequest()).id}/cancel`, payload: {} }) },
  'POST /api/v1/access-requests/:id/comments': { tenantObject: true, request: async () => ({ url: `/api/v1/access-requests/${(await someRequest()).id}/comments`, payload: { comment: 'matrix' } }) },
  'GET /api/v1/approvals': { request: fixed(`/api/v1/approvals`) },
  'POST /api/v1/approvals/:id/approve': { tenantObject: true, request: async () => ({ url: `/api/v1/approvals/${await approvalTask()}/approve`, payload: {} }) },
  'POST /api/v1/approvals/:id/reject': { tenantObject: true, request: async () => ({ url: `/api/v1/approvals/${await approvalTask()}/reject`, payload: {} }) },
  'GET /api/v1/sod-policies': { request: fixed(`/api/v1/sod-policies`) },
  'GET /api/v1/sod-policies/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/sod-policies/${(await someSodPolicy()).id}` }) },
  'POST /api/v1/sod-policies': { request: fixed(`/api/v1/sod-policies`, {}) },
  'PATCH /api/v1/sod-policies/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/sod-policies/${(await someSodPolicy()).id}`, payload: { severity: 'low' } }) },
  'DELETE /api/v1/sod-policies/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/sod-policies/${(await sodPolicy()).id}` }) },
  'GET /api/v1/sod-violations': { request: fixed(`/api/v1/sod-violations`) },
  'GET /api/v1/sod-violations/summary': { request: fixed(`/api/v1/sod-violations/summary`) },
  'GET /api/v1/sod-exceptions': { request: fixed(`/api/v1/sod-exceptions`) },
  'GET /api/v1/sod-exceptions/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/sod-exceptions/${(await someSodException()).id}` }) },
  'POST /api/v1/sod-exceptions/:id/revoke': {
    tenantObject: true,
    request: async () => {
      const fresh = await asAdmin('POST', '/api/v1/sod-exceptions', { policyId: (await exceptionPolicy()).id, identityId: (await make.identity()).id, reason: 'matrix', expiresAt: inAYear() });
      return { url: `/api/v1/sod-exceptions/${fresh.id}/revoke`, payload: { reason: 'matrix' } };
    },
  },
  'POST /api/v1/sod-exceptions': { request: async () => ({ url: `/api/v1/sod-exceptions`, payload: { policyId: (await exceptionPolicy()).id, identityId: (await make.identity()).id, reason: 'matrix', expiresAt: inAYear() } }) },
  'POST /api/v1/access-reviews': { request: fixed('/api/v1/access-reviews', { name: unique('matrix-review'), reviewer: { type: 'manager' } }) },
  'GET /api/v1/access-reviews': { request: fixed('/api/v1/access-reviews') },
  'GET /api/v1/access-reviews/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/access-reviews/${(await someReview()).reviewId}` }) },
  'POST /api/v1/access-reviews/:id/start': {
    tenantObject: true,
    request: async () => ({ url: `/api/v1/access-reviews/${(await asAdmin('POST', '/api/v1/access-reviews', { name: unique('matrix-review'), reviewer: { type: 'manager' }, scope: { applicationIds: [applicationId] } })).id as string}/start`, payload: {} }),
  },
  'POST /api/v1/access-reviews/:id/close': { tenantObject: true, request: async () => ({ url: `/api/v1/access-reviews/${(await accessReview()).reviewId}/close`, payload: {} }) },
  'GET /api/v1/access-reviews/:id/items': { tenantObject: true, request: async () => ({ url: `/api/v1/access-reviews/${(await someReview()).reviewId}/items` }) },
  'GET /api/v1/access-reviews/:id/progress': { tenantObject: true, request: async () => ({ url: `/api/v1/access-reviews/${(await someReview()).reviewId}/progress` }) },
  'GET /api/v1/access-reviews/:id/report': { tenantObject: true, request: async () => ({ url: `/api/v1/access-reviews/${(await someReview()).reviewId}/report?format=csv` }) },
  'POST /api/v1/review-items/:id/decide': { tenantObject: true, holderOnly: true, request: async () => ({ url: `/api/v1/review-items/${(await accessReview()).itemId}/decide`, payload: { decision: 'certify' } }) },
  'POST /api/v1/review-items/:id/delegate': { tenantObject: true, request: async () => ({ url: `/api/v1/review-items/${(await accessReview()).itemId}/delegate`, payload: { to: (await make.identity()).id } }) },
  'POST /api/v1/review-items/decisions': { request: async () => ({ url: '/api/v1/review-items/decisions', payload: { itemIds: [(await accessReview()).itemId], decision: 'certify' } }) },
  'GET /api/v1/approval-policies': { request: fixed(`/api/v1/approval-policies`) },
  'GET /api/v1/approval-policies/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/approval-policies/${(await somePolicy()).id}` }) },
  'POST /api/v1/approval-policies': { request: fixed(`/api/v1/approval-policies`, {}) },
  'PATCH /api/v1/approval-policies/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/approval-policies/${(await somePolicy()).id}`, payload: { autoApprove: 'low' } }) },
  'DELETE /api/v1/approval-policies/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/approval-policies/${(await policy()).id}` }) },
  // Personnel events (a fresh offboarding a year ahead for each request that needs one).
  'POST /api/v1/personnel-events/onboard': { request: fixed('/api/v1/personnel-events/onboard', {}) },
  'POST /api/v1/personnel-events/offboard': { request: fixed('/api/v1/personnel-events/offboard', {}) },
  'POST /api/v1/personnel-events/role-transition': { request: fixed('/api/v1/personnel-events/role-transition', {}) },
  'POST /api/v1/personnel-events/leave-of-absence': { request: fixed('/api/v1/personnel-events/leave-of-absence', {}) },
  'GET /api/v1/personnel-events': { request: fixed('/api/v1/personnel-events') },
  'GET /api/v1/personnel-events/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/personnel-events/${(await personnelEvent()).id}` }) },
  'GET /api/v1/personnel-events/:id/preview': { tenantObject: true, request: async () => ({ url: `/api/v1/personnel-events/${(await personnelEvent()).id}/preview` }) },
  'PATCH /api/v1/personnel-events/:id': { tenantObject: true, request: async () => ({ url: `/api/v1/personnel-events/${(await leave()).id}`, payload: { endDate: inDays(390) } }) },
  'POST /api/v1/personnel-events/:id/cancel': { tenantObject: true, request: async () => ({ url: `/api/v1/personnel-events/${(await newPersonnelEvent()).id}/cancel`, payload: {} }) },
  'POST /api/v1/personnel-events/:id/comments': { tenantObject: true, request: async () => ({ url: `/api/v1/personnel-events/${(await personnelEvent()).id}/comments`, payload: { comment: 'matrix' } }) },
  'GET /api/personnel-events': { request: fixed('/api/personnel-events') },
  'GET /api/personnel-events/:id': { tenantObject: true, request: async () => ({ url: `/api/personnel-events/${(await personnelEvent()).id}` }) },
  'POST /api/personnel-events/onboard': { request: fixed('/api/personnel-events/onboard', {}) },
  'POST /api/personnel-events/offboard': { request: fixed('/api/personnel-events/offboard', {}) },
  'POST /api/personnel-events/role-transition': { request: fixed('/api/personnel-events/role-transition', {}) },
  'POST /api/personnel-events/leave-of-absence': { request: fixed('/api/personnel-events/leave-of-absence', {}) },
  // SCIM 2.0: ids are Grantory ids; bodies in SCIM's shapes.
  'GET /scim/v2/ServiceProviderConfig': { request: fixed('/scim/v2/ServiceProviderConfig') },
  'GET /scim/v2/ResourceTypes': { request: fixed('/scim/v2/ResourceTypes') },
  'GET /scim/v2/ResourceTypes/:id': { request: fixed('/scim/v2/ResourceTypes/User') },
  'GET /scim/v2/Schemas': { request: fixed('/scim/v2/Schemas') },
  'GET /scim/v2/Schemas/:id': { request: fixed('/scim/v2/Schemas/urn:ietf:params:scim:schemas:core:2.0:User') },
  'GET /scim/v2/Users': { request: fixed('/scim/v2/Users?count=5') },
  'GET /scim/v2/Users/:id': { tenantObject: true, identityTarget: (id) => ({ url: `/scim/v2/Users/${id}` }) },
  'POST /scim/v2/Users': { request: () => ({ url: '/scim/v2/Users', payload: { userName: unique('matrix-scim') } }) },
  'PUT /scim/v2/Users/:id': {
    tenantObject: true,
    identityTarget: async (id) => ({ url: `/scim/v2/Users/${id}`, payload: { userName: (await get(`/api/v1/identities/${id}`)).username } }),
  },
  'PATCH /scim/v2/Users/:id': {
    tenantObject: true,
    identityTarget: (id) => ({ url: `/scim/v2/Users/${id}`, payload: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'title', value: 'Matrix' }] } }),
  },
  'DELETE /scim/v2/Users/:id': { tenantObject: true, request: async () => ({ url: `/scim/v2/Users/${(await make.identity()).id}` }) },
  'GET /scim/v2/Groups': { request: fixed('/scim/v2/Groups?count=5') },
  'GET /scim/v2/Groups/:id': { tenantObject: true, request: async () => ({ url: `/scim/v2/Groups/${(await unitA()).id}` }) },
  'POST /scim/v2/Groups': { request: () => ({ url: '/scim/v2/Groups', payload: { displayName: unique('matrix-scim-group') } }) },
  'PUT /scim/v2/Groups/:id': { tenantObject: true, request: async () => ({ url: `/scim/v2/Groups/${(await make.unit()).id}`, payload: { displayName: unique('matrix-scim-group') } }) },
  'PATCH /scim/v2/Groups/:id': {
    tenantObject: true,
    request: async () => ({ url: `/scim/v2/Groups/${(await make.unit()).id}`, payload: { schemas: ['urn:ietf:params:scim:api:messages:2.0:PatchOp'], Operations: [{ op: 'replace', path: 'externalId', value: unique('matrix') }] } }),
  },
  'DELETE /scim/v2/Groups/:id': { tenantObject: true, request: async () => ({ url: `/scim/v2/Groups/${(await make.unit()).id}` }) },
  'POST /scim/v2/.search': { request: fixed('/scim/v2/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: 5 }) },
  'POST /scim/v2/Users/.search': { request: fixed('/scim/v2/Users/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: 5 }) },
  'POST /scim/v2/Groups/.search': { request: fixed('/scim/v2/Groups/.search', { schemas: ['urn:ietf:params:scim:api:messages:2.0:SearchRequest'], count: 5 }) },
};

const routes: RouteTableEntry[] = routeTableOf(t.app);
const keyOf = (r: { method: string; url: string }) => `${r.method} ${r.url}`;

/** The row's request: its own, or its identity / self-service request for an identity of unit B. */
async function requestOf(row: Row): Promise<MatrixRequest> {
  if (row.request) return row.request();
  if (row.identityTarget) return row.identityTarget(await related('otherUnit', (await holder()).ids.self));
  if (row.selfService) return row.selfService();
  throw new Error('a matrix row needs request, identityTarget or selfService');
}

async function send(req: MatrixRequest, method: string, authorization: string | null): Promise<{ status: number; headers: Record<string, unknown> }> {
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

const call = async (row: Row, method: string, authorization: string | null) => send(await requestOf(row), method, authorization);

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

    if (auth.kind === 'session') {
      it('refuses a request without a session cookie, even with an Authorization header (401)', async () => {
        const res = await call(row, method, null);
        expect(res.status).toBe(401);
        expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer realm="grantory"/);
        expect((await call(row, method, t.auth.authorization)).status).toBe(401);
      });
      it('serves any signed-in session (with its CSRF token)', async () => {
        for (const key of [noRightsKey.secret, t.adminKey, otherAdminKey.secret]) {
          const session = await sessionOf(key);
          const req = await requestOf(row);
          const res = await t.app.inject({ method: method as 'GET', url: req.url, headers: { cookie: session.cookie, 'x-csrf-token': session.csrf } });
          allowed(res.statusCode);
        }
      });
      return;
    }

    it('refuses a request without credentials (401 with WWW-Authenticate)', async () => {
      const res = await call(row, method, null);
      expect(res.status).toBe(401);
      expect(String(res.headers['www-authenticate'])).toMatch(/^Bearer realm="grantory"/);
    });
    if (row.holderOnly) {
      it('refuses the administrator, who is not the holder (403)', async () => {
        expect((await call(row, method, t.auth.authorization)).status).toBe(403);
      });
    } else {
      it('serves the administrator', async () => {
        const { status } = await call(row, method, t.auth.authorization);
        allowed(status);
        if (row.tenantObject) expect(status, 'the object the row names exists in this tenant').not.toBe(404);
      });
    }
    if (row.tenantObject) {
      it("answers 404 to another tenant's administrator (never 403)", async () => {
        expect((await call(row, method, `Bearer ${strangerAdminKey.secret}`)).status).toBe(404);
      });
    }

    if (row.selfService) {
      const selfService = row.selfService;
      it.each(RELATIONS)('%s: served for the holder only, without any right', async (relation) => {
        const h = await holder();
        const { status } = await send(await selfService(), method, h.keys[relation]);
        if (relation === 'self') allowed(status);
        else expect(status).toBe(403);
      });
      return;
    }

    if (auth.kind === 'authenticated') {
      it('serves any authenticated caller', async () => {
        allowed((await call(row, method, `Bearer ${noRightsKey.secret}`)).status);
        if (!row.tenantObject) allowed((await call(row, method, `Bearer ${otherAdminKey.secret}`)).status);
      });
      return;
    }

    if (row.identityTarget) {
      const target = row.identityTarget;
      it.each(RELATIONS)(`%s: refused without ${auth.rights[0]} (403), served with it`, async (relation) => {
        const without = await callerHolding([]);
        expect((await send(await target(await related(relation, without.identityId)), method, `Bearer ${without.key}`)).status).toBe(403);
        const holding = await callerHolding([auth.rights[0]!, ...(row.alsoHolds ?? [])]);
        allowed((await send(await target(await related(relation, holding.identityId)), method, `Bearer ${holding.key}`)).status);
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
    if (!row.tenantObject) {
      it("serves another tenant's administrator (its own tenant's data)", async () => {
        allowed((await call(row, method, `Bearer ${otherAdminKey.secret}`)).status);
      });
    }
  });
});
