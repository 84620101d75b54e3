/**
 * Provisioning of approved access requests in a connected application, through the HTTP API
 * and real imports: `pending` after approval, `verified` (request completed) when a later
 * import shows the grant, `failed` after `settings.provisioning.failAfterImports` imports that
 * do not; and a `remove` verified when an import no longer shows the grant.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createIdentity, createImportTestApp, drain, dropFile, type ImportTestApp } from '../support/imports.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are read loosely

let t: ImportTestApp;
let eve: string;
let olgaKey: Record<string, string>;
let ledger: string;
const perms = {} as Record<'export' | 'report' | 'audit', string>;

const call = (method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: unknown, headers: Record<string, string> = t.auth) =>
  t.app.inject({ method, url: `/api/v1${url}`, headers, ...(payload === undefined ? {} : { payload: payload as object }) });

async function ok(res: { statusCode: number; body: string; json: () => unknown }, status = 200): Promise<Json> {
  expect(res.statusCode, res.body).toBe(status);
  return res.json() as Json;
}

async function importRows(rows: string[]): Promise<void> {
  dropFile(t.importDir, 'ledger', 'accounts.csv', `login,mail,perm\n${rows.join('\n')}\n`);
  await ok(await call('POST', '/imports/stage', { applicationId: ledger }), 201);
  await drain(t);
}

async function approvedRequest(body: Json): Promise<string> {
  const req = await ok(await call('POST', '/access-requests', body), 201);
  const approved = await ok(await call('POST', `/access-requests/${req.id}/approve`, {}, olgaKey));
  expect(approved).toMatchObject({ status: 'open', provisioning: { status: 'pending' } });
  return req.id as string;
}

const requestOf = async (id: string) => ok(await call('GET', `/access-requests/${id}`));

beforeAll(async () => {
  t = await createImportTestApp();
  eve = await createIdentity(t.store, t.tenantId, { subject: 's:eve', email: 'eve@x.org' });
  const olga = await createIdentity(t.store, t.tenantId, { subject: 's:olga', email: 'olga@x.org' });
  olgaKey = { authorization: `Bearer ${(await ok(await call('POST', '/api-keys', { name: 'olga', identityId: olga }), 201)).secret as string}` };
  ledger = (await ok(await call('POST', '/applications', { name: 'Ledger', kind: 'connected', ownerIds: [olga] }), 201)).id;
  for (const name of ['export', 'report', 'audit'] as const) perms[name] = (await ok(await call('POST', `/applications/${ledger}/permissions`, { name }), 201)).id;
  await ok(
    await call('PUT', `/applications/${ledger}/connector`, {
      type: 'file',
      directory: 'ledger',
      fileGroups: [{ name: 'g', pattern: '*.csv', columns: { accountName: 'login', email: 'mail', permission: 'perm' } }],
      matching: ['email'],
      unknownPermissions: 'create',
    }),
  );
  await ok(await call('PATCH', '/settings', { provisioning: { failAfterImports: 2 } }));
});
afterAll(async () => t.close());

describe('provisioning in a connected application', () => {
  it('stays pending until an import shows the grant, then is verified and the request completed', async () => {
    const id = await approvedRequest({ action: 'add', targetIdentityId: eve, resource: { type: 'permission', id: perms.export } });
    const pending = await requestOf(id);
    expect(pending.provisioning.assignmentId).toBeTruthy();
    await importRows(['eve,eve@x.org,audit']);
    expect(await requestOf(id)).toMatchObject({ status: 'open', provisioning: { status: 'pending', importsSeen: 1 } });
    await importRows(['eve,eve@x.org,audit', 'eve,eve@x.org,export']);
    const verified = await requestOf(id);
    expect(verified).toMatchObject({ status: 'completed', provisioning: { status: 'verified' } });
    expect(verified.provisioning.observedAt).toBeTruthy();
    expect((verified.activity as Json[]).map((a) => a.text).join('\n')).toMatch(/verified/);
  });

  it('fails after failAfterImports imports that do not show it', async () => {
    const id = await approvedRequest({ action: 'add', targetIdentityId: eve, resource: { type: 'permission', id: perms.report } });
    await importRows(['eve,eve@x.org,audit', 'eve,eve@x.org,export']);
    expect((await requestOf(id)).status).toBe('open');
    await importRows(['eve,eve@x.org,audit', 'eve,eve@x.org,export']);
    expect(await requestOf(id)).toMatchObject({ status: 'failed', provisioning: { status: 'failed', importsSeen: 2 } });
  });

  it('a remove is verified when an import no longer shows the grant', async () => {
    const id = await approvedRequest({ action: 'remove', targetIdentityId: eve, resource: { type: 'permission', id: perms.export } });
    const { db } = t.store.read(t.tenantId);
    const request = await db.selectFrom('access_requests').select('assignment_id').where('id', '=', id).executeTakeFirstOrThrow();
    expect((await db.selectFrom('assignments').select('state').where('id', '=', request.assignment_id!).executeTakeFirstOrThrow()).state).toBe('revoked');
    await importRows(['eve,eve@x.org,audit']);
    expect(await requestOf(id)).toMatchObject({ status: 'completed', provisioning: { status: 'verified' } });
  });
});
