import { existsSync, mkdirSync, mkdtempSync, rmSync, symlinkSync, writeFileSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifyAuditTrail } from '../../src/services/audit/trail.ts';
import type { ImportView } from '../../src/services/imports/views.ts';
import { createApplication, createIdentity, createImportTestApp, drain, dropFile, getImport, multipartBody, type ImportTestApp } from '../support/imports.ts';

let t: ImportTestApp;
let appId: string;
let groupId: string;
const ids: Record<string, string> = {};
const outside = mkdtempSync(join(tmpdir(), 'grantory-outside-'));

const HEADER = 'login,emp,mail,status,entitlement\n';
const FIRST = `${HEADER}ann,E-1,ann@x.org,active,read\nann,E-1,ann@x.org,active,write\nbob,E-2,bob@x.org,active,read\nsvc-backup,,,active,admin\nshared,,shared@x.org,active,read\n`;

async function putConnector(extra: Record<string, unknown> = {}, id = appId) {
  return t.app.inject({
    method: 'PUT',
    url: `/api/v1/applications/${id}/connector`,
    headers: t.auth,
    payload: {
      type: 'file',
      directory: 'core-banking',
      fileGroups: [{ ...(groupId ? { id: groupId } : {}), name: 'grants', pattern: 'grants*.csv', columns: { accountName: 'login', employeeNumber: 'emp', email: 'mail', accountStatus: 'status', permission: 'entitlement' } }],
      matching: ['employeeNumber', 'email'],
      unknownPermissions: 'create',
      ...extra,
    },
  });
}

async function stage(body: Record<string, unknown> = {}) {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/imports/stage', headers: t.auth, payload: { applicationId: appId, ...body } });
  return res;
}

async function stageAndRun(content: string, body: Record<string, unknown> = {}): Promise<ImportView> {
  dropFile(t.importDir, 'core-banking', 'grants.csv', content);
  const res = await stage(body);
  expect(res.statusCode, res.body).toBe(201);
  await drain(t);
  return getImport(t, (res.json() as ImportView).id);
}

async function accounts(id = appId) {
  const res = await t.app.inject({ method: 'GET', url: `/api/v1/applications/${id}/accounts?limit=500`, headers: t.auth });
  expect(res.statusCode, res.body).toBe(200);
  return (res.json() as { items: { name: string; identityId: string | null; status: string; matching: { state: string; candidates: string[] } }[] }).items;
}

async function grantsOf(name: string): Promise<string[]> {
  const { db } = t.store.read(t.tenantId);
  const rows = await db
    .selectFrom('grants')
    .innerJoin('accounts', 'accounts.id', 'grants.account_id')
    .innerJoin('permissions', 'permissions.id', 'grants.permission_id')
    .select('permissions.name')
    .where('accounts.tenant_id', '=', t.tenantId)
    .where('accounts.application_id', '=', appId)
    .where('accounts.name', '=', name)
    .execute();
  return rows.map((r) => r.name).sort();
}

async function auditActions(targetId: string): Promise<{ action: string; actor_name: string | null }[]> {
  const { db } = t.store.read(t.tenantId);
  return db.selectFrom('audit_events').select(['action', 'actor_name']).where('tenant_id', '=', t.tenantId).where('target_id', '=', targetId).orderBy('seq').execute();
}

beforeAll(async () => {
  t = await createImportTestApp({ uploadLimit: 64 * 1024 });
  appId = await createApplication(t.store, t.tenantId, { name: 'Core Banking' });
  ids.ann = await createIdentity(t.store, t.tenantId, { subject: 's:ann', employeeNumber: 'E-1', email: 'ann@x.org', firstName: 'Ann' });
  ids.bob = await createIdentity(t.store, t.tenantId, { subject: 's:bob', employeeNumber: 'E-2', email: 'bob@x.org' });
  ids.sue = await createIdentity(t.store, t.tenantId, { subject: 's:sue', email: 'Shared@x.org' });
  ids.sam = await createIdentity(t.store, t.tenantId, { subject: 's:sam', email: 'shared@x.org ' });
});
afterAll(async () => {
  await t.close();
  rmSync(outside, { recursive: true, force: true });
});

