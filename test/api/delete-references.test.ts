/**
 * Every foreign key into a deletable object is either a named delete blocker (409 with
 * `blockers`) or deleted with it on purpose — never a constraint failure (500). The schema's
 * foreign keys are read from the migrated database, so a new one without a decision below
 * fails the first test; the others replay each blocker and cascade through the API.
 */
import { sql } from 'kysely';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createApplication, createIdentity, createImportTestApp, drain, dropFile, putGrantsConnector, type ImportTestApp } from '../support/imports.ts';

/** How a delete treats each foreign key (`table.column -> referenced table`). */
const HANDLED: Record<string, string> = {
  'org_units.parent_id -> org_units': 'blocks: orgUnit',
  'identities.manager_id -> identities': 'blocks: report',
  'identities.org_unit_id -> org_units': 'blocks: member',
  'permissions.application_id -> applications': 'deleted with the application (after the permission blockers)',
  'role_permissions.role_id -> roles': 'deleted with the role',
  'role_permissions.permission_id -> permissions': 'blocks: role',
  'role_includes.role_id -> roles': 'deleted with the role',
  'role_includes.included_role_id -> roles': 'blocks: role',
  'assignments.delegated_from_id -> assignments': 'assignments are revoked, never deleted',
  'api_keys.identity_id -> identities': 'blocks: apiKey',
  'identity_passwords.identity_id -> identities': "deleted with the identity (on delete cascade): its password",
  'sessions.identity_id -> identities': "deleted with the identity (on delete cascade): its sessions",
  'sessions.api_key_id -> api_keys': 'deleted with the API key (on delete cascade): a session opened with a key ends with it',
  'oauth_clients.application_id -> applications': 'blocks: oauthClient',
  'oauth_clients.identity_id -> identities': 'blocks: oauthClient',
  'application_keys.application_id -> applications': 'blocks: applicationKey',
  'accounts.application_id -> applications': 'blocks: account',
  'accounts.identity_id -> identities': 'blocks: account',
  'grants.account_id -> accounts': 'deleted with the account',
  'grants.permission_id -> permissions': 'blocks: grant',
  'event_sink_dead_letters.sink_id -> event_sinks': 'deleted with the sink',
  'imports.application_id -> applications': 'blocks: import (in progress); finished ones are deleted with the application',
  'import_changes.import_id -> imports': 'deleted with the import',
  'unmatched_accounts.application_id -> applications': 'deleted with the application',
  'account_resolutions.application_id -> applications': 'deleted with the application',
  'account_resolutions.identity_id -> identities': 'blocks: accountResolution',
  'org_units.manager_id -> identities': 'blocks: managedUnit',
  'personnel_event_paused.event_id -> personnel_events': 'personnel events are never deleted',
  'review_items.review_id -> access_reviews': 'access reviews are never deleted (their items are the record of a campaign)',
};

let t: ImportTestApp;
/**
 * While set, a running import waits while reading its files — before its write transaction,
 * so the delete is not stuck behind the import's lock: "in progress" for as long as a test needs.
 */
let importGate: Promise<void> | null = null;
beforeAll(async () => {
  t = await createImportTestApp({ onCheckpoint: (point) => (point.where === 'while reading the files' ? (importGate ?? undefined) : undefined) });
});
afterAll(async () => t.close());

const api = (method: 'GET' | 'POST' | 'PUT' | 'DELETE', url: string, payload?: object) =>
  t.app.inject({ method, url: `/api/v1${url}`, headers: t.auth, ...(payload ? { payload } : {}) });

