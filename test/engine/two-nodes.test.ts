/**
 * Two real server processes on one PostgreSQL database: a write through one node is
 * visible through the other — at once when the read names the write's revision
 * (`minRevision`), and by itself once the other node's index follows the change feed.
 * PostgreSQL runs only (SQLite is one process's embedded file).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { type Store } from '../../src/store/store.ts';
import { openStore } from '../../src/store/open.ts';
import { AccessFixtures } from '../support/access-fixtures.ts';
import { createThrowawayDatabase, openTestStore, TEST_BACKEND, TEST_SECRET_KEY, type ThrowawayDatabase } from '../support/harness.ts';
import { AccessEngine } from '../../src/engine/engine.ts';
import { askContext, checkSlots } from '../../src/engine/queries.ts';

const KEY = 'two-nodes-admin-key-0123456789abcdefghijkl';

function startNode(url: string): Promise<{ proc: ChildProcess; base: string }> {
  return new Promise((resolve, reject) => {
    const proc = spawn(process.execPath, ['bin/grantory.js', 'serve'], {
      env: { ...process.env, DATABASE_URL: url, GRANTORY_SECRET_KEY: TEST_SECRET_KEY, GRANTORY_PORT: '0', GRANTORY_HOST: '127.0.0.1', GRANTORY_BOOTSTRAP_ADMIN_KEY: KEY, GRANTORY_LOG_LEVEL: 'silent' },
      stdio: ['ignore', 'pipe', 'pipe'],
    });
    let out = '';
    let err = '';
    const timer = setTimeout(() => reject(new Error(`node did not start: ${out} ${err}`)), 30_000);
    proc.stdout!.on('data', (chunk: Buffer) => {
      out += chunk.toString();
      const m = /listening on (http:\/\/\S+)/.exec(out);
      if (m) {
        clearTimeout(timer);
        resolve({ proc, base: m[1]!.replace('localhost', '127.0.0.1') });
      }
    });
    proc.stderr!.on('data', (chunk: Buffer) => void (err += chunk.toString()));
    proc.on('exit', (code) => reject(new Error(`node exited with ${code}: ${err}`)));
  });
}

async function ready(base: string): Promise<void> {
  for (let i = 0; i < 100; i += 1) {
    const res = await fetch(`${base}/readyz`).catch(() => null);
    if (res?.status === 200) return;
    await new Promise((r) => setTimeout(r, 100));
  }
  throw new Error(`${base} never became ready`);
}

describe('two access engines on one store', () => {
  it('one follows writes it did not make, waits for minRevision, and times out beyond the head', async () => {
    const ts = await openTestStore();
    try {
      await ts.store.migrate();
      const tenantId = await ts.store.createTenant('two-engines', new Date().toISOString());
      const first = new AccessEngine(ts.store, { pollIntervalMs: 0 });
      const second = new AccessEngine(ts.store, { pollIntervalMs: 0 });
      await first.start();
      await second.start();
      const fx = new AccessFixtures(ts.store, tenantId);
      const appId = await fx.application({ name: 'app' });
      const permId = await fx.permission({ applicationId: appId, name: 'Read' });
      const identityId = await fx.identity({ subject: 'c1s:1' });
      const assignmentId = await fx.assignment({ assigneeId: identityId, resourceId: permId });
      const { revision } = await fx.batch(async (tx) => fx.setAssignmentState(assignmentId, 'paused', tx));
      await fx.setAssignmentState(assignmentId, 'active');
      for (const engine of [second, first]) {
        const { index, revision: applied } = await engine.at(tenantId, revision);
        expect(applied).toBeGreaterThanOrEqual(revision);
        expect(index.assignments.get(index.assignments.find(assignmentId)).exists).toBe(true);
      }
      const head = await second.syncNow(tenantId);
      const { index } = await second.at(tenantId);
      expect(checkSlots(index, index.identities.find(identityId), index.perms.find(permId), askContext(index, undefined), Date.now(), 'assigned')).toBe(true);
      // Beyond what the tenant has committed: refused at once, not waited for.
      await expect(second.waitForRevision(tenantId, head + 1, 100)).rejects.toMatchObject({ code: 'unprocessable', details: { headRevision: head } });
      // A committed revision this node is slow to apply: 503 (retry), not 422.
      await fx.setAssignmentState(assignmentId, 'paused');
      const slow = second as unknown as { runSync: (t: unknown) => Promise<void> };
      const runSync = slow.runSync.bind(second);
      slow.runSync = async (t) => {
        await new Promise((r) => setTimeout(r, 300));
        return runSync(t);
      };
      await expect(second.waitForRevision(tenantId, head + 1, 50)).rejects.toMatchObject({ code: 'not_ready', details: { retryAfter: 1 } });
      first.stop();
      second.stop();
    } finally {
      await ts.dispose();
    }
  });
});

const pgOnly = TEST_BACKEND === 'postgres' ? describe : () => undefined;

pgOnly('two nodes on one PostgreSQL', () => {
  let db: ThrowawayDatabase;
  let a: { proc: ChildProcess; base: string };
  let b: { proc: ChildProcess; base: string };
  let store: Store;

  beforeAll(async () => {
    // A database of its own: a server process knows no schema option.
    db = await createThrowawayDatabase();
    a = await startNode(db.url);
    b = await startNode(db.url);
    await Promise.all([ready(a.base), ready(b.base)]);
    store = await openStore({ databaseUrl: db.url, dataDir: '' });
  }, 60_000);

  afterAll(async () => {
    for (const n of [a, b]) n?.proc.kill('SIGTERM');
    await store?.close();
    await db?.drop();
  });

  it('a write through one node is visible through the other', { timeout: 60_000 }, async () => {
    const tenant = await store.findTenantByName('default');
    const fx = new AccessFixtures(store, tenant!.id);
    const appId = await fx.application({ name: 'shared app' });
    const permId = await fx.permission({ applicationId: appId, name: 'Read' });
    const identityId = await fx.identity({ subject: 'c1s:two-nodes' });
    const headers = { authorization: `Bearer ${KEY}`, 'content-type': 'application/json' };
    const checkOn = async (base: string, minRevision?: number) => {
      const res = await fetch(`${base}/api/v1/check${minRevision ? `?minRevision=${minRevision}` : ''}`, {
        method: 'POST',
        headers,
        body: JSON.stringify({ identity: identityId, permission: permId }),
      });
      expect(res.status).toBe(200);
      return (await res.json()) as { allowed: boolean; revision: number };
    };

    const created = await fetch(`${a.base}/api/v1/assignments`, {
      method: 'POST',
      headers,
      body: JSON.stringify({ assignee: { type: 'identity', id: identityId }, resource: { type: 'permission', id: permId } }),
    });
    expect(created.status).toBe(201);
    const { id, revision } = (await created.json()) as { id: string; revision: number };
    const onB = await checkOn(b.base, revision);
    expect(onB).toMatchObject({ allowed: true });
    expect(onB.revision).toBeGreaterThanOrEqual(revision);

    const paused = await fetch(`${b.base}/api/v1/assignments/${id}/pause`, { method: 'POST', headers, body: '{}' });
    expect(paused.status).toBe(200);
    const pauseRevision = ((await paused.json()) as { revision: number }).revision;
    expect(await checkOn(a.base, pauseRevision)).toMatchObject({ allowed: false });

    // Without minRevision the other node catches up by following the change feed.
    await fetch(`${a.base}/api/v1/assignments/${id}/resume`, { method: 'POST', headers, body: '{}' });
    let seen = false;
    for (let i = 0; i < 100 && !seen; i += 1) {
      seen = (await checkOn(b.base)).allowed;
      if (!seen) await new Promise((r) => setTimeout(r, 50));
    }
    expect(seen).toBe(true);
  });
});
