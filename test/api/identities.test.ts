import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { createIdentity, findIdentityByIdOrSubject, findIdentityByNumber, getIdentityByNumber, setIdentityUnit } from '../../src/services/directory/identities.ts';
import type { IdentityView } from '../../src/services/directory/views.ts';
import type { Change } from '../../src/services/deps.ts';
import { v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
let limitedAuth: { authorization: string };

beforeAll(async () => {
  t = await createTestApp();
  const key = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name: 'roles only', scopes: ['grantory:manage-roles'] } });
  expect(key.statusCode).toBe(201);
  limitedAuth = { authorization: `Bearer ${key.json().secret}` };
});
afterAll(async () => t.close());

type Json = Record<string, unknown>;
let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;

const { get, post, patch, del } = v1Calls(() => t);
async function newIdentity(fields: Json = {}): Promise<IdentityView & { revision: number }> {
  const res = await post('/identities', { username: unique('user'), ...fields });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
async function newUnit(name = unique('Unit'), parentId: string | null = null): Promise<{ id: string; path: string }> {
  const res = await post('/org-units', { name, parentId });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
async function auditOf(targetId: string) {
  const { db, tenantId } = t.store.read(t.tenantId);
  return db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).where('target_id', '=', targetId).orderBy('seq').execute();
}
async function changesOf(entityId: string) {
  const { db, tenantId } = t.store.read(t.tenantId);
  return db.selectFrom('changes').selectAll().where('tenant_id', '=', tenantId).where('entity_id', '=', entityId).orderBy('revision').execute();
}
async function pageThrough(url: string, limit: number): Promise<{ items: Json[]; pages: number }> {
  const items: Json[] = [];
  let cursor: string | null = null;
  let pages = 0;
  do {
    const sep = url.includes('?') ? '&' : '?';
    const res = await get(`${url}${sep}limit=${limit}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { items: Json[]; nextCursor: string | null };
    items.push(...body.items);
    cursor = body.nextCursor;
    pages += 1;
  } while (cursor && pages < 100);
  return { items, pages };
}

describe('identities: happy paths', () => {
  it('creates with defaults and a generated subject, with ETag, Location and revision', async () => {
    const res = await post('/identities', { username: unique('ada'), firstName: 'Ada', lastName: 'Lovelace' });
    expect(res.statusCode).toBe(201);
    const body = res.json();
    expect(body).toMatchObject({ type: 'employee', status: 'active', managerId: null, orgUnitId: null, attributes: {}, firstName: 'Ada' });
    expect(body.subject).toBe(`grantory:${body.number}`);
    expect(Number.isInteger(body.number)).toBe(true);
    expect(body.revision).toBeGreaterThan(0);
    expect(res.headers['grantory-revision']).toBe(String(body.revision));
    expect(res.headers.etag).toBe('"1"');
    expect(res.headers.location).toBe(`/api/v1/identities/${body.id}`);
    expect(body.createdAt).toBe(body.updatedAt);
  });

  it('creates with every field and reads it back with its ETag', async () => {
    const unit = await newUnit();
    const manager = await newIdentity();
    const input = {
      subject: unique('c1s'),
      username: unique('grace'),
      email: 'Grace.Hopper@example.com',
      firstName: 'Grace',
      lastName: 'Hopper',
      displayName: 'Grace Hopper',
      employeeNumber: unique('E'),
      type: 'contractor',
      status: 'on_leave',
      managerId: manager.id,
      orgUnitId: unit.id,
      attributes: { department: 'Engineering', title: 'Rear Admiral', location: 'Arlington' },
    };
    const created = await post('/identities', input);
    expect(created.statusCode, created.body).toBe(201);
    const { id } = created.json();
    const res = await get(`/identities/${id}`);
    expect(res.statusCode).toBe(200);
    expect(res.headers.etag).toBe('"1"');
    expect(res.json()).toMatchObject({ id, ...input });
  });

  it('patches with If-Match, clears with null, replaces attributes, bumps the ETag', async () => {
    const ident = await newIdentity({ email: 'x@example.com', attributes: { a: '1', b: '2' } });
    const res = await patch(`/identities/${ident.id}`, { email: null, status: 'terminated', attributes: { c: '3' } }, { 'if-match': '"1"' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers.etag).toBe('"2"');
    expect(res.json()).toMatchObject({ email: null, status: 'terminated', attributes: { c: '3' }, username: ident.username });
    expect(res.json().revision).toBeGreaterThan(ident.revision);
    expect((await get(`/identities/${ident.id}`)).headers.etag).toBe('"2"');
  });

  it('lets a caller choose and later change a subject', async () => {
    const ident = await newIdentity({ subject: unique('hr') });
    const subject = unique('hr2');
    const res = await patch(`/identities/${ident.id}`, { subject });
    expect(res.statusCode).toBe(200);
    expect(res.json().subject).toBe(subject);
  });

  it('deletes with If-Match; the identity is gone afterwards', async () => {
    const ident = await newIdentity();
    const res = await del(`/identities/${ident.id}`, { 'if-match': '"1"' });
    expect(res.statusCode).toBe(200);
    expect(res.json().revision).toBeGreaterThan(ident.revision);
    expect((await get(`/identities/${ident.id}`)).statusCode).toBe(404);
    expect((await del(`/identities/${ident.id}`)).statusCode).toBe(404);
    expect((await patch(`/identities/${ident.id}`, { status: 'active' })).statusCode).toBe(404);
  });

  it('filters by status, unit, manager and a case-insensitive search', async () => {
    const unit = await newUnit();
    const boss = await newIdentity({ firstName: 'Barbara', lastName: 'Liskov' });
    const tag = unique('zq');
    const a = await newIdentity({ orgUnitId: unit.id, managerId: boss.id, lastName: `Lovelace${tag}` });
    const b = await newIdentity({ orgUnitId: unit.id, status: 'on_leave', email: `${tag}@Example.COM` });
    await newIdentity({ status: 'on_leave' });

    const inUnit = (await get(`/identities?orgUnitId=${unit.id}`)).json().items.map((i: Json) => i.id);
    expect(inUnit).toEqual([a.id, b.id]);
    const onLeave = (await get(`/identities?orgUnitId=${unit.id}&status=on_leave`)).json().items.map((i: Json) => i.id);
    expect(onLeave).toEqual([b.id]);
    const reports = (await get(`/identities?managerId=${boss.id}`)).json().items.map((i: Json) => i.id);
    expect(reports).toEqual([a.id]);
    const found = (await get(`/identities?q=${tag.toUpperCase()}`)).json().items.map((i: Json) => i.id);
    expect(found).toEqual([a.id, b.id]);
    const fullName = (await get(`/identities?q=${encodeURIComponent('barbara lisk')}`)).json().items.map((i: Json) => i.id);
    expect(fullName).toEqual([boss.id]);
    // LIKE wildcards in the search text are taken literally.
    expect((await get('/identities?q=%25')).json().items).toEqual([]);
    expect((await get('/identities?q=_')).json().items).toEqual([]);
  });

  it('pages through more than two pages: every identity exactly once, in number order', async () => {
    const unit = await newUnit();
    const ids: string[] = [];
    for (let i = 0; i < 23; i += 1) ids.push((await newIdentity({ orgUnitId: unit.id })).id);
    const { items, pages } = await pageThrough(`/identities?orgUnitId=${unit.id}`, 5);
    expect(pages).toBe(5);
    expect(items.map((i) => i.id)).toEqual(ids);
    const numbers = items.map((i) => i.number as number);
    expect([...numbers].sort((x, y) => x - y)).toEqual(numbers);
    // Unfiltered too: the whole list, no duplicates.
    const all = await pageThrough('/identities', 7);
    expect(all.pages).toBeGreaterThan(2);
    expect(new Set(all.items.map((i) => i.id)).size).toBe(all.items.length);
    expect(all.items.map((i) => i.id)).toEqual(expect.arrayContaining(ids));
  });
});

describe('identities: invariants', () => {
  it('refuses a duplicate subject, username or employee number with 409 naming the field', async () => {
    const first = await newIdentity({ subject: unique('s'), employeeNumber: unique('E') });
    for (const [field, value] of [['subject', first.subject], ['username', first.username], ['employeeNumber', first.employeeNumber]] as const) {
      const res = await post('/identities', { [field]: value });
      expect(res.statusCode, field).toBe(409);
      expect(res.json().code).toBe('conflict');
      expect(res.json().errors).toEqual([expect.objectContaining({ field })]);
    }
    const other = await newIdentity();
    const res = await patch(`/identities/${other.id}`, { username: first.username, employeeNumber: first.employeeNumber });
    expect(res.statusCode).toBe(409);
    expect(res.json().errors.map((e: Json) => e.field)).toEqual(['username', 'employeeNumber']);
  });

  it('reserves the grantory: prefix for generated subjects', async () => {
    const res = await post('/identities', { subject: 'grantory:999999' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([expect.objectContaining({ field: 'subject' })]);
  });

  it('requires the manager and the unit to exist', async () => {
    const noManager = await post('/identities', { managerId: '00000000-0000-0000-0000-000000000000' });
    expect(noManager.statusCode).toBe(400);
    expect(noManager.json().errors).toEqual([{ field: 'managerId', message: 'does not exist' }]);
    const noUnit = await post('/identities', { orgUnitId: 'nope' });
    expect(noUnit.statusCode).toBe(400);
    expect(noUnit.json().errors).toEqual([{ field: 'orgUnitId', message: 'does not exist' }]);
  });

  it('refuses a manager cycle with 409 naming it, including self-management', async () => {
    const a = await newIdentity({ subject: unique('a') });
    const b = await newIdentity({ subject: unique('b'), managerId: a.id });
    const c = await newIdentity({ subject: unique('c'), managerId: b.id });
    const res = await patch(`/identities/${a.id}`, { managerId: c.id });
    expect(res.statusCode).toBe(409);
    expect(res.json().detail).toBe(`the manager chain would form a cycle: ${a.subject} → ${c.subject} → ${b.subject} → ${a.subject}`);
    expect(res.json().cycle).toEqual([a.id, c.id, b.id, a.id]);
    const self = await patch(`/identities/${a.id}`, { managerId: a.id });
    expect(self.statusCode).toBe(409);
    expect(self.json().cycle).toEqual([a.id, a.id]);
    // Nothing changed.
    expect((await get(`/identities/${a.id}`)).json().managerId).toBeNull();
  });

  it('refuses to delete an identity that still has reports, API keys or assignments, naming each', async () => {
    const boss = await newIdentity();
    const report = await newIdentity({ managerId: boss.id });
    const res = await del(`/identities/${boss.id}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().blockers).toEqual([{ type: 'report', count: 1, ids: [report.id], description: '1 managed report' }]);
    expect(res.json().detail).toBe(`identity ${boss.subject} cannot be deleted: it still has 1 managed report`);

    const key = await post('/api-keys', { name: 'k', identityId: report.id });
    expect(key.statusCode).toBe(201);
    expect((await del(`/identities/${report.id}`)).json().blockers).toEqual([
      { type: 'apiKey', count: 1, ids: [key.json().id], description: '1 API key' },
    ]);

    const me = (await get('/me')).json();
    const admin = await del(`/identities/${me.identityId}`);
    expect(admin.statusCode).toBe(409);
    expect(admin.json().blockers).toEqual(
      expect.arrayContaining([
        expect.objectContaining({ type: 'assignment', count: 1 }),
        expect.objectContaining({ type: 'apiKey', description: expect.stringMatching(/^\d+ API keys?$/) }),
      ]),
    );

    // Once the report has left and the key is gone, both can be deleted.
    expect((await del(`/api-keys/${key.json().id}`)).statusCode).toBe(200);
    expect((await patch(`/identities/${report.id}`, { managerId: null })).statusCode).toBe(200);
    expect((await del(`/identities/${boss.id}`)).statusCode).toBe(200);
    expect((await del(`/identities/${report.id}`)).statusCode).toBe(200);
  });
});