describe('connector configuration', () => {
  it('validates, names problems, and generates file group GUIDs', async () => {
    const bad = await putConnector({ directory: '../up', schedule: '99 * * * *' });
    expect(bad.statusCode).toBe(400);
    expect((bad.json() as { errors: { field: string }[] }).errors.map((e) => e.field)).toEqual(expect.arrayContaining(['connector.directory', 'connector.schedule']));
    const res = await putConnector();
    expect(res.statusCode, res.body).toBe(200);
    groupId = (res.json() as { connector: { fileGroups: { id: string }[] } }).connector.fileGroups[0]!.id;
    expect(groupId).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$/);
    const got = await t.app.inject({ method: 'GET', url: `/api/v1/applications/${appId}/connector`, headers: t.auth });
    expect((got.json() as { connector: { fileGroups: { id: string }[] } }).connector.fileGroups[0]!.id).toBe(groupId);
  });

  it('validates the connector the same way when an application is created or updated', async () => {
    const post = (payload: Record<string, unknown>) => t.app.inject({ method: 'POST', url: '/api/v1/applications', headers: t.auth, payload });
    const fileGroups = [{ name: 'grants', pattern: 'grants.csv', columns: { accountName: 'login', employeeNumber: 'emp', permission: 'entitlement' } }];
    const fieldsOf = (res: { json(): unknown }) => (res.json() as { errors: { field: string }[] }).errors.map((e) => e.field).sort();

    const bad = await post({ name: 'Bad Connector', connector: { type: 'file', directory: '../escape', fileGroups: [{ ...fileGroups[0], pattern: 'a/b.csv' }], matching: ['email'], schedule: '61 * * * *' } });
    expect(bad.statusCode, bad.body).toBe(400);
    expect(fieldsOf(bad)).toEqual(['connector.directory', 'connector.fileGroups.0.pattern', 'connector.matching.0', 'connector.schedule']);
    const missing = await post({ name: 'Bad Connector', connector: { type: 'file', directory: 'x' } });
    expect(missing.statusCode, missing.body).toBe(400);
    expect(fieldsOf(missing)[0]).toMatch(/^connector/);
    const { db } = t.store.read(t.tenantId);
    expect(await db.selectFrom('applications').select('id').where('tenant_id', '=', t.tenantId).where('name', '=', 'Bad Connector').executeTakeFirst()).toBeUndefined();

    const good = await post({ name: 'Good Connector', connector: { type: 'file', directory: 'good', fileGroups, matching: ['employeeNumber'] } });
    expect(good.statusCode, good.body).toBe(201);
    const created = good.json() as { id: string; connector: { fileGroups: { id: string; required: boolean }[]; maxBadRows: number } };
    // Stored normalised, as the import reads it: defaults filled in, a GUID per file group.
    expect(created.connector.fileGroups[0]!.id).toMatch(/^[0-9a-f-]{36}$/);
    expect(created.connector).toMatchObject({ maxBadRows: 100, unknownPermissions: 'report' });
    const connectorRoute = await t.app.inject({ method: 'GET', url: `/api/v1/applications/${created.id}/connector`, headers: t.auth });
    expect((connectorRoute.json() as { connector: { fileGroups: { id: string }[] } }).connector.fileGroups[0]!.id).toBe(created.connector.fileGroups[0]!.id);

    const patch = await t.app.inject({ method: 'PATCH', url: `/api/v1/applications/${created.id}`, headers: t.auth, payload: { connector: { type: 'file', fileGroups, matching: ['employeeNumber'], thresholds: { maxRemovedPercent: 150 } } } });
    expect(patch.statusCode, patch.body).toBe(400);
    expect(fieldsOf(patch)).toEqual(['connector.thresholds.maxRemovedPercent']);
    const after = await t.app.inject({ method: 'GET', url: `/api/v1/applications/${created.id}`, headers: t.auth });
    expect((after.json() as { connector: { directory: string } }).connector.directory).toBe('good');
  });
});

