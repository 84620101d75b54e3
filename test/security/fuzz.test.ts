/**
 * An OpenAPI-driven fuzz of every operation, bounded in time: the app's own document says
 * what each operation takes and answers; fast-check draws requests from it — valid ones
 * and ones broken in one place (path, query, headers, body, raw bytes) — sent as an
 * administrator, as a low-privileged key, without credentials and with garbage ones.
 * Every answer must be declared (status, content type, body schema), no answer may be a
 * 5xx, and no object of another tenant may be read.
 *
 * Bounded and reproducible: `GRANTORY_FUZZ_SECONDS` (default 60) and `GRANTORY_FUZZ_SEED`
 * (default below; printed). A long local run:
 *
 *   GRANTORY_FUZZ_SECONDS=1800 GRANTORY_FUZZ_SEED=7 npx vitest run test/security/fuzz.test.ts
 */
import fc from 'fast-check';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { RIGHTS, type Right } from '../../src/domain/rights.ts';
import { seedDemoTenant } from '../../src/demo/seed.ts';
import { systemActor } from '../../src/services/kernel/actor.ts';
import { createTestApp, TEST_BACKEND, type TestApp } from '../support/harness.ts';
import { apiKeyFor, appKeyFor, basic, clientFor, createApplication, createIdentityWithRights, createOtherTenant } from '../support/security-fixtures.ts';
import { headersOf, operationsOf, Pools, requestsOf, ResponseChecker, urlOf, type FuzzRequest, type Operation, type Who } from '../support/openapi-fuzz.ts';

const SECONDS = Number(process.env.GRANTORY_FUZZ_SECONDS ?? 60);
const SEED = Number(process.env.GRANTORY_FUZZ_SEED ?? 20261202);
/** Requests per operation in each round, the first a valid one as the administrator (rounds go on until the time is up). */
const PER_ROUND = 4;
const LOW_RIGHTS: Right[] = ['manage-users', 'manage-clients'];

/** A JSON body, or undefined (NDJSON, CSV, empty). */
function jsonOf(body: string): unknown {
  try {
    return JSON.parse(body) as unknown;
  } catch {
    return undefined;
  }
}

interface Finding {
  kind: '5xx' | 'mismatch' | 'cross-tenant';
  operation: string;
  who: Who;
  mode: string;
  request: string;
  status: number;
  detail: string;
}