describe('identities: bad input', () => {
  const badBodies: [string, Json, string][] = [
    ['an unknown field', { username: 'u1', colour: 'blue' }, 'colour'],
    ['an oversized username', { username: 'u'.repeat(201) }, 'username'],
    ['a username with spaces', { username: 'a b' }, 'username'],
    ['an oversized first name', { firstName: 'x'.repeat(201) }, 'firstName'],
    ['an empty last name', { lastName: '' }, 'lastName'],
    ['an invalid e-mail', { email: 'not-an-email' }, 'email'],
    ['an unknown status', { status: 'retired' }, 'status'],
    ['an unknown type', { type: 'robot' }, 'type'],
    ['a numeric username', { username: 42 }, 'username'],
    ['an attribute that is not text', { attributes: { floor: 3 } }, 'attributes.floor'],
    ['an oversized attribute', { attributes: { note: 'x'.repeat(501) } }, 'attributes.note'],
    ['a bad attribute key', { attributes: { 'has space': 'x' } }, 'attributes.has space'],
    ['too many attributes', { attributes: Object.fromEntries(Array.from({ length: 51 }, (_, i) => [`k${i}`, 'v'])) }, 'attributes'],
    ['attributes that are a list', { attributes: ['a'] }, 'attributes'],
    ['an oversized managerId', { managerId: 'm'.repeat(65) }, 'managerId'],
  ];
  for (const [what, body, field] of badBodies) {
    it(`refuses ${what} on create and on update, naming ${field}`, async () => {
      const res = await post('/identities', body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().code).toBe('validation_failed');
      expect(res.json().errors.map((e: Json) => e.field)).toContain(field);
    });
  }

  it('refuses bad updates the same way', async () => {
    const ident = await newIdentity();
    for (const [, body, field] of badBodies) {
      const res = await patch(`/identities/${ident.id}`, body);
      expect(res.statusCode, field).toBe(400);
      expect(res.json().errors.map((e: Json) => e.field)).toContain(field);
    }
    expect((await get(`/identities/${ident.id}`)).headers.etag).toBe('"1"');
  });

  it('refuses a body that is not an object', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/identities', headers: { ...t.auth, 'content-type': 'application/json' }, payload: '[]' });
    expect(res.statusCode).toBe(400);
  });

  it('refuses unknown, oversized and mistyped query parameters', async () => {
    for (const query of ['stauts=active', 'limit=501', 'limit=0', 'limit=ten', 'status=gone', `q=${'x'.repeat(101)}`, `orgUnitId=${'u'.repeat(65)}`]) {
      const res = await get(`/identities?${query}`);
      expect(res.statusCode, query).toBe(400);
      expect(res.json().code).toBe('validation_failed');
    }
  });

  it('refuses a forged cursor and a cursor of another list or filter', async () => {
    for (let i = 0; i < 3; i += 1) await newIdentity({ status: 'on_leave' });
    const page = (await get('/identities?limit=1&status=on_leave')).json();
    expect(page.nextCursor).toEqual(expect.any(String));
    const [payload, signature] = (page.nextCursor as string).split('.');
    const forged = `${Buffer.from('0').toString('base64url')}.${signature}`;
    const cases = [
      `/identities?status=on_leave&cursor=${encodeURIComponent(forged)}`,
      `/identities?status=on_leave&cursor=${encodeURIComponent(`${payload}.AAAA${signature!.slice(4)}`)}`,
      `/identities?status=on_leave&cursor=garbage`,
      `/identities?status=active&cursor=${encodeURIComponent(page.nextCursor)}`,
      `/identities?cursor=${encodeURIComponent(page.nextCursor)}`,
      `/org-units?cursor=${encodeURIComponent(page.nextCursor)}`,
    ];
    for (const url of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code).toBe('invalid_cursor');
    }
    expect((await get(`/identities?status=on_leave&limit=1&cursor=${encodeURIComponent(page.nextCursor)}`)).statusCode).toBe(200);
  });

  it('fails a stale If-Match with 412 on PATCH and DELETE and changes nothing', async () => {
    const ident = await newIdentity();
    expect((await patch(`/identities/${ident.id}`, { firstName: 'One' }, { 'if-match': '"1"' })).statusCode).toBe(200);
    const stale = await patch(`/identities/${ident.id}`, { firstName: 'Two' }, { 'if-match': '"1"' });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'precondition_failed', currentEtag: '"2"' });
    const staleDelete = await del(`/identities/${ident.id}`, { 'if-match': '"1"' });
    expect(staleDelete.statusCode).toBe(412);
    const now = await get(`/identities/${ident.id}`);
    expect(now.json().firstName).toBe('One');
    expect(now.headers.etag).toBe('"2"');
  });

  it('replays an idempotent create and refuses the key with another body', async () => {
    const key = unique('idem');
    const body = { username: unique('idem-user') };
    const first = await post('/identities', body, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    const again = await post('/identities', body, { 'idempotency-key': key });
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect((await get(`/identities?q=${body.username}`)).json().items).toHaveLength(1);
    const other = await post('/identities', { username: unique('other') }, { 'idempotency-key': key });
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('idempotency_mismatch');
  });
});