describe('stage, process and apply', () => {
  it('stages (201 Pending), then applies the file as the application snapshot', async () => {
    dropFile(t.importDir, 'core-banking', 'grants.csv', FIRST);
    const res = await stage();
    expect(res.statusCode, res.body).toBe(201);
    const queued = res.json() as ImportView;
    expect(queued).toMatchObject({ status: 'Pending', type: 'API', source: 'stage', createdBy: 'API Token - bootstrap', dryRun: false });
    expect(queued.files).toEqual([expect.objectContaining({ fileGroupId: groupId, fileGroup: 'grants', name: 'grants.csv' })]);
    await drain(t);
    const done = await getImport(t, queued.id);
    expect(done.status, JSON.stringify(done.log)).toBe('Finished');
    expect(done.buildStart).not.toBeNull();
    expect(done.buildEnd).not.toBeNull();
    expect(done.progress).toMatchObject({ rowsRead: 5, rowsTotal: 5 });
    // The application shows its most recent import, on its own page and in the list.
    const app = await t.app.inject({ method: 'GET', url: `/api/v1/applications/${appId}`, headers: t.auth });
    expect(app.json().lastImport).toEqual({ id: queued.id, number: done.number, status: 'Finished', dryRun: false, createdAt: done.createdAt, updatedAt: done.updatedAt });
    const listed = await t.app.inject({ method: 'GET', url: '/api/v1/applications?kind=connected', headers: t.auth });
    expect((listed.json().items as { id: string; lastImport: unknown }[]).find((a) => a.id === appId)?.lastImport).toMatchObject({ id: queued.id, status: 'Finished' });
    expect(done.metrics).toMatchObject({
      rowsRead: 5,
      accountsObserved: 4,
      accountsMatched: 2,
      accountsOrphaned: 1,
      accountsAmbiguous: 1,
      accountsAdded: 4,
      accountsRemoved: 0,
      grantsAdded: 5,
      permissionsCreated: 3,
    });
    const list = await accounts();
    expect(list.map((a) => [a.name, a.identityId, a.matching.state])).toEqual([
      ['ann', ids.ann, 'matched'],
      ['bob', ids.bob, 'matched'],
      ['shared', null, 'ambiguous'],
      ['svc-backup', null, 'orphan'],
    ]);
    expect(list.find((a) => a.name === 'shared')!.matching.candidates.sort()).toEqual([ids.sam, ids.sue].sort());
    expect(await grantsOf('ann')).toEqual(['read', 'write']);
    // The audit trail names the credential that queued it; the change feed carries the accounts.
    const actions = await auditActions(queued.id);
    expect(actions.map((a) => a.action)).toEqual(['import.stage', 'import.start', 'import.apply']);
    expect(actions.every((a) => a.actor_name?.startsWith('API Token - bootstrap'))).toBe(true);
    const { db } = t.store.read(t.tenantId);
    const feed = await db.selectFrom('changes').select(['entity', 'op']).where('tenant_id', '=', t.tenantId).where('entity', '=', 'account').execute();
    expect(feed.filter((c) => c.op === 'create')).toHaveLength(4);
  });

  it('stores the per-account diff', async () => {
    const last = (await t.app.inject({ method: 'GET', url: `/api/v1/imports?applicationId=${appId}&limit=1`, headers: t.auth }).then((r) => r.json())) as { items: ImportView[] };
    const res = await t.app.inject({ method: 'GET', url: `/api/v1/imports/${last.items[0]!.id}/changes?limit=2`, headers: t.auth });
    const page = res.json() as { items: { accountName: string; op: string; grantsAdded: { permission: string }[] }[]; nextCursor: string };
    expect(page.items[0]).toMatchObject({ accountName: 'ann', op: 'add', grantsAdded: [{ permission: 'read', context: null }, { permission: 'write', context: null }] });
    const next = await t.app.inject({ method: 'GET', url: `/api/v1/imports/${last.items[0]!.id}/changes?limit=2&cursor=${encodeURIComponent(page.nextCursor)}`, headers: t.auth });
    expect((next.json() as { items: { accountName: string }[] }).items.map((i) => i.accountName)).toEqual(['shared', 'svc-backup']);
  });

  it('lists orphans and ambiguous accounts; a resolution survives the next import', async () => {
    const orphans = await t.app.inject({ method: 'GET', url: `/api/v1/orphans?applicationId=${appId}`, headers: t.auth });
    expect((orphans.json() as { items: { accountName: string; state: string }[] }).items.map((o) => [o.accountName, o.state])).toEqual([
      ['shared', 'ambiguous'],
      ['svc-backup', 'orphan'],
    ]);
    const svc = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${appId}/account-resolutions/svc-backup`, headers: t.auth, payload: { resolution: 'service', note: 'backup job' } });
    expect(svc.statusCode, svc.body).toBe(200);
    const link = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${appId}/account-resolutions/shared`, headers: t.auth, payload: { resolution: 'linked', identityId: ids.sue } });
    expect(link.statusCode, link.body).toBe(200);
    const noId = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${appId}/account-resolutions/x`, headers: t.auth, payload: { resolution: 'linked' } });
    expect(noId.statusCode).toBe(400);
    // An empty identityId with another resolution is refused, not stored as a dangling reference.
    const emptyId = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${appId}/account-resolutions/x`, headers: t.auth, payload: { resolution: 'service', identityId: '' } });
    expect(emptyId.statusCode, emptyId.body).toBe(400);

    const again = await stageAndRun(FIRST);
    expect(again.status).toBe('Finished');
    expect(again.metrics).toMatchObject({ accountsOrphaned: 0, accountsAmbiguous: 0, accountsMatched: 3, accountsAdded: 0, grantsAdded: 0, grantsRemoved: 0 });
    const list = await accounts();
    expect(list.map((a) => [a.name, a.identityId, a.matching.state])).toEqual([
      ['ann', ids.ann, 'matched'],
      ['bob', ids.bob, 'matched'],
      ['shared', ids.sue, 'linked'],
      ['svc-backup', null, 'service'],
    ]);
    const left = await t.app.inject({ method: 'GET', url: `/api/v1/orphans`, headers: t.auth });
    expect((left.json() as { items: unknown[] }).items).toEqual([]);
  });

  it('applies removals, disabled accounts and new grants', async () => {
    const done = await stageAndRun(`${HEADER}ann,E-1,ann@x.org,active,read\nbob,E-2,bob@x.org,disabled,read\nbob,E-2,bob@x.org,disabled,audit\nsvc-backup,,,active,admin\nshared,,shared@x.org,active,read\n`);
    expect(done.metrics).toMatchObject({ accountsRemoved: 0, accountsDisabled: 1, accountsUpdated: 2, grantsAdded: 1, grantsRemoved: 1, permissionsCreated: 1 });
    expect(await grantsOf('ann')).toEqual(['read']);
    expect(await grantsOf('bob')).toEqual(['audit', 'read']);
    expect((await accounts()).find((a) => a.name === 'bob')!.status).toBe('disabled');
  });

  it('re-imports compare grant fingerprints, and compare in full an account written since', async () => {
    const SAME = `${HEADER}ann,E-1,ann@x.org,active,read\nbob,E-2,bob@x.org,disabled,read\nbob,E-2,bob@x.org,disabled,audit\nsvc-backup,,,active,admin\nshared,,shared@x.org,active,read\n`;
    const unchanged = await stageAndRun(SAME);
    expect(unchanged.metrics).toMatchObject({ accountsAdded: 0, accountsRemoved: 0, accountsUpdated: 0, grantsAdded: 0, grantsRemoved: 0 });
    const { db } = t.store.read(t.tenantId);
    const fingerprints = await db
      .selectFrom('accounts')
      .innerJoin('import_fingerprints as f', 'f.account_id', 'accounts.id')
      .select(['accounts.name', 'accounts.version', 'f.account_version', 'f.grant_count'])
      .where('accounts.tenant_id', '=', t.tenantId)
      .where('accounts.application_id', '=', appId)
      .orderBy('accounts.name')
      .execute();
    expect(fingerprints.map((f) => [f.name, Number(f.grant_count), Number(f.account_version) === Number(f.version)])).toEqual([
      ['ann', 1, true],
      ['bob', 2, true],
      ['shared', 1, true],
      ['svc-backup', 1, true],
    ]);

    // Written outside the import: bob loses a grant. The version changed, so the next import
    // reads bob's grants again instead of trusting the fingerprint, and restores the file's.
    const put = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${appId}/accounts/bob`, headers: t.auth, payload: { identityId: ids.bob, status: 'disabled', grants: [{ permission: 'read' }] } });
    expect(put.statusCode, put.body).toBe(200);
    expect(await grantsOf('bob')).toEqual(['read']);
    const restored = await stageAndRun(SAME);
    expect(restored.metrics).toMatchObject({ accountsUpdated: 1, grantsAdded: 1, grantsRemoved: 0 });
    expect(await grantsOf('bob')).toEqual(['audit', 'read']);

    // Same grants, another status: an update without reading or rewriting grants.
    const enabled = await stageAndRun(SAME.replace(/bob,E-2,bob@x.org,disabled/g, 'bob,E-2,bob@x.org,active'));
    expect(enabled.metrics).toMatchObject({ accountsUpdated: 1, grantsAdded: 0, grantsRemoved: 0 });
    expect((await accounts()).find((a) => a.name === 'bob')!.status).toBe('active');
    const back = await stageAndRun(SAME);
    expect(back.metrics).toMatchObject({ accountsUpdated: 1, accountsDisabled: 1, grantsAdded: 0, grantsRemoved: 0 });
    expect(await grantsOf('bob')).toEqual(['audit', 'read']);

    // Deleted outside the import: its fingerprint goes with the next import, which adds it back.
    const bobId = (await db.selectFrom('accounts').select('id').where('tenant_id', '=', t.tenantId).where('application_id', '=', appId).where('name', '=', 'bob').executeTakeFirstOrThrow()).id;
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/applications/${appId}/accounts/bob`, headers: t.auth });
    expect(del.statusCode, del.body).toBe(200);
    const readded = await stageAndRun(SAME);
    expect(readded.metrics).toMatchObject({ accountsAdded: 1, grantsAdded: 2 });
    expect(await grantsOf('bob')).toEqual(['audit', 'read']);
    expect(await db.selectFrom('import_fingerprints').select('account_id').where('account_id', '=', bobId).execute()).toEqual([]);
    const count = await db.selectFrom('import_fingerprints as f').innerJoin('accounts', 'accounts.id', 'f.account_id').select((eb) => eb.fn.countAll<number>().as('n')).where('accounts.application_id', '=', appId).executeTakeFirstOrThrow();
    expect(Number(count.n)).toBe(4);
  });

  it('a dry run computes the full result and applies nothing', async () => {
    const before = await accounts();
    const done = await stageAndRun(`${HEADER}ann,E-1,ann@x.org,active,read\n`, { dryRun: true });
    expect(done).toMatchObject({ status: 'Finished', dryRun: true });
    expect(done.metrics).toMatchObject({ accountsRemoved: 3, grantsRemoved: 4 });
    const diff = await t.app.inject({ method: 'GET', url: `/api/v1/imports/${done.id}/changes?op=remove`, headers: t.auth });
    expect((diff.json() as { items: { accountName: string }[] }).items.map((c) => c.accountName)).toEqual(['bob', 'shared', 'svc-backup']);
    expect(await accounts()).toEqual(before);
    const other = await t.app.inject({ method: 'POST', url: '/api/v1/imports/dry-run', headers: t.auth, payload: { applicationId: appId } });
    expect((other.json() as ImportView).dryRun).toBe(true);
    await drain(t);
  });

  it('holds an import that removes more than the threshold; approve applies the reviewed diff, reject applies nothing', async () => {
    expect((await putConnector({ thresholds: { maxRemoved: 1 } })).statusCode).toBe(200);
    const before = await accounts();
    const held = await stageAndRun(`${HEADER}ann,E-1,ann@x.org,active,read\n`);
    expect(held.status).toBe('Held');
    expect(held.heldReason).toMatch(/remove 3 accounts, more than the limit of 1/);
    expect(await accounts()).toEqual(before);

    // A held import keeps the application's queue waiting.
    dropFile(t.importDir, 'core-banking', 'grants.csv', FIRST);
    const queued = (await stage()).json() as ImportView;
    await t.worker.tick();
    await t.worker.idle();
    expect((await getImport(t, queued.id)).status).toBe('Pending');

    const rejected = await t.app.inject({ method: 'POST', url: `/api/v1/imports/${held.id}/reject`, headers: t.auth, payload: { reason: 'looks wrong' } });
    expect(rejected.statusCode, rejected.body).toBe(200);
    expect((rejected.json() as ImportView).status).toBe('Canceled');
    expect(await accounts()).toEqual(before);
    expect((await auditActions(held.id)).map((a) => a.action)).toContain('import.reject');
    await drain(t);
    expect((await getImport(t, queued.id)).status).toBe('Finished');

    const held2 = await stageAndRun(`${HEADER}ann,E-1,ann@x.org,active,read\n`);
    expect(held2.status).toBe('Held');
    const approveFinished = await t.app.inject({ method: 'POST', url: `/api/v1/imports/${queued.id}/approve`, headers: t.auth, payload: {} });
    expect(approveFinished.statusCode).toBe(409);
    const approved = await t.app.inject({ method: 'POST', url: `/api/v1/imports/${held2.id}/approve`, headers: t.auth, payload: { note: 'migration' } });
    expect(approved.statusCode, approved.body).toBe(200);
    expect((approved.json() as ImportView)).toMatchObject({ status: 'Finished', decidedBy: 'API Token - bootstrap' });
    expect((await accounts()).map((a) => a.name)).toEqual(['ann']);
    expect((await auditActions(held2.id)).map((a) => a.action)).toEqual(['import.stage', 'import.start', 'import.held', 'import.approve']);
    expect((await putConnector({ thresholds: {} })).statusCode).toBe(200);
  });
});

