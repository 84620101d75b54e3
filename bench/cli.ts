/**
 * The client commands' numbers (issue 19): `grantory identities list --all -o ndjson` of a tenant
 * with N identities (target: 100k in at most 10 s), and the command's start to its first byte
 * of output (target: at most 300 ms). Usage:
 *
 *   node --import tsx bench/cli.ts [identities=100000] [runs=3]
 *
 * Seeds a fresh SQLite data directory with N identities (bench/dataset.ts's bulk loader, as the
 * other benchmarks do; the seeding time is printed but is not what is measured), starts
 * `grantory serve` on it, then spawns `bin/grantory.js` as a user would and reads its stdout
 * through a pipe (the server's per-credential rate limit is off: one --all of 100k is 200
 * requests, and the runs follow each other within a minute). Prints the median and range of
 * each, with the load average: on a busy machine the figures are upper bounds.
 */
import { spawn } from 'node:child_process';
import { existsSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { createServerSecrets } from '../src/domain/server-secrets.ts';
import { bootstrap } from '../src/services/bootstrap.ts';
import { openStore } from '../src/store/open.ts';
import { loadAverage, machine } from './common.ts';
import { generate, load } from './dataset.ts';

const BIN = resolve(import.meta.dirname, '../bin/grantory.js');
const identities = Number(process.argv[2] ?? 100_000);
const runs = Number(process.argv[3] ?? 3);
const KEY = 'bench-admin-key-0123456789abcdefghijklmnop';
const SECRET = 'bench-server-secret-0123456789abcdefghijklmnop';

const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;
const median = (xs: number[]) => [...xs].sort((a, b) => a - b)[Math.floor(xs.length / 2)]!;

/** Runs grantory; resolves with the time to its first stdout byte, to its end, and the lines it printed. */
/** CPU seconds (user + system) come from /usr/bin/time, which the machine's load does not inflate as it does wall time. */
const TIME = '/usr/bin/time';
const hasTime = existsSync(TIME);

function timeCli(args: string[], env: NodeJS.ProcessEnv): Promise<{ firstByte: number; total: number; cpu: number; lines: number; bytes: number }> {
  return new Promise((resolveRun, reject) => {
    const start = process.hrtime.bigint();
    const command = hasTime ? [TIME, '-f', 'cpu %U %S', process.execPath, BIN, ...args] : [process.execPath, BIN, ...args];
    const child = spawn(command[0]!, command.slice(1), { env: { ...process.env, ...env }, stdio: ['ignore', 'pipe', 'pipe'] });
    let firstByte = -1;
    let lines = 0;
    let bytes = 0;
    let stderr = '';
    child.stdout.on('data', (chunk: Buffer) => {
      if (firstByte < 0) firstByte = ms(start);
      bytes += chunk.length;
      for (let i = chunk.indexOf(10); i !== -1; i = chunk.indexOf(10, i + 1)) lines++;
    });
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    child.on('error', reject);
    child.on('close', (code) => {
      if (code !== 0) return reject(new Error(`grantory ${args.join(' ')} exited ${code}: ${stderr}`));
      const cpu = /cpu ([\d.]+) ([\d.]+)\s*$/.exec(stderr);
      resolveRun({ firstByte, total: ms(start), cpu: cpu ? (Number(cpu[1]) + Number(cpu[2])) * 1000 : NaN, lines, bytes });
    });
  });
}

const dir = mkdtempSync(join(tmpdir(), 'grantory-cli-bench-'));
const seedStart = process.hrtime.bigint();
{
  const store = await openStore({ dataDir: dir, sqliteSynchronous: 'NORMAL' });
  await store.migrate();
  const { tenantId } = await bootstrap(store, { adminKey: KEY, secrets: createServerSecrets(SECRET) });
  await load(store, tenantId, generate({ identities, units: 50, depth: 3, applications: 1, permissions: 1, roles: 1, assignments: 0 }));
  await store.close();
}
const seedSeconds = ms(seedStart) / 1000;
const server = spawn(process.execPath, [BIN, 'serve'], {
  env: { ...process.env, GRANTORY_DATA_DIR: dir, GRANTORY_PORT: '0', GRANTORY_HOST: '127.0.0.1', GRANTORY_SECRET_KEY: SECRET, GRANTORY_BOOTSTRAP_ADMIN_KEY: KEY, GRANTORY_LOG_LEVEL: 'warn', GRANTORY_RATE_LIMIT: '0' },
  stdio: ['ignore', 'pipe', 'inherit'],
});
try {
  const url = await new Promise<string>((resolveUrl, reject) => {
    let out = '';
    server.stdout.on('data', (d: Buffer) => {
      out += d.toString();
      const match = /listening on (http:\/\/\S+)/.exec(out);
      if (match) resolveUrl(match[1]!);
    });
    server.on('close', (code) => reject(new Error(`grantory serve exited ${code}: ${out}`)));
  });
  const env = { GRANTORY_URL: url, GRANTORY_API_KEY: KEY, GRANTORY_CONFIG_DIR: join(dir, 'config') };

  const listAll: Awaited<ReturnType<typeof timeCli>>[] = [];
  for (let i = 0; i < runs; i++) listAll.push(await timeCli(['identities', 'list', '--all', '-o', 'ndjson'], env));
  const firstPage: Awaited<ReturnType<typeof timeCli>>[] = [];
  for (let i = 0; i < runs * 3; i++) firstPage.push(await timeCli(['identities', 'list', '--limit', '1', '-o', 'ndjson'], env));
  const help: Awaited<ReturnType<typeof timeCli>>[] = [];
  for (let i = 0; i < runs * 3; i++) help.push(await timeCli(['--help'], {}));

  const row = (name: string, xs: number[]) => `${name.padEnd(52)} median ${median(xs).toFixed(0).padStart(6)} ms  (range ${Math.min(...xs).toFixed(0)}–${Math.max(...xs).toFixed(0)}, n=${xs.length})`;
  console.log(`machine: ${machine()}; load average before: see below`);
  console.log(`seeded ${identities} identities (bulk loader) in ${seedSeconds.toFixed(1)} s`);
  console.log(row(`identities list --all -o ndjson (${listAll[0]!.lines} rows)`, listAll.map((r) => r.total)));
  console.log(row('  its first byte', listAll.map((r) => r.firstByte)));
  console.log(row('  CPU of the grantory process (user + system)', listAll.map((r) => r.cpu)));
  console.log(row('identities list --limit 1: start to first byte', firstPage.map((r) => r.firstByte)));
  console.log(row('--help: start to first byte', help.map((r) => r.firstByte)));
  console.log(row('identities list --limit 1: CPU (user + system)', firstPage.map((r) => r.cpu)));
  console.log(row('--help: start to exit', help.map((r) => r.total)));
  console.log(row('--help: CPU (user + system)', help.map((r) => r.cpu)));
  console.log(`load average (1, 5, 15 min) after: ${loadAverage().join(', ')}`);
} finally {
  server.kill('SIGTERM');
  await new Promise((resolveClose) => server.once('close', resolveClose));
  rmSync(dir, { recursive: true, force: true });
}
