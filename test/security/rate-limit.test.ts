/**
 * Rate limits (in memory, per node): per credential, per client id on the token endpoint,
 * and per address for failed authentications. A 429 carries Retry-After and the
 * x-ratelimit-* headers, and clears when the window ends (a 2 s window here).
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { FixedWindowLimiter } from '../../src/api/rate-limit.ts';
import { createTestApp, type TestApp } from '../support/harness.ts';
import { apiKeyFor, basic, clientFor, createIdentityWithRights } from '../support/security-fixtures.ts';

let t: TestApp;
beforeAll(async () => {
  t = await createTestApp({ rateLimits: { windowSeconds: 2, perCredential: 3, tokenPerClient: 2, authFailuresPerIp: 3 } });
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

describe('FixedWindowLimiter', () => {
  it('counts per key, resets per window and stays bounded in memory', () => {
    let clock = 0;
    const limiter = new FixedWindowLimiter({ limit: 2, windowMs: 1000 }, 3, () => clock);
    expect([limiter.hit('a').allowed, limiter.hit('a').allowed, limiter.hit('a').allowed]).toEqual([true, true, false]);
    expect(limiter.hit('a').resetMs).toBe(1000);
    clock = 1000;
    expect(limiter.hit('a')).toMatchObject({ allowed: true, remaining: 1 });
    for (const k of ['b', 'c', 'd', 'e']) limiter.hit(k);
    expect(limiter.peek('a')).toMatchObject({ allowed: true, remaining: 2 });
  });

  it('is off with a limit of 0', () => {
    const limiter = new FixedWindowLimiter({ limit: 0, windowMs: 1000 });
    for (let i = 0; i < 100; i += 1) expect(limiter.hit('x').allowed).toBe(true);
  });
});