describe('a stale held import', () => {
  it('refuses (409) to approve a diff computed against accounts that changed since; rejecting still works', async () => {
    expect((await stageAndRun(FIRST)).status).toBe('Finished');
    expect((await putConnector({ thresholds: { maxRemoved: 1 } })).statusCode).toBe(200);
    const held = await stageAndRun(`${HEADER}ann,E-1,ann@x.org,active,read\n`);
    expect(held.status).toBe('Held');
    // The application's accounts change after the diff was computed.
    const put = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${appId}/accounts/late-account`, headers: t.auth, payload: { grants: [{ permission: 'read' }] } });
    expect(put.statusCode, put.body).toBe(201);
    const before = await accounts();

    const approve = await t.app.inject({ method: 'POST', url: `/api/v1/imports/${held.id}/approve`, headers: t.auth, payload: {} });
    expect(approve.statusCode, approve.body).toBe(409);
    expect(approve.body).toMatch(/stale/);
    expect(await accounts()).toEqual(before);
    expect((await getImport(t, held.id)).status).toBe('Held');
    expect((await auditActions(held.id)).map((a) => a.action)).not.toContain('import.approve');

    const reject = await t.app.inject({ method: 'POST', url: `/api/v1/imports/${held.id}/reject`, headers: t.auth, payload: { reason: 'stale' } });
    expect(reject.statusCode, reject.body).toBe(200);
    expect((await putConnector({ thresholds: {} })).statusCode).toBe(200);
    // A fresh import computes its diff against the current state, late-account included.
    const fresh = await stageAndRun(FIRST);
    expect(fresh.metrics).toMatchObject({ accountsRemoved: 1, accountsAdded: 0 });
    expect((await accounts()).map((a) => a.name)).toEqual(['ann', 'bob', 'shared', 'svc-backup']);
  });
});

describe('cancel', () => {
  it('cancels a Pending import (200 Canceling, then Canceled) and refuses a finished one (409)', async () => {
    dropFile(t.importDir, 'core-banking', 'grants.csv', FIRST);
    const queued = (await stage()).json() as ImportView;
    const res = await t.app.inject({ method: 'POST', url: `/api/v1/imports/${queued.id}/cancel`, headers: t.auth });
    expect(res.statusCode).toBe(200);
    expect((res.json() as ImportView).status).toBe('Canceling');
    await drain(t);
    const done = await getImport(t, queued.id);
    expect(done.status).toBe('Canceled');
    const again = await t.app.inject({ method: 'POST', url: `/api/v1/imports/${queued.id}/cancel`, headers: t.auth });
    expect(again.statusCode).toBe(409);
    const missing = await t.app.inject({ method: 'POST', url: `/api/v1/imports/00000000-0000-4000-8000-000000000000/cancel`, headers: t.auth });
    expect(missing.statusCode).toBe(404);
  });
});

describe('serialization', () => {
  it('runs two imports of one application one at a time, in order', async () => {
    dropFile(t.importDir, 'core-banking', 'grants.csv', FIRST);
    const a = (await stage()).json() as ImportView;
    const b = (await stage()).json() as ImportView;
    await t.worker.tick();
    // One consistent read of both: never both Running (b may already run if a was quick).
    const { db } = t.store.read(t.tenantId);
    const statuses = await db.selectFrom('imports').select(['id', 'status']).where('id', 'in', [a.id, b.id]).execute();
    expect(statuses.filter((s) => s.status === 'Running').length).toBeLessThanOrEqual(1);
    await drain(t);
    const [ra, rb] = [await getImport(t, a.id), await getImport(t, b.id)];
    expect([ra.status, rb.status]).toEqual(['Finished', 'Finished']);
    expect(rb.buildStart! >= ra.buildEnd!).toBe(true);
    expect(rb.number).toBeGreaterThan(ra.number);
  });
});

describe('upload', () => {
  const upload = (parts: Parameters<typeof multipartBody>[0], query = '') => {
    const { payload, headers } = multipartBody(parts);
    return t.app.inject({ method: 'POST', url: `/api/v1/imports/upload${query}`, headers: { ...t.auth, ...headers }, payload });
  };

  it('streams one part per file group to disk and imports it', async () => {
    const res = await upload([
      { name: 'applicationId', value: appId },
      { name: groupId, filename: 'export.csv', content: FIRST },
    ]);
    expect(res.statusCode, res.body).toBe(201);
    const queued = res.json() as ImportView;
    expect(queued).toMatchObject({ source: 'upload', status: 'Pending', files: [expect.objectContaining({ fileGroupId: groupId, name: 'export.csv', size: FIRST.length })] });
    await drain(t);
    expect((await getImport(t, queued.id)).status).toBe('Finished');
  });

  it('never writes an uploaded file where its file name points (.., absolute)', async () => {
    for (const filename of ['../../escaped.csv', '/tmp/absolute-escape.csv']) {
      const res = await upload([
        { name: 'applicationId', value: appId },
        { name: groupId, filename, content: FIRST },
      ]);
      expect(res.statusCode, res.body).toBe(201);
      const queued = res.json() as ImportView;
      expect(queued.files[0]!.name).not.toContain('/');
      await drain(t);
      expect((await getImport(t, queued.id)).status).toBe('Finished');
    }
    expect(existsSync(join(t.importDir, '..', 'escaped.csv'))).toBe(false);
    expect(existsSync(join(t.importDir, '..', '..', 'escaped.csv'))).toBe(false);
    expect(existsSync('/tmp/absolute-escape.csv')).toBe(false);
  });

  it('refuses a missing, empty or unknown part naming the field', async () => {
    const missing = await upload([{ name: 'applicationId', value: appId }]);
    expect(missing.statusCode).toBe(400);
    expect((missing.json() as { errors: { field: string }[] }).errors).toEqual([expect.objectContaining({ field: groupId })]);
    const empty = await upload([{ name: 'applicationId', value: appId }, { name: groupId, filename: 'e.csv', content: '' }]);
    expect(empty.statusCode).toBe(400);
    expect((empty.json() as { errors: { field: string; message: string }[] }).errors[0]).toMatchObject({ field: groupId, message: expect.stringMatching(/empty/) });
    const unknown = await upload([{ name: 'applicationId', value: appId }, { name: groupId, filename: 'g.csv', content: FIRST }, { name: 'other', filename: 'o.csv', content: 'x' }]);
    expect(unknown.statusCode).toBe(400);
    expect((unknown.json() as { errors: { field: string }[] }).errors[0]!.field).toBe('other');
    const noApp = await upload([{ name: groupId, filename: 'g.csv', content: FIRST }]);
    expect(noApp.statusCode).toBe(400);
    expect((noApp.json() as { errors: { field: string }[] }).errors[0]!.field).toBe('applicationId');
  });

  it('refuses a file over the size limit', async () => {
    const big = `${HEADER}${'ann,E-1,ann@x.org,active,read\n'.repeat(3000)}`;
    const res = await upload([{ name: 'applicationId', value: appId }, { name: groupId, filename: 'big.csv', content: big }]);
    expect(res.statusCode).toBe(413);
    expect((res.json() as { errors: { field: string }[] }).errors[0]!.field).toBe(groupId);
  });
});

describe('refusals', () => {
  it('refuses an archived application naming the field', async () => {
    const archived = await createApplication(t.store, t.tenantId, { name: 'Old', archived: true });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/imports/stage', headers: t.auth, payload: { applicationId: archived } });
    expect(res.statusCode).toBe(400);
    expect((res.json() as { errors: { field: string }[] }).errors[0]!.field).toBe('applicationId');
  });

  it('refuses a stage whose required files are missing (422)', async () => {
    const other = await createApplication(t.store, t.tenantId, { name: 'Empty Folder' });
    expect((await putConnector({ directory: 'nothing-here' }, other)).statusCode).toBe(200);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/imports/stage', headers: t.auth, payload: { applicationId: other } });
    expect(res.statusCode).toBe(422);
    expect((res.json() as { errors: { field: string }[] }).errors[0]!.field).toMatch(/^fileGroups\./);
  });

  it('refuses and audits a folder symlinked out of the import directory and a file symlinked out', async () => {
    writeFileSync(join(outside, 'grants.csv'), FIRST);
    symlinkSync(outside, join(t.importDir, 'evil'));
    const evil = await createApplication(t.store, t.tenantId, { name: 'Evil' });
    expect((await putConnector({ directory: 'evil' }, evil)).statusCode).toBe(200);
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/imports/stage', headers: t.auth, payload: { applicationId: evil } });
    expect(res.statusCode).toBe(400);
    expect((res.json() as { detail: string }).detail).toMatch(/outside the import directory/);
    expect((await auditActions(evil)).map((a) => a.action)).toContain('import.path_refused');

    mkdirSync(join(t.importDir, 'sneaky'));
    symlinkSync(join(outside, 'grants.csv'), join(t.importDir, 'sneaky', 'grants.csv'));
    const sneaky = await createApplication(t.store, t.tenantId, { name: 'Sneaky' });
    expect((await putConnector({ directory: 'sneaky' }, sneaky)).statusCode).toBe(200);
    const res2 = await t.app.inject({ method: 'POST', url: '/api/v1/imports/stage', headers: t.auth, payload: { applicationId: sneaky } });
    expect(res2.statusCode).toBe(400);
    expect((await auditActions(sneaky)).map((a) => a.action)).toContain('import.path_refused');
  });

  it('fails an import with a bad file, naming file and line, and changes nothing', async () => {
    const before = await accounts();
    const done = await stageAndRun(`${HEADER}ann,E-1,ann@x.org,active,read\nbob,"E-2,bob@x.org,active,read\n`);
    expect(done.status).toBe('Failed');
    expect(done.error).toMatch(/grants\.csv, line \d+: a quote opened here is never closed/);
    expect(await accounts()).toEqual(before);
  });
});

describe('scheduled runs', () => {
  it('creates the due Scheduled import once and runs it', async () => {
    const sched = await createApplication(t.store, t.tenantId, { name: 'Scheduled App' });
    expect((await putConnector({ directory: 'sched', schedule: '0 2 * * *' }, sched)).statusCode).toBe(200);
    dropFile(t.importDir, 'sched', 'grants.csv', FIRST);
    const later = new Date(Date.now() + 2 * 24 * 3600 * 1000);
    await t.worker.tick(later);
    await t.worker.tick(later);
    await drain(t);
    const list = (await t.app.inject({ method: 'GET', url: `/api/v1/imports?applicationId=${sched}`, headers: t.auth })).json() as { items: ImportView[] };
    expect(list.items).toHaveLength(1);
    expect(list.items[0]).toMatchObject({ type: 'Scheduled', status: 'Finished', createdBy: 'scheduler' });
    expect(list.items[0]!.scheduledFor).toMatch(/T02:00:00\.000Z$/);
  });
});

describe('the audit trail', () => {
  it('verifies end to end after all of the above', async () => {
    const results = await verifyAuditTrail(t.store);
    expect(results.every((r) => r.problem === null)).toBe(true);
  });
});
