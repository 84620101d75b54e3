/**
 * Rate limits (@fastify/rate-limit): per credential (decision routes apart from, and higher
 * than, management routes), per client id on the token endpoint, and per address for failed
 * authentications. A 429 carries Retry-After and the x-ratelimit-* headers, is counted in the
 * metrics and audited (once a window), and clears when the window ends (a 2 s window here).
 * With a shared counter the limits hold across nodes (two apps over one database here, on
 * SQLite and PostgreSQL as GRANTORY_TEST_DATABASE picks).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { buildApp } from '../../src/api/app.ts';
import { createMetrics } from '../../src/api/metrics.ts';
import { createRateTotals, createSharedRateCounter, storeRateTransport, type SharedRateCounter } from '../../src/services/kernel/index.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { apiKeyFor, basic, clientFor, createIdentityWithRights } from '../support/security-fixtures.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ rateLimits: { windowSeconds: 2, perCredential: 3, decisionPerCredential: 6, tokenPerClient: 2, authFailuresPerIp: 3 } });
});
afterAll(async () => t.close());

/** Waits until the window a 429 named has ended (at most the 2 s window). */
async function nextWindow(resetSeconds: number): Promise<void> {
  await new Promise((r) => setTimeout(r, Math.min(resetSeconds, 2) * 1000 + 50));
}

