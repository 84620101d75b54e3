/**
 * The effective-permission CSV names what its ids are: the identity's username and unit
 * path, the application and permission, the context's unit path, and what each grant comes
 * through (the role, the unit, or a direct assignment).
 */
import { parse } from 'csv-parse/sync';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createTestApp, type TestApp } from '../support/harness.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp();
});
afterAll(async () => t.close());

const post = async (url: string, payload: object): Promise<{ id: string }> => {
  const res = await t.app.inject({ method: 'POST', url, headers: t.auth, payload });
  expect(res.statusCode, res.body).toBe(201);
  return res.json();
};

describe('effective-permission CSV', () => {
  it('carries names beside the ids', async () => {
    const acme = await post('/api/v1/org-units', { name: 'Acme' });
    const finance = await post('/api/v1/org-units', { name: 'Finance; Payables', parentId: acme.id });
    const ada = await post('/api/v1/identities', { username: 'ada.lovelace', displayName: 'Ada Lovelace', orgUnitId: finance.id });
    const app = await post('/api/v1/applications', { name: 'Payroll', kind: 'managed' });
    const approve = await post(`/api/v1/applications/${app.id}/permissions`, { name: 'payroll.approve' });
    const view = await post(`/api/v1/applications/${app.id}/permissions`, { name: 'payroll.view' });
    const role = await post('/api/v1/roles', { name: 'Finance approver', permissionIds: [approve.id] });
    const viaRole = await post('/api/v1/assignments', { assignee: { type: 'orgUnit', id: finance.id }, resource: { type: 'role', id: role.id } });
    const direct = await post('/api/v1/assignments', { assignee: { type: 'identity', id: ada.id }, resource: { type: 'permission', id: view.id }, context: { type: 'orgUnit', id: finance.id } });

    const res = await t.app.inject({ method: 'GET', url: `/api/v1/exports/effective-permissions?format=csv&identityId=${ada.id}&minRevision=0`, headers: t.auth });
    expect(res.statusCode, res.body).toBe(200);
    const rows = parse(res.body, { columns: true }) as Record<string, string>[];
    const byPermission = new Map(rows.map((r) => [r.permission, r]));
    expect(byPermission.get('payroll.approve')).toMatchObject({
      identityId: ada.id,
      username: 'ada.lovelace',
      displayName: 'Ada Lovelace',
      unitPath: 'Acme/Finance; Payables',
      applicationId: app.id,
      application: 'Payroll',
      permissionId: approve.id,
      contextType: 'all',
      contextName: '',
      via: viaRole.id,
      viaNames: 'role Finance approver, unit Acme/Finance; Payables',
    });
    expect(byPermission.get('payroll.view')).toMatchObject({ contextType: 'orgUnit', contextId: finance.id, contextName: 'Acme/Finance; Payables', via: direct.id, viaNames: 'direct' });

    const json = await t.app.inject({ method: 'GET', url: `/api/v1/exports/effective-permissions?format=json&identityId=${ada.id}`, headers: t.auth });
    expect(json.json()).toContainEqual(expect.objectContaining({ permission: 'payroll.approve', unitPath: 'Acme/Finance; Payables', viaNames: ['role Finance approver, unit Acme/Finance; Payables'] }));
  });
});
