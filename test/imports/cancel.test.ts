/**
 * Canceling a Running import stops it: while it reads its files, and inside its apply
 * transaction (rolled back: the old snapshot stays). The import's checkpoint hook acts at an
 * exact point of the run, so nothing here depends on timing.
 */
import { setImmediate as nextTurn } from 'node:timers/promises';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { verifyAuditTrail } from '../../src/services/audit/trail.ts';
import { cancelImport } from '../../src/services/imports/imports.ts';
import type { ImportView } from '../../src/services/imports/views.ts';
import { TEST_BACKEND } from '../support/harness.ts';
import { createApplication, createImportTestApp, drain, dropFile, getImport, putGrantsConnector, type ImportTestApp } from '../support/imports.ts';

type Point = { importId: string; where: string; signal: AbortSignal };
let t: ImportTestApp;
let appId: string;
/** What the test does at a checkpoint of the running import (null: nothing). */
let atCheckpoint: ((point: Point) => Promise<void>) | null = null;

function csv(accounts: number, grantsEach: number, tag: string): string {
  const lines = ['login,entitlement'];
  for (let a = 0; a < accounts; a += 1) for (let g = 0; g < grantsEach; g += 1) lines.push(`u${a},${tag}-${g}`);
  return `${lines.join('\n')}\n`;
}

async function state(): Promise<{ accounts: string[]; grants: number }> {
  const { db } = t.store.read(t.tenantId);
  const accounts = await db.selectFrom('accounts').select('name').where('tenant_id', '=', t.tenantId).where('application_id', '=', appId).orderBy('name').execute();
  const grants = await db
    .selectFrom('grants')
    .innerJoin('accounts', 'accounts.id', 'grants.account_id')
    .select((eb) => eb.fn.countAll<number>().as('n'))
    .where('accounts.tenant_id', '=', t.tenantId)
    .where('accounts.application_id', '=', appId)
    .executeTakeFirstOrThrow();
  return { accounts: accounts.map((a) => a.name), grants: Number(grants.n) };
}

async function actions(importId: string): Promise<string[]> {
  const { db } = t.store.read(t.tenantId);
  return (await db.selectFrom('audit_events').select('action').where('tenant_id', '=', t.tenantId).where('target_id', '=', importId).orderBy('seq').execute()).map((a) => a.action);
}

async function stage(): Promise<ImportView> {
  const res = await t.app.inject({ method: 'POST', url: '/api/v1/imports/stage', headers: t.auth, payload: { applicationId: appId } });
  expect(res.statusCode, res.body).toBe(201);
  return res.json() as ImportView;
}

const cancelOverHttp = (id: string) => t.app.inject({ method: 'POST', url: `/api/v1/imports/${id}/cancel`, headers: t.auth });

beforeAll(async () => {
  t = await createImportTestApp({ onCheckpoint: (point) => atCheckpoint?.(point) });
  appId = await createApplication(t.store, t.tenantId, { name: 'Cancelable' });
  await putGrantsConnector(t, appId, 'cancelable');
  dropFile(t.importDir, 'cancelable', 'grants.csv', csv(5, 2, 'old'));
  const first = await stage();
  await drain(t);
  expect((await getImport(t, first.id)).status).toBe('Finished');
});
afterAll(async () => {
  await t?.close();
});

describe('canceling a Running import', () => {
  it('stops it while it reads its files (rows read, not finished): Canceled, nothing applied, audited', async () => {
    const before = await state();
    expect(before).toEqual({ accounts: ['u0', 'u1', 'u2', 'u3', 'u4'], grants: 10 });
    dropFile(t.importDir, 'cancelable', 'grants.csv', csv(3000, 5, 'new'));
    const running = await stage();
    let seen: ImportView | null = null;
    atCheckpoint = async (point) => {
      if (point.importId !== running.id || point.where !== 'while reading the files' || seen) return;
      seen = await getImport(t, running.id);
      const res = await cancelOverHttp(running.id);
      expect(res.statusCode, res.body).toBe(200);
      expect((res.json() as ImportView).status).toBe('Canceling');
    };
    await drain(t);
    atCheckpoint = null;
    // Caught mid-run: running, some rows read, not all.
    expect(seen).toMatchObject({ status: 'Running', phase: 'parse' });
    expect(seen!.progress.rowsRead).toBeGreaterThan(0);
    expect(seen!.progress.rowsRead).toBeLessThan(15000);
    const done = await getImport(t, running.id);
    expect(done.status).toBe('Canceled');
    expect(done.log.map((l) => l.message).join('\n')).toMatch(/canceled while reading the files; nothing was applied/);
    expect(await state()).toEqual(before);
    expect(await actions(running.id)).toEqual(['import.stage', 'import.start', 'import.cancel', 'import.canceled']);
  });

  it('stops it inside its apply transaction after some changes were written: rolled back, old snapshot intact, Canceled, audited', async () => {
    const before = await state();
    dropFile(t.importDir, 'cancelable', 'grants.csv', csv(3000, 5, 'new'));
    const running = await stage();
    let applyPoints = 0;
    let canceled: Promise<{ statusCode: number }> | null = null;
    let during: { accounts: number } | null = null;
    atCheckpoint = async (point) => {
      if (point.importId !== running.id || point.where !== 'while applying') return;
      applyPoints += 1;
      // The second point: the first 1,000 accounts of this import are written in the transaction.
      if (applyPoints !== 2) return;
      const { db } = t.store.read(t.tenantId);
      if (TEST_BACKEND === 'postgres') {
        // Another connection: the uncommitted accounts are invisible, and a cancel request
        // over HTTP authenticates, signals this run, then waits on the transaction's lock.
        const visible = await db.selectFrom('accounts').select((eb) => eb.fn.countAll<number>().as('n')).where('application_id', '=', appId).executeTakeFirstOrThrow();
        during = { accounts: Number(visible.n) };
        canceled = cancelOverHttp(running.id);
      } else {
        // SQLite has one connection, which the transaction holds: a request could not even
        // authenticate until it ends, so the cancel comes from inside the process.
        canceled = cancelImport(t.services.deps, systemActor(t.tenantId, 'operator'), running.id).then(() => ({ statusCode: 200 }));
      }
      for (let i = 0; i < 10_000 && !point.signal.aborted; i += 1) await nextTurn();
      expect(point.signal.aborted).toBe(true);
    };
    await drain(t);
    atCheckpoint = null;
    expect(applyPoints).toBe(2);
    expect((await canceled!).statusCode).toBe(200);
    if (during) expect(during).toEqual({ accounts: before.accounts.length });
    const done = await getImport(t, running.id);
    expect(done.status).toBe('Canceled');
    expect(done.log.map((l) => l.message).join('\n')).toMatch(/canceled while applying; nothing was applied/);
    expect(await state()).toEqual(before);
    const trail = await actions(running.id);
    expect(trail).toEqual(expect.arrayContaining(['import.stage', 'import.start', 'import.cancel', 'import.canceled']));
    expect(trail).not.toContain('import.apply');
    // No permission of the rolled-back run is left in the catalog.
    const { db } = t.store.read(t.tenantId);
    expect(await db.selectFrom('permissions').select('name').where('tenant_id', '=', t.tenantId).where('application_id', '=', appId).where('name', 'like', 'new-%').execute()).toEqual([]);

    // The next import runs to its end as usual.
    const next = await stage();
    await drain(t);
    expect((await getImport(t, next.id)).status).toBe('Finished');
    expect((await state()).accounts).toHaveLength(3000);
    const audit = await verifyAuditTrail(t.store);
    expect(audit.every((r) => r.problem === null)).toBe(true);
  });
});
