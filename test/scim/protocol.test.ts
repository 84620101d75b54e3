/**
 * The SCIM protocol's details, beyond the identity providers' sequences: every filter
 * operator on the attributes IdPs use, pagination (`startIndex`, `count`), `attributes` /
 * `excludedAttributes`, ETag and If-Match, the error bodies (`scimType`), the `scim`
 * scope, the discovery documents, and what a write does in the rest of Grantory (audit
 * events, an identity moving between Groups, concurrent PATCHes of one Group).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { apiKeyFor, basic, clientFor } from '../support/security-fixtures.ts';
import { ENTERPRISE, ERROR, GROUP, LIST, SEARCH, USER, scimClient } from './scim-client.ts';

let t: TestApp;
let scim: ReturnType<typeof scimClient>;
const tag = randomUUID().slice(0, 6);
const ids: Record<string, string> = {};

const people = [
  { key: 'ada', userName: `ada.${tag}@example.com`, given: 'Ada', family: 'Lovelace', title: 'Engineer', employeeNumber: `E1-${tag}`, active: true },
  { key: 'alan', userName: `alan.${tag}@example.com`, given: 'Alan', family: 'Turing', title: 'Cryptanalyst', employeeNumber: `E2-${tag}`, active: true },
  { key: 'grace', userName: `grace.${tag}@example.org`, given: 'Grace', family: 'Hopper', title: null, employeeNumber: `E3-${tag}`, active: false },
  { key: 'edsger', userName: `edsger.${tag}@example.org`, given: 'Edsger', family: 'Dijkstra', title: 'Engineer', employeeNumber: null, active: true },
];

beforeAll(async () => {
  t = await createTestApp();
  scim = scimClient(t);
  for (const p of people) {
    const res = await scim.post('/Users', {
      schemas: [USER, ENTERPRISE],
      userName: p.userName,
      name: { givenName: p.given, familyName: p.family },
      emails: [{ value: p.userName, type: 'work', primary: true }],
      active: p.active,
      ...(p.title ? { title: p.title } : {}),
      ...(p.employeeNumber ? { [ENTERPRISE]: { employeeNumber: p.employeeNumber, department: p.key === 'ada' ? 'Analytical Engines' : 'Research' } } : {}),
    });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    ids[p.key] = res.body.id;
  }
});
afterAll(async () => t.close());

const idsOf = (body: { Resources: { id: string }[] }) => body.Resources.map((r) => r.id).sort();
const idsFor = (...keys: string[]) => keys.map((k) => ids[k]!).sort();

describe('filters', () => {
  const cases: [string, string[]][] = [
    [`userName eq "ADA.${tag}@EXAMPLE.COM"`, ['ada']],
    [`userName ne "ada.${tag}@example.com" and userName co "${tag}"`, ['alan', 'grace', 'edsger']],
    [`userName co ".${tag}@example.org"`, ['grace', 'edsger']],
    [`userName sw "al" and userName co "${tag}"`, ['alan']],
    [`userName ew "${tag}@example.org"`, ['grace', 'edsger']],
    [`title pr and userName co "${tag}"`, ['ada', 'alan', 'edsger']],
    [`title eq "engineer" or name.familyName eq "Turing"`, ['ada', 'alan', 'edsger']],
    [`active eq false and userName co "${tag}"`, ['grace']],
    [`not (active eq true) and userName co "${tag}"`, ['grace']],
    [`emails[type eq "work" and value co "grace.${tag}"]`, ['grace']],
    [`emails.value eq "alan.${tag}@example.com"`, ['alan']],
    [`${ENTERPRISE}:employeeNumber eq "E2-${tag}"`, ['alan']],
    [`urn:ietf:params:scim:schemas:extension:enterprise:2.0:User:department eq "analytical engines"`, ['ada']],
    [`name.givenName sw "ed" and (title eq "Engineer" or title eq "Nobody")`, ['edsger']],
    [`userName co "${tag}" and not (title pr)`, ['grace']],
  ];
  for (const [filter, expected] of cases) {
    it(filter.replace(tag, '<tag>'), async () => {
      const res = await scim.filter('Users', filter);
      expect(res.status, JSON.stringify(res.body)).toBe(200);
      expect(idsOf(res.body)).toEqual(idsFor(...expected));
      expect(res.body.totalResults).toBe(expected.length);
    });
  }

  it('compares meta.lastModified as a time', async () => {
    const past = await scim.filter('Users', `meta.lastModified gt "2000-01-01T00:00:00Z" and userName co "${tag}"`);
    expect(past.body.totalResults).toBe(4);
    const future = await scim.filter('Users', `meta.lastModified gt "2999-01-01T00:00:00+02:00" and userName co "${tag}"`);
    expect(future.body.totalResults).toBe(0);
  });

  it('takes % and _ in co literally', async () => {
    expect((await scim.filter('Users', 'userName co "%"')).body.totalResults).toBe(0);
    expect((await scim.filter('Users', 'userName co "_"')).body.totalResults).toBe(0);
  });

  for (const [filter, why] of [
    ['userName eq', /cannot be parsed/],
    ['password eq "x"', /password is not an attribute/],
    ['active co "tr"', /boolean/],
    ['userName gt 3', /takes a string/],
    ['meta.created gt "yesterday"', /ISO 8601/],
  ] as const) {
    it(`refuses ${filter} with 400 invalidFilter`, async () => {
      const res = await scim.filter('Users', filter);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidFilter' });
      expect(res.body.detail).toMatch(why);
    });
  }
});

describe('pagination and projection', () => {
  it('pages with startIndex and count over a filter, in a stable order', async () => {
    const filter = encodeURIComponent(`userName co "${tag}"`);
    const pages = [];
    for (const startIndex of [1, 3, 5]) {
      const res = await scim.get(`/Users?filter=${filter}&startIndex=${startIndex}&count=2`);
      expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 4, startIndex });
      pages.push(...res.body.Resources.map((r: { id: string }) => r.id));
      expect(res.body.itemsPerPage).toBe(res.body.Resources.length);
    }
    expect(pages.sort()).toEqual(Object.values(ids).sort());
  });

  it('answers count=0 with the total only, reads startIndex<1 as 1, and caps count', async () => {
    const filter = encodeURIComponent(`userName co "${tag}"`);
    const total = await scim.get(`/Users?filter=${filter}&count=0`);
    expect(total.body).toMatchObject({ totalResults: 4, itemsPerPage: 0, Resources: [] });
    const zero = await scim.get(`/Users?filter=${filter}&startIndex=0&count=1`);
    expect(zero.body.startIndex).toBe(1);
    // A short page tells the total without counting: it must still be the list's.
    const last = await scim.get(`/Users?filter=${filter}&startIndex=4&count=2`);
    expect(last.body).toMatchObject({ totalResults: 4, itemsPerPage: 1, startIndex: 4 });
    const past = await scim.get(`/Users?filter=${filter}&startIndex=9&count=2`);
    expect(past.body).toMatchObject({ totalResults: 4, itemsPerPage: 0 });
    const many = await scim.get(`/Users?count=100000`);
    expect(many.status).toBe(200);
    expect(many.body.itemsPerPage).toBeLessThanOrEqual(1000);
  });

  it('returns only the attributes asked for, and leaves excluded ones out', async () => {
    const only = await scim.get(`/Users/${ids.ada}?attributes=userName,name.givenName`);
    expect(Object.keys(only.body).sort()).toEqual(['id', 'meta', 'name', 'schemas', 'userName']);
    const without = await scim.get(`/Users/${ids.ada}?excludedAttributes=emails,${ENTERPRISE}`);
    expect(without.body.emails).toBeUndefined();
    expect(without.body[ENTERPRISE]).toBeUndefined();
    expect(without.body.userName).toBe(people[0]!.userName);
  });
});

describe('sorting (sortBy, sortOrder)', () => {
  const sorted = async (query: string) => {
    const res = await scim.get(`/Users?filter=${encodeURIComponent(`userName co "${tag}"`)}&${query}`);
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    const keyOf = new Map(Object.entries(ids).map(([k, id]) => [id, k]));
    return res.body.Resources.map((r: { id: string }) => keyOf.get(r.id));
  };

  it('sorts by an attribute, ascending or descending, text without case', async () => {
    expect(await sorted('sortBy=userName')).toEqual(['ada', 'alan', 'edsger', 'grace']);
    expect(await sorted('sortBy=name.familyName&sortOrder=descending')).toEqual(['alan', 'ada', 'grace', 'edsger']);
    expect(await sorted('sortBy=emails&sortOrder=descending')).toEqual(['grace', 'edsger', 'alan', 'ada']);
    expect(await sorted(`sortBy=${encodeURIComponent(`${ENTERPRISE}:employeeNumber`)}&sortOrder=ascending`)).toEqual(['ada', 'alan', 'grace', 'edsger']);
  });

  it('puts resources without the value last when ascending and first when descending; ties in number order', async () => {
    expect(await sorted('sortBy=title')).toEqual(['alan', 'ada', 'edsger', 'grace']);
    expect(await sorted('sortBy=title&sortOrder=descending')).toEqual(['grace', 'ada', 'edsger', 'alan']);
  });

  it('pages through a sorted list', async () => {
    expect(await sorted('sortBy=userName&startIndex=2&count=2')).toEqual(['alan', 'edsger']);
  });

  it('refuses an attribute it cannot sort by with 400 invalidValue', async () => {
    for (const [resource, sortBy] of [['Users', 'nickName'], ['Groups', 'members']] as const) {
      const res = await scim.get(`/${resource}?sortBy=${sortBy}`);
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ schemas: [ERROR], scimType: 'invalidValue' });
      expect(res.body.detail).toContain(sortBy);
    }
    expect((await scim.get('/Users?sortBy=userName&sortOrder=sideways')).status).toBe(400);
  });
});

describe('POST .search (SearchRequest)', () => {
  let groupId: string;
  beforeAll(async () => {
    const res = await scim.post('/Groups', { schemas: [GROUP], displayName: `Search ${tag}`, members: [{ value: ids.ada }] });
    expect(res.status, JSON.stringify(res.body)).toBe(201);
    groupId = res.body.id;
  });

  it('searches Users with the query in the body: filter, sort, page and attribute lists', async () => {
    const res = await scim.post('/Users/.search', {
      schemas: [SEARCH],
      filter: `userName co "${tag}"`,
      sortBy: 'userName',
      sortOrder: 'descending',
      startIndex: 1,
      count: 2,
      attributes: ['userName'],
    });
    expect(res.status, JSON.stringify(res.body)).toBe(200);
    expect(res.headers['content-type']).toContain('application/scim+json');
    expect(res.body).toMatchObject({ schemas: [LIST], totalResults: 4, startIndex: 1, itemsPerPage: 2 });
    expect(res.body.Resources.map((r: { id: string }) => r.id)).toEqual([ids.grace, ids.edsger]);
    expect(Object.keys(res.body.Resources[0]).sort()).toEqual(['id', 'meta', 'schemas', 'userName']);
  });

  it('searches Groups, leaving out excluded members', async () => {
    const body = { schemas: [SEARCH], filter: `displayName eq "search ${tag}"` };
    const withMembers = await scim.post('/Groups/.search', body);
    expect(withMembers.body.Resources).toHaveLength(1);
    expect(withMembers.body.Resources[0].members.map((m: { value: string }) => m.value)).toEqual([ids.ada]);
    const without = await scim.post('/Groups/.search', { ...body, excludedAttributes: ['members'] });
    expect(without.body.Resources[0]).not.toHaveProperty('members');
  });

  it('searches Users and Groups at the root: Users first, a type the filter cannot apply to has no matches', async () => {
    const both = await scim.post('/.search', { schemas: [SEARCH], filter: `id eq "${ids.ada}" or id eq "${groupId}"` });
    expect(both.status, JSON.stringify(both.body)).toBe(200);
    expect(both.body.totalResults).toBe(2);
    expect(both.body.Resources.map((r: { id: string; meta: { resourceType: string } }) => [r.meta.resourceType, r.id])).toEqual([['User', ids.ada], ['Group', groupId]]);
    expect(both.body.Resources[1].members).toEqual([expect.objectContaining({ value: ids.ada, type: 'User' })]);
    const second = await scim.post('/.search', { schemas: [SEARCH], filter: `id eq "${ids.ada}" or id eq "${groupId}"`, startIndex: 2, count: 1 });
    expect(second.body).toMatchObject({ totalResults: 2, itemsPerPage: 1, Resources: [{ id: groupId }] });
    // Descending by an attribute Groups lack: the Groups (without the value) come first.
    const descending = await scim.post('/.search', { schemas: [SEARCH], filter: `id eq "${ids.ada}" or id eq "${groupId}"`, sortBy: 'userName', sortOrder: 'descending' });
    expect(descending.body.Resources.map((r: { id: string }) => r.id)).toEqual([groupId, ids.ada]);
    // userName is no Group attribute: only Users match.
    const users = await scim.post('/.search', { schemas: [SEARCH], filter: `userName eq "ada.${tag}@example.com"` });
    expect(users.body).toMatchObject({ totalResults: 1, Resources: [{ id: ids.ada }] });
  });

  it('refuses a filter no resource type takes with 400 invalidFilter', async () => {
    for (const filter of ['userName eq', 'nickName eq "x"']) {
      const res = await scim.post('/.search', { schemas: [SEARCH], filter });
      expect(res.status).toBe(400);
      expect(res.body).toMatchObject({ schemas: [ERROR], scimType: 'invalidFilter' });
    }
  });
});

describe('ETag and If-Match', () => {
  it('sends the version as ETag and refuses a stale If-Match with 412', async () => {
    const read = await scim.get(`/Users/${ids.alan}`);
    const etag = read.headers.etag as string;
    expect(etag).toBe(read.body.meta.version);
    const changed = await scim.patch(`/Users/${ids.alan}`, [{ op: 'replace', path: 'displayName', value: 'Alan M. Turing' }], { 'if-match': etag });
    expect(changed.status).toBe(200);
    expect(changed.headers.etag).not.toBe(etag);
    const stale = await scim.patch(`/Users/${ids.alan}`, [{ op: 'replace', path: 'displayName', value: 'Stale' }], { 'if-match': etag });
    expect(stale.status).toBe(412);
    expect(stale.body).toMatchObject({ schemas: [ERROR], status: '412' });
    const staleDelete = await scim.delete(`/Users/${ids.alan}`, { 'if-match': etag });
    expect(staleDelete.status).toBe(412);
    expect((await scim.get(`/Users/${ids.alan}`)).body.displayName).toBe('Alan M. Turing');
  });
});

describe('error bodies', () => {
  it('answers a body that is not JSON with 400 invalidSyntax', async () => {
    const res = await scim.send('POST', '/Users', '{"userName": ');
    expect(res.status).toBe(400);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '400', scimType: 'invalidSyntax' });
  });

  it('answers a User without userName with 400 invalidValue naming it', async () => {
    const res = await scim.post('/Users', { schemas: [USER], name: { givenName: 'No' } });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
    expect(res.body.detail).toMatch(/userName/);
  });

  it('answers a PATCH with an unknown op or a remove without path with 400', async () => {
    const bad = await scim.patch(`/Users/${ids.ada}`, [{ op: 'move', path: 'title', value: 'x' }]);
    expect(bad.status).toBe(400);
    expect(bad.body.scimType).toBe('invalidSyntax');
    const noPath = await scim.patch(`/Users/${ids.ada}`, [{ op: 'remove' }]);
    expect(noPath.status).toBe(400);
    expect(noPath.body.scimType).toBe('noTarget');
    const filterOnSingle = await scim.patch(`/Users/${ids.ada}`, [{ op: 'remove', path: 'userName[value eq "x"]' }]);
    expect(filterOnSingle.status).toBe(400);
  });

  it('answers a manager that does not exist with 400 invalidValue', async () => {
    const res = await scim.patch(`/Users/${ids.ada}`, [{ op: 'add', path: `${ENTERPRISE}:manager`, value: { value: randomUUID() } }]);
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
  });

  it('answers a Group as a member with 400 invalidValue', async () => {
    const res = await scim.post('/Groups', { schemas: [GROUP], displayName: `Nested ${tag}`, members: [{ value: ids.ada, type: 'Group' }] });
    expect(res.status).toBe(400);
    expect(res.body.scimType).toBe('invalidValue');
  });

  it('answers without credentials 401 with WWW-Authenticate, in the SCIM body', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/scim/v2/Users' });
    expect(res.statusCode).toBe(401);
    expect(res.headers['www-authenticate']).toMatch(/^Bearer/);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.json()).toMatchObject({ schemas: [ERROR], status: '401' });
  });

  it('answers an unknown path and a wrong method in the SCIM body', async () => {
    const missing = await scim.get('/Bulk');
    expect(missing.status).toBe(404);
    expect(missing.body.schemas).toEqual([ERROR]);
    const method = await scim.send('POST', '/ServiceProviderConfig', {});
    expect(method.status).toBe(405);
    expect(method.body).toMatchObject({ schemas: [ERROR], status: '405' });
  });
});

describe('credentials and the scim scope', () => {
  let adminId: string;
  beforeAll(async () => {
    adminId = (await t.store.read(t.tenantId).db.selectFrom('identities').select('id').where('tenant_id', '=', t.tenantId).where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow()).id;
  });

  it('lets an API key with the scim scope in, and refuses one narrowed to other scopes (403)', async () => {
    const scimKey = await apiKeyFor(t.services, t.tenantId, adminId, { scopes: ['scim'] });
    expect((await scimClient(t, `Bearer ${scimKey.secret}`).get('/Users?count=1')).status).toBe(200);
    const other = await apiKeyFor(t.services, t.tenantId, adminId, { scopes: ['grantory:manage-users'] });
    const refused = await scimClient(t, `Bearer ${other.secret}`).get('/Users?count=1');
    expect(refused.status).toBe(403);
    expect(refused.body).toMatchObject({ schemas: [ERROR], status: '403' });
    expect(refused.body.detail).toMatch(/scim scope/);
  });

  it('lets an OAuth client token with the scim scope provision a user', async () => {
    const client = await clientFor(t.services, t.tenantId, { identityId: adminId, scopes: ['scim'] });
    const token = await t.app.inject({
      method: 'POST',
      url: '/oauth/token',
      headers: { authorization: basic(client.clientId, client.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
      payload: 'grant_type=client_credentials&scope=scim',
    });
    expect(token.statusCode, token.body).toBe(200);
    const viaToken = scimClient(t, `Bearer ${(token.json() as { access_token: string }).access_token}`);
    const res = await viaToken.post('/Users', { schemas: [USER], userName: `oauth.${tag}@example.com` });
    expect(res.status).toBe(201);
  });

  it('keeps only manage-users in the scim scope: other rights are refused', async () => {
    const scimKey = await apiKeyFor(t.services, t.tenantId, adminId, { scopes: ['scim'] });
    const res = await t.app.inject({ method: 'GET', url: '/api/v1/audit-events', headers: { authorization: `Bearer ${scimKey.secret}` } });
    expect(res.statusCode).toBe(403);
  });
});

describe('discovery', () => {
  it('serves ServiceProviderConfig, ResourceTypes and Schemas', async () => {
    const config = await scim.get('/ServiceProviderConfig');
    expect(config.body).toMatchObject({ patch: { supported: true }, filter: { supported: true, maxResults: 1000 }, etag: { supported: true }, sort: { supported: true }, bulk: { supported: false } });
    const types = await scim.get('/ResourceTypes');
    expect(types.body.Resources.map((r: { id: string }) => r.id)).toEqual(['User', 'Group']);
    expect((await scim.get('/ResourceTypes/User')).body.schemaExtensions).toEqual([{ schema: ENTERPRISE, required: false }]);
    const schemas = await scim.get('/Schemas');
    expect(schemas.body.Resources.map((r: { id: string }) => r.id)).toEqual([USER, ENTERPRISE, GROUP]);
    const user = await scim.get(`/Schemas/${USER}`);
    expect(user.body.attributes.map((a: { name: string }) => a.name)).toContain('userName');
    expect((await scim.get('/Schemas/urn:nope')).status).toBe(404);
  });
});

describe('writes in the rest of Grantory', () => {
  it('records each SCIM write as an audit event of the caller', async () => {
    await scim.patch(`/Users/${ids.edsger}`, [{ op: 'replace', path: 'active', value: false }]);
    const events = await t.store.read(t.tenantId).db.selectFrom('audit_events').select(['action', 'target_id', 'after']).where('tenant_id', '=', t.tenantId).where('target_id', '=', ids.edsger!).orderBy('seq').execute();
    expect(events.map((e) => e.action)).toEqual(['identity.create', 'identity.update']);
    expect(JSON.parse(events[1]!.after!)).toMatchObject({ status: 'terminated' });
  });

  it('ends access on active false and gives it back on active true (assignments stay recorded)', async () => {
    const api = async (method: 'GET' | 'POST', url: string, payload?: object) => {
      const res = await t.app.inject({ method, url: `/api/v1${url}`, headers: t.auth, ...(payload ? { payload } : {}) });
      expect(res.statusCode, res.body).toBeLessThan(300);
      return res.json() as Record<string, unknown>;
    };
    const user = await scim.post('/Users', { schemas: [USER], userName: `access.${tag}@example.com` });
    const application = await api('POST', '/applications', { name: `SCIM app ${tag}` });
    const permission = await api('POST', `/applications/${application.id as string}/permissions`, { name: 'read' });
    await api('POST', '/assignments', { assignee: { type: 'identity', id: user.body.id }, resource: { type: 'permission', id: permission.id } });
    const allowed = async () => (await api('POST', '/check', { identity: user.body.id, permission: permission.id as string })).allowed;
    expect(await allowed()).toBe(true);
    await scim.patch(`/Users/${user.body.id}`, [{ op: 'replace', value: { active: false } }]);
    expect(await allowed()).toBe(false);
    await scim.patch(`/Users/${user.body.id}`, [{ op: 'replace', value: { active: true } }]);
    expect(await allowed()).toBe(true);
  });

  it('keeps on leave an identity on leave when the IdP deactivates it', async () => {
    await t.store.write(t.tenantId, { actorType: 'system', actorId: 'test', actorName: 'test', requestId: null, sourceIp: null, userAgent: null, origin: null }, async (tx) => {
      await tx.db.updateTable('identities').set({ status: 'on_leave' }).where('tenant_id', '=', t.tenantId).where('id', '=', ids.grace!).execute();
      tx.audit({ action: 'identity.update', targetType: 'identity', targetId: ids.grace!, after: { status: 'on_leave' } });
    });
    const res = await scim.patch(`/Users/${ids.grace}`, [{ op: 'replace', path: 'active', value: false }]);
    expect(res.body.active).toBe(false);
    const row = await t.store.read(t.tenantId).db.selectFrom('identities').select('status').where('id', '=', ids.grace!).executeTakeFirstOrThrow();
    expect(row.status).toBe('on_leave');
  });

  it('moves a user added to a second Group out of the first (one unit per identity)', async () => {
    const first = await scim.post('/Groups', { schemas: [GROUP], displayName: `First ${tag}`, members: [{ value: ids.ada }] });
    const second = await scim.post('/Groups', { schemas: [GROUP], displayName: `Second ${tag}` });
    await scim.patch(`/Groups/${second.body.id}`, [{ op: 'add', path: 'members', value: [{ value: ids.ada }] }]);
    expect((await scim.get(`/Groups/${first.body.id}`)).body.members).toEqual([]);
    expect((await scim.get(`/Users/${ids.ada}`)).body.groups.map((g: { value: string }) => g.value)).toEqual([second.body.id]);
  });

  it('loses no member when several PATCHes of one Group run at once', async () => {
    const group = await scim.post('/Groups', { schemas: [GROUP], displayName: `Parallel ${tag}` });
    const users = await Promise.all([1, 2, 3, 4, 5].map(async (n) => (await scim.post('/Users', { schemas: [USER], userName: `parallel.${n}.${tag}@example.com` })).body.id as string));
    const answers = await Promise.all(users.map((value) => scim.patch(`/Groups/${group.body.id}`, [{ op: 'add', path: 'members', value: [{ value }] }])));
    expect(answers.map((a) => a.status)).toEqual([200, 200, 200, 200, 200]);
    const members = (await scim.get(`/Groups/${group.body.id}`)).body.members.map((m: { value: string }) => m.value).sort();
    expect(members).toEqual([...users].sort());
  });

  it('changes only the members a membership PATCH names, moving the version, in one audited write', async () => {
    const user = async (n: number) => (await scim.post('/Users', { schemas: [USER], userName: `member.${n}.${tag}@example.com` })).body.id as string;
    const [a, b, c, d] = [await user(1), await user(2), await user(3), await user(4)];
    const elsewhere = await scim.post('/Groups', { schemas: [GROUP], displayName: `Elsewhere ${tag}`, members: [{ value: d }] });
    const group = await scim.post('/Groups', { schemas: [GROUP], displayName: `Members ${tag}`, members: [{ value: a }] });
    const url = `/Groups/${group.body.id}`;
    const membersOf = async (path: string) => ((await scim.get(path)).body.members as { value: string }[]).map((m) => m.value).sort();

    const added = await scim.patch(url, [{ op: 'Add', path: 'members', value: [{ value: b }, { value: c }] }]);
    expect(added.status, JSON.stringify(added.body)).toBe(200);
    expect(added.body.members.map((m: { value: string }) => m.value).sort()).toEqual([a, b, c].sort());
    expect(added.headers.etag).not.toBe(group.headers.etag);
    const events = await t.store.read(t.tenantId).db.selectFrom('audit_events').select(['action', 'target_id', 'revision']).where('tenant_id', '=', t.tenantId).where('request_id', 'is not', null).orderBy('seq', 'desc').limit(3).execute();
    expect(events.map((e) => [e.action, e.target_id]).sort()).toEqual([['identity.update', b], ['identity.update', c], ['orgUnit.update', group.body.id]].sort());
    expect(new Set(events.map((e) => e.revision)).size).toBe(1);

    // Okta's remove by value path, Entra's by value list; a non-member named stays where it is.
    expect((await scim.patch(url, [{ op: 'remove', path: `members[value eq "${a}"]` }])).status).toBe(200);
    expect((await scim.patch(url, [{ op: 'Remove', path: 'members', value: [{ value: b, $ref: null }, { value: d }] }])).status).toBe(200);
    expect(await membersOf(url)).toEqual([c]);
    expect(await membersOf(`/Groups/${elsewhere.body.id}`)).toEqual([d]);
    expect((await scim.get(`/Users/${a}`)).body.groups).toBeUndefined();

    // A stale If-Match, and an identity that does not exist, change nothing.
    const stale = await scim.patch(url, [{ op: 'add', path: 'members', value: [{ value: a }] }], { 'if-match': added.headers.etag as string });
    expect(stale.status).toBe(412);
    const missing = await scim.patch(url, [{ op: 'add', path: 'members', value: [{ value: a }, { value: randomUUID() }] }]);
    expect(missing.status).toBe(400);
    expect(missing.body).toMatchObject({ schemas: [ERROR], scimType: 'invalidValue' });
    expect(await membersOf(url)).toEqual([c]);

    // A PATCH that also renames is applied to the whole Group.
    const renamed = await scim.patch(url, [{ op: 'replace', path: 'displayName', value: `Members renamed ${tag}` }, { op: 'add', path: 'members', value: [{ value: a }] }]);
    expect(renamed.body).toMatchObject({ displayName: `Members renamed ${tag}` });
    expect(renamed.body.members.map((m: { value: string }) => m.value).sort()).toEqual([a, c].sort());
  });

  it('refuses to delete a user with access history (409) and says to deactivate it', async () => {
    const adminRow = await t.store.read(t.tenantId).db.selectFrom('identities').select('id').where('tenant_id', '=', t.tenantId).where('subject', '=', 'grantory:admin').executeTakeFirstOrThrow();
    const res = await scim.delete(`/Users/${adminRow.id}`);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '409' });
  });
});
