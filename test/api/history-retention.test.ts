/**
 * Access-history retention (docs/history.md): with `GRANTORY_HISTORY_RETENTION_DAYS`, the
 * background job prunes the versions no instant after the horizon needs, records the horizon
 * in one audited write, and from then on an instant before the horizon is a 400 that says it
 * was pruned — never an answer from incomplete facts — while instants after it answer as
 * before. Time is moved by the engine's clock (the test's `now`): writes carry real times.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { startJobs } from '../../src/jobs/index.ts';
import { pruneAccessHistory } from '../../src/services/access/index.ts';
import { verifyAuditTrail } from '../../src/services/audit/trail.ts';
import { v1Calls } from '../support/catalog.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- response bodies are read loosely

const DAY = 86_400_000;
let t: TestApp;
let offset = 0;
const { get, post } = v1Calls(() => t);

async function ok(res: { statusCode: number; body: string; json: () => unknown }, status = 200): Promise<Json> {
  expect(res.statusCode, res.body).toBe(status);
  return res.json() as Json;
}
const pause = () => new Promise((r) => setTimeout(r, 5));

beforeAll(async () => {
  t = await createTestApp({ now: () => new Date(Date.now() + offset) });
});
afterAll(async () => t.close());

describe('access history retention', () => {
  it('prunes what the horizon no longer needs, refuses instants before it, and answers after it as before', async () => {
    const who = (await ok(await post('/identities', { username: 'hilde' }), 201)).id as string;
    const app = (await ok(await post('/applications', { name: 'Vault', kind: 'managed' }), 201)).id as string;
    const open = (await ok(await post(`/applications/${app}/permissions`, { name: 'open' }), 201)).id as string;
    const close = (await ok(await post(`/applications/${app}/permissions`, { name: 'close' }), 201)).id as string;
    const first = (await ok(await post('/assignments', { assignee: { type: 'identity', id: who }, resource: { type: 'permission', id: open } }), 201)).id as string;
    await pause();
    const held = new Date().toISOString();
    await pause();
    await ok(await post(`/assignments/${first}/revoke`, {}));
    await ok(await post('/assignments', { assignee: { type: 'identity', id: who }, resource: { type: 'permission', id: close } }), 201);
    await pause();
    const afterChanges = new Date().toISOString();
    const heldThen = await ok(await get(`/access/at?at=${held}&identity=${who}`));
    expect(heldThen.items.map((i: Json) => i.permissionId)).toEqual([open]);
    const versions = async () =>
      (
        await t.store
          .read(t.tenantId)
          .db.selectFrom('access_history_keys as k')
          .innerJoin('access_history_versions as v', 'v.key', 'k.key')
          .select('v.to_rev')
          .where('k.entity_id', '=', first)
          .execute()
      ).map((v) => v.to_rev === null);
    expect((await versions()).sort()).toEqual([false, true]); // active until the revocation, revoked since

    // Nothing is older than a year: no write, nothing pruned.
    expect(await pruneAccessHistory(t.services.deps, t.tenantId, 365)).toBeNull();

    // Two days later, with one day kept: the job prunes once.
    offset = 2 * DAY;
    const jobs = startJobs(t.services.deps, { checkpointIntervalMs: 0, deliveryIntervalMs: 0, schedulerIntervalMs: 0, historyRetentionDays: 1 });
    const db = t.store.read(t.tenantId).db;
    let event: { after: string | null } | undefined;
    for (let i = 0; i < 500 && event === undefined; i += 1) {
      event = await db.selectFrom('audit_events').select('after').where('tenant_id', '=', t.tenantId).where('action', '=', 'accessHistory.prune').executeTakeFirst();
      if (event === undefined) await new Promise((r) => setTimeout(r, 20));
    }
    await jobs.stop();
    expect(event, 'the retention job pruned').toBeDefined();
    const after = JSON.parse(event!.after!) as { prunedBefore: string; versionsRemoved: number; retentionDays: number };
    expect(after.retentionDays).toBe(1);
    expect(after.versionsRemoved).toBeGreaterThan(0);
    expect(after.prunedBefore > afterChanges).toBe(true);
    expect(await versions()).toEqual([true]); // its active version ended before the horizon: gone; the revoked one is kept

    // Before the horizon: refused, naming it.
    const refused = await get(`/access/at?at=${held}&identity=${who}`);
    expect(refused.statusCode, refused.body).toBe(400);
    expect(refused.json()).toMatchObject({ prunedBefore: after.prunedBefore });
    expect(refused.body).toContain('pruned');
    expect((await get(`/access/at?at=${held}&permission=${open}`)).statusCode).toBe(400);
    expect((await get(`/identities/${who}/access/history?from=${held}`)).statusCode).toBe(400);

    // At the horizon and after: what the live engine answers now.
    const now = await ok(await get(`/access/at?at=${after.prunedBefore}&identity=${who}`));
    const live = await ok(await get(`/identities/${who}/access`));
    expect(now.items.map((i: Json) => i.permissionId)).toEqual([close]);
    expect((live.items as Json[]).map((i) => i.permissionId)).toEqual([close]);
    const holders = await ok(await get(`/access/at?at=${after.prunedBefore}&permission=${close}`));
    expect(holders.items.map((h: Json) => h.identity.id)).toEqual([who]);

    // Run again at the same time: nothing more to prune, no new write.
    expect(await pruneAccessHistory(t.services.deps, t.tenantId, 1)).toBeNull();
    const [verified] = await verifyAuditTrail(t.store);
    expect(verified).toMatchObject({ problem: null });
  });
});
