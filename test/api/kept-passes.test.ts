/**
 * The overview's kept answers never make their full pass in one turn of the event loop
 * (src/engine/kept.ts), on the run's backend: the pass starts in the background when a
 * server starts, runs in slices (held here between slices by a test hook), and a check is
 * answered while it runs; the summaries a reader awaits equal the full lists at the revision
 * they report — after a start, after a role change that invalidates everything during a pass,
 * and after a write. And `GET /access/drift`, answered from the kept drift counts, lists what
 * the drift walk over every permission and holder lists.
 */
import { afterAll, afterEach, beforeAll, describe, expect, it } from 'vitest';
import { buildApp, type App } from '../../src/api/app.ts';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';
import { AccessEngine } from '../../src/engine/engine.ts';
import { drift, type ApplicationDrift } from '../../src/engine/explain.ts';
import { passStats, passTuning } from '../../src/engine/kept.ts';
import { NONE } from '../../src/engine/nodes.ts';
import { createServices } from '../../src/services/index.ts';
import { createTestApp, TEST_SECRET_KEY, type TestApp } from '../support/harness.ts';

let t: TestApp;
let second: { app: App; access: AccessEngine } | null = null;
const ids: Record<string, string> = {};
const PEOPLE = ['ann', 'bo', 'cy', 'di', 'ed', 'fay', 'gus', 'hal'] as const;

/** Holds every pass after each slice until `release()`; `waiting` counts slices held. */
const gate = {
  waiting: 0,
  open: null as (() => void) | null,
  promise: Promise.resolve(),
  close() {
    this.waiting = 0;
    this.promise = new Promise<void>((resolve) => (this.open = resolve));
    passTuning.sliceMs = 0;
    passTuning.afterSlice = () => {
      this.waiting += 1;
      return this.promise;
    };
  },
  release() {
    passTuning.afterSlice = null;
    passTuning.sliceMs = 4;
    this.open?.();
  },
  /** Until a pass is held (it started and made its first slice). */
  async held(): Promise<void> {
    for (let k = 0; this.waiting === 0; k += 1) {
      expect(k).toBeLessThan(10_000);
      await new Promise((resolve) => setImmediate(resolve));
    }
  },
};

const call = (app: App, method: 'GET' | 'POST' | 'PATCH' | 'PUT', url: string, payload?: unknown, headers: Record<string, string> = {}) =>
  app.inject({ method, url: `/api/v1${url}`, headers: { ...t.auth, ...headers }, ...(payload === undefined ? {} : { payload: payload as object }) });

async function write(method: 'POST' | 'PATCH', url: string, payload: unknown): Promise<{ id: string; revision: number }> {
  const res = await call(t.app, method, url, payload, method === 'PATCH' ? { 'if-match': '*' } : {});
  expect(res.statusCode, res.body).toBeLessThan(300);
  return { id: (res.json() as { id?: string }).id ?? '', revision: Number(res.headers['grantory-revision']) };
}
const assign = (identity: string, resource: { type: 'permission' | 'role'; id: string }) => write('POST', '/assignments', { assignee: { type: 'identity', id: identity }, resource, reason: 'test' });

type Summary = { total: number; byPolicy: { policy: { id: string }; total: number }[]; revision: number };

/** Every violation (pages of 3) at `revision`. */
async function violations(app: App, revision: number): Promise<{ policy: { id: string }; identity: { id: string } }[]> {
  const out = [];
  let cursor: string | null = null;
  do {
    const res = await call(app, 'GET', `/sod-violations?limit=3&minRevision=${revision}${cursor ? `&cursor=${encodeURIComponent(cursor)}` : ''}`);
    expect(res.statusCode, res.body).toBe(200);
    expect(res.json().revision).toBeGreaterThanOrEqual(revision);
    out.push(...res.json().items);
    cursor = res.json().nextCursor;
  } while (cursor);
  return out;
}

/** The summary (already read) equals the full list at the summary's revision. */
async function expectMatchesList(app: App, summary: Summary): Promise<void> {
  const list = await violations(app, summary.revision);
  expect(summary.total).toBe(list.length);
  for (const p of summary.byPolicy) expect(p.total).toBe(list.filter((v) => v.policy.id === p.policy.id).length);
}

/** The drift counts equal the full drift list at their revision. */
async function expectDriftMatchesList(app: App, counted: { items: { applicationId: string; assignedNotProvisioned: number; provisionedNotAssigned: number }[]; revision: number }): Promise<void> {
  const full = await call(app, 'GET', `/access/drift?limit=10000&minRevision=${counted.revision}`);
  expect(full.statusCode, full.body).toBe(200);
  expect(full.json().revision).toBeGreaterThanOrEqual(counted.revision);
  const items = full.json().items as { applicationId: string; assignedNotProvisioned: unknown[]; provisionedNotAssigned: unknown[] }[];
  expect(counted.items.map((c) => [c.applicationId, c.assignedNotProvisioned, c.provisionedNotAssigned])).toEqual(
    items.map((i) => [i.applicationId, i.assignedNotProvisioned.length, i.provisionedNotAssigned.length]),
  );
}

