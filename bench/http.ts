/**
 * The request path over HTTP, with the defaults a user gets: `grantory serve` as a real
 * process (log level info, the default access log, metrics, the default rate limits, API-key
 * and OAuth-token callers), next to a bare Fastify JSON route in a process of its own, in
 * the same run, with 1 and 2 workers (GRANTORY_WORKERS).
 *
 *   node --import tsx bench/http.ts [S|M|L] [sqlite|postgres] [--workers 1,2] [--connections 50] [--duration 10] [--cpu-prof DIR] [--only batch]
 *
 * `--only batch` runs the batch route alone (after the warm-up), e.g. to profile it.
 *
 * `--cpu-prof DIR` writes a V8 CPU profile of every server process into DIR (`node --cpu-prof`;
 * open it in Chrome DevTools or summarise it with `node bench/cpu-profile.ts FILE`).
 *
 * PostgreSQL: a throwaway database on BENCH_DATABASE_URL's server (default
 * postgres://postgres@127.0.0.1:5432/postgres), dropped at the end. Prints a JSON summary and
 * writes it to bench/results/http-<size>-<backend>.json, with the load average at start and end
 * (the machine may be shared: numbers under load are not comparable with quiet ones).
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { mkdirSync, mkdtempSync, readFileSync, rmSync, writeFileSync } from 'node:fs';
import { request as httpRequest } from 'node:http';
import { loadavg, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import autocannon from 'autocannon';
import pg from 'pg';
import { openStore } from '../src/store/open.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import { createServerSecrets } from '../src/domain/server-secrets.ts';
import { generate, idOf, load, rng, SIZES } from './dataset.ts';
import { BENCH_ADMIN_KEY, BENCH_SECRET_KEY, datasetKey, keepDataset, restoreDataset } from './common.ts';

const ROOT = resolve(import.meta.dirname, '..');
const SECRET_KEY = BENCH_SECRET_KEY;
const ADMIN_KEY = BENCH_ADMIN_KEY;

const arg = (name: string, fallback: string): string => {
  const i = process.argv.indexOf(name);
  return i > 0 && process.argv[i + 1] ? process.argv[i + 1]! : fallback;
};
const sizeName = (process.argv[2] ?? 'S') as keyof typeof SIZES;
const backend = process.argv[3] === 'postgres' ? 'postgres' : 'sqlite';
const workerCounts = arg('--workers', '1,2').split(',').map(Number);
const connections = Number(arg('--connections', '50'));
const duration = Number(arg('--duration', '10'));
const cpuProfileDir = arg('--cpu-prof', '');
const onlyBatch = arg('--only', '') === 'batch';
const log = (s: string) => process.stderr.write(`${s}\n`);
const load3 = () => loadavg().map((x) => Math.round(x * 100) / 100);

interface Run {
  rps: number;
  /**
   * CPU time the server (primary and workers) spent per request of the run: steadier than
   * req/s on a shared machine, where the load generator and other work take turns on the
   * cores (null for a process that is not the server's).
   */
  serverCpuUsPerRequest: number | null;
  p50ms: number;
  p99ms: number;
  non2xx: number;
  errors: number;
}

function cannon(url: string, headers: Record<string, string>, bodies: string[], serverPid?: number): Promise<Run> {
  let i = 0;
  const cpuBefore = serverPid === undefined ? 0 : cpuSecondsOf(serverPid);
  return new Promise((done, fail) => {
    autocannon(
      {
        url,
        connections,
        duration,
        requests: [{ method: 'POST', headers: { 'content-type': 'application/json', ...headers }, setupRequest: (req) => ({ ...req, body: bodies[i++ % bodies.length]! }) }],
      },
      (err, r) => {
        if (err) return fail(err);
        const cpu = serverPid === undefined || r.requests.total === 0 ? null : Math.round(((cpuSecondsOf(serverPid) - cpuBefore) * 1e6) / r.requests.total);
        done({ rps: Math.round(r.requests.average), serverCpuUsPerRequest: cpu, p50ms: r.latency.p50, p99ms: r.latency.p99, non2xx: r.non2xx, errors: r.errors });
      },
    );
  });
}

function send(url: string, method: string, headers: Record<string, string>, body?: unknown): Promise<{ status: number; json: unknown }> {
  const payload = body === undefined ? undefined : JSON.stringify(body);
  return new Promise((done, fail) => {
    const req = httpRequest(url, { method, agent: false, headers: { ...headers, ...(payload ? { 'content-type': 'application/json' } : {}) } }, (res) => {
      let text = '';
      res.on('data', (d: Buffer) => (text += d.toString()));
      res.on('end', () => done({ status: res.statusCode ?? 0, json: text ? JSON.parse(text) : null }));
    });
    req.on('error', fail);
    req.end(payload);
  });
}

