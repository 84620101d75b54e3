/**
 * The server's CPU time per check request, in process and without sockets: the app built as
 * `grantory serve` builds it (log level info with the default access log, metrics, the
 * default rate limits, API-key and OAuth-token callers), driven by `app.inject()` with
 * `--concurrency` requests in flight. The CPU time of the whole process per request is
 * steadier than req/s on a shared machine (other work takes turns on the cores, not on this
 * process's CPU time), so builds can be compared under load — run them alternately.
 *
 *   node --import tsx bench/check-inject.ts [S|M|L] [--rounds 10] [--requests 2000] [--concurrency 16] [--only batch|apikey|token]
 *
 * The bodies are bench/http.ts's: checks of real assignments and random pairs, batches of 100.
 * Prints, per route and caller, the least and the median CPU µs per request over the rounds
 * (and for the batch, checks per CPU-second at the least), with the load average.
 */
import { mkdtempSync, rmSync } from 'node:fs';
import { loadavg, tmpdir } from 'node:os';
import { join } from 'node:path';
import { buildApp } from '../src/api/app.ts';
import { createMetrics } from '../src/api/metrics.ts';
import { createServerSecrets } from '../src/domain/server-secrets.ts';
import { AccessEngine } from '../src/engine/engine.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import { createServices } from '../src/services/index.ts';
import { openStore } from '../src/store/open.ts';
import { BENCH_ADMIN_KEY, BENCH_SECRET_KEY } from './common.ts';
import { generate, idOf, load, rng, SIZES } from './dataset.ts';

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const sizeName = (process.argv[2]?.startsWith('--') ? 'S' : (process.argv[2] ?? 'S')) as keyof typeof SIZES;
const rounds = Number(arg('--rounds', '10'));
const perRound = Number(arg('--requests', '2000'));
const concurrency = Number(arg('--concurrency', '16'));
const only = arg('--only', '');
const log = (s: string) => process.stderr.write(`${s}\n`);
const load3 = () => loadavg().map((x) => Math.round(x * 100) / 100);

async function main(): Promise<void> {
  const size = SIZES[sizeName];
  if (!size) throw new Error(`unknown size ${sizeName} (S, M or L)`);
  const dataDir = mkdtempSync(join(tmpdir(), 'grantory-check-inject-'));
  const store = await openStore({ dataDir, sqliteSynchronous: 'NORMAL' });
  try {
    await store.migrate();
    const secrets = createServerSecrets(BENCH_SECRET_KEY);
    const { tenantId } = await bootstrap(store, { adminKey: BENCH_ADMIN_KEY, secrets });
    const d = generate(size, 42);
    await load(store, tenantId, d, () => undefined);
    const access = new AccessEngine(store, { clock: () => Date.now() });
    await access.start();
    const services = createServices({ store, now: () => new Date(), secrets, security: { issuer: () => 'http://localhost' }, access });
    const app = await buildApp({ services, store, metrics: createMetrics({ defaultMetrics: true }), logLevel: 'info' });

    // The bodies of bench/http.ts: half from real assignments (often true), half random pairs.
    const r = rng(7);
    const checks: { identity: string; permission: string }[] = [];
    for (let k = 0; k < 2000; k += 1) {
      const a = d.assignments[Math.floor(r() * d.assignments.length)]!;
      const fromAssignment = k % 2 === 0 && !a.toUnit && !a.toRole;
      checks.push({ identity: idOf.identity(fromAssignment ? a.assignee : Math.floor(r() * size.identities)), permission: idOf.perm(fromAssignment ? a.resource : Math.floor(r() * size.permissions)) });
    }
    const bodies = checks.map((c) => JSON.stringify(c));
    const batchBodies = Array.from({ length: 50 }, (_, b) => JSON.stringify({ checks: checks.slice((b * 100) % 1900, ((b * 100) % 1900) + 100) }));

    const admin = { authorization: `Bearer ${BENCH_ADMIN_KEY}` };
    const client = await app.inject({ method: 'POST', url: '/api/v1/clients', headers: admin, payload: { name: 'bench', scopes: ['grantory:*'] } });
    const { clientId, clientSecret } = client.json() as { clientId: string; clientSecret: string };
    const token = await app.inject({ method: 'POST', url: '/oauth/token', payload: { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret } });
    const bearer = { authorization: `Bearer ${(token.json() as { access_token: string }).access_token}` };

    /** CPU µs of this process per request over `n` requests of `url` with `headers`, `concurrency` in flight. */
    const cpuPerRequest = async (url: string, headers: Record<string, string>, texts: string[], n: number): Promise<number> => {
      let next = 0;
      let failed = 0;
      const before = process.cpuUsage();
      const lane = async () => {
        while (next < n) {
          const payload = texts[next++ % texts.length]!;
          const res = await app.inject({ method: 'POST', url, headers: { ...headers, 'content-type': 'application/json' }, payload });
          if (res.statusCode !== 200) failed += 1;
        }
      };
      await Promise.all(Array.from({ length: concurrency }, lane));
      const used = process.cpuUsage(before);
      if (failed) throw new Error(`${failed} of ${n} requests to ${url} failed`);
      return (used.user + used.system) / n;
    };

    const kinds = [
      { name: 'batch', url: '/api/v1/check/batch', headers: admin, texts: batchBodies },
      { name: 'apikey', url: '/api/v1/check', headers: admin, texts: bodies },
      { name: 'token', url: '/api/v1/check', headers: bearer, texts: bodies },
    ].filter((k) => !only || k.name === only);
    const out: Record<string, unknown> = { size: sizeName, node: process.version, date: new Date().toISOString(), concurrency, rounds, requestsPerRound: perRound, loadAverageAtStart: load3() };
    for (const kind of kinds) await cpuPerRequest(kind.url, kind.headers, kind.texts, perRound);
    // Rounds interleaved between the kinds, so a burst of other work on the machine hits all alike.
    const samples = new Map<string, number[]>(kinds.map((k) => [k.name, []]));
    for (let round = 0; round < rounds; round += 1) {
      for (const kind of kinds) samples.get(kind.name)!.push(await cpuPerRequest(kind.url, kind.headers, kind.texts, perRound));
    }
    for (const kind of kinds) {
      const s = samples.get(kind.name)!.sort((a, b) => a - b);
      const least = Math.round(s[0]!);
      out[kind.name] = {
        leastUs: least,
        medianUs: Math.round(s[Math.floor(s.length / 2)]!),
        ...(kind.name === 'batch' ? { checksPerCpuSecondAtLeast: Math.round(1e8 / least) } : {}),
      };
    }
    out.loadAverageAtEnd = load3();
    log(JSON.stringify(out));
    access.stop();
    await app.close();
  } finally {
    await store.close();
    rmSync(dataDir, { recursive: true, force: true });
  }
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
