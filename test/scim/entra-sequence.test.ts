/**
 * The request sequence of Microsoft Entra ID's provisioning service, step by step as its
 * SCIM validator runs it (learn.microsoft.com, "Develop a sample SCIM endpoint" request
 * and response examples): users with the enterprise extension, look-ups by userName and
 * externalId, PATCH with capitalised operations, value paths and string booleans, the
 * manager as a bare id, and groups read with `excludedAttributes=members`, members added and
 * removed with value lists (`"$ref": null`).
 */
import { randomUUID } from 'node:crypto';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { ENTERPRISE, GROUP, USER, scimClient } from './scim-client.ts';

let t: TestApp;
let scim: ReturnType<typeof scimClient>;
beforeAll(async () => {
  t = await createTestApp();
  scim = scimClient(t);
});
afterAll(async () => t.close());

const tag = randomUUID().slice(0, 8);
const userName = `Test_User_${tag}@testuser.com`;
const entraUser = (name: string, externalId: string) => ({
  schemas: [USER, ENTERPRISE],
  externalId,
  userName: name,
  active: true,
  emails: [{ primary: true, type: 'work', value: `${externalId}@testuser.com` }],
  meta: { resourceType: 'User' },
  name: { formatted: 'givenName familyName', familyName: 'familyName', givenName: 'givenName' },
  roles: [],
  [ENTERPRISE]: { employeeNumber: `EN-${externalId}`, department: 'Finance' },
});