describe('identities: credentials and rights', () => {
  it('answers 401 without credentials and 403 without manage-users, on every route', async () => {
    const ident = await newIdentity();
    const routes: [string, string, Json | undefined][] = [
      ['POST', '/api/v1/identities', { username: unique('x') }],
      ['GET', '/api/v1/identities', undefined],
      ['GET', `/api/v1/identities/${ident.id}`, undefined],
      ['PATCH', `/api/v1/identities/${ident.id}`, { status: 'terminated' }],
      ['DELETE', `/api/v1/identities/${ident.id}`, undefined],
    ];
    for (const [method, url, payload] of routes) {
      const anonymous = await t.app.inject({ method: method as 'GET', url, ...(payload ? { payload } : {}) });
      expect(anonymous.statusCode, `${method} ${url}`).toBe(401);
      const limited = await t.app.inject({ method: method as 'GET', url, headers: limitedAuth, ...(payload ? { payload } : {}) });
      expect(limited.statusCode, `${method} ${url}`).toBe(403);
      expect(limited.json()).toMatchObject({ code: 'forbidden', requiredRights: ['manage-users'] });
    }
    expect((await get(`/identities/${ident.id}`)).json().status).toBe('active');
  });
});

describe('identities: audit and change feed', () => {
  it('records each write with before and after, and a change-feed entry', async () => {
    const ident = await newIdentity({ firstName: 'Before' });
    const changed = await patch(`/identities/${ident.id}`, { firstName: 'After' });
    const deleted = await del(`/identities/${ident.id}`);
    const events = await auditOf(ident.id);
    expect(events.map((e) => e.action)).toEqual(['identity.create', 'identity.update', 'identity.delete']);
    const [create, update, remove] = events;
    expect(create!.before).toBeNull();
    expect(JSON.parse(create!.after!)).toMatchObject({ id: ident.id, firstName: 'Before' });
    expect(JSON.parse(update!.before!)).toMatchObject({ firstName: 'Before' });
    expect(JSON.parse(update!.after!)).toMatchObject({ firstName: 'After' });
    expect(JSON.parse(remove!.before!)).toMatchObject({ firstName: 'After' });
    expect(remove!.after).toBeNull();
    expect(events.map((e) => Number(e.revision))).toEqual([ident.revision, changed.json().revision, deleted.json().revision]);
    expect(events.every((e) => e.actor_type === 'api_key' && e.target_type === 'identity')).toBe(true);
    const changes = await changesOf(ident.id);
    expect(changes.map((c) => [c.entity, c.op])).toEqual([['identity', 'create'], ['identity', 'update'], ['identity', 'delete']]);
  });
});

