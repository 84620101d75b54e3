/**
 * How long the `grantory` command takes to answer. Usage:
 *
 *   node --import tsx bench/startup.ts [runs]
 *
 * Runs `bin/grantory.js` (what `npx grantory` and `npm start` run) as a child process, `runs`
 * times each (default 7), and prints the median and the range of: `--help`, `--version`, and
 * `serve` on an empty SQLite database until it prints its address and until `GET /readyz`
 * answers 200 (first start: migrations, secret key, bootstrap, access index). No timing is
 * asserted; BENCHMARKS.md records the figures with the machine and its load.
 */
import { spawn, spawnSync } from 'node:child_process';
import { mkdtempSync, rmSync } from 'node:fs';
import { cpus, tmpdir } from 'node:os';
import { join, resolve } from 'node:path';
import { readFileSync } from 'node:fs';

const BIN = resolve(import.meta.dirname, '../bin/grantory.js');
const runs = Number(process.argv[2] ?? 7);

const median = (xs: number[]) => {
  const s = [...xs].sort((a, b) => a - b);
  const mid = Math.floor(s.length / 2);
  return s.length % 2 ? s[mid]! : (s[mid - 1]! + s[mid]!) / 2;
};
const ms = (start: bigint) => Number(process.hrtime.bigint() - start) / 1e6;

function timeCommand(args: string[]): number {
  const start = process.hrtime.bigint();
  const result = spawnSync(process.execPath, [BIN, ...args], { stdio: ['ignore', 'pipe', 'pipe'] });
  const elapsed = ms(start);
  if (result.status !== 0) throw new Error(`grantory ${args.join(' ')} exited ${result.status}: ${result.stderr.toString()}`);
  return elapsed;
}

/** Starts `serve` on a fresh data directory; resolves with the time to "listening" and to a ready /readyz. */
async function timeFirstStart(): Promise<{ listening: number; ready: number }> {
  const dir = mkdtempSync(join(tmpdir(), 'grantory-startup-'));
  const start = process.hrtime.bigint();
  const child = spawn(process.execPath, [BIN, 'serve'], {
    env: { ...process.env, GRANTORY_DATA_DIR: dir, GRANTORY_PORT: '0', GRANTORY_HOST: '127.0.0.1', GRANTORY_LOG_LEVEL: 'silent' },
    stdio: ['ignore', 'pipe', 'pipe'],
  });
  try {
    let output = '';
    const url = await new Promise<string>((resolveUrl, reject) => {
      const seen = (d: Buffer) => {
        output += d.toString();
        const match = /listening on (http:\/\/\S+?)[\s)]/.exec(output);
        if (match) resolveUrl(match[1]!);
      };
      child.stdout.on('data', seen);
      child.stderr.on('data', seen);
      child.on('exit', (code) => reject(new Error(`serve exited ${code}: ${output}`)));
    });
    const listening = ms(start);
    for (;;) {
      const res = await fetch(`${url}/readyz`).catch(() => null);
      if (res?.status === 200) break;
      await new Promise((r) => setTimeout(r, 5));
    }
    return { listening, ready: ms(start) };
  } finally {
    child.kill('SIGKILL');
    await new Promise((r) => child.once('close', r));
    rmSync(dir, { recursive: true, force: true });
  }
}

const summary = (label: string, xs: number[]) =>
  `${label.padEnd(34)} median ${Math.round(median(xs))} ms (min ${Math.round(Math.min(...xs))}, max ${Math.round(Math.max(...xs))}, ${xs.length} runs)`;

const load = () => readFileSync('/proc/loadavg', 'utf8').split(' ').slice(0, 3).join(' ');
console.log(`${new Date().toISOString()}  node ${process.version}  ${cpus().length} × ${cpus()[0]?.model ?? 'cpu'}  load ${load()}`);
const commands: [string, string[]][] = [
  ['grantory --help', ['--help']],
  ['grantory --version', ['--version']],
];
for (const [label, args] of commands) {
  try {
    timeCommand(args); // warm the file cache
    const xs = Array.from({ length: runs }, () => timeCommand(args));
    console.log(summary(label, xs));
  } catch (e) {
    console.log(`${label.padEnd(34)} failed: ${(e as Error).message.split('\n')[0]}`);
  }
}
const listening: number[] = [];
const ready: number[] = [];
await timeFirstStart();
for (let i = 0; i < runs; i += 1) {
  const t = await timeFirstStart();
  listening.push(t.listening);
  ready.push(t.ready);
}
console.log(summary('serve, empty database: listening', listening));
console.log(summary('serve, empty database: /readyz 200', ready));
console.log(`load at end ${load()}`);
