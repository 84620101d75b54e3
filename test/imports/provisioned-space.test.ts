/**
 * After an import commits, the access index (which follows the change feed) answers from the
 * new provisioned space: grants an import added are held, grants it removed are not.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { AccessEngine } from '../../src/engine/engine.ts';
import { askContext, checkSlots } from '../../src/engine/queries.ts';
import { createApplication, createIdentity, createImportTestApp, drain, dropFile, type ImportTestApp } from '../support/imports.ts';

let t: ImportTestApp;
let engine: AccessEngine;
let appId: string;
let annId: string;

beforeAll(async () => {
  t = await createImportTestApp();
  engine = new AccessEngine(t.store, { pollIntervalMs: 0 });
  await engine.start();
  appId = await createApplication(t.store, t.tenantId, { name: 'Ledger' });
  annId = await createIdentity(t.store, t.tenantId, { subject: 's:ann', email: 'ann@x.org' });
  const put = await t.app.inject({
    method: 'PUT',
    url: `/api/v1/applications/${appId}/connector`,
    headers: t.auth,
    payload: { type: 'file', directory: 'ledger', fileGroups: [{ name: 'g', pattern: '*.csv', columns: { accountName: 'login', email: 'mail', permission: 'perm' } }], matching: ['email'], unknownPermissions: 'create' },
  });
  expect(put.statusCode).toBe(200);
});
afterAll(async () => {
  engine.stop();
  await t.close();
});

async function holds(permission: string): Promise<boolean> {
  await engine.syncNow(t.tenantId);
  const { index } = await engine.at(t.tenantId);
  const { db } = t.store.read(t.tenantId);
  const perm = await db.selectFrom('permissions').select('id').where('application_id', '=', appId).where('name', '=', permission).executeTakeFirst();
  if (!perm) return false;
  return checkSlots(index, index.identities.find(annId), index.perms.find(perm.id), askContext(index, undefined), Date.now(), 'provisioned');
}

async function importFile(content: string): Promise<void> {
  dropFile(t.importDir, 'ledger', 'accounts.csv', content);
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/imports/stage', headers: t.auth, payload: { applicationId: appId } });
  expect(res.statusCode).toBe(201);
  await drain(t);
}

describe('the provisioned space follows imports', () => {
  it('sees grants an import adds and stops seeing those it removes', async () => {
    await importFile('login,mail,perm\nann,ann@x.org,post\nann,ann@x.org,read\n');
    expect(await holds('post')).toBe(true);
    expect(await holds('read')).toBe(true);
    await importFile('login,mail,perm\nann,ann@x.org,read\n');
    expect(await holds('post')).toBe(false);
    expect(await holds('read')).toBe(true);
    await importFile('login,mail,perm\nbob,bob@x.org,read\n');
    expect(await holds('read')).toBe(false);
  });
});