describe('identities: service functions for other parts', () => {
  it('finds identities by id, subject and number', async () => {
    const ident = await newIdentity({ subject: unique('c1s') });
    const scope = t.store.read(t.tenantId);
    expect((await findIdentityByIdOrSubject(scope, ident.id))?.identity.id).toBe(ident.id);
    expect((await findIdentityByIdOrSubject(scope, ident.subject))?.identity.id).toBe(ident.id);
    expect(await findIdentityByIdOrSubject(scope, 'nobody')).toBeUndefined();
    expect((await findIdentityByNumber(scope, ident.number))?.identity.subject).toBe(ident.subject);
    const actor = systemActor(t.tenantId);
    expect((await getIdentityByNumber(t.services.deps, actor, ident.number)).version).toBe(1);
    await expect(getIdentityByNumber(t.services.deps, actor, 987654321)).rejects.toMatchObject({ code: 'not_found' });
  });

  it('moves an identity between units with setIdentityUnit', async () => {
    const unit = await newUnit();
    const ident = await newIdentity();
    const actor = systemActor(t.tenantId);
    const moved = await setIdentityUnit(t.services.deps, actor, ident.id, unit.id);
    expect(moved.identity.orgUnitId).toBe(unit.id);
    expect(moved.version).toBe(2);
    await expect(setIdentityUnit(t.services.deps, actor, ident.id, unit.id, '"1"')).rejects.toMatchObject({ code: 'precondition_failed' });
    expect((await setIdentityUnit(t.services.deps, actor, ident.id, null)).identity.orgUnitId).toBeNull();
  });

  it('runs afterIdentityChange listeners inside the write; a failing listener rolls it back', async () => {
    const seen: Change<IdentityView>[] = [];
    const deps = {
      ...t.services.deps,
      directoryHooks: {
        afterIdentityChange: [
          async (tx: { revision: number }, change: Change<IdentityView>) => {
            seen.push(change);
            expect(tx.revision).toBeGreaterThan(0);
          },
        ],
      },
    };
    const actor = systemActor(t.tenantId);
    const created = await createIdentity(deps, actor, { username: unique('hooked') });
    expect(seen).toEqual([{ before: null, after: created.identity }]);

    const failing = {
      ...t.services.deps,
      directoryHooks: {
        afterIdentityChange: [
          async () => {
            throw new Error('rule evaluation failed');
          },
        ],
      },
    };
    const username = unique('rolled-back');
    await expect(createIdentity(failing, actor, { username })).rejects.toThrow('rule evaluation failed');
    expect((await get(`/identities?q=${username}`)).json().items).toEqual([]);
  });
});