/** Starts a process and resolves with the URL it prints (`pattern`'s first group). */
function startProcess(args: string[], env: NodeJS.ProcessEnv, pattern: RegExp): Promise<{ child: ChildProcess; url: string }> {
  const child = spawn(process.execPath, args, { cwd: ROOT, env, stdio: ['ignore', 'pipe', 'pipe'] });
  let out = '';
  let err = '';
  let logLines = 0;
  return new Promise((done, fail) => {
    child.stdout!.on('data', (d: Buffer) => {
      const text = d.toString();
      logLines += text.split('\n').length - 1;
      if (out.length < 100_000) out += text;
      const m = pattern.exec(out);
      if (m) done({ child, url: m[1]!.replace('localhost', '127.0.0.1') });
    });
    child.stderr!.on('data', (d: Buffer) => void (err += d.toString()));
    child.on('exit', (code) => fail(new Error(`${args.join(' ')} exited (${code}): ${out.slice(0, 2000)} ${err.slice(0, 2000)}`)));
    (child as ChildProcess & { logLines?: () => number }).logLines = () => logLines;
  });
}

/** User and system CPU seconds of a process and its children (the cluster's workers), from /proc. */
function cpuSecondsOf(pid: number): number {
  // Fields 14 and 15 of /proc/PID/stat, counted after the command name (which may hold spaces); USER_HZ is 100 on Linux.
  const ticks = (p: number) => {
    const fields = readFileSync(`/proc/${p}/stat`, 'utf8').split(') ')[1]!.split(' ');
    return Number(fields[11]) + Number(fields[12]);
  };
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return [pid, ...children].reduce((sum, p) => sum + ticks(p), 0) / 100;
}

/** RSS in MB of a process and its children (the cluster's workers). */
function rssOf(pid: number): { primaryMB: number; workersMB: number[] } {
  const rss = (p: number) => Math.round(Number(/VmRSS:\s+(\d+)/.exec(readFileSync(`/proc/${p}/status`, 'utf8'))?.[1] ?? 0) / 1024);
  const children = readFileSync(`/proc/${pid}/task/${pid}/children`, 'utf8').trim().split(/\s+/).filter(Boolean).map(Number);
  return { primaryMB: rss(pid), workersMB: children.map(rss) };
}

async function stop(child: ChildProcess): Promise<void> {
  if (child.exitCode !== null) return;
  // Its start-up listener would report the exit as a failure.
  child.removeAllListeners('exit');
  const exited = new Promise((r) => child.once('exit', r));
  child.kill('SIGTERM');
  await exited;
}