async function foreignKeys(): Promise<string[]> {
  const { db } = t.store.read(t.tenantId);
  const rows =
    t.backend === 'sqlite'
      ? await sql<{ tbl: string; col: string; ref: string }>`
          select m.name as tbl, p."from" as col, p."table" as ref
          from sqlite_master m join pragma_foreign_key_list(m.name) p
          where m.type = 'table'`.execute(db)
      : await sql<{ tbl: string; col: string; ref: string }>`
          select kcu.table_name as tbl, kcu.column_name as col, ccu.table_name as ref
          from information_schema.table_constraints tc
          join information_schema.key_column_usage kcu on kcu.constraint_name = tc.constraint_name and kcu.table_schema = tc.table_schema
          join information_schema.constraint_column_usage ccu on ccu.constraint_name = tc.constraint_name and ccu.table_schema = tc.table_schema
          where tc.constraint_type = 'FOREIGN KEY' and tc.table_schema = current_schema()`.execute(db);
  return [...new Set(rows.rows.map((r) => `${r.tbl}.${r.col} -> ${r.ref}`))].sort();
}

function expectBlocked(res: { statusCode: number; body: string; json(): unknown }, type: string) {
  expect(res.statusCode, res.body).toBe(409);
  const body = res.json() as { code: string; blockers: { type: string; count: number }[] };
  expect(body.code).toBe('conflict');
  expect(body.blockers.map((b) => b.type)).toContain(type);
}

describe('foreign keys into deletable objects', () => {
  it('each one in the schema is a named blocker or a deliberate cascade', async () => {
    // Tenants are never deleted; every table refers to its tenant.
    const keys = (await foreignKeys()).filter((k) => !k.endsWith('-> tenants'));
    expect(keys).toEqual(Object.keys(HANDLED).sort());
  });
});

describe('deleting an identity', () => {
  it('is refused while an OAuth client acts as it, then allowed', async () => {
    const id = await createIdentity(t.store, t.tenantId, { subject: 's:client-owner' });
    const client = await api('POST', '/clients', { name: 'acts as owner', identityId: id });
    expect(client.statusCode, client.body).toBe(201);
    expectBlocked(await api('DELETE', `/identities/${id}`), 'oauthClient');
    expect((await api('DELETE', `/clients/${(client.json() as { id: string }).id}`)).statusCode).toBe(200);
    expect((await api('DELETE', `/identities/${id}`)).statusCode).toBe(200);
  });

  it('is refused while an account is matched to it or a resolution links to it', async () => {
    const id = await createIdentity(t.store, t.tenantId, { subject: 's:account-holder' });
    const appId = await createApplication(t.store, t.tenantId, { name: 'Ledger for identity' });
    expect((await api('PUT', `/applications/${appId}/accounts/holder`, { identityId: id, grants: [] })).statusCode).toBe(201);
    expectBlocked(await api('DELETE', `/identities/${id}`), 'account');
    const linked = await api('PUT', `/applications/${appId}/account-resolutions/expected`, { resolution: 'linked', identityId: id });
    expect(linked.statusCode, linked.body).toBe(200);
    const res = await api('DELETE', `/identities/${id}`);
    expectBlocked(res, 'accountResolution');
    expect((res.json() as { detail: string }).detail).toMatch(/1 account matched to it, 1 account resolution linking to it/);
    // Resolving the account otherwise and removing the account clear the way.
    expect((await api('PUT', `/applications/${appId}/account-resolutions/expected`, { resolution: 'ignored' })).statusCode).toBe(200);
    expect((await api('DELETE', `/applications/${appId}/accounts/holder`)).statusCode).toBe(200);
    expect((await api('DELETE', `/identities/${id}`)).statusCode).toBe(200);
  });

  it('is refused while it has an API key or reports', async () => {
    const manager = await createIdentity(t.store, t.tenantId, { subject: 's:manager' });
    await createIdentity(t.store, t.tenantId, { subject: 's:report', managerId: manager });
    const key = await api('POST', '/api-keys', { name: 'manager key', identityId: manager });
    expect(key.statusCode, key.body).toBe(201);
    const res = await api('DELETE', `/identities/${manager}`);
    expectBlocked(res, 'apiKey');
    expectBlocked(res, 'report');
  });
});