describe(`OpenAPI fuzz of every operation (${TEST_BACKEND}, ${SECONDS} s, seed ${SEED})`, () => {
  let t: TestApp;
  let ops: Operation[];
  const pools = new Pools();
  const keys: Record<'admin' | 'low', string> = { admin: '', low: '' };
  let foreignIds: string[] = [];
  let minted = 0;

  async function mint(who: 'admin' | 'low'): Promise<void> {
    minted += 1;
    const rights = who === 'admin' ? RIGHTS : LOW_RIGHTS;
    const identityId = await createIdentityWithRights(t.store, t.tenantId, `fuzz-${who}-${minted}`, rights);
    keys[who] = (await apiKeyFor(t.services, t.tenantId, identityId)).secret;
  }

  /** The fuzz may revoke, pause or terminate its own callers: give them new keys then. */
  async function keepCallers(): Promise<void> {
    for (const who of ['admin', 'low'] as const) {
      const me = await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: { authorization: `Bearer ${keys[who]}` } });
      const rights = me.statusCode === 200 ? (me.json() as { rights?: string[] }).rights ?? [] : [];
      const expected = who === 'admin' ? RIGHTS : LOW_RIGHTS;
      if (me.statusCode !== 200 || expected.some((r) => !rights.includes(r))) await mint(who);
    }
  }

  let oauthClient = '';
  const authorization = (who: Who, op?: Operation): Record<string, string> => {
    // The OAuth endpoints authenticate a client: the administrator's calls use a real one.
    if (op && who === 'admin' && /\/(token|introspect|revoke|revocation)$/.test(op.path)) return { authorization: oauthClient };
    if (who === 'admin' || who === 'low') return { authorization: `Bearer ${keys[who]}` };
    return who === 'garbage' ? { authorization: 'Bearer \u00ff-not-a-key' } : {};
  };

  function payloadOf(op: Operation, request: FuzzRequest): { headers: Record<string, string>; payload?: string | Buffer } {
    if (request.raw) return { headers: { 'content-type': request.raw.contentType }, payload: request.raw.payload };
    if (!op.body || request.body === undefined) return { headers: {} };
    if (!op.body.mediaTypes.includes('application/json') && op.body.mediaTypes.includes('application/x-www-form-urlencoded')) {
      const form = new URLSearchParams(Object.entries((request.body ?? {}) as Record<string, unknown>).map(([k, v]): [string, string] => [k, String(v)]));
      return { headers: { 'content-type': 'application/x-www-form-urlencoded' }, payload: form.toString() };
    }
    return { headers: { 'content-type': 'application/json' }, payload: JSON.stringify(request.body) };
  }

  beforeAll(async () => {
    const off = { windowSeconds: 60, perCredential: 0, decisionPerCredential: 0, tokenPerClient: 0, authFailuresPerIp: 0 };
    t = await createTestApp({ rateLimits: off });
    await seedDemoTenant(t.services.deps, systemActor(t.tenantId, 'demo'), { seed: 7, identities: 40 });
    await mint('admin');
    await mint('low');
    const someApp = await createApplication(t.store, t.tenantId, 'fuzz-app');
    await appKeyFor(t.services, t.tenantId, someApp);
    await clientFor(t.services, t.tenantId, { applicationId: someApp });
    const client = await clientFor(t.services, t.tenantId, { identityId: (await t.app.inject({ method: 'GET', url: '/api/v1/me', headers: authorization('admin') }).then((r) => r.json() as { identityId: string | null })).identityId });
    oauthClient = basic(client.clientId, client.clientSecret);
    const other = await createOtherTenant(t.store);
    const otherApp = await createApplication(t.store, other.tenantId, 'foreign-app');
    const otherKey = await apiKeyFor(t.services, other.tenantId, other.adminId);
    foreignIds = [other.adminId, otherApp, otherKey.id];
    ops = operationsOf(await t.app.inject({ method: 'GET', url: '/openapi.json' }).then((r) => r.json()));
    // Learn the ids of what exists: lists first, then the lists under them.
    for (let pass = 0; pass < 2; pass++) {
      for (const op of ops.filter((o) => o.method === 'GET')) {
        if (op.pathParams.some((p) => !pools.valuesFor(p.collection, p.name).length)) continue;
        const path = op.pathParams.reduce((url, p) => url.replace(`{${p.name}}`, encodeURIComponent(String(pools.valuesFor(p.collection, p.name)[0]))), op.path);
        const res = await t.app.inject({ method: 'GET', url: path, headers: authorization('admin') });
        if (res.statusCode === 200) pools.learn(op.path, jsonOf(res.body));
      }
    }
  }, 300_000);

  afterAll(async () => t?.close());

  it(
    'answers every request with a declared status and body, never a 5xx, never another tenant’s object',
    async () => {
      const checker = new ResponseChecker();
      const findings: Finding[] = [];
      const byStatus = new Map<number, number>();
      const reached = new Set<string>();
      let sent = 0;
      const deadline = Date.now() + SECONDS * 1000;
      for (let round = 0; round === 0 || Date.now() < deadline; round++) {
        for (const [index, op] of ops.entries()) {
          if (round > 0 && Date.now() >= deadline) break;
          const name = `${op.method} ${op.path}`;
          const seed = SEED + round * 7919 + index;
          const requests = [
            ...fc.sample(requestsOf(op, pools, foreignIds, { who: 'admin', mode: 'valid' }), { seed, numRuns: 1 }),
            ...fc.sample(requestsOf(op, pools, foreignIds), { seed, numRuns: PER_ROUND - 1 }),
          ];
          for (const request of requests) {
            const url = urlOf(op, request);
            const { headers, payload } = payloadOf(op, request);
            const res = await t.app.inject({ method: op.method as 'GET', url, headers: { ...headersOf(request), ...headers, ...authorization(request.who, op) }, ...(payload !== undefined ? { payload } : {}) });
            sent += 1;
            byStatus.set(res.statusCode, (byStatus.get(res.statusCode) ?? 0) + 1);
            const shown = `${op.method} ${url.slice(0, 200)}${payload !== undefined ? ` ${String(payload).slice(0, 200)}` : ''}`;
            const finding = (kind: Finding['kind'], detail: string) => findings.push({ kind, operation: name, who: request.who, mode: request.mode, request: shown, status: res.statusCode, detail });
            if (res.statusCode >= 500) finding('5xx', res.body.slice(0, 300));
            const mismatch = checker.check(op, res.statusCode, res.headers['content-type'] as string | undefined, res.body);
            if (mismatch && res.statusCode < 500) finding('mismatch', mismatch);
            if (res.statusCode < 300) {
              reached.add(name);
              if (request.mode === 'path' && foreignIds.some((id) => url.includes(id))) finding('cross-tenant', res.body.slice(0, 200));
              const path = url.split('?')[0]!;
              if (op.method === 'GET') pools.learn(path, jsonOf(res.body));
              else if (op.method === 'POST') pools.learn(path.replace(/\/(pause|resume|revoke|delegate|stage|dry-run|cancel|approve|reject|retry)$/, ''), jsonOf(res.body));
            }
          }
        }
        await keepCallers();
      }

      const unique = new Map<string, Finding & { count: number }>();
      for (const f of findings) {
        const key = `${f.kind} ${f.operation} ${f.status} ${f.detail.replace(/"requestId":"[^"]*"|[0-9a-f-]{36}/g, '').slice(0, 120)}`;
        const seen = unique.get(key);
        if (seen) seen.count += 1;
        else unique.set(key, { ...f, count: 1 });
      }
      const statuses = [...byStatus.entries()].sort(([a], [b]) => a - b).map(([s, n]) => `${s}:${n}`).join(' ');
      const notReached = ops.map((o) => `${o.method} ${o.path}`).filter((n) => !reached.has(n));
      console.log(
        [
          `fuzz (${TEST_BACKEND}) seed ${SEED}, ${SECONDS} s: ${ops.length} operations, ${sent} requests, ${reached.size} operations answered 2xx, callers re-minted ${minted - 2} times`,
          `statuses ${statuses}`,
          `5xx ${findings.filter((f) => f.kind === '5xx').length}, schema or status mismatches ${findings.filter((f) => f.kind === 'mismatch').length}, cross-tenant ${findings.filter((f) => f.kind === 'cross-tenant').length}`,
          `no 2xx for: ${notReached.join('; ') || 'none'}`,
          ...[...unique.values()].map((f) => `  [${f.kind} ×${f.count}] ${f.operation} as ${f.who} (${f.mode}) → ${f.status}: ${f.detail}\n      e.g. ${f.request}`),
        ].join('\n'),
      );
      expect([...unique.keys()]).toEqual([]);
    },
    SECONDS * 1000 + 600_000,
  );
});
