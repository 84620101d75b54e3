/**
 * The `grantory` command as a user meets it, as spawned processes running the build in dist/
 * (bin/grantory.js; test/support/build-dist.ts builds it first): --help on every command
 * prints help and does nothing else, --version, unknown flags named with the command's
 * flags, a closed pipe ends the command quietly, and the server's log lines.
 */
import { spawn } from 'node:child_process';
import { existsSync } from 'node:fs';
import { createServer, type Server } from 'node:net';
import { join, resolve } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import packageJson from '../../package.json' with { type: 'json' };
import { cleanEnv, killAllServers, PROCESS_TIMEOUT, runCli, startServer, tempDir } from '../support/cli.ts';

const BIN = resolve(import.meta.dirname, '../../bin/grantory.js');

let dir: ReturnType<typeof tempDir>;
let occupied: Server;
let occupiedPort: string;

beforeAll(async () => {
  dir = tempDir('cli-basics');
  // Every command's settings point at a port that is taken and a data directory that does
  // not exist: a command that started anything would fail or create it.
  occupied = createServer();
  await new Promise<void>((resolveListen) => occupied.listen(0, '127.0.0.1', () => resolveListen()));
  occupiedPort = String((occupied.address() as { port: number }).port);
});

afterAll(async () => {
  await killAllServers();
  await new Promise<void>((resolveClose) => occupied.close(() => resolveClose()));
  dir.remove();
});

const COMMANDS = [[], ['serve'], ['migrate'], ['audit'], ['audit', 'verify'], ['audit', 'checkpoint'], ['audit', 'list'], ['keys'], ['keys', 'rotate'], ['openapi'], ['demo'], ['identities'], ['identities', 'list'], ['check'], ['login'], ['imports', 'watch'], ['completion']];

describe('grantory --help', PROCESS_TIMEOUT, () => {
  it.concurrent.each(COMMANDS.map((command) => ({ command, name: ['grantory', ...command].join(' ') })))('$name --help prints help and does nothing else', async ({ command, name }) => {
    const data = join(dir.path, `data-${command.join('-') || 'top'}`);
    const result = await runCli([...command, '--help'], { GRANTORY_DATA_DIR: data, GRANTORY_PORT: occupiedPort, GRANTORY_HOST: '127.0.0.1' });
    expect(result.stderr).toBe('');
    expect(result.code).toBe(0);
    expect(result.stdout.startsWith(`Usage: ${name} `)).toBe(true);
    expect(result.stdout).toContain('-h, --help');
    expect(existsSync(data)).toBe(false);
  });

  it('help <command> is the same as <command> --help', async () => {
    const [viaHelp, viaFlag] = await Promise.all([runCli(['help', 'demo'], {}), runCli(['demo', '--help'], {})]);
    expect(viaHelp).toEqual(viaFlag);
    expect(viaFlag.stdout).toMatch(/--seed <n>[\s\S]*--identities <n>[\s\S]*--data-dir <dir>/);
  });

  it("states the defaults of the command it describes (demo's data directory and host are its own)", async () => {
    const [demo, serve] = await Promise.all([runCli(['demo', '--help'], {}), runCli(['serve', '--help'], {})]);
    const flat = (text: string) => text.replace(/\s+/g, ' ');
    expect(flat(demo.stdout)).toContain('(GRANTORY_DATA_DIR, default ./data-demo)');
    expect(flat(demo.stdout)).toContain('(GRANTORY_HOST, default 127.0.0.1)');
    expect(flat(serve.stdout)).toContain('(GRANTORY_DATA_DIR, default ./data)');
    expect(flat(serve.stdout)).toContain('(GRANTORY_HOST, default 0.0.0.0)');
  });
});

describe('grantory --version', PROCESS_TIMEOUT, () => {
  it("prints package.json's version", async () => {
    for (const flag of ['--version', '-V']) {
      expect(await runCli([flag], {})).toEqual({ code: 0, signal: null, stdout: `${packageJson.version}\n`, stderr: '' });
    }
  });
});

describe('usage errors', PROCESS_TIMEOUT, () => {
  it("name the command's flags and exit 2", async () => {
    expect(await runCli(['migrate', '--port', '1'], {})).toEqual({
      code: 2,
      signal: null,
      stdout: '',
      stderr: "grantory migrate: unknown option '--port'\n  grantory migrate takes: --data-dir, --database-url, --help\n  see: grantory migrate --help\n",
    });
    const demo = await runCli(['demo', '--identity', '5'], { GRANTORY_DATA_DIR: join(dir.path, 'demo-typo') });
    expect(demo.code).toBe(2);
    expect(demo.stderr).toMatch(/^grantory demo: unknown option '--identity'\n\(Did you mean --identities\?\)\n {2}grantory demo takes: --seed, --identities, --port, /);
    expect(existsSync(join(dir.path, 'demo-typo'))).toBe(false);
  });

  it('check option values before anything starts', async () => {
    const result = await runCli(['demo', '--identities', 'many'], { GRANTORY_DATA_DIR: join(dir.path, 'demo-bad-number') });
    expect(result.code).toBe(2);
    expect(result.stderr.split('\n')[0]).toBe("grantory demo: option '--identities <n>' argument 'many' is invalid. needs a whole number up to 100000");
    expect(existsSync(join(dir.path, 'demo-bad-number'))).toBe(false);
  });
});