/** A request that must not settle while the gate holds the pass; resolves to its JSON. */
function pending<T>(res: Promise<{ statusCode: number; body: string; json: () => unknown }>) {
  const state = { settled: false };
  const done = res.then((r) => {
    state.settled = true;
    expect(r.statusCode, r.body).toBe(200);
    return r.json() as T;
  });
  return { state, done };
}

beforeAll(async () => {
  t = await createTestApp();
  ids.erp = (await write('POST', '/applications', { name: 'ERP', kind: 'managed' })).id;
  ids.ledger = (await write('POST', '/applications', { name: 'Ledger', kind: 'connected' })).id;
  for (const name of ['vendor', 'pay', 'audit']) ids[name] = (await write('POST', `/applications/${ids.erp}/permissions`, { name })).id;
  ids.export = (await write('POST', `/applications/${ids.ledger}/permissions`, { name: 'export' })).id;
  for (const name of PEOPLE) ids[name] = (await write('POST', '/identities', { subject: `kept:${name}`, username: name })).id;
  ids.vendorPay = (await write('POST', '/sod-policies', { name: 'Vendor vs pay', conflicting: [[{ type: 'permission', id: ids.vendor }], [{ type: 'permission', id: ids.pay }]], mode: 'require_exception' })).id;
  ids.payAudit = (await write('POST', '/sod-policies', { name: 'Pay vs audit', conflicting: [[{ type: 'permission', id: ids.pay }], [{ type: 'permission', id: ids.audit }]], mode: 'require_exception' })).id;
  ids.payer = (await write('POST', '/roles', { name: 'Payer', permissionIds: [ids.pay] })).id;
  // Violations (allowed by exceptions) and drift, for most people.
  const inAWeek = new Date(Date.now() + 7 * 86_400_000).toISOString();
  for (const name of PEOPLE) {
    await write('POST', '/sod-exceptions', { policyId: ids.vendorPay, identityId: ids[name], reason: 'test', expiresAt: inAWeek });
    await write('POST', '/sod-exceptions', { policyId: ids.payAudit, identityId: ids[name], reason: 'test', expiresAt: inAWeek });
  }
  for (const name of PEOPLE.slice(0, 6)) {
    await assign(ids[name]!, { type: 'permission', id: ids.vendor! });
    await assign(ids[name]!, { type: 'role', id: ids.payer! });
    await assign(ids[name]!, { type: 'permission', id: ids.export! });
  }
});
afterEach(() => gate.release());
afterAll(async () => {
  gate.release();
  if (second) {
    second.access.stop();
    await second.app.close();
  }
  await t?.close();
});

describe('the kept answers after a server start', () => {
  it('start in the background; a check is answered while the pass runs; the summaries then equal the lists', async () => {
    gate.close();
    // A second server on the same database: its index is built, and the passes start at once.
    const access = new AccessEngine(t.store, { pollIntervalMs: 0 });
    await access.start();
    const services = createServices({ store: t.store, now: () => new Date(), secrets: createServerSecrets(TEST_SECRET_KEY), access });
    second = { app: await buildApp({ services, store: t.store, logLevel: 'silent' }), access };
    await gate.held(); // started without any read

    const sod = pending<Summary>(call(second.app, 'GET', '/sod-violations/summary'));
    const drift = pending<{ items: { applicationId: string; assignedNotProvisioned: number; provisionedNotAssigned: number }[]; revision: number }>(call(second.app, 'GET', '/access/drift/summary'));
    const check = await call(second.app, 'POST', '/check', { identity: ids.ann, application: ids.erp, permission: ids.pay });
    expect(check.statusCode, check.body).toBe(200);
    expect(check.json().allowed).toBe(true);
    // The check was answered while both passes were held half done.
    expect(sod.state.settled).toBe(false);
    expect(drift.state.settled).toBe(false);

    gate.release();
    const summary = await sod.done;
    expect(summary.total).toBe(6); // six people hold vendor and pay (no one audit yet)
    await expectMatchesList(second.app, summary);
    await expectDriftMatchesList(second.app, await drift.done);
  });
});

