import { mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { generateDirectory } from '../../src/demo/generator.ts';
import { DEMO_MARKER, seedDemoTenant, seedDirectoryStep, type SeedStep } from '../../src/demo/seed.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

describe('demo directory generator', () => {
  it('is reproducible: the same seed gives the same plan, another seed another one', () => {
    const a = generateDirectory({ seed: 7, identities: 120 });
    expect(generateDirectory({ seed: 7, identities: 120 })).toEqual(a);
    expect(generateDirectory({ seed: 8, identities: 120 }).identities.map((i) => i.username)).not.toEqual(a.identities.map((i) => i.username));
  });

  it('builds a company → divisions → departments tree with managers before their reports', () => {
    const plan = generateDirectory({ seed: 1, identities: 300 });
    expect(plan.identities).toHaveLength(300);
    const units = new Map(plan.units.map((u) => [u.key, u]));
    expect(plan.units.filter((u) => u.parentKey === null).map((u) => u.key)).toEqual([DEMO_MARKER]);
    const depth = (key: string): number => (units.get(key)!.parentKey ? 1 + depth(units.get(key)!.parentKey!) : 1);
    expect(new Set(plan.units.map((u) => depth(u.key)))).toEqual(new Set([1, 2, 3]));
    const seen = new Set<string>();
    for (const p of plan.identities) {
      if (p.managerKey) expect(seen.has(p.managerKey)).toBe(true);
      expect(units.has(p.unitKey)).toBe(true);
      expect(Object.keys(p.attributes)).toEqual(expect.arrayContaining(['department', 'title', 'location']));
      seen.add(p.key);
    }
    for (const field of ['subject', 'username', 'employeeNumber'] as const) {
      expect(new Set(plan.identities.map((p) => p[field])).size).toBe(300);
    }
    expect(plan.identities.filter((p) => p.managerKey === null)).toHaveLength(1);
  });
});

describe('seeding a demo tenant', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('creates the plan through the services, runs extra steps in order, and seeds only once', async () => {
    const actor = systemActor(t.tenantId, 'demo');
    const order: string[] = [];
    const extra: SeedStep = {
      name: 'catalog',
      async run(ctx) {
        order.push(`catalog saw ${ctx.ids.size} ids`);
        ctx.report.push('catalog step ran');
      },
    };
    const progress: string[] = [];
    const report = await seedDemoTenant(t.services.deps, actor, { seed: 3, identities: 40, steps: [seedDirectoryStep, extra], progress: (line) => progress.push(line), progressEvery: 15 });
    expect(report).toEqual(['24 organization units, 40 identities', 'catalog step ran']);
    // A long step tells how far it has come while it runs.
    expect(progress).toEqual(['identities: 15 of 40', 'identities: 30 of 40']);
    expect(order).toEqual(['catalog saw 64 ids']);

    const list = await t.app.inject({ method: 'GET', url: '/api/v1/identities?limit=500', headers: t.auth });
    const plan = generateDirectory({ seed: 3, identities: 40 });
    const subjects = (list.json().items as { subject: string }[]).map((i) => i.subject);
    expect(subjects).toEqual(expect.arrayContaining(plan.identities.map((p) => p.subject)));
    const units = await t.app.inject({ method: 'GET', url: '/api/v1/org-units?limit=500', headers: t.auth });
    expect(units.json().items.map((u: { path: string }) => u.path)).toContain('/Acme Corporation/Technology/Information Security');

    expect(await seedDemoTenant(t.services.deps, actor, { seed: 3, identities: 40 })).toBeNull();
  });

});

describe('seeding a tenant with data', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('refuses to seed a tenant that already holds other organization units', async () => {
    const res = await t.app.inject({ method: 'POST', url: '/api/v1/org-units', headers: t.auth, payload: { name: 'Real Co' } });
    expect(res.statusCode).toBe(201);
    await expect(seedDemoTenant(t.services.deps, systemActor(t.tenantId, 'demo'), { identities: 30 })).rejects.toMatchObject({ code: 'conflict' });
  });
});

