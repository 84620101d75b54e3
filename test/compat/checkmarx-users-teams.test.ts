/** The Checkmarx profile's /Users and /Teams, mapped onto identities and organization units. */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { call, callerWith } from '../support/catalog.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const CX = '/cxrestapi/auth';
const V1 = 'application/json;v=1.0';

function cx(method: 'GET' | 'POST' | 'PUT' | 'DELETE', path: string, body?: unknown, auth?: string) {
  const headers: Record<string, string> = { accept: V1, authorization: auth ?? `Bearer ${t.adminKey}` };
  if (body !== undefined) headers['content-type'] = V1;
  return t.app.inject({ method, url: `${CX}${path}`, headers, ...(body !== undefined ? { payload: JSON.stringify(body) } : {}) });
}

describe('Checkmarx profile: /Teams', () => {
  it('creates a tree of teams with fullName paths and parent ids', async () => {
    const root = await cx('POST', '/Teams', { name: 'Acme', parentId: -1 });
    expect(root.statusCode).toBe(201);
    expect(root.headers['content-type']).toBe(V1);
    expect(root.json()).toEqual({ id: expect.any(Number), name: 'Acme', fullName: '/Acme', parentId: -1 });
    const child = await cx('POST', '/Teams', { name: 'Finance', parentId: root.json().id });
    expect(child.json()).toMatchObject({ name: 'Finance', fullName: '/Acme/Finance', parentId: root.json().id });
    expect(child.headers.location).toBe(`${CX}/Teams/${child.json().id}`);

    const list = await cx('GET', '/Teams');
    expect(list.json()).toEqual(expect.arrayContaining([root.json(), child.json()]));
    expect((await cx('GET', `/Teams/${child.json().id}`)).json()).toEqual(child.json());

    const renamed = await cx('PUT', `/Teams/${child.json().id}`, { name: 'Treasury', parentId: root.json().id });
    expect(renamed.statusCode).toBe(204);
    expect((await cx('GET', `/Teams/${child.json().id}`)).json().fullName).toBe('/Acme/Treasury');

    expect((await cx('POST', '/Teams', { name: 'Orphan', parentId: 999999 })).statusCode).toBe(400);
    expect((await cx('GET', '/Teams/999999')).statusCode).toBe(404);
    expect((await cx('GET', '/Teams/x')).statusCode).toBe(400);
    // A team with children is not deleted; a leaf is.
    const blocked = await cx('DELETE', `/Teams/${root.json().id}`);
    expect(blocked.statusCode).toBe(409);
    expect(blocked.json()).toMatchObject({ messageCode: 40901, code: 'conflict' });
    expect((await cx('DELETE', `/Teams/${child.json().id}`)).statusCode).toBe(204);
  });

  it('manages team members', async () => {
    const team = (await cx('POST', '/Teams', { name: 'Ops' })).json();
    const a = (await cx('POST', '/Users', { userName: 'ops-a', firstName: 'A', lastName: 'Ops' })).json();
    const b = (await cx('POST', '/Users', { userName: 'ops-b' })).json();

    expect((await cx('POST', `/Teams/${team.id}/Users/${a.id}`)).statusCode).toBe(204);
    let members = (await cx('GET', `/Teams/${team.id}/Users`)).json();
    expect(members.map((u: { userName: string }) => u.userName)).toEqual(['ops-a']);
    expect(members[0].teamIds).toEqual([team.id]);

    expect((await cx('PUT', `/Teams/${team.id}/Users`, { userIds: [b.id] })).statusCode).toBe(204);
    members = (await cx('GET', `/Teams/${team.id}/Users`)).json();
    expect(members.map((u: { userName: string }) => u.userName)).toEqual(['ops-b']);
    expect((await cx('GET', `/Users/${a.id}`)).json().teamIds).toEqual([]);

    expect((await cx('DELETE', `/Teams/${team.id}/Users/${a.id}`)).statusCode).toBe(404);
    expect((await cx('DELETE', `/Teams/${team.id}/Users/${b.id}`)).statusCode).toBe(204);
    expect((await cx('GET', `/Teams/${team.id}/Users`)).json()).toEqual([]);
  });
});

