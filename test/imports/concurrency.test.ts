/**
 * Two nodes' workers over one store: imports of one application still run one at a time,
 * in order. (On PostgreSQL the two workers claim through separate connections.) At every
 * check while an import reads its files, the test looks at what else of the application runs.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createImportWorker } from '../../src/jobs/import-worker.ts';
import type { ImportView } from '../../src/services/imports/views.ts';
import { createApplication, createImportTestApp, dropFile, getImport, putGrantsConnector, type ImportTestApp } from '../support/imports.ts';

let t: ImportTestApp;
let appId: string;
const overlaps: string[][] = [];
let checks = 0;

beforeAll(async () => {
  t = await createImportTestApp({
    onCheckpoint: async (point) => {
      if (point.where !== 'while reading the files') return;
      checks += 1;
      const { db } = t.store.read(t.tenantId);
      const running = await db.selectFrom('imports').select('id').where('tenant_id', '=', t.tenantId).where('application_id', '=', appId).where('status', '=', 'Running').execute();
      if (running.length > 1) overlaps.push(running.map((r) => r.id));
    },
  });
  appId = await createApplication(t.store, t.tenantId, { name: 'Busy' });
  await putGrantsConnector(t, appId, 'busy');
});
afterAll(async () => {
  await t?.close();
});

describe('two concurrent imports of one application', () => {
  it('are claimed by two workers yet run one at a time, in number order', async () => {
    const lines = ['login,entitlement'];
    for (let a = 0; a < 2000; a += 1) for (let g = 0; g < 5; g += 1) lines.push(`u${a},p-${g}`);
    dropFile(t.importDir, 'busy', 'grants.csv', `${lines.join('\n')}\n`);
    const stage = async () => {
      const res = await t.app.inject({ method: 'POST', url: '/api/v1/imports/stage', headers: t.auth, payload: { applicationId: appId } });
      expect(res.statusCode, res.body).toBe(201);
      return res.json() as ImportView;
    };
    const [a, b] = [await stage(), await stage()];
    const other = createImportWorker({ deps: t.services.deps, leaseMs: 60_000, failRunningOnStart: false });
    try {
      for (let round = 0; round < 50; round += 1) {
        await Promise.all([t.worker.tick(), other.tick()]);
        await Promise.all([t.worker.idle(), other.idle()]);
        const [ra, rb] = [await getImport(t, a.id), await getImport(t, b.id)];
        if (ra.status === 'Finished' && rb.status === 'Finished') break;
      }
    } finally {
      await other.stop();
    }
    const [ra, rb] = [await getImport(t, a.id), await getImport(t, b.id)];
    expect([ra.status, rb.status]).toEqual(['Finished', 'Finished']);
    expect(checks).toBeGreaterThanOrEqual(2);
    expect(overlaps).toEqual([]);
    expect(rb.buildStart! >= ra.buildEnd!).toBe(true);
    expect(rb.metrics).toMatchObject({ accountsAdded: 0, accountsUpdated: 0, grantsAdded: 0 });
  });
});
