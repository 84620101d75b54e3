/**
 * Separation of duties on grants an import observes: an import is not refused (it reports
 * what the application holds), but each conflict the newly observed grants take part in —
 * with the identity's assigned access or with each other — is recorded as the audit event
 * `sod.detected` (naming the policy, the import and the conflicting access) and the import's
 * log says so. Grants already observed before are not reported again; grants no policy names
 * cost nothing.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, createIdentity, createImportTestApp, drain, dropFile, getImport, type ImportTestApp } from '../support/imports.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are read loosely

let t: ImportTestApp;
let appId: string;
let annId: string;
let bobId: string;
const perms = {} as Record<'create' | 'approve' | 'read' | 'write', string>;

async function call(method: 'GET' | 'POST' | 'PUT', url: string, payload?: object): Promise<Json> {
  const res = await t.app.inject({ method, url: `/api/v1${url}`, headers: t.auth, ...(payload ? { payload } : {}) });
  expect(res.statusCode, res.body).toBeLessThan(300);
  return res.json() as Json;
}

async function importFile(content: string): Promise<Json> {
  dropFile(t.importDir, 'ledger', 'accounts.csv', content);
  const staged = await call('POST', '/imports/stage', { applicationId: appId });
  await drain(t);
  return getImport(t, staged.id as string) as unknown as Json;
}

async function detected(): Promise<Json[]> {
  return (await call('GET', '/audit-events?action=sod.detected&limit=1000')).items as Json[];
}

beforeAll(async () => {
  t = await createImportTestApp();
  appId = await createApplication(t.store, t.tenantId, { name: 'Ledger' });
  annId = await createIdentity(t.store, t.tenantId, { subject: 's:ann', email: 'ann@x.org' });
  bobId = await createIdentity(t.store, t.tenantId, { subject: 's:bob', email: 'bob@x.org' });
  await call('PUT', `/applications/${appId}/connector`, {
    type: 'file',
    directory: 'ledger',
    fileGroups: [{ name: 'g', pattern: '*.csv', columns: { accountName: 'login', email: 'mail', permission: 'perm' } }],
    matching: ['email'],
    unknownPermissions: 'create',
  });
  for (const name of ['create', 'approve', 'read', 'write'] as const) perms[name] = (await call('POST', `/applications/${appId}/permissions`, { name })).id as string;
  await call('POST', '/sod-policies', { name: 'Create vs approve', conflicting: [[{ type: 'permission', id: perms.create }], [{ type: 'permission', id: perms.approve }]], mode: 'block' });
  await call('POST', '/sod-policies', { name: 'Read vs write', conflicting: [[{ type: 'permission', id: perms.read }], [{ type: 'permission', id: perms.write }]], mode: 'require_exception' });
  // Ann is assigned `create` in Grantory.
  await call('POST', '/assignments', { assignee: { type: 'identity', id: annId }, resource: { type: 'permission', id: perms.create } });
});
afterAll(async () => t.close());

describe('grants observed by an import', () => {
  it('an observed grant conflicting with assigned access is applied and recorded as sod.detected', async () => {
    const run = await importFile('login,mail,perm\nann,ann@x.org,approve\nbob,bob@x.org,create\n');
    expect(run.status).toBe('Finished');
    const events = await detected();
    expect(events).toHaveLength(1);
    expect(events[0]).toMatchObject({ targetType: 'identity', targetId: annId });
    const after = events[0]!.after as Json;
    expect(after).toMatchObject({ path: 'import', subject: { type: 'import', id: run.id }, policy: { name: 'Create vs approve', mode: 'block' } });
    const observed = after.conflicting.flatMap((s: Json) => s.held).find((h: Json) => h.resource.id === perms.approve);
    expect(observed.via[0]).toMatchObject({ proposed: true, source: 'import', assignmentId: null });
    expect(run.log.some((l: Json) => l.level === 'warn' && String(l.message).includes('1 separation-of-duties conflict'))).toBe(true);
    // The grant was written: the import reflects the application.
    const { db } = t.store.read(t.tenantId);
    const grants = await db.selectFrom('grants').innerJoin('accounts', 'accounts.id', 'grants.account_id').select('grants.permission_id').where('accounts.identity_id', '=', annId).execute();
    expect(grants.map((g) => g.permission_id)).toEqual([perms.approve]);
  });

  it('two conflicting grants observed together are reported; grants observed before are not reported again', async () => {
    const run = await importFile('login,mail,perm\nann,ann@x.org,approve\nbob,bob@x.org,create\nbob,bob@x.org,read\nbob,bob@x.org,write\n');
    expect(run.status).toBe('Finished');
    const events = await detected();
    expect(events).toHaveLength(2);
    expect(events[1]).toMatchObject({ targetId: bobId, after: { policy: { name: 'Read vs write' } } });
    const again = await importFile('login,mail,perm\nann,ann@x.org,approve\nbob,bob@x.org,create\nbob,bob@x.org,read\nbob,bob@x.org,write\n');
    expect(again.status).toBe('Finished');
    expect(await detected()).toHaveLength(2);
  });

  it('an account newly linked to an identity counts as new access: by a resolution, and by an import matching it with unchanged grants', async () => {
    const { db } = t.store.read(t.tenantId);
    // Two accounts no identity matches, each holding `approve`.
    const file = 'login,mail,perm\nann,ann@x.org,approve\nbob,bob@x.org,create\nbob,bob@x.org,read\nbob,bob@x.org,write\nann-admin,nobody@x.org,approve\ncleo,cleo@x.org,approve\n';
    expect((await importFile(file)).status).toBe('Finished');
    const before = (await detected()).length;

    // An administrator links the orphan `ann-admin` to Ann (assigned `create`).
    await call('PUT', `/applications/${appId}/account-resolutions/ann-admin`, { resolution: 'linked', identityId: annId });
    const linked = (await detected()).slice(before);
    expect(linked).toHaveLength(1);
    const adminAccount = await db.selectFrom('accounts').select('id').where('name', '=', 'ann-admin').executeTakeFirstOrThrow();
    expect(linked[0]).toMatchObject({ targetId: annId, after: { path: 'accountLink', subject: { type: 'account', id: adminAccount.id }, policy: { name: 'Create vs approve' } } });

    // Cleo joins with `create` assigned; the next import matches `cleo` to her, its grants unchanged.
    const cleoId = await createIdentity(t.store, t.tenantId, { subject: 's:cleo', email: 'cleo@x.org' });
    await call('POST', '/assignments', { assignee: { type: 'identity', id: cleoId }, resource: { type: 'permission', id: perms.create } });
    const run = await importFile(file);
    expect(run.status).toBe('Finished');
    const matched = (await detected()).slice(before + 1);
    expect(matched).toHaveLength(1);
    expect(matched[0]).toMatchObject({ targetId: cleoId, after: { path: 'import', subject: { type: 'import', id: run.id }, policy: { name: 'Create vs approve' } } });
    expect((await db.selectFrom('accounts').select('identity_id').where('name', '=', 'cleo').executeTakeFirstOrThrow()).identity_id).toBe(cleoId);
  });
});