describe('Checkmarx profile: /Users', () => {
  it('creates a user with roles and a team, reads it, updates and deactivates it', async () => {
    const team = (await cx('POST', '/Teams', { name: 'Sales' })).json();
    const role = (await cx('POST', '/Roles', { name: 'Sales viewer' })).json();
    const created = await cx('POST', '/Users', {
      userName: 'jdoe',
      firstName: 'Jane',
      lastName: 'Doe',
      email: 'jane.doe@example.com',
      roleIds: [role.id],
      teamIds: [team.id],
      active: true,
      expirationDate: '2027-12-31T00:00:00Z',
      jobTitle: 'Account manager',
    });
    expect(created.statusCode).toBe(201);
    const user = created.json();
    expect(user).toEqual({
      id: expect.any(Number),
      userName: 'jdoe',
      firstName: 'Jane',
      lastName: 'Doe',
      email: 'jane.doe@example.com',
      roleIds: [role.id],
      teamIds: [team.id],
      active: true,
      expirationDate: '2027-12-31T00:00:00Z',
      jobTitle: 'Account manager',
    });
    expect((await cx('GET', `/Users/${user.id}`)).json()).toEqual(user);
    expect((await cx('GET', '/Users')).json()).toContainEqual(user);

    // Roles are direct assignments in the native API.
    const native = (await call(t, 'GET', `/api/v1/identities?q=jdoe`)).json().items[0];
    const assignments = (await call(t, 'GET', `/api/v1/assignments?assigneeId=${native.id}`)).json().items;
    expect(assignments).toEqual([expect.objectContaining({ resource: { type: 'role', id: expect.any(String) }, source: 'direct', state: 'active' })]);

    const other = (await cx('POST', '/Roles', { name: 'Sales editor' })).json();
    const put = await cx('PUT', `/Users/${user.id}`, { userName: 'jdoe', roleIds: [other.id], active: false });
    expect(put.statusCode).toBe(204);
    const after = (await cx('GET', `/Users/${user.id}`)).json();
    expect(after).toMatchObject({ roleIds: [other.id], active: false, firstName: 'Jane', teamIds: [team.id] });
    expect((await call(t, 'GET', `/api/v1/identities/${native.id}`)).json().status).toBe('terminated');

    // The identity has access history: deleting is refused.
    const del = await cx('DELETE', `/Users/${user.id}`);
    expect(del.statusCode).toBe(409);
  });

  it('deletes a user without history; refuses bad input', async () => {
    const u = (await cx('POST', '/Users', { userName: 'temp' })).json();
    expect((await cx('DELETE', `/Users/${u.id}`)).statusCode).toBe(204);
    expect((await cx('GET', `/Users/${u.id}`)).statusCode).toBe(404);
    expect((await cx('POST', '/Users', { userName: 'bad-role', roleIds: [999999] })).json()).toMatchObject({ code: 'validation_failed', errors: [{ field: 'roleIds' }] });
    expect((await cx('POST', '/Users', { userName: 'bad-team', teamIds: [999999] })).statusCode).toBe(400);
    expect((await cx('POST', '/Users', { userName: 'two-teams', teamIds: [1, 2] })).statusCode).toBe(400);
    expect((await cx('POST', '/Users', { firstName: 'no user name' })).statusCode).toBe(400);
    expect((await cx('POST', '/Users', { userName: 'x', shoeSize: 42 })).json().errors).toContainEqual({ field: 'shoeSize', message: 'is not a known field' });
    expect((await cx('GET', '/Users/abc')).statusCode).toBe(400);
  });

  it('needs manage-users', async () => {
    const roles = await callerWith(t, ['manage-roles']);
    expect((await cx('GET', '/Users', undefined, roles.authorization)).statusCode).toBe(403);
    expect((await cx('GET', '/Teams', undefined, roles.authorization)).statusCode).toBe(403);
    const users = await callerWith(t, ['manage-users']);
    expect((await cx('GET', '/Users', undefined, users.authorization)).statusCode).toBe(200);
  });
});