describe('rate limits', () => {
  it('limits each credential, not each address, with 429 + headers, and clears after the window', async () => {
    const a = await apiKeyFor(t.services, t.tenantId, await createIdentityWithRights(t.store, t.tenantId, 'rl:a', []));
    const b = await apiKeyFor(t.services, t.tenantId, await createIdentityWithRights(t.store, t.tenantId, 'rl:b', []));
    const get = (key: string) => t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${key}` } });
    const statuses: number[] = [];
    let last = await get(a.secret);
    statuses.push(last.statusCode);
    expect(last.headers['x-ratelimit-limit']).toBe('3');
    expect(last.headers['x-ratelimit-remaining']).toBe('2');
    for (let i = 0; i < 3; i += 1) {
      last = await get(a.secret);
      statuses.push(last.statusCode);
    }
    // Within one window: three pass, the fourth is refused (a window may end mid-loop on a slow machine).
    if (!statuses.includes(429)) return expect.fail(`no 429 in ${statuses.join(',')}`);
    expect(last.statusCode).toBe(429);
    expect(last.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect(last.headers['x-ratelimit-reset']).toMatch(/^[1-9]\d*$/);
    expect(last.headers['x-ratelimit-remaining']).toBe('0');
    expect(last.json()).toMatchObject({ code: 'rate_limited', status: 429 });
    // Another credential from the same address is not affected.
    expect((await get(b.secret)).statusCode).toBe(200);
    await nextWindow(Number(last.headers['retry-after']));
    expect((await get(a.secret)).statusCode).toBe(200);
  });

  it('limits token requests per client id', async () => {
    const c = await clientFor(t.services, t.tenantId, { identityId: await createIdentityWithRights(t.store, t.tenantId, 'rl:client', []) });
    const token = () =>
      t.app.inject({
        method: 'POST',
        url: '/oauth2/token',
        headers: { authorization: basic(c.clientId, c.clientSecret), 'content-type': 'application/x-www-form-urlencoded' },
        payload: 'grant_type=client_credentials',
      });
    const results = [await token(), await token(), await token()];
    const refused = results.find((r) => r.statusCode === 429);
    if (!refused) return expect.fail(`no 429 in ${results.map((r) => r.statusCode).join(',')}`);
    expect(refused.headers['x-ratelimit-reset']).toMatch(/^[1-9]\d*$/);
    expect(refused.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    // An OAuth client reads the OAuth error format (RFC 6749 §5.2), also when limited.
    expect(refused.headers['content-type']).toMatch(/^application\/json/);
    expect(refused.json()).toEqual({ error: 'temporarily_unavailable', error_description: expect.stringMatching(/too many token requests for this client; retry after \d+ s/) });
    await nextWindow(Number(refused.headers['retry-after']));
    expect((await token()).statusCode).toBe(200);
  });

  it('refuses an address after too many failed authentications, even with a valid key, until the window ends', async () => {
    const good = await apiKeyFor(t.services, t.tenantId, await createIdentityWithRights(t.store, t.tenantId, 'rl:good', []));
    const from = (ip: string, key: string) => t.app.inject({ method: 'GET', url: '/api/v1/me', remoteAddress: ip, headers: { authorization: `Bearer ${key}` } });
    const bad = 'not-a-key-but-long-enough-to-be-looked-up-0123456789';
    const statuses = [];
    for (let i = 0; i < 4; i += 1) statuses.push((await from('203.0.113.7', bad)).statusCode);
    expect(statuses.slice(0, 3)).toEqual([401, 401, 401]);
    const blocked = await from('203.0.113.7', good.secret);
    if (blocked.statusCode !== 429) return expect.fail(`expected 429, got ${blocked.statusCode} (statuses ${statuses.join(',')})`);
    expect(blocked.headers['retry-after']).toMatch(/^[1-9]\d*$/);
    expect((await from('203.0.113.8', good.secret)).statusCode).toBe(200);
    await nextWindow(Number(blocked.headers['retry-after']));
    expect((await from('203.0.113.7', good.secret)).statusCode).toBe(200);
  });
});

describe('decision routes have their own, higher limit', () => {
  it('admits checks beyond the management limit, counts them apart, and refuses past the decision limit', async () => {
    const key = await apiKeyFor(t.services, t.tenantId, await createIdentityWithRights(t.store, t.tenantId, 'rl:app', []));
    const auth = { authorization: `Bearer ${key.secret}` };
    const check = () => t.app.inject({ method: 'POST', url: '/api/v1/check', headers: auth, payload: { identity: 'nobody', application: 'none', permission: 'none' } });
    const me = () => t.app.inject({ method: 'GET', url: '/api/v1/me', headers: auth });
    // Start at the beginning of a window so that the 2 s window does not end mid-test.
    const first = await check();
    await nextWindow(Number(first.headers['x-ratelimit-reset']));
    const checks = [];
    for (let i = 0; i < 7; i += 1) checks.push(await check());
    const statuses = checks.map((r) => r.statusCode);
    expect(checks[0]!.headers['x-ratelimit-limit']).toBe('6');
    // Six pass (a 404: the application does not exist), the seventh is refused.
    expect(statuses.slice(0, 6).every((s) => s !== 429)).toBe(true);
    expect(statuses[6]).toBe(429);
    expect(checks[6]!.json()).toMatchObject({ code: 'rate_limited', detail: expect.stringContaining('too many decision requests') });
    // The management budget is untouched by the checks.
    const managed = await me();
    expect(managed.statusCode).toBe(200);
    expect(managed.headers['x-ratelimit-limit']).toBe('3');
    expect(managed.headers['x-ratelimit-remaining']).toBe('2');
  });

  it('audits the first refusal of a window, not every one, and counts every one', async () => {
    const identityId = await createIdentityWithRights(t.store, t.tenantId, 'rl:audited', []);
    const key = await apiKeyFor(t.services, t.tenantId, identityId);
    const me = () => t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${key.secret}` } });
    const first = await me();
    await nextWindow(Number(first.headers['x-ratelimit-reset']));
    const statuses = [];
    for (let i = 0; i < 6; i += 1) statuses.push((await me()).statusCode);
    expect(statuses).toEqual([200, 200, 200, 429, 429, 429]);
    const events = async () => {
      const res = await t.app.inject({ method: 'GET', url: '/api/v1/audit-events?action=rate_limit.exceeded&limit=100', headers: t.auth });
      expect(res.statusCode).toBe(200);
      return (res.json().items as { actor: { id: string | null }; after: Record<string, unknown> }[]).filter((e) => e.actor.id === key.id);
    };
    await expect.poll(async () => (await events()).length, { timeout: 5000 }).toBe(1);
    expect((await events())[0]!.after).toMatchObject({ method: 'GET', route: '/api/v1/me', limit: 'management', max: 3, windowSeconds: 2 });
    const metrics = await t.app.inject({ method: 'GET', url: '/metrics' });
    expect(metrics.body).toMatch(/grantory_rate_limited_total\{limit="management"\} [1-9]\d*/);
  });
});