describe('the default demo steps', () => {
  let t: TestApp;
  beforeAll(async () => {
    t = await createTestApp();
  });
  afterAll(async () => t.close());

  it('seeds applications, roles, unit assignments and an account import that the access engine answers', async () => {
    const importDir = mkdtempSync(join(tmpdir(), 'grantory-demo-imports-'));
    const deps = { ...t.services.deps, imports: { importDir, uploadLimit: 10 * 1024 * 1024 } };
    let report: string[] | null;
    try {
      report = await seedDemoTenant(deps, systemActor(t.tenantId, 'demo'), { seed: 5, identities: 80 });
    } finally {
      rmSync(importDir, { recursive: true, force: true });
    }
    expect(report).toEqual([
      '24 organization units, 80 identities',
      expect.stringMatching(/^8 applications, 32 permissions, 10 roles, \d+ assignments$/),
      expect.stringMatching(/^Core Banking import #1: \d+ accounts \(\d+ matched, 3 orphaned\), \d+ grants$/),
    ]);
    const apps = await t.app.inject({ method: 'GET', url: '/api/v1/applications?limit=50', headers: t.auth });
    expect(apps.json().items.map((a: { name: string }) => a.name)).toEqual(expect.arrayContaining(['Core Banking', 'Trustee App', 'Data Warehouse']));

    // A member of Treasury holds payments.approve through Treasurer, and ledger.post through
    // the Accountant role that Treasurer includes; a Marketing member holds neither.
    const plan = generateDirectory({ seed: 5, identities: 80 });
    const member = (department: string) => plan.identities.find((p) => p.status === 'active' && p.attributes.department === department)!;
    const check = async (subject: string, permission: string) => {
      const res = await t.app.inject({
        method: 'POST',
        url: '/api/v1/check',
        headers: t.auth,
        payload: { identity: subject, application: 'Core Banking', permission },
      });
      expect(res.statusCode).toBe(200);
      return res.json().allowed as boolean;
    };
    expect(await check(member('Treasury').subject, 'payments.approve')).toBe(true);
    expect(await check(member('Treasury').subject, 'ledger.post')).toBe(true);
    expect(await check(member('Marketing').subject, 'payments.approve')).toBe(false);

    // The import: a finished Manual upload of Core Banking, its orphans, its matched accounts, and drift both ways.
    const apps2 = (await t.app.inject({ method: 'GET', url: '/api/v1/applications?limit=50', headers: t.auth })).json().items as { id: string; name: string }[];
    const bank = apps2.find((a) => a.name === 'Core Banking')!;
    const imports = (await t.app.inject({ method: 'GET', url: `/api/v1/imports?applicationId=${bank.id}`, headers: t.auth })).json().items as { status: string; type: string; metrics: Record<string, number> }[];
    expect(imports).toEqual([expect.objectContaining({ status: 'Finished', type: 'Manual', metrics: expect.objectContaining({ accountsOrphaned: 3, badRows: 0 }) })]);
    expect(imports[0]!.metrics.accountsMatched).toBeGreaterThan(5);
    const orphans = (await t.app.inject({ method: 'GET', url: `/api/v1/orphans?applicationId=${bank.id}`, headers: t.auth })).json().items as { accountName: string }[];
    expect(orphans.map((o) => o.accountName).sort()).toEqual(['batch_legacy', 'ext_auditor', 'jmiller_old']);
    const drift = (await t.app.inject({ method: 'GET', url: `/api/v1/access/drift?applicationId=${bank.id}`, headers: t.auth })).json().items as { assignedNotProvisioned: unknown[]; provisionedNotAssigned: unknown[] }[];
    expect(drift[0]!.assignedNotProvisioned.length).toBeGreaterThan(0);
    expect(drift[0]!.provisionedNotAssigned.length).toBeGreaterThan(0);
  });
});