describe('deleting an application', () => {
  it('is refused while it has an application key or an OAuth client', async () => {
    const appId = await createApplication(t.store, t.tenantId, { name: 'Keyed' });
    const key = await api('POST', `/applications/${appId}/keys`, { name: 'reader' });
    expect(key.statusCode, key.body).toBe(201);
    const client = await api('POST', '/clients', { name: 'app client', applicationId: appId, scopes: ['cos_auth_api'] });
    expect(client.statusCode, client.body).toBe(201);
    const res = await api('DELETE', `/applications/${appId}`);
    expectBlocked(res, 'applicationKey');
    expectBlocked(res, 'oauthClient');
    expect((await api('DELETE', `/applications/${appId}/keys/${(key.json() as { id: string }).id}`)).statusCode).toBe(200);
    expect((await api('DELETE', `/clients/${(client.json() as { id: string }).id}`)).statusCode).toBe(200);
    expect((await api('DELETE', `/applications/${appId}`)).statusCode).toBe(200);
  });

  it('is refused while an import is in progress or it has accounts; finished imports, orphans and resolutions go with it', async () => {
    const appId = await createApplication(t.store, t.tenantId, { name: 'Imported' });
    await putGrantsConnector(t, appId, 'imported');
    // 5,001 rows (the same grant): the reader asks whether to stop every 5,000 rows, which is
    // where the hold below waits — a shorter file would never reach it.
    dropFile(t.importDir, 'imported', 'grants.csv', `login,entitlement\n${'ann,read\n'.repeat(5001)}`);
    // Hold the import (the worker starts it at once) so that it is still in progress when the delete comes.
    let release = () => {};
    importGate = new Promise<void>((resolve) => (release = resolve));
    try {
      const staged = await api('POST', '/imports/stage', { applicationId: appId });
      expect(staged.statusCode, staged.body).toBe(201);
      expectBlocked(await api('DELETE', `/applications/${appId}`), 'import');
    } finally {
      importGate = null;
      release();
    }
    await drain(t);
    const holder = await createIdentity(t.store, t.tenantId, { subject: 's:resolution-target' });
    expect((await api('PUT', `/applications/${appId}/account-resolutions/later`, { resolution: 'linked', identityId: holder })).statusCode).toBe(200);

    expectBlocked(await api('DELETE', `/applications/${appId}`), 'account');
    expect((await api('DELETE', `/applications/${appId}/accounts/ann`)).statusCode).toBe(200);
    expect((await api('DELETE', `/applications/${appId}`)).statusCode).toBe(200);

    const { db } = t.store.read(t.tenantId);
    const left = async (table: 'imports' | 'unmatched_accounts' | 'account_resolutions') =>
      (await db.selectFrom(table).select('tenant_id').where('tenant_id', '=', t.tenantId).where('application_id', '=', appId).execute()).length;
    expect([await left('imports'), await left('unmatched_accounts'), await left('account_resolutions')]).toEqual([0, 0, 0]);
    // The resolution no longer holds the identity either.
    expect((await api('DELETE', `/identities/${holder}`)).statusCode).toBe(200);
  });
});

describe('deleting a permission', () => {
  it('is refused while an imported account holds it', async () => {
    const appId = await createApplication(t.store, t.tenantId, { name: 'Granted' });
    const perm = await api('POST', `/applications/${appId}/permissions`, { name: 'approve' });
    expect(perm.statusCode, perm.body).toBe(201);
    expect((await api('PUT', `/applications/${appId}/accounts/approver`, { grants: [{ permission: 'approve' }] })).statusCode).toBe(201);
    const res = await api('DELETE', `/permissions/${(perm.json() as { id: string }).id}`);
    expectBlocked(res, 'grant');
    expect((await api('DELETE', `/applications/${appId}/accounts/approver`)).statusCode).toBe(200);
    expect((await api('DELETE', `/permissions/${(perm.json() as { id: string }).id}`)).statusCode).toBe(200);
  });
});