describe('a closed pipe', PROCESS_TIMEOUT, () => {
  it('ends `grantory openapi | head` quietly', async () => {
    const child = spawn(process.execPath, [BIN, 'openapi'], { env: cleanEnv(), stdio: ['ignore', 'pipe', 'pipe'] });
    let stderr = '';
    child.stderr.on('data', (d: Buffer) => (stderr += d.toString()));
    // Read the first chunk, then close the pipe as `head` does.
    child.stdout.once('data', () => child.stdout.destroy());
    const [code, signal] = await new Promise<[number | null, NodeJS.Signals | null]>((resolveClose) => child.on('close', (c, s) => resolveClose([c, s])));
    expect({ code, signal, stderr }).toEqual({ code: 0, signal: null, stderr: '' });
  });
});

describe('the server log', PROCESS_TIMEOUT, () => {
  // Colours, should the environment force them (FORCE_COLOR).
  const ANSI = new RegExp(`${String.fromCharCode(27)}\\[[0-9;]*m`, 'g');

  const ADMIN = 'log-test-admin-key-0123456789abcdefghijklmnop';

  async function requestLines(format: 'json' | 'pretty', env: Record<string, string> = {}): Promise<string[]> {
    const server = await startServer({ GRANTORY_DATA_DIR: join(dir.path, `log-${format}-${env.GRANTORY_ACCESS_LOG ?? 'default'}`), GRANTORY_LOG_LEVEL: 'info', GRANTORY_LOG_FORMAT: format, GRANTORY_BOOTSTRAP_ADMIN_KEY: ADMIN, ...env });
    const admin = { authorization: `Bearer ${ADMIN}`, 'content-type': 'application/json' };
    await fetch(`${server.url}/livez`);
    await fetch(`${server.url}/readyz`);
    expect((await fetch(`${server.url}/api/v1/me?access_token=secret-value`)).status).toBe(401);
    expect((await fetch(`${server.url}/?x=1`, { headers: { accept: 'application/json' } })).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/me`, { headers: admin })).status).toBe(200);
    expect((await fetch(`${server.url}/api/v1/identities`, { method: 'POST', headers: admin, body: JSON.stringify({ subject: 'log:1' }) })).status).toBe(201);
    server.child.kill('SIGTERM');
    expect(await server.exited).toEqual({ code: 0, signal: null });
    const out = server.stdout().replace(ANSI, '').split('\n');
    const requests = (line: string) => /(GET|POST) \//.test(line);
    // The start is announced once, by Grantory (Fastify's "Server listening at" line is not printed).
    expect(out.filter((line) => line !== '' && !requests(line))).toEqual([expect.stringMatching(/^Grantory listening on http:\/\/127\.0\.0\.1:\d+ /)]);
    return out.filter(requests);
  }

  it('json: by default one JSON line for each error and write, none for successful reads and health probes; no secret in a URL', async () => {
    const lines = (await requestLines('json')).map((line) => JSON.parse(line) as Record<string, unknown>);
    expect(lines).toEqual([
      expect.objectContaining({ level: 30, method: 'GET', url: '/api/v1/me?access_token=[redacted]', statusCode: 401, responseTime: expect.any(Number), reqId: expect.any(String), msg: expect.stringMatching(/^GET \/api\/v1\/me\?access_token=\[redacted\] 401 [\d.]+ ms$/) }),
      expect.objectContaining({ level: 30, method: 'POST', url: '/api/v1/identities', statusCode: 201 }),
    ]);
    expect(JSON.stringify(lines)).not.toContain('secret-value');
    expect(JSON.stringify(lines)).not.toContain(ADMIN);
  });

  it('pretty: one short line a request worth logging', async () => {
    const lines = await requestLines('pretty');
    expect(lines).toHaveLength(2);
    expect(lines[0]).toMatch(/^\[?\d\d:\d\d:\d\d\.\d{3}\]? INFO.*: GET \/api\/v1\/me\?access_token=\[redacted\] 401 [\d.]+ ms$/);
    expect(lines[1]).toMatch(/^\[?\d\d:\d\d:\d\d\.\d{3}\]? INFO.*: POST \/api\/v1\/identities 201 [\d.]+ ms$/);
  });

  it('GRANTORY_ACCESS_LOG=all: a line for every request but the health probes; off: none', async () => {
    const all = (await requestLines('json', { GRANTORY_ACCESS_LOG: 'all' })).map((line) => (JSON.parse(line) as { msg: string }).msg.replace(/ [\d.]+ ms$/, ''));
    expect(all).toEqual(['GET /api/v1/me?access_token=[redacted] 401', 'GET /?x=1 200', 'GET /api/v1/me 200', 'POST /api/v1/identities 201']);
    expect(await requestLines('json', { GRANTORY_ACCESS_LOG: 'off' })).toEqual([]);
  });
});
