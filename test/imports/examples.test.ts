/** The sample file set of docs/imports.md imports as the walk-through says. */
import { cpSync, readFileSync } from 'node:fs';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { ImportView } from '../../src/services/imports/views.ts';
import { createApplication, createIdentity, createImportTestApp, drain, getImport, type ImportTestApp } from '../support/imports.ts';

const EXAMPLES = resolve(import.meta.dirname, '../../examples/imports');
let t: ImportTestApp;
let appId: string;

beforeAll(async () => {
  t = await createImportTestApp();
  appId = await createApplication(t.store, t.tenantId, { name: 'Core Banking' });
  await createIdentity(t.store, t.tenantId, { subject: 'c1s:10017', employeeNumber: '10017', email: 'anna.weber@example.org' });
  await createIdentity(t.store, t.tenantId, { subject: 'c1s:10042', employeeNumber: '10042', email: 'jean.moreau@example.org' });
  await createIdentity(t.store, t.tenantId, { subject: 'c1s:10051', email: 'k.schmidt@example.org' });
});
afterAll(async () => t.close());

describe('the sample file set', () => {
  it('configures, stages and applies as documented', async () => {
    const connector = JSON.parse(readFileSync(join(EXAMPLES, 'connector.json'), 'utf8')) as Record<string, unknown>;
    const put = await t.app.inject({ method: 'PUT', url: `/api/v1/applications/${appId}/connector`, headers: t.auth, payload: connector });
    expect(put.statusCode, put.body).toBe(200);
    cpSync(join(EXAMPLES, 'core-banking'), join(t.importDir, 'core-banking'), { recursive: true });
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/imports/stage', headers: t.auth, payload: { applicationId: appId } });
    expect(res.statusCode, res.body).toBe(201);
    await drain(t);
    const done = await getImport(t, (res.json() as ImportView).id);
    expect(done.status, JSON.stringify(done.log)).toBe('Finished');
    expect(done.files.map((f) => f.name).sort()).toEqual(['accounts.jsonl', 'grants.csv']);
    expect(done.metrics).toMatchObject({ accountsObserved: 5, accountsMatched: 3, accountsOrphaned: 2, accountsAdded: 5, grantsAdded: 7, permissionsCreated: 6, badRows: 0 });
    const accounts = await t.app.inject({ method: 'GET', url: `/api/v1/applications/${appId}/accounts`, headers: t.auth });
    const items = (accounts.json() as { items: { name: string; status: string; matching: { state: string } }[] }).items;
    expect(items.find((a) => a.name === 'kschmidt')).toMatchObject({ status: 'disabled', matching: { state: 'matched' } });
    expect(items.filter((a) => a.matching.state === 'orphan').map((a) => a.name)).toEqual(['svc-batch', 'temp-audit']);
    const { db } = t.store.read(t.tenantId);
    const scoped = await db.selectFrom('grants').select(['context_type', 'context_id']).where('context_type', '=', 'object').execute();
    expect(scoped).toEqual([{ context_type: 'object', context_id: '0451' }, { context_type: 'object', context_id: '0451' }]);
  });
});
