import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { setUnitMembers } from '../../src/services/directory/identities.ts';
import { findOrgUnitByExternalId, getOrgUnitByNumber, listSubtreeUnitIds, listUnitMembers, MAX_DEPTH } from '../../src/services/directory/org-units.ts';
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
interface Unit {
  id: string;
  number: number;
  name: string;
  parentId: string | null;
  externalId: string | null;
  path: string;
  revision: number;
}
let seq = 0;
const unique = (prefix: string) => `${prefix}-${++seq}-${Date.now().toString(36)}`;

const { get, post, patch, del } = v1Calls(() => t);
async function newUnit(name: string = unique('Unit'), parentId: string | null = null, externalId?: string): Promise<Unit> {
  const res = await post('/org-units', { name, parentId, ...(externalId ? { externalId } : {}) });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
}
async function unitOf(id: string): Promise<{ unit: Unit; etag: string }> {
  const res = await get(`/org-units/${id}`);
  expect(res.statusCode).toBe(200);
  return { unit: res.json(), etag: String(res.headers.etag) };
}

describe('organization units: happy paths', () => {
  it('creates a tree with paths, ETag, Location and revision', async () => {
    const root = await post('/org-units', { name: unique('Acme'), externalId: unique('ext') });
    expect(root.statusCode).toBe(201);
    expect(root.headers.etag).toBe('"1"');
    const acme: Unit = root.json();
    expect(root.headers.location).toBe(`/api/v1/org-units/${acme.id}`);
    expect(acme).toMatchObject({ parentId: null, path: `/${acme.name}` });
    expect(acme.revision).toBeGreaterThan(0);
    const finance = await newUnit('Finance', acme.id);
    const payroll = await newUnit('Payroll', finance.id);
    expect(finance.path).toBe(`/${acme.name}/Finance`);
    expect(payroll.path).toBe(`/${acme.name}/Finance/Payroll`);
    const read = await get(`/org-units/${payroll.id}`);
    expect(read.headers.etag).toBe('"1"');
    expect(read.json()).toMatchObject({ id: payroll.id, name: 'Payroll', parentId: finance.id, number: payroll.number });
  });

  it('renames a unit and re-paths its whole subtree in the same write', async () => {
    const acme = await newUnit();
    const finance = await newUnit('Finance', acme.id);
    const payroll = await newUnit('Payroll', finance.id);
    const taxes = await newUnit('Taxes', payroll.id);
    const sales = await newUnit('Sales', acme.id);
    const res = await patch(`/org-units/${finance.id}`, { name: 'Treasury' }, { 'if-match': '"1"' });
    expect(res.statusCode, res.body).toBe(200);
    expect(res.headers.etag).toBe('"2"');
    expect(res.json().path).toBe(`${acme.path}/Treasury`);
    const revision = res.json().revision;
    expect((await unitOf(payroll.id)).unit.path).toBe(`${acme.path}/Treasury/Payroll`);
    const t2 = await unitOf(taxes.id);
    expect(t2.unit.path).toBe(`${acme.path}/Treasury/Payroll/Taxes`);
    expect(t2.etag).toBe('"2"');
    expect(await unitOf(sales.id)).toMatchObject({ unit: { path: `${acme.path}/Sales` }, etag: '"1"' });
    const { db, tenantId } = t.store.read(t.tenantId);
    const changes = await db.selectFrom('changes').select(['entity_id', 'op']).where('tenant_id', '=', tenantId).where('revision', '=', revision).execute();
    expect(changes.map((c) => c.entity_id).sort()).toEqual([finance.id, payroll.id, taxes.id].sort());
  });

  it('moves a subtree under another parent, and to the root', async () => {
    const acme = await newUnit();
    const finance = await newUnit('Finance', acme.id);
    const payroll = await newUnit('Payroll', finance.id);
    const hr = await newUnit('HR', acme.id);
    const moved = await patch(`/org-units/${payroll.id}`, { parentId: hr.id });
    expect(moved.statusCode).toBe(200);
    expect(moved.json()).toMatchObject({ parentId: hr.id, path: `${acme.path}/HR/Payroll` });
    const rooted = await patch(`/org-units/${hr.id}`, { parentId: null, name: unique('HR') });
    expect(rooted.statusCode).toBe(200);
    expect(rooted.json().path).toBe(`/${rooted.json().name}`);
    expect((await unitOf(payroll.id)).unit.path).toBe(`/${rooted.json().name}/Payroll`);
  });

  it('changes and clears the externalId', async () => {
    const unit = await newUnit(unique('U'), null, unique('ext'));
    const ext = unique('ext');
    expect((await patch(`/org-units/${unit.id}`, { externalId: ext })).json().externalId).toBe(ext);
    expect((await patch(`/org-units/${unit.id}`, { externalId: null })).json().externalId).toBeNull();
  });

  it('deletes an empty unit with If-Match', async () => {
    const unit = await newUnit();
    const res = await del(`/org-units/${unit.id}`, { 'if-match': '"1"' });
    expect(res.statusCode).toBe(200);
    expect(res.json().revision).toBeGreaterThan(unit.revision);
    expect((await get(`/org-units/${unit.id}`)).statusCode).toBe(404);
    expect((await del(`/org-units/${unit.id}`)).statusCode).toBe(404);
  });

  it('filters by parent, roots and a case-insensitive search in name and path', async () => {
    const tag = unique('Zeta');
    const acme = await newUnit(tag);
    const a = await newUnit('Alpha', acme.id);
    const b = await newUnit('Beta', acme.id);
    const deep = await newUnit('Gamma', a.id);
    expect((await get(`/org-units?parentId=${acme.id}`)).json().items.map((u: Unit) => u.id)).toEqual([a.id, b.id]);
    expect((await get(`/org-units?q=${tag.toLowerCase()}`)).json().items.map((u: Unit) => u.id)).toEqual([acme.id, a.id, b.id, deep.id]);
    expect((await get(`/org-units?q=${encodeURIComponent(`${tag}/alpha/GAM`)}`)).json().items.map((u: Unit) => u.id)).toEqual([deep.id]);
    const roots = (await get('/org-units?root=true&limit=500')).json().items as Unit[];
    expect(roots.map((u) => u.id)).toContain(acme.id);
    expect(roots.every((u) => u.parentId === null)).toBe(true);
  });

  it('pages through more than two pages: every unit exactly once, in number order', async () => {
    const parent = await newUnit();
    const ids: string[] = [];
    for (let i = 0; i < 17; i += 1) ids.push((await newUnit(`Team ${i}`, parent.id)).id);
    const items: Unit[] = [];
    let cursor: string | null = null;
    let pages = 0;
    do {
      const res = await get(`/org-units?parentId=${parent.id}&limit=4${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
      expect(res.statusCode).toBe(200);
      items.push(...res.json().items);
      cursor = res.json().nextCursor;
      pages += 1;
    } while (cursor && pages < 50);
    expect(pages).toBe(5);
    expect(items.map((u) => u.id)).toEqual(ids);
  });
});

describe('organization units: invariants', () => {
  it('refuses a move that would make a cycle, naming it', async () => {
    const acme = await newUnit();
    const finance = await newUnit('Finance', acme.id);
    const payroll = await newUnit('Payroll', finance.id);
    const res = await patch(`/org-units/${acme.id}`, { parentId: payroll.id });
    expect(res.statusCode).toBe(409);
    expect(res.json().code).toBe('conflict');
    expect(res.json().detail).toBe(`moving ${acme.path} under ${payroll.path} would make a cycle: ${acme.path} → ${finance.path} → ${payroll.path} → ${acme.path}`);
    expect(res.json().cycle).toEqual([acme.id, finance.id, payroll.id, acme.id]);
    const self = await patch(`/org-units/${finance.id}`, { parentId: finance.id });
    expect(self.statusCode).toBe(409);
    expect(self.json().cycle).toEqual([finance.id, finance.id]);
    expect((await unitOf(acme.id)).unit.parentId).toBeNull();
    expect((await unitOf(finance.id)).unit.path).toBe(finance.path);
  });

  it('refuses duplicate sibling names and externalIds with 409 naming the field', async () => {
    const acme = await newUnit();
    await newUnit('Finance', acme.id);
    const dup = await post('/org-units', { name: 'Finance', parentId: acme.id });
    expect(dup.statusCode).toBe(409);
    expect(dup.json().errors).toEqual([expect.objectContaining({ field: 'name' })]);
    // The same name elsewhere is fine.
    const other = await newUnit();
    const hr = await newUnit('Finance', other.id);
    const renamed = await patch(`/org-units/${hr.id}`, { parentId: acme.id });
    expect(renamed.statusCode).toBe(409);
    expect(renamed.json().errors).toEqual([expect.objectContaining({ field: 'name' })]);

    const ext = unique('ext');
    const first = await newUnit(unique('U'), null, ext);
    const again = await post('/org-units', { name: unique('U'), externalId: ext });
    expect(again.statusCode).toBe(409);
    expect(again.json().errors).toEqual([expect.objectContaining({ field: 'externalId' })]);
    const second = await newUnit();
    const patched = await patch(`/org-units/${second.id}`, { externalId: ext });
    expect(patched.statusCode).toBe(409);
    expect(patched.json().errors).toEqual([expect.objectContaining({ field: 'externalId' })]);
    expect((await patch(`/org-units/${first.id}`, { externalId: ext })).statusCode).toBe(200);
  });

  it('requires the parent to exist', async () => {
    const res = await post('/org-units', { name: 'Orphan', parentId: 'no-such-unit' });
    expect(res.statusCode).toBe(400);
    expect(res.json().errors).toEqual([{ field: 'parentId', message: 'does not exist' }]);
  });

  it('refuses to delete a unit with child units or members, naming the counts', async () => {
    const acme = await newUnit();
    const finance = await newUnit('Finance', acme.id);
    const hr = await newUnit('HR', acme.id);
    const member = await post('/identities', { username: unique('member'), orgUnitId: acme.id });
    expect(member.statusCode).toBe(201);
    const res = await del(`/org-units/${acme.id}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().blockers).toEqual([
      { type: 'orgUnit', count: 2, ids: [finance.id, hr.id].sort(), description: '2 child units' },
      { type: 'member', count: 1, ids: [member.json().id], description: '1 member' },
    ]);
    expect(res.json().detail).toBe(`organization unit ${acme.path} cannot be deleted: it still has 2 child units, 1 member`);
    expect((await get(`/org-units/${acme.id}`)).statusCode).toBe(200);
    const memberOfFinance = await patch(`/identities/${member.json().id}`, { orgUnitId: finance.id });
    expect(memberOfFinance.statusCode).toBe(200);
    expect((await del(`/org-units/${finance.id}`)).json().blockers).toEqual([expect.objectContaining({ type: 'member', count: 1 })]);
  });

  it('refuses to delete a unit that is assigned access or is an assignment context', async () => {
    const unit = await newUnit();
    const other = await newUnit();
    const { db, tenantId } = t.store.read(t.tenantId);
    const role = await db.selectFrom('roles').select('id').where('tenant_id', '=', tenantId).executeTakeFirstOrThrow();
    const assign = (id: string, assignee: string, context: string | null) =>
      t.store.write(t.tenantId, { actorType: 'system', actorId: null, actorName: 'test' }, async (tx) => {
        await tx.db
          .insertInto('assignments')
          .values({
            id, tenant_id: tx.tenantId, assignee_type: 'orgUnit', assignee_id: assignee, resource_type: 'role', resource_id: role.id,
            context_type: context ? 'orgUnit' : 'all', context_id: context, source: 'direct', state: 'revoked', valid_from: null, valid_to: null,
            delegated_from_id: null, rule_id: null, reason: null, created_by: null, created_at: tx.now, updated_at: tx.now, version: 1,
          })
          .execute();
        tx.audit({ action: 'assignment.create', targetType: 'assignment', targetId: id });
        tx.change('assignment', id, 'create');
      });
    const a1 = crypto.randomUUID();
    const a2 = crypto.randomUUID();
    await assign(a1, unit.id, null);
    await assign(a2, other.id, unit.id);
    const res = await del(`/org-units/${unit.id}`);
    expect(res.statusCode).toBe(409);
    expect(res.json().blockers).toEqual([
      { type: 'assignment', count: 1, ids: [a1], description: '1 assignment' },
      { type: 'assignmentContext', count: 1, ids: [a2], description: '1 assignment in its context' },
    ]);
  });

  it(`keeps the tree at most ${MAX_DEPTH} levels deep`, async () => {
    let parent: Unit | null = null;
    for (let depth = 1; depth <= MAX_DEPTH; depth += 1) parent = await newUnit(depth === 1 ? unique('Deep') : `L${depth}`, parent?.id ?? null);
    const tooDeep = await post('/org-units', { name: 'Bottom', parentId: parent!.id });
    expect(tooDeep.statusCode).toBe(409);
    // Moving a two-level subtree under a unit at depth MAX_DEPTH - 1 is refused as well.
    const top = await newUnit();
    await newUnit('Child', top.id);
    const { unit: nearBottom } = await unitOf(parent!.parentId!);
    expect((await patch(`/org-units/${top.id}`, { parentId: nearBottom.id })).statusCode).toBe(409);
  });
});

describe('organization units: bad input', () => {
  const badBodies: [string, Json, string][] = [
    ['a missing name', {}, 'name'],
    ['an unknown field', { name: 'X', colour: 'red' }, 'colour'],
    ['an empty name', { name: '' }, 'name'],
    ['an oversized name', { name: 'n'.repeat(201) }, 'name'],
    ['a name with a slash', { name: 'A/B' }, 'name'],
    ['a name with a control character', { name: 'A\u0007B' }, 'name'],
    ['a numeric name', { name: 7 }, 'name'],
    ['a numeric parentId', { name: 'X', parentId: 5 }, 'parentId'],
    ['an oversized externalId', { name: 'X', externalId: 'e'.repeat(201) }, 'externalId'],
  ];
  for (const [what, body, field] of badBodies) {
    it(`refuses ${what}, naming ${field}`, async () => {
      const res = await post('/org-units', body);
      expect(res.statusCode, res.body).toBe(400);
      expect(res.json().code).toBe('validation_failed');
      expect(res.json().errors.map((e: Json) => e.field)).toContain(field);
      if (field !== 'name' || what === 'a missing name') return;
      const unit = await newUnit();
      const patched = await patch(`/org-units/${unit.id}`, body);
      expect(patched.statusCode).toBe(400);
      expect(patched.json().errors.map((e: Json) => e.field)).toContain(field);
    });
  }

  it('refuses unknown and mistyped query parameters', async () => {
    for (const query of ['parent=1', 'limit=9999', 'root=maybe', `q=${'q'.repeat(101)}`]) {
      const res = await get(`/org-units?${query}`);
      expect(res.statusCode, query).toBe(400);
    }
  });

  it('refuses a forged cursor and a cursor of another filter or list', async () => {
    const parent = await newUnit();
    for (let i = 0; i < 3; i += 1) await newUnit(`C${i}`, parent.id);
    const page = (await get(`/org-units?parentId=${parent.id}&limit=1`)).json();
    const other = await newUnit();
    const identities = (await get('/identities?limit=1')).json();
    const [payload, signature] = (page.nextCursor as string).split('.');
    const cases = [
      `/org-units?parentId=${parent.id}&cursor=${encodeURIComponent(`${Buffer.from('1').toString('base64url')}.${signature}`)}`,
      `/org-units?parentId=${parent.id}&cursor=${encodeURIComponent(`${payload}.x${signature!.slice(1)}`)}`,
      `/org-units?parentId=${other.id}&cursor=${encodeURIComponent(page.nextCursor)}`,
      `/org-units?cursor=${encodeURIComponent(page.nextCursor)}`,
      `/org-units?cursor=${encodeURIComponent(identities.nextCursor)}`,
    ];
    for (const url of cases) {
      const res = await get(url);
      expect(res.statusCode, url).toBe(400);
      expect(res.json().code).toBe('invalid_cursor');
    }
  });

  it('fails a stale If-Match with 412 on PATCH and DELETE', async () => {
    const parent = await newUnit();
    const child = await newUnit('Child', parent.id);
    // Renaming the parent changes the child's path, hence its ETag.
    expect((await patch(`/org-units/${parent.id}`, { name: unique('Renamed') })).statusCode).toBe(200);
    const stale = await patch(`/org-units/${child.id}`, { name: 'Other' }, { 'if-match': '"1"' });
    expect(stale.statusCode).toBe(412);
    expect(stale.json()).toMatchObject({ code: 'precondition_failed', currentEtag: '"2"' });
    expect((await del(`/org-units/${child.id}`, { 'if-match': '"1"' })).statusCode).toBe(412);
    expect((await del(`/org-units/${child.id}`, { 'if-match': '"2"' })).statusCode).toBe(200);
  });

  it('replays an idempotent create and refuses the key with another body', async () => {
    const key = unique('idem');
    const body = { name: unique('Idem') };
    const first = await post('/org-units', body, { 'idempotency-key': key });
    const again = await post('/org-units', body, { 'idempotency-key': key });
    expect(first.statusCode).toBe(201);
    expect(again.statusCode).toBe(201);
    expect(again.headers['idempotent-replayed']).toBe('true');
    expect(again.json()).toEqual(first.json());
    expect((await get(`/org-units?q=${body.name}`)).json().items).toHaveLength(1);
    const other = await post('/org-units', { name: unique('Other') }, { 'idempotency-key': key });
    expect(other.statusCode).toBe(422);
    expect(other.json().code).toBe('idempotency_mismatch');
  });
});

describe('organization units: credentials, audit, service functions', () => {
  it('answers 401 without credentials and 403 without manage-users, on every route', async () => {
    const unit = await newUnit();
    const routes: [string, string, Json | undefined][] = [
      ['POST', '/api/v1/org-units', { name: unique('X') }],
      ['GET', '/api/v1/org-units', undefined],
      ['GET', `/api/v1/org-units/${unit.id}`, undefined],
      ['PATCH', `/api/v1/org-units/${unit.id}`, { name: 'Changed' }],
      ['DELETE', `/api/v1/org-units/${unit.id}`, undefined],
    ];
    for (const [method, url, payload] of routes) {
      const anonymous = await t.app.inject({ method: method as 'GET', url, ...(payload ? { payload } : {}) });
      expect(anonymous.statusCode, `${method} ${url}`).toBe(401);
      const limited = await t.app.inject({ method: method as 'GET', url, headers: limitedAuth, ...(payload ? { payload } : {}) });
      expect(limited.statusCode, `${method} ${url}`).toBe(403);
      expect(limited.json().code).toBe('forbidden');
    }
    expect((await unitOf(unit.id)).unit.name).toBe(unit.name);
  });

  it('records each write with before and after', async () => {
    const unit = await newUnit();
    await patch(`/org-units/${unit.id}`, { name: `${unit.name}-2` });
    await del(`/org-units/${unit.id}`);
    const { db, tenantId } = t.store.read(t.tenantId);
    const events = await db.selectFrom('audit_events').selectAll().where('tenant_id', '=', tenantId).where('target_id', '=', unit.id).orderBy('seq').execute();
    expect(events.map((e) => e.action)).toEqual(['orgUnit.create', 'orgUnit.update', 'orgUnit.delete']);
    expect(JSON.parse(events[0]!.after!)).toMatchObject({ name: unit.name, path: unit.path });
    expect(JSON.parse(events[1]!.before!)).toMatchObject({ name: unit.name });
    expect(JSON.parse(events[1]!.after!)).toMatchObject({ name: `${unit.name}-2`, path: `${unit.path}-2` });
    expect(JSON.parse(events[2]!.before!)).toMatchObject({ name: `${unit.name}-2` });
    expect(events[2]!.after).toBeNull();
    expect(events.every((e) => e.target_type === 'orgUnit')).toBe(true);
  });

  it('exposes lookups, subtree ids, members and setUnitMembers', async () => {
    const deps = t.services.deps;
    const actor = systemActor(t.tenantId);
    const ext = unique('ext');
    const acme = await newUnit(unique('Acme'), null, ext);
    const finance = await newUnit('Finance', acme.id);
    const payroll = await newUnit('Payroll', finance.id);
    const scope = t.store.read(t.tenantId);
    expect((await findOrgUnitByExternalId(scope, ext))?.unit.id).toBe(acme.id);
    expect((await getOrgUnitByNumber(deps, actor, finance.number)).unit.path).toBe(finance.path);
    await expect(getOrgUnitByNumber(deps, actor, 99999999)).rejects.toMatchObject({ code: 'not_found' });
    expect((await listSubtreeUnitIds(scope, acme.id)).sort()).toEqual([acme.id, finance.id, payroll.id].sort());

    const ids: string[] = [];
    for (let i = 0; i < 3; i += 1) ids.push((await post('/identities', { username: unique('m') })).json().id);
    const set = await setUnitMembers(deps, actor, finance.id, [ids[0]!, ids[1]!]);
    expect(set.added.sort()).toEqual([ids[0], ids[1]].sort());
    expect((await listUnitMembers(deps, actor, finance.id)).items.map((i) => i.id)).toEqual([ids[0], ids[1]]);
    const again = await setUnitMembers(deps, actor, finance.id, [ids[1]!, ids[2]!]);
    expect(again).toMatchObject({ added: [ids[2]], removed: [ids[0]] });
    expect((await listUnitMembers(deps, actor, finance.id)).items.map((i) => i.id)).toEqual([ids[1], ids[2]]);
    await expect(listUnitMembers(deps, actor, 'no-such-unit')).rejects.toMatchObject({ code: 'not_found' });
  });
});