async function main(): Promise<void> {
  const size = SIZES[sizeName];
  if (!size) throw new Error(`unknown size ${sizeName} (S, M or L)`);
  const out: Record<string, unknown> = { size: sizeName, backend, node: process.version, date: new Date().toISOString(), connections, durationSeconds: duration, loadAverageAtStart: load3() };

  // The dataset, loaded through the store as in bench/run.ts.
  let databaseUrl: string | undefined;
  let dropDatabase = async () => undefined as unknown;
  const dataDir = mkdtempSync(join(tmpdir(), 'grantory-http-bench-'));
  if (backend === 'postgres') {
    const server = process.env.BENCH_DATABASE_URL ?? 'postgres://postgres@127.0.0.1:5432/postgres';
    const name = `grantory_bench_${randomBytes(4).toString('hex')}`;
    const admin = new pg.Client({ connectionString: server });
    await admin.connect();
    await admin.query(`create database "${name}"`);
    await admin.end();
    const url = new URL(server);
    url.pathname = `/${name}`;
    databaseUrl = url.toString();
    dropDatabase = async () => {
      const c = new pg.Client({ connectionString: server });
      await c.connect();
      await c.query(`drop database if exists "${name}" with (force)`);
      await c.end();
    };
  }
  // On SQLite a kept copy of the loaded dataset stands in for the load (bench/common.ts).
  const keptKey = datasetKey(sizeName, size);
  const kept = backend === 'sqlite' ? restoreDataset(dataDir, keptKey) : null;
  const store = await openStore({ dataDir, databaseUrl, sqliteSynchronous: 'NORMAL' });
  const d = generate(size, 42);
  let tenantId = kept?.tenantId ?? '';
  try {
    await store.migrate();
    if (!kept) {
      tenantId = (await bootstrap(store, { adminKey: ADMIN_KEY, secrets: createServerSecrets(SECRET_KEY) })).tenantId;
      const t0 = performance.now();
      await load(store, tenantId, d, log);
      out.loadSeconds = Math.round((performance.now() - t0) / 100) / 10;
    }
  } finally {
    await store.close();
  }
  if (backend === 'sqlite' && !kept) keepDataset(dataDir, keptKey, { tenantId, secretKey: SECRET_KEY });

  // Check bodies: half from real assignments (often true), half random pairs.
  const r = rng(7);
  const bodies: string[] = [];
  const checks: { identity: string; permission: string }[] = [];
  for (let k = 0; k < 2000; k += 1) {
    const a = d.assignments[Math.floor(r() * d.assignments.length)]!;
    const fromAssignment = k % 2 === 0 && !a.toUnit && !a.toRole;
    const identity = idOf.identity(fromAssignment ? a.assignee : Math.floor(r() * size.identities));
    const permission = idOf.perm(fromAssignment ? a.resource : Math.floor(r() * size.permissions));
    checks.push({ identity, permission });
    bodies.push(JSON.stringify({ identity, permission }));
  }
  const batchBodies = Array.from({ length: 50 }, (_, b) => JSON.stringify({ checks: checks.slice((b * 100) % 1900, ((b * 100) % 1900) + 100) }));

  const bare = await startProcess(
    ['--input-type=module', '-e', "import F from 'fastify'; const a = F({ logger: false }); a.post('/check', async () => ({ allowed: true, revision: 1 })); await a.listen({ port: 0, host: '127.0.0.1' }); console.log('bare on http://127.0.0.1:' + a.server.address().port);"],
    process.env,
    /bare on (http:\/\/\S+)/,
  );

  const runs: Record<string, unknown>[] = [];
  try {
    for (const workers of workerCounts) {
      const env: NodeJS.ProcessEnv = {
        PATH: process.env.PATH,
        HOME: process.env.HOME,
        GRANTORY_WORKERS: String(workers),
        GRANTORY_PORT: '0',
        GRANTORY_HOST: '127.0.0.1',
        GRANTORY_DATA_DIR: dataDir,
        GRANTORY_SECRET_KEY: SECRET_KEY,
        GRANTORY_LOG_FORMAT: 'json',
        ...(databaseUrl ? { DATABASE_URL: databaseUrl } : {}),
      };
      const server = await startProcess([...(cpuProfileDir ? ['--cpu-prof', `--cpu-prof-dir=${resolve(cpuProfileDir)}`] : []), 'bin/grantory.js', 'serve'], env, /Grantory listening on (http:\/\/\S+)/);
      try {
        // Every worker's index built: several ready answers in a row on new connections.
        let inARow = 0;
        const readySince = performance.now();
        while (inARow < 4 * workers) {
          inARow = (await send(`${server.url}/readyz`, 'GET', {})).status === 200 ? inARow + 1 : 0;
          if (inARow === 0) await new Promise((w) => setTimeout(w, 200));
          if (performance.now() - readySince > 600_000) throw new Error('the server did not become ready in 10 minutes');
        }
        const memory = rssOf(server.child.pid!);
        const admin = { authorization: `Bearer ${ADMIN_KEY}` };
        const client = await send(`${server.url}/api/v1/clients`, 'POST', admin, { name: `bench-${workers}`, scopes: ['grantory:*'] });
        const { clientId, clientSecret } = client.json as { clientId: string; clientSecret: string };
        const token = await send(`${server.url}/oauth/token`, 'POST', {}, { grant_type: 'client_credentials', client_id: clientId, client_secret: clientSecret });
        const bearer = { authorization: `Bearer ${(token.json as { access_token: string }).access_token}` };
        // Warm-up (each worker computes its identities' sets on first touch).
        await cannon(`${server.url}/api/v1/check`, admin, bodies);
        const bareRun = onlyBatch ? null : await cannon(`${bare.url}/check`, {}, bodies, bare.child.pid!);
        const apiKey = onlyBatch ? null : await cannon(`${server.url}/api/v1/check`, admin, bodies, server.child.pid!);
        const oauth = onlyBatch ? null : await cannon(`${server.url}/api/v1/check`, bearer, bodies, server.child.pid!);
        const batch = await cannon(`${server.url}/api/v1/check/batch`, admin, batchBodies, server.child.pid!);
        const ofBare = (r: Run | null) => (r && bareRun ? { ...r, ofBare: Math.round((r.rps / bareRun.rps) * 100) / 100 } : null);
        const run = {
          workers,
          rssMB: memory,
          bare: bareRun,
          checkApiKey: ofBare(apiKey),
          checkOAuthToken: ofBare(oauth),
          // One core's worth: checks per CPU-second of the server (the target is 1,000,000).
          batch100: { ...batch, checksPerSecond: batch.rps * 100, checksPerServerCpuSecond: batch.serverCpuUsPerRequest ? Math.round(1e8 / batch.serverCpuUsPerRequest) : null },
          logLines: (server.child as ChildProcess & { logLines?: () => number }).logLines?.() ?? null,
          loadAverage: load3(),
        };
        log(JSON.stringify(run));
        runs.push(run);
      } finally {
        await stop(server.child);
      }
    }
  } finally {
    await stop(bare.child);
    rmSync(dataDir, { recursive: true, force: true });
    await dropDatabase();
  }
  out.runs = runs;
  out.loadAverageAtEnd = load3();
  mkdirSync(join(ROOT, 'bench', 'results'), { recursive: true });
  writeFileSync(join(ROOT, 'bench', 'results', `http-${sizeName}-${backend}.json`), `${JSON.stringify(out, null, 2)}\n`);
  process.stdout.write(`${JSON.stringify(out, null, 2)}\n`);
}

main().catch((e: unknown) => {
  process.stderr.write(`${(e as Error).stack ?? String(e)}\n`);
  process.exit(1);
});