describe('Entra ID user operations', () => {
  let id: string;
  let managerId: string;

  it('Create User: 201 with the enterprise extension', async () => {
    const res = await scim.post('/Users', entraUser(userName, `ext${tag}`));
    expect(res.status).toBe(201);
    id = res.body.id;
    expect(res.body.schemas).toEqual([USER, ENTERPRISE]);
    expect(res.body[ENTERPRISE]).toEqual({ employeeNumber: `EN-ext${tag}`, department: 'Finance' });
    expect(res.body.externalId).toBe(`ext${tag}`);
    const manager = await scim.post('/Users', entraUser(`Manager_${tag}@testuser.com`, `mgr${tag}`));
    managerId = manager.body.id;
  });

  it('Get User, Get User by query (userName and externalId), and the zero-result query', async () => {
    expect((await scim.get(`/Users/${id}`)).body.userName).toBe(userName);
    const byName = await scim.filter('Users', `userName eq "${userName}"`);
    expect(byName.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
    const byExternal = await scim.filter('Users', `externalId eq "ext${tag}"`);
    expect(byExternal.body.Resources.map((r: { id: string }) => r.id)).toEqual([id]);
    const none = await scim.filter('Users', `userName eq "non-existent-${tag}"`);
    expect(none.body).toMatchObject({ totalResults: 0, Resources: [] });
  });

  it('Update User [multi-valued properties]: Replace emails[type eq "work"].value and name.familyName', async () => {
    const res = await scim.patch(`/Users/${id}`, [
      { op: 'Replace', path: 'emails[type eq "work"].value', value: `updated.${tag}@testuser.com` },
      { op: 'Replace', path: 'name.familyName', value: 'updatedFamilyName' },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.emails).toEqual([{ value: `updated.${tag}@testuser.com`, type: 'work', primary: true }]);
    expect(res.body.name.familyName).toBe('updatedFamilyName');
  });

  it('Update User [single-valued properties]: Replace userName, and the extension by its full path', async () => {
    const renamed = `Renamed_${tag}@testuser.com`;
    const res = await scim.patch(`/Users/${id}`, [
      { op: 'Replace', path: 'userName', value: renamed },
      { op: 'Replace', path: `${ENTERPRISE}:department`, value: 'Treasury' },
      { op: 'Add', path: `${ENTERPRISE}:manager`, value: managerId },
    ]);
    expect(res.status).toBe(200);
    expect(res.body.userName).toBe(renamed);
    expect(res.body[ENTERPRISE].department).toBe('Treasury');
    expect(res.body[ENTERPRISE].manager).toMatchObject({ value: managerId, displayName: 'givenName familyName' });
    const row = await t.store.read(t.tenantId).db.selectFrom('identities').select(['manager_id', 'attributes']).where('id', '=', id).executeTakeFirstOrThrow();
    expect(row.manager_id).toBe(managerId);
    expect(JSON.parse(row.attributes)).toMatchObject({ department: 'Treasury' });
  });

  it('Update User: a replace without a path whose value names attributes (Entra "Replace" with a map)', async () => {
    const res = await scim.patch(`/Users/${id}`, [{ op: 'Replace', value: { displayName: 'Updated Display', 'name.givenName': 'updatedGivenName' } }]);
    expect(res.status).toBe(200);
    expect(res.body.displayName).toBe('Updated Display');
    expect(res.body.name.givenName).toBe('updatedGivenName');
  });

  it('Disable User: {"op":"Replace","path":"active","value":"False"} with a string boolean', async () => {
    const res = await scim.patch(`/Users/${id}`, [{ op: 'Replace', path: 'active', value: 'False' }]);
    expect(res.status).toBe(200);
    expect(res.body.active).toBe(false);
    expect((await scim.filter('Users', `userName eq "Renamed_${tag}@testuser.com" and active eq false`)).body.totalResults).toBe(1);
    // Enabled again the same way.
    expect((await scim.patch(`/Users/${id}`, [{ op: 'Replace', path: 'active', value: 'True' }])).body.active).toBe(true);
  });

  it('removes the manager with Remove on the extension path', async () => {
    const res = await scim.patch(`/Users/${id}`, [{ op: 'Remove', path: `${ENTERPRISE}:manager` }]);
    expect(res.status).toBe(200);
    expect(res.body[ENTERPRISE].manager).toBeUndefined();
  });

  it('Delete User: 204, then 404', async () => {
    expect((await scim.delete(`/Users/${id}`)).status).toBe(204);
    const gone = await scim.get(`/Users/${id}`);
    expect(gone.status).toBe(404);
    expect(gone.body.status).toBe('404');
  });
});

describe('Entra ID group operations', () => {
  let groupId: string;
  const members: string[] = [];

  beforeAll(async () => {
    for (const n of [1, 2]) members.push((await scim.post('/Users', entraUser(`Member_${n}_${tag}@testuser.com`, `m${n}${tag}`))).body.id);
  });

  it('Create Group: 201', async () => {
    const res = await scim.post('/Groups', { externalId: `grp${tag}`, displayName: `Group_${tag}`, meta: { resourceType: 'Group' }, members: [], schemas: [GROUP] });
    expect(res.status).toBe(201);
    groupId = res.body.id;
    expect(res.body).toMatchObject({ displayName: `Group_${tag}`, externalId: `grp${tag}`, members: [] });
  });

  it('Get Group and Get Group by displayName, with excludedAttributes=members', async () => {
    const one = await scim.get(`/Groups/${groupId}?excludedAttributes=members`);
    expect(one.status).toBe(200);
    expect(one.body.members).toBeUndefined();
    expect(one.body.displayName).toBe(`Group_${tag}`);
    const found = await scim.filter('Groups', `displayName eq "Group_${tag}"`, '&excludedAttributes=members');
    expect(found.body.totalResults).toBe(1);
    expect(found.body.Resources[0]).not.toHaveProperty('members');
  });

  it('Update Group [non-member attributes]: Replace displayName', async () => {
    const res = await scim.patch(`/Groups/${groupId}`, [{ op: 'Replace', path: 'displayName', value: `Renamed_${tag}` }]);
    expect(res.status).toBe(200);
    expect(res.body.displayName).toBe(`Renamed_${tag}`);
  });

  it('Update Group [add members]: Add with a value list and "$ref": null', async () => {
    const res = await scim.patch(`/Groups/${groupId}`, [{ op: 'Add', path: 'members', value: members.map((value) => ({ $ref: null, value })) }]);
    expect(res.status).toBe(200);
    expect(res.body.members.map((m: { value: string }) => m.value).sort()).toEqual([...members].sort());
    const filtered = await scim.filter('Groups', `id eq "${groupId}" and members[value eq "${members[0]}"]`, '&excludedAttributes=members');
    expect(filtered.body.totalResults).toBe(1);
  });

  it('Update Group [remove members]: Remove with a value list', async () => {
    const res = await scim.patch(`/Groups/${groupId}`, [{ op: 'Remove', path: 'members', value: [{ $ref: null, value: members[0] }] }]);
    expect(res.status).toBe(200);
    expect(res.body.members.map((m: { value: string }) => m.value)).toEqual([members[1]]);
  });

  it('Delete Group: 204', async () => {
    expect((await scim.delete(`/Groups/${groupId}`)).status).toBe(204);
    expect((await scim.get(`/Groups/${groupId}`)).status).toBe(404);
  });
});