describe('the kept answers on a running server', () => {
  it('a role change during a pass starts it over; the summary equals the list at the revision it reports', async () => {
    // A change that reaches everyone (a role): the background pass starts and is held.
    gate.close();
    const restarts = passStats.restarts;
    await write('PATCH', `/roles/${ids.payer}`, { permissionIds: [ids.pay, ids.audit] });
    const sod = pending<Summary>(call(t.app, 'GET', '/sod-violations/summary'));
    await gate.held();
    // Another role change while the pass is held: gus and hal join through a new role.
    const auditor = await write('POST', '/roles', { name: 'Vendor auditor', permissionIds: [ids.vendor, ids.audit] });
    await assign(ids.gus!, { type: 'role', id: auditor.id });
    const last = await assign(ids.hal!, { type: 'role', id: auditor.id });
    const check = await call(t.app, 'POST', `/check?minRevision=${last.revision}`, { identity: ids.hal, application: ids.erp, permission: ids.audit });
    expect(check.json().allowed).toBe(true);
    expect(sod.state.settled).toBe(false);

    gate.release();
    const summary = await sod.done;
    expect(passStats.restarts).toBeGreaterThan(restarts);
    expect(summary.revision).toBeGreaterThanOrEqual(last.revision);
    // Six people break both policies (the role now gives pay and audit), gus and hal neither (no pay).
    expect(summary.total).toBe(12);
    await expectMatchesList(t.app, summary);

    // After a write: hal gets pay too, and breaks both.
    const paid = await assign(ids.hal!, { type: 'permission', id: ids.pay! });
    const after = (await call(t.app, 'GET', `/sod-violations/summary?minRevision=${paid.revision}`)).json() as Summary;
    expect(after.total).toBe(14);
    await expectMatchesList(t.app, after);
  });
});

describe('GET /access/drift from the kept counts', () => {
  /** Entries in a comparable order (the walk lists assigned holders in candidate order). */
  const sorted = (items: ApplicationDrift[]) =>
    items.map((a) => ({ ...a, assignedNotProvisioned: [...a.assignedNotProvisioned].sort((x, y) => `${x.permissionId}${x.identityId}`.localeCompare(`${y.permissionId}${y.identityId}`)) }));

  /** The route's answer and the walk's on the index at the same revision. */
  async function both(query: string, app: string | null, limit: number) {
    const res = await call(t.app, 'GET', `/access/drift?${query}`);
    expect(res.statusCode, res.body).toBe(200);
    const walked = await t.access.settled(t.tenantId, (index, revision) => ({ revision, items: drift(index, t.access.now(), app === null ? NONE : index.apps.find(app), limit) }));
    expect(walked.revision).toBe(res.json().revision);
    return { route: res.json().items as ApplicationDrift[], walked: walked.items };
  }

  it('lists what the walk lists, for every application and one, and truncates alike', async () => {
    // Accounts: ann's in sync, bo's holds more than assigned, an orphan; the others have none.
    await write('POST', '/applications/' + ids.ledger + '/permissions', { name: 'post' });
    const post = (await call(t.app, 'GET', `/applications/${ids.ledger}/permissions?limit=10`)).json().items.find((p: { name: string }) => p.name === 'post').id as string;
    await call(t.app, 'PUT', `/applications/${ids.ledger}/accounts/ann.l`, { identityId: ids.ann, grants: [{ permission: ids.export }] });
    await call(t.app, 'PUT', `/applications/${ids.ledger}/accounts/bo.l`, { identityId: ids.bo, grants: [{ permission: ids.export }, { permission: post }] });
    await call(t.app, 'PUT', `/applications/${ids.ledger}/accounts/svc`, { grants: [{ permission: post }] });
    const last = await assign(ids.gus!, { type: 'permission', id: post });

    const all = await both(`limit=10000&minRevision=${last.revision}`, null, 10_000);
    expect(sorted(all.route)).toEqual(sorted(all.walked));
    const ledger = all.route.find((a) => a.applicationId === ids.ledger)!;
    // cy..fay assigned export without an account, gus assigned post; bo's post and the orphan's post held unassigned.
    expect(ledger.assignedNotProvisioned).toHaveLength(5);
    expect(ledger.provisionedNotAssigned.map((e) => e.accountName).sort()).toEqual(['bo.l', 'svc']);

    const one = await both(`applicationId=${ids.ledger}&limit=10000`, ids.ledger!, 10_000);
    expect(sorted(one.route)).toEqual(sorted(one.walked));
    expect(one.route).toHaveLength(1);
    // Truncated at 3 entries: the same count and flag (which three depends on the order).
    const cut = await both(`applicationId=${ids.ledger}&limit=3`, ids.ledger!, 3);
    expect(cut.route.map((a) => [a.assignedNotProvisioned.length + a.provisionedNotAssigned.length, a.truncated])).toEqual([[3, true]]);
    expect(cut.walked.map((a) => [a.assignedNotProvisioned.length + a.provisionedNotAssigned.length, a.truncated])).toEqual([[3, true]]);
    expect((await call(t.app, 'GET', '/access/drift?applicationId=nope')).statusCode).toBe(404);
  });
});
