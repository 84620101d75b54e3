/**
 * The Permission Assist calls replayed as its documentation shows them: an administrator
 * creates a named token, a script stages, uploads (curl -F) and cancels imports, and reads
 * identities, applications and imports in the vendor's shapes and error body.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, createIdentity, createImportTestApp, drain, dropFile, multipartBody, type ImportTestApp } from '../support/imports.ts';

let t: ImportTestApp;
let token: string;
let tokenId: string;
let appId: string;
let archivedId: string;
let groupId: string;
let annId: string;
const bearer = () => ({ authorization: `Bearer ${token}` });
const CSV = 'login,mail,entitlement\nann,ann@x.org,read\nbob,bob@x.org,write\n';

type PaError = { error: string; message: string; correlationId: string; errors: { field: string; message: string }[] };
const isPaError = (body: unknown, code: string) => {
  const e = body as PaError;
  expect(e.error).toBe(code);
  expect(e.correlationId).toMatch(/^[0-9a-f]{32}$/);
  expect(typeof e.message).toBe('string');
  expect(Array.isArray(e.errors)).toBe(true);
  return e;
};

beforeAll(async () => {
  t = await createImportTestApp();
  const key = await t.app.inject({ method: 'POST', url: '/api/v1/api-keys', headers: t.auth, payload: { name: 'API Token - HR Integration', expiresAt: '2030-01-01T00:00:00Z' } });
  expect(key.statusCode, key.body).toBe(201);
  token = (key.json() as { secret: string }).secret;
  tokenId = (key.json() as { id: string }).id;
  const boss = await createIdentity(t.store, t.tenantId, { subject: 's:boss', firstName: 'Berta', lastName: 'Boss', email: 'boss@x.org' });
  annId = await createIdentity(t.store, t.tenantId, {
    subject: 's:ann',
    firstName: 'Ann',
    lastName: 'Lee',
    email: 'ann@x.org',
    type: 'employee',
    managerId: boss,
    attributes: { title: 'Teller', company: 'Acme', division: 'Retail', department: 'Branches', office: 'Main St' },
  });
  await createIdentity(t.store, t.tenantId, { subject: 's:gone', email: 'gone@x.org', status: 'terminated', type: 'vendor' });
  appId = await createApplication(t.store, t.tenantId, { name: 'Core Banking' });
  archivedId = await createApplication(t.store, t.tenantId, { name: 'Legacy', archived: true });
  const connector = {
    type: 'file',
    directory: 'core-banking',
    fileGroups: [{ name: 'grants', pattern: 'grants*.csv', columns: { accountName: 'login', email: 'mail', permission: 'entitlement' } }],
    matching: ['email'],
    unknownPermissions: 'create',
  };
  const put = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${appId}/connector`, headers: t.auth, payload: connector });
  groupId = (put.json() as { connector: { fileGroups: { id: string }[] } }).connector.fileGroups[0]!.id;
  await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${archivedId}/connector`, headers: t.auth, payload: connector });
  dropFile(t.importDir, 'core-banking', 'grants.csv', CSV);
});
afterAll(async () => t.close());

describe('Permission Assist: identities and applications', () => {
  it('lists identities in its page envelope and shape', async () => {
    const res = await t.app.inject({ method: 'GET', url: '/api/identities', headers: bearer() });
    expect(res.statusCode, res.body).toBe(200);
    const body = res.json() as { items: Record<string, unknown>[]; totalCount: number; page: number; pageSize: number; totalPages: number };
    expect(body).toMatchObject({ totalCount: 4, page: 1, pageSize: 50, totalPages: 1 });
    const ann = body.items.find((i) => i.id === annId)!;
    expect(ann).toMatchObject({
      kind: 'Identity',
      firstName: 'Ann',
      lastName: 'Lee',
      emailAddress: 'ann@x.org',
      type: 'Employee',
      title: 'Teller',
      company: 'Acme',
      division: 'Retail',
      department: 'Branches',
      office: 'Main St',
      supervisorName: 'Berta Boss',
      status: 'Active',
      inactivatedDate: null,
    });
    expect(body.items.find((i) => i.emailAddress === 'gone@x.org')).toMatchObject({ status: 'Removed', type: 'Vendor', inactivatedDate: expect.any(String) });
    const page2 = await t.app.inject({ method: 'GET', url: '/api/identities?page=2&pageSize=3', headers: bearer() });
    expect(page2.json()).toMatchObject({ page: 2, pageSize: 3, totalCount: 4, totalPages: 2, items: [expect.objectContaining({ kind: 'Identity' })] });
  });

  it('gets one identity; a non-GUID is a validation_error, an unknown one not_found', async () => {
    const one = await t.app.inject({ method: 'GET', url: `/api/identities/${annId}`, headers: bearer() });
    expect(one.json()).toMatchObject({ id: annId, kind: 'Identity' });
    const bad = await t.app.inject({ method: 'GET', url: '/api/identities/42', headers: bearer() });
    expect(bad.statusCode).toBe(400);
    expect(isPaError(bad.json(), 'validation_error').errors[0]!.field).toBe('id');
    const missing = await t.app.inject({ method: 'GET', url: '/api/identities/00000000-0000-4000-8000-000000000000', headers: bearer() });
    expect(missing.statusCode).toBe(404);
    isPaError(missing.json(), 'not_found');
  });

  it('lists applications as summaries and shows one with its connector and last import status', async () => {
    const list = await t.app.inject({ method: 'GET', url: '/api/applications', headers: bearer() });
    const items = (list.json() as { items: Record<string, unknown>[] }).items;
    expect(items.find((a) => a.id === archivedId)).toEqual({ id: archivedId, kind: 'Application', name: 'Legacy', priority: 'High', isArchived: true, lastUpdated: expect.any(String) });
    const one = await t.app.inject({ method: 'GET', url: `/api/applications/${appId}`, headers: bearer() });
    expect(one.json()).toMatchObject({
      id: appId,
      kind: 'Application',
      name: 'Core Banking',
      isArchived: false,
      connectorConfiguration: { type: 'file', fileGroups: [{ id: groupId, name: 'grants' }] },
      lastImportStatus: null,
    });
  });

  it('refuses without a token, and with a deleted one', async () => {
    const none = await t.app.inject({ method: 'GET', url: '/api/applications' });
    expect(none.statusCode).toBe(401);
    isPaError(none.json(), 'unauthorized');
  });
});

describe('Permission Assist: application imports', () => {
  let stagedId: string;

  it('stages (201 Pending) with the token name as the actor', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/application-imports/stage', headers: bearer(), payload: { applicationId: appId } });
    expect(res.statusCode, res.body).toBe(201);
    const body = res.json() as Record<string, unknown>;
    expect(body).toMatchObject({ kind: 'Application Import', status: 'Pending', type: 'API', number: expect.any(Number), application: { id: appId, name: 'Core Banking' } });
    expect(body.createdBy).toContain('API Token - HR Integration');
    expect(body.id).toMatch(/^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/);
    stagedId = body.id as string;
    const { db } = t.store.read(t.tenantId);
    const audit = await db.selectFrom('audit_events').select(['action', 'actor_name']).where('tenant_id', '=', t.tenantId).where('target_id', '=', stagedId).execute();
    expect(audit[0]).toMatchObject({ action: 'import.stage', actor_name: expect.stringContaining('API Token - HR Integration') });
  });

  it('cancels it (200 Canceling), then refuses to cancel it again (409)', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/application-imports/cancel', headers: bearer(), payload: { applicationImportId: stagedId } });
    expect(res.statusCode, res.body).toBe(200);
    // Canceling while the worker ends it; Canceled when this process was already running it and
    // the cancel signal ended the run before the request's own write (the worker is fast here).
    expect(res.json()).toMatchObject({ id: stagedId, status: expect.stringMatching(/^Cancel(ing|ed)$/) });
    await drain(t);
    const again = await t.app.inject({ method: 'POST', url: '/api/application-imports/cancel', headers: bearer(), payload: { applicationImportId: stagedId } });
    expect(again.statusCode).toBe(409);
    expect(isPaError(again.json(), 'conflict').errors[0]!.field).toBe('applicationImportId');
  });

  it('refuses to stage an archived application, naming the field', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/application-imports/stage', headers: bearer(), payload: { applicationId: archivedId } });
    expect(res.statusCode).toBe(400);
    expect(isPaError(res.json(), 'validation_error').errors).toEqual([{ field: 'applicationId', message: expect.stringMatching(/archived/) }]);
    const missing = await t.app.inject({ method: 'POST', url: '/api/application-imports/stage', headers: bearer(), payload: {} });
    expect(missing.statusCode).toBe(400);
    expect(isPaError(missing.json(), 'validation_error').errors[0]!.field).toBe('applicationId');
  });

  it('uploads as curl -F sends it, processes it, and shows it Finished with metrics', async () => {
    // curl -H "Authorization: Bearer $TOKEN" -F "applicationId=$APP" -F "$FILE_GROUP_ID=@grants.csv" $URL/api/application-imports/upload
    const { payload, headers } = multipartBody([
      { name: 'applicationId', value: appId },
      { name: groupId, filename: 'grants.csv', content: CSV },
    ]);
    const res = await t.app.inject({ method: 'POST', url: '/api/application-imports/upload', headers: { ...bearer(), ...headers }, payload });
    expect(res.statusCode, res.body).toBe(201);
    const id = (res.json() as { id: string }).id;
    expect(res.json()).toMatchObject({ status: 'Pending', files: [{ fileGroupId: groupId, fileGroup: 'grants', name: 'grants.csv', id: expect.any(String) }] });
    await drain(t);
    const got = await t.app.inject({ method: 'GET', url: `/api/application-imports/${id}`, headers: bearer() });
    expect(got.json()).toMatchObject({ status: 'Finished', buildStart: expect.any(String), buildEnd: expect.any(String), metrics: { accountsAdded: 2, grantsAdded: 2 } });
    expect((got.json() as { log: string }).log).toMatch(/applied/);
    const app = await t.app.inject({ method: 'GET', url: `/api/applications/${appId}`, headers: bearer() });
    expect(app.json()).toMatchObject({ lastImportStatus: 'Finished', lastImport: { id, status: 'Finished' } });
  });

  it('refuses an upload without the required part, naming it', async () => {
    const { payload, headers } = multipartBody([{ name: 'applicationId', value: appId }]);
    const res = await t.app.inject({ method: 'POST', url: '/api/application-imports/upload', headers: { ...bearer(), ...headers }, payload });
    expect(res.statusCode).toBe(400);
    expect(isPaError(res.json(), 'validation_error').errors[0]!.field).toBe(groupId);
  });

  it('lists imports in its envelope, filtered by application', async () => {
    const res = await t.app.inject({ method: 'GET', url: `/api/application-imports?applicationId=${appId}`, headers: bearer() });
    const body = res.json() as { items: { number: number; kind: string }[]; totalCount: number; page: number; pageSize: number };
    expect(body).toMatchObject({ totalCount: 2, page: 1, pageSize: 50, totalPages: 1 });
    expect(body.items.map((i) => i.number)).toEqual([...body.items.map((i) => i.number)].sort((a, b) => b - a));
    const none = await t.app.inject({ method: 'GET', url: `/api/application-imports?applicationId=${archivedId}`, headers: bearer() });
    expect(none.json()).toMatchObject({ items: [], totalCount: 0 });
  });

  it('stops accepting the token the moment it is deleted', async () => {
    const del = await t.app.inject({ method: 'DELETE', url: `/api/v1/api-keys/${tokenId}`, headers: t.auth });
    expect(del.statusCode).toBe(200);
    const res = await t.app.inject({ method: 'GET', url: '/api/application-imports', headers: bearer() });
    expect(res.statusCode).toBe(401);
    isPaError(res.json(), 'unauthorized');
  });
});