describe('limits shared across nodes', () => {
  let a: TestApp;
  let counterB: SharedRateCounter;
  let nodeB: Awaited<ReturnType<typeof buildApp>>;
  // An hour's window (aligned to the epoch): no window ends while the test runs, but in its last seconds.
  const limits = { windowSeconds: 3600, perCredential: 4, decisionPerCredential: 100, tokenPerClient: 60, authFailuresPerIp: 30 };
  beforeAll(async () => {
    a = await createTestApp({ rateLimits: limits, rateCounter: (store) => createSharedRateCounter(storeRateTransport(store), { syncMs: 10 }) });
    counterB = createSharedRateCounter(storeRateTransport(a.store), { syncMs: 10 });
    nodeB = await buildApp({ services: a.services, store: a.store, logLevel: 'silent', rateLimits: limits, rateCounter: counterB, metrics: createMetrics() });
  });
  afterAll(async () => {
    await nodeB?.close();
    await counterB?.stop();
    await a?.close();
  });

  it('refuses on node B what node A already admitted, within the sync interval', async () => {
    const key = await apiKeyFor(a.services, a.tenantId, await createIdentityWithRights(a.store, a.tenantId, 'rl:shared', []));
    const headers = { authorization: `Bearer ${key.secret}` };
    const onA = [];
    for (let i = 0; i < 3; i += 1) onA.push((await a.app.inject({ method: 'GET', url: '/api/v1/me', headers })).statusCode);
    expect(onA).toEqual([200, 200, 200]);
    await new Promise((r) => setTimeout(r, 200));
    // B had not seen the credential: it admits the fourth request and learns A's three in its next sync.
    expect((await nodeB.inject({ method: 'GET', url: '/api/v1/me', headers })).statusCode).toBe(200);
    await new Promise((r) => setTimeout(r, 200));
    // B now knows the credential used its four requests.
    expect((await nodeB.inject({ method: 'GET', url: '/api/v1/me', headers })).statusCode).toBe(429);
    // A learns B's requests with its own next sync: at most one more of its requests passes meanwhile.
    const onAAfter = [];
    for (let i = 0; i < 2; i += 1) {
      onAAfter.push((await a.app.inject({ method: 'GET', url: '/api/v1/me', headers })).statusCode);
      await new Promise((r) => setTimeout(r, 200));
    }
    expect(onAAfter[1]).toBe(429);
  });
});

describe('SharedRateCounter', () => {
  it('counts locally at once, adds to the shared total on sync, and reads the others back', async () => {
    let clock = 10_000;
    const totals = createRateTotals(() => clock);
    const transport = { add: async (rows: Parameters<typeof totals.add>[0]) => totals.add(rows) };
    const x = createSharedRateCounter(transport, { syncMs: 1_000_000, clock: () => clock });
    const y = createSharedRateCounter(transport, { syncMs: 1_000_000, clock: () => clock });
    expect(x.count('k', 1000, 1)).toEqual({ current: 1, ttl: 1000 });
    expect(x.count('k', 1000, 1).current).toBe(2);
    expect(y.count('k', 1000, 1).current).toBe(1);
    await x.sync();
    await y.sync();
    // y learnt x's two; x learns y's one on its next sync (a read is enough).
    expect(y.count('k', 1000, 0).current).toBe(3);
    expect(x.count('k', 1000, 0).current).toBe(2);
    await x.sync();
    expect(x.count('k', 1000, 0).current).toBe(3);
    // A new window starts from zero everywhere.
    clock = 11_000;
    expect(x.count('k', 1000, 1)).toEqual({ current: 1, ttl: 1000 });
    await x.sync();
    // y's entry of the window before is moot; y learns the new window's total by its next sync.
    expect(y.count('k', 1000, 0).current).toBe(0);
    await y.sync();
    expect(y.count('k', 1000, 0).current).toBe(1);
    await x.stop();
    await y.stop();
  });

  it('keeps the counts a failed sync could not deliver and sends them with the next', async () => {
    const totals = createRateTotals();
    let failing = true;
    const errors: unknown[] = [];
    const transport = {
      add: async (rows: Parameters<typeof totals.add>[0]) => {
        if (failing) throw new Error('database down');
        return totals.add(rows);
      },
    };
    const windowMs = 3_600_000;
    const x = createSharedRateCounter(transport, { syncMs: 1_000_000, onError: (e) => errors.push(e) });
    x.count('k', windowMs, 1);
    x.count('k', windowMs, 1);
    await x.sync();
    expect(errors).toHaveLength(1);
    failing = false;
    await x.sync();
    const y = createSharedRateCounter(transport, { syncMs: 1_000_000 });
    y.count('k', windowMs, 0);
    await y.sync();
    expect(y.count('k', windowMs, 0).current).toBe(2);
    await x.stop();
    await y.stop();
  });
});

describe('the shared counters in the database', () => {
  it('adds within a window, restarts at a later one, ignores an earlier one, and drops ended windows', async () => {
    const add = async (windowStart: number, count: number) => (await t.store.addRateLimitCounts([{ key: 'contract', windowStart, windowMs: 2000, count }]))[0];
    expect(await add(2000, 3)).toEqual({ key: 'contract', windowStart: 2000, windowMs: 2000, count: 3 });
    expect((await add(2000, 2))!.count).toBe(5);
    expect(await add(4000, 1)).toMatchObject({ windowStart: 4000, count: 1 });
    // A count of an earlier window (a process whose window has not moved yet) changes nothing.
    expect(await add(2000, 5)).toMatchObject({ windowStart: 4000, count: 1 });
    await t.store.deleteEndedRateLimitCounts(6001);
    expect(await add(4000, 1)).toMatchObject({ windowStart: 4000, count: 1 });
  });
});
