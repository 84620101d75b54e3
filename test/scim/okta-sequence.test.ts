/**
 * The request sequence of Okta's SCIM 2.0 test plan (the "Okta SCIM 2.0 spec test" its
 * validator runs, then what Okta sends when it provisions): list, look-ups by userName,
 * create, re-create (409), case-insensitive userName, profile update by PUT, deactivate and
 * reactivate by PATCH without a path, and Group Push (create, rename, add and remove
 * members by value path, delete). Each step checks what the test plan checks.
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { ERROR, GROUP, LIST, USER, scimClient } from './scim-client.ts';

let t: TestApp;
let scim: ReturnType<typeof scimClient>;
beforeAll(async () => {
  t = await createTestApp();
  scim = scimClient(t);
});
afterAll(async () => t.close());

const email = `okta.user.${randomUUID().slice(0, 8)}@example.com`;
const oktaUser = {
  schemas: [USER],
  userName: email,
  name: { givenName: 'Grace', familyName: 'Hopper' },
  emails: [{ primary: true, value: email, type: 'work' }],
  displayName: 'Grace Hopper',
  locale: 'en-US',
  externalId: '00u1okta2GRACE3hop4',
  groups: [],
  password: 'ignored-by-grantory-1!',
  active: true,
};

describe('Okta SCIM 2.0 spec test, users', () => {
  let id: string;

  it('lists Users with count=1&startIndex=1 as a ListResponse', async () => {
    const res = await scim.get('/Users?count=1&startIndex=1');
    expect(res.status).toBe(200);
    expect(res.headers['content-type']).toMatch(/^application\/scim\+json/);
    expect(res.body.schemas).toEqual([LIST]);
    expect(res.body.startIndex).toBe(1);
    expect(res.body.itemsPerPage).toBe(1);
    expect(res.body.totalResults).toBeGreaterThanOrEqual(1);
    expect(res.body.Resources).toHaveLength(1);
    // The first user can be read by its id.
    const first = await scim.get(`/Users/${res.body.Resources[0].id}`);
    expect(first.status).toBe(200);
    expect(first.body.id).toBe(res.body.Resources[0].id);
  });

  it('finds no user for an unknown userName, and answers 404 for an unknown id', async () => {
    const none = await scim.filter('Users', `userName eq "${email}"`);
    expect(none.status).toBe(200);
    expect(none.body.totalResults).toBe(0);
    expect(none.body.Resources).toEqual([]);
    const missing = await scim.get(`/Users/${randomUUID()}`);
    expect(missing.status).toBe(404);
    expect(missing.body).toMatchObject({ schemas: [ERROR], status: '404' });
    expect(missing.body.detail).toMatch(/does not exist/);
  });

  it('creates the user (201, Location, ETag) and reads it back', async () => {
    const res = await scim.post('/Users', oktaUser);
    expect(res.status).toBe(201);
    id = res.body.id;
    expect(res.body).toMatchObject({ userName: email, active: true, name: { givenName: 'Grace', familyName: 'Hopper' }, externalId: oktaUser.externalId, displayName: 'Grace Hopper' });
    expect(res.body.emails).toEqual([{ value: email, type: 'work', primary: true }]);
    expect(res.headers.location).toBe(res.body.meta.location);
    expect(res.headers.etag).toBe(res.body.meta.version);
    expect(res.body.password).toBeUndefined();
    const read = await scim.get(`/Users/${id}`);
    expect(read.status).toBe(200);
    expect(read.body.userName).toBe(email);
  });

  it('refuses to create the same user again with 409 uniqueness', async () => {
    const res = await scim.post('/Users', oktaUser);
    expect(res.status).toBe(409);
    expect(res.body).toMatchObject({ schemas: [ERROR], status: '409', scimType: 'uniqueness' });
  });

  it('finds the user by userName whatever its case', async () => {
    const res = await scim.filter('Users', `userName eq "${email.toUpperCase()}"`);
    expect(res.status).toBe(200);
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0].id).toBe(id);
  });

  it('updates the profile with PUT (Okta sends the whole user)', async () => {
    const res = await scim.put(`/Users/${id}`, { ...oktaUser, id, name: { givenName: 'Grace B.', familyName: 'Hopper' }, title: 'Rear Admiral' });
    expect(res.status).toBe(200);
    expect(res.body.name.givenName).toBe('Grace B.');
    expect(res.body.title).toBe('Rear Admiral');
    const { identity } = await t.services.deps.store.read(t.tenantId).db.selectFrom('identities').select(['first_name as identity']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(identity).toBe('Grace B.');
  });

  it('deactivates with PATCH {op: replace, value: {active: false}} and reactivates', async () => {
    const off = await scim.patch(`/Users/${id}`, [{ op: 'replace', value: { active: false } }]);
    expect(off.status).toBe(200);
    expect(off.body.active).toBe(false);
    expect((await scim.get(`/Users/${id}`)).body.active).toBe(false);
    const row = await t.store.read(t.tenantId).db.selectFrom('identities').select('status').where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.status).toBe('terminated');
    const on = await scim.patch(`/Users/${id}`, [{ op: 'replace', value: { active: true } }]);
    expect(on.body.active).toBe(true);
  });
});

describe('Okta Group Push', () => {
  let groupId: string;
  const members: string[] = [];

  beforeAll(async () => {
    for (const n of [1, 2, 3]) {
      const res = await scim.post('/Users', { schemas: [USER], userName: `push.${n}.${randomUUID().slice(0, 6)}@example.com`, name: { givenName: `Push${n}`, familyName: 'Member' }, active: true });
      expect(res.status).toBe(201);
      members.push(res.body.id);
    }
  });

  it('creates the group with its members', async () => {
    const res = await scim.post('/Groups', { schemas: [GROUP], displayName: 'Okta Pushed', members: [{ value: members[0], display: 'Push1 Member' }] });
    expect(res.status).toBe(201);
    groupId = res.body.id;
    expect(res.body.members.map((m: { value: string }) => m.value)).toEqual([members[0]]);
    // The member's groups show the unit.
    expect((await scim.get(`/Users/${members[0]}`)).body.groups).toEqual([expect.objectContaining({ value: groupId, display: 'Okta Pushed' })]);
  });

  it('renames the group with PATCH replace of {id, displayName}', async () => {
    const res = await scim.patch(`/Groups/${groupId}`, [{ op: 'replace', value: { id: groupId, displayName: 'Okta Pushed (renamed)' } }]);
    expect(res.status).toBe(200);
    expect(res.body.displayName).toBe('Okta Pushed (renamed)');
    expect(res.body.members).toHaveLength(1);
  });

  it('adds members with op add path members', async () => {
    const res = await scim.patch(`/Groups/${groupId}`, [{ op: 'add', path: 'members', value: [{ value: members[1], display: 'Push2' }, { value: members[2], display: 'Push3' }] }]);
    expect(res.status).toBe(200);
    expect(res.body.members.map((m: { value: string }) => m.value).sort()).toEqual([...members].sort());
  });

  it('removes a member with the value path members[value eq "…"]', async () => {
    const res = await scim.patch(`/Groups/${groupId}`, [{ op: 'remove', path: `members[value eq "${members[1]}"]` }]);
    expect(res.status).toBe(200);
    expect(res.body.members.map((m: { value: string }) => m.value).sort()).toEqual([members[0], members[2]].sort());
    const unit = await t.store.read(t.tenantId).db.selectFrom('identities').select('org_unit_id').where('id', '=', members[1]!).executeTakeFirstOrThrow();
    expect(unit.org_unit_id).toBeNull();
  });

  it('lists groups and finds this one by displayName', async () => {
    const res = await scim.filter('Groups', 'displayName eq "okta pushed (renamed)"');
    expect(res.body.totalResults).toBe(1);
    expect(res.body.Resources[0].id).toBe(groupId);
  });

  it('deletes the group (members leave it) with 204', async () => {
    const res = await scim.delete(`/Groups/${groupId}`);
    expect(res.status).toBe(204);
    expect((await scim.get(`/Groups/${groupId}`)).status).toBe(404);
    const units = await t.store.read(t.tenantId).db.selectFrom('identities').select('org_unit_id').where('id', 'in', members).execute();
    expect(units.every((u) => u.org_unit_id === null)).toBe(true);
  });
});
