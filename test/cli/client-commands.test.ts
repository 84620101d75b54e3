/**
 * The client commands as a user runs them: spawned `grantory` processes (the build in dist/)
 * against a real server started here (on the run's database backend). Outputs on a pipe (JSON
 * by default) and in every --output format, exit codes, connection profiles, --all across
 * pages, an import uploaded and watched to its end, a streamed export, and a terminal (a
 * pseudo-terminal from util-linux `script`) for tables, colours and progress.
 */
import { execFileSync } from 'node:child_process';
import { readFileSync, statSync, writeFileSync } from 'node:fs';
import { createServer as createHttpServer } from 'node:http';
import { createServer } from 'node:net';
import { join, resolve } from 'node:path';
import { describe, expect, it } from 'vitest';
import { parse as parseYaml } from 'yaml';
import { PROCESS_TIMEOUT, runCli, runOnTerminal, type CliResult } from '../support/cli.ts';
import { printedJson, useClientServer } from '../support/client-server.ts';
import { ADMIN_KEY } from '../support/harness.ts';

type Json = Record<string, any>; // eslint-disable-line @typescript-eslint/no-explicit-any -- outputs are read loosely

const BIN = resolve(import.meta.dirname, '../../bin/grantory.js');
const ESC = String.fromCharCode(27);
const context = useClientServer('cli-client');

/** `grantory <args>` with the server in GRANTORY_URL / GRANTORY_API_KEY and its own config directory. */
const cli = context.cli;
const json = (result: CliResult): Json => printedJson<Json>(result);

/** Runs a shell command line on a pseudo-terminal; resolves with what the terminal showed. */
const onTerminal = (commandLine: string, extra: Record<string, string> = {}) => runOnTerminal(commandLine, { ...context.env, ...extra });
const G = `${process.execPath} ${BIN}`;

describe('resources', PROCESS_TIMEOUT, () => {
  it('create, get, update, list in every format, delete', async () => {
    const created = json(await cli(['identities', 'create', '--username', 'jdoe', '--email', 'jdoe@example.com', '--display-name', 'Jane Doe', '--attributes', 'department=Finance,site=Oslo']));
    expect(created).toMatchObject({ username: 'jdoe', displayName: 'Jane Doe', attributes: { department: 'Finance', site: 'Oslo' } });
    expect(json(await cli(['identities', 'get', created.id]))).toMatchObject({ id: created.id, username: 'jdoe' });
    expect(json(await cli(['identities', 'update', created.id, '--status', 'on_leave']))).toMatchObject({ status: 'on_leave' });

    const list = json(await cli(['identities', 'list', '--q', 'jdoe']));
    expect(list).toEqual([expect.objectContaining({ id: created.id })]);
    const ndjson = await cli(['identities', 'list', '--q', 'jdoe', '-o', 'ndjson', '--fields', 'username,attributes.site']);
    expect(ndjson).toMatchObject({ code: 0, stdout: '{"username":"jdoe","attributes.site":"Oslo"}\n' });
    expect((await cli(['identities', 'list', '--q', 'jdoe', '-o', 'csv', '--fields', 'username,displayName,status'])).stdout).toBe('username,displayName,status\njdoe,Jane Doe,on_leave\n');
    expect(parseYaml((await cli(['identities', 'get', created.id, '-o', 'yaml'])).stdout)).toMatchObject({ username: 'jdoe', attributes: { department: 'Finance' } });
    expect(await cli(['identities', 'list', '--q', 'jdoe', '--quiet'])).toMatchObject({ code: 0, stdout: `${created.id}\n` });

    expect(await cli(['identities', 'delete', created.id, '-q', '--yes'])).toMatchObject({ code: 0, stderr: '' });
    const gone = await cli(['identities', 'get', created.id]);
    expect(gone.code).toBe(3);
    expect(gone.stdout).toBe('');
    expect(gone.stderr).toMatch(new RegExp(`^grantory: Not found: identity ${created.id} does not exist \\(404 not_found\\)\\n  request id: \\S+\\n$`));
  });

  it('--all streams every page; the JSON array and NDJSON hold the same rows', async () => {
    for (let i = 0; i < 7; i += 1) json(await cli(['identities', 'create', '--username', `page${i}`]));
    const all = await cli(['identities', 'list', '--q', 'page', '--all', '--limit', '2', '-o', 'ndjson', '--fields', 'username']);
    expect(all.code).toBe(0);
    expect(all.stdout.trim().split('\n').map((line) => JSON.parse(line).username)).toEqual(['page0', 'page1', 'page2', 'page3', 'page4', 'page5', 'page6']);
    const array = json(await cli(['identities', 'list', '--q', 'page', '--all', '--limit', '3']));
    expect(array.map((r: Json) => r.username)).toEqual(['page0', 'page1', 'page2', 'page3', 'page4', 'page5', 'page6']);
    // Without --all: the first page only.
    expect(json(await cli(['identities', 'list', '--q', 'page', '--limit', '2']))).toHaveLength(2);
  });

  it('catalog, assignments, check and access', async () => {
    const person = json(await cli(['identities', 'create', '--username', 'carl']));
    const app = json(await cli(['applications', 'create', '--name', 'Payroll']));
    const permission = json(await cli(['permissions', 'create', app.id, '--name', 'payroll.approve', '--risk', 'high']));
    const check = ['check', '--identity', 'carl', '--application', 'Payroll', '--permission', 'payroll.approve'];
    expect(await cli([...check, '-q'])).toEqual({ code: 1, signal: null, stdout: '', stderr: '' });
    const assignment = json(await cli(['assignments', 'grant', '--assignee', `type=identity,id=${person.id}`, '--resource', `{"type":"permission","id":"${permission.id}"}`, '--reason', 'quarter close']));
    expect(assignment).toMatchObject({ assignee: { type: 'identity', id: person.id }, resource: { type: 'permission', id: permission.id } });
    expect(json(await cli(check))).toMatchObject({ allowed: true });
    expect((await cli(['access', 'holders', permission.id, '-o', 'csv', '--fields', 'identity.username'])).stdout).toBe('identity.username\ncarl\n');
    expect(json(await cli(['access', 'explain', '--identity', 'carl', '--application', 'Payroll', '--permission', 'payroll.approve']))).toMatchObject({ allowed: true });
    expect(json(await cli(['access', 'list', person.id])).items).toEqual([expect.objectContaining({ permissionId: permission.id })]);
    expect(json(await cli(['assignments', 'pause', assignment.id, '--reason', 'leave']))).toMatchObject({ id: assignment.id });
    expect(json(await cli(['assignments', 'resume', assignment.id]))).toMatchObject({ id: assignment.id });
    expect(json(await cli(['assignments', 'revoke', assignment.id, '--reason', 'left', '--yes']))).toMatchObject({ id: assignment.id });
    expect(await cli([...check, '-q'])).toMatchObject({ code: 1 });
    const actions = (await cli(['audit', 'list', '--target-id', assignment.id, '--all', '-o', 'ndjson', '--fields', 'action'])).stdout;
    expect(actions).toContain('"assignment.create"');
  });

  it('exports effective-permissions streams to a file', async () => {
    const out = join(context.dir, 'effective.csv');
    expect(await cli(['exports', 'effective-permissions', '--space', 'assigned', '--format', 'csv', '--out', out])).toMatchObject({ code: 0, stdout: '', stderr: '' });
    const lines = readFileSync(out, 'utf8').trim().split('\n');
    expect(lines[0]).toMatch(/^identityId,subject,username,/);
    expect(lines.length).toBeGreaterThan(1);
  });
});

describe('errors and exit codes', PROCESS_TIMEOUT, () => {
  it('usage 2, not found 3, forbidden 4, conflict 5, network 6', async () => {
    const invalid = await cli(['identities', 'create', '--username', 'x', '--email', 'not-an-email']);
    expect(invalid.code).toBe(2);
    expect(invalid.stderr.split('\n').slice(0, 2)).toEqual(['grantory: The request is not valid: email must match format "email" (400 validation_failed)', '  email: must match format "email"']);
    expect(await cli(['identities', 'list', '--colour'])).toMatchObject({ code: 2 });
    expect(await cli(['permissions', 'create', 'some-app'])).toMatchObject({ code: 2, stderr: 'grantory: missing --name\n  give the flags, or the whole body with --data JSON|@file|-\n' });
    expect((await cli(['roles', 'get', 'no-such-role'])).code).toBe(3);
    const unauthenticated = await cli(['identities', 'list'], { GRANTORY_API_KEY: 'not-a-key-0123456789abcdefghijklmnop' });
    expect(unauthenticated.code).toBe(4);
    expect(unauthenticated.stderr).toMatch(/^grantory: .*\(401 unauthenticated\)/);
    json(await cli(['identities', 'create', '--username', 'twice']));
    const conflict = await cli(['identities', 'create', '--username', 'twice']);
    expect(conflict.code).toBe(5);
    expect(conflict.stderr).toMatch(/\(409 conflict\)/);
    const closed = createServer();
    await new Promise<void>((resolveListen) => closed.listen(0, '127.0.0.1', () => resolveListen()));
    const port = (closed.address() as { port: number }).port;
    await new Promise<void>((resolveClose) => closed.close(() => resolveClose()));
    const network = await cli(['identities', 'list'], { GRANTORY_URL: `http://127.0.0.1:${port}` });
    expect(network).toMatchObject({ code: 6, stdout: '', stderr: `grantory: cannot reach http://127.0.0.1:${port}: ECONNREFUSED\n  the server comes from GRANTORY_URL\n` });
  });
});

describe('retries', PROCESS_TIMEOUT, () => {
  it('a 429 with Retry-After is tried again after the wait; a 503 without one fails with 6', async () => {
    const seen: string[] = [];
    const fake = createHttpServer((req, res) => {
      seen.push(`${req.method} ${req.url} ${req.headers.authorization}`);
      if (req.url === '/api/v1/me' && seen.length === 1) {
        res.writeHead(429, { 'content-type': 'application/problem+json', 'retry-after': '1' }).end(JSON.stringify({ title: 'Too many requests', status: 429, code: 'rate_limited', detail: 'slow down' }));
      } else if (req.url === '/api/v1/me') {
        res.writeHead(200, { 'content-type': 'application/json' }).end('{"name":"fake"}');
      } else {
        res.writeHead(503, { 'content-type': 'text/plain' }).end('down for maintenance');
      }
    });
    await new Promise<void>((resolveListen) => fake.listen(0, '127.0.0.1', () => resolveListen()));
    const url = `http://127.0.0.1:${(fake.address() as { port: number }).port}`;
    try {
      expect(await cli(['api', 'GET', 'me'], { GRANTORY_URL: url, GRANTORY_API_KEY: 'k' })).toMatchObject({ code: 0, stdout: '{\n  "name": "fake"\n}\n', stderr: '' });
      expect(seen).toEqual(['GET /api/v1/me Bearer k', 'GET /api/v1/me Bearer k']);
      expect(await cli(['identities', 'list'], { GRANTORY_URL: url, GRANTORY_API_KEY: 'k' })).toMatchObject({ code: 6, stderr: 'grantory: the server answered 503: down for maintenance\n' });
    } finally {
      await new Promise<void>((resolveClose) => fake.close(() => resolveClose()));
    }
  });
});

describe('connection profiles', PROCESS_TIMEOUT, () => {
  it('login checks and saves the credential (mode 0600); --profile picks it; logout removes it', async () => {
    const config = join(context.dir, 'profiles');
    const none = await runCli(['identities', 'list'], { GRANTORY_CONFIG_DIR: config });
    expect(none.code).toBe(2);
    expect(none.stderr).toMatch(/^grantory: no server to talk to\n/);
    const refused = await runCli(['login', '--url', context.server.url, '--api-key', 'wrong-key-0123456789abcdefghijklmnopq'], { GRANTORY_CONFIG_DIR: config });
    expect(refused.code).toBe(4);
    const login = await runCli(['login', '--url', context.server.url, '--api-key', ADMIN_KEY, '--profile', 'prod'], { GRANTORY_CONFIG_DIR: config });
    expect(login).toMatchObject({ code: 0, stdout: '' });
    expect(login.stderr).toMatch(/^logged in to http:\/\/.* profile "prod" saved in .*config\.json \(default\)\n$/);
    const file = join(config, 'config.json');
    expect(statSync(file).mode & 0o777).toBe(0o600);
    expect(JSON.parse(readFileSync(file, 'utf8'))).toEqual({ defaultProfile: 'prod', profiles: { prod: { url: context.server.url, apiKey: ADMIN_KEY } } });
    // The default profile and an explicit one; an unknown one is a usage error.
    const viaProfile = { GRANTORY_CONFIG_DIR: config };
    expect((await runCli(['identities', 'list', '-q', '--limit', '1'], viaProfile)).code).toBe(0);
    expect((await runCli(['identities', 'list', '-q', '--limit', '1', '--profile', 'prod'], viaProfile)).code).toBe(0);
    expect(await runCli(['identities', 'list', '--profile', 'staging'], viaProfile)).toMatchObject({ code: 2, stderr: `grantory: no profile "staging" in ${file}\n  profiles: prod\n` });
    expect(JSON.parse((await runCli(['profiles', '-o', 'json'], viaProfile)).stdout)).toEqual([{ name: 'prod', url: context.server.url, credential: 'api key', default: true }]);
    expect(await runCli(['logout', '--profile', 'prod'], viaProfile)).toMatchObject({ code: 0 });
    expect(JSON.parse(readFileSync(file, 'utf8')).profiles).toEqual({});

    // An OAuth 2.0 client: a token from /oauth/token for each run, from the environment or a profile.
    const client = json(await cli(['clients', 'create', '--name', 'scheduler']));
    const clientEnv = { GRANTORY_URL: context.server.url, GRANTORY_CLIENT_ID: client.clientId, GRANTORY_CLIENT_SECRET: client.clientSecret, GRANTORY_CONFIG_DIR: config };
    expect(await runCli(['identities', 'get', client.identityId, '--fields', 'username', '-o', 'csv'], clientEnv)).toMatchObject({ code: 0, stdout: 'username\nadmin\n' });
    expect(await runCli(['identities', 'list', '-q'], { ...clientEnv, GRANTORY_CLIENT_SECRET: 'wrong' })).toMatchObject({ code: 4, stderr: expect.stringMatching(new RegExp(`^grantory: cannot get a token for client ${client.clientId}: `)) });
    expect(await runCli(['login', '--url', context.server.url, '--client-id', client.clientId, '--client-secret', client.clientSecret, '--profile', 'sched'], viaProfile)).toMatchObject({ code: 0 });
    expect((await runCli(['identities', 'list', '-q', '--limit', '1'], viaProfile)).code).toBe(0);
  });
});

describe('imports', PROCESS_TIMEOUT, () => {
  it('upload --watch follows the import to its end; watch of a failed import exits 1', async () => {
    const app = json(await cli(['applications', 'create', '--name', 'Ledger']));
    json(await cli(['api', 'PUT', `applications/${app.id}/connector`, '--data', JSON.stringify({ type: 'file', fileGroups: [{ name: 'grants', pattern: 'grants.csv', columns: { accountName: 'login', permission: 'entitlement' } }], matching: [], unknownPermissions: 'create' })]));
    const csv = join(context.dir, 'grants.csv');
    writeFileSync(csv, 'login,entitlement\nalice,ledger.read\nbob,ledger.write\n');
    const done = await cli(['imports', 'upload', '--application-id', app.id, '--file', `grants=${csv}`, '--watch', '--interval', '0.2']);
    expect(done.stderr).toBe('');
    expect(done.code).toBe(0);
    const finished = JSON.parse(done.stdout) as Json;
    expect(finished).toMatchObject({ status: 'Finished', applicationId: app.id });
    expect(await cli(['imports', 'watch', finished.id, '--fields', 'status', '-o', 'csv'])).toEqual({ code: 0, signal: null, stdout: 'status\nFinished\n', stderr: '' });

    const bad = join(context.dir, 'bad.csv');
    writeFileSync(bad, 'wrong,header\n1,2\n');
    const failed = await cli(['imports', 'upload', '--application-id', app.id, '--file', `grants=${bad}`, '--watch', '--interval', '0.2']);
    expect(failed.code).toBe(1);
    expect(JSON.parse(failed.stdout)).toMatchObject({ status: 'Failed' });
    expect(failed.stderr).toMatch(/^grantory: import #\d+ Failed: /);
    expect(await cli(['imports', 'upload', '--application-id', app.id, '--file', `payroll=${csv}`])).toMatchObject({ code: 2, stderr: expect.stringMatching(/has no file group "payroll"\n {2}file groups: grants\n$/) });

    // On a terminal: a progress bar on stderr, then the table.
    const shown = await onTerminal(`${G} imports upload --application-id ${app.id} --file grants=${csv} --watch --interval 0.2`, { NO_COLOR: '1' });
    expect(shown.code).toBe(0);
    // The bytes sent, then the import's progress.
    const size = statSync(csv).size;
    expect(shown.output).toMatch(new RegExp(`upload \\[[^\\]]*\\] 100% ${size} B of ${size} B`));
    expect(shown.output).toMatch(/import #\d+ Finished .*\d+\/\d+ rows, 1 files/);
    expect(shown.output).toMatch(/status\s+Finished/);
  });
});

describe('on a terminal', PROCESS_TIMEOUT, () => {
  it('a table by default, in colour unless NO_COLOR', async () => {
    json(await cli(['identities', 'create', '--username', 'tabled', '--display-name', 'Tab Led']));
    const plain = await onTerminal(`${G} identities list --q tabled`, { NO_COLOR: '1' });
    expect(plain.code).toBe(0);
    expect(plain.output).not.toContain(ESC);
    expect(plain.output).toMatch(/^id\s+username\s+displayName\s+email\s+type\s+status\r?\n\S+\s+tabled\s+Tab Led\s+employee\s+active\r?\n$/);
    const coloured = await onTerminal(`${G} identities list --q tabled`);
    expect(coloured.output).toContain(`${ESC}[`);
    // An export's progress (rows and bytes) on stderr when it is a terminal.
    const exported = await onTerminal(`${G} exports effective-permissions --space assigned --format csv --out ${join(context.dir, 'tty.csv')}`);
    expect(exported.code).toBe(0);
    expect(exported.output).toMatch(/\r\d+ rows, \d+(\.\d)? (B|KiB|MiB)\r?\n/);
    // The same command on a pipe: JSON, no colour.
    expect(json(await cli(['identities', 'list', '--q', 'tabled']))).toHaveLength(1);
  });
});

describe('shell completion', PROCESS_TIMEOUT, () => {
  it('bash and zsh scripts parse and complete commands, subcommands and flag values; fish names them', async () => {
    const bash = await cli(['completion', 'bash']);
    expect(bash.code).toBe(0);
    const script = join(context.dir, 'grantory.bash');
    writeFileSync(script, bash.stdout);
    const complete = (line: string) =>
      execFileSync('bash', ['-c', `source ${script}; COMP_WORDS=(${line}); COMP_CWORD=$((\${#COMP_WORDS[@]}-1)); _grantory; echo "\${COMPREPLY[*]}"`], { encoding: 'utf8' }).trim();
    expect(complete('grantory ide')).toBe('identities');
    expect(complete('grantory identities l').split(' ')).toEqual(['list']);
    expect(complete('grantory identities list --st').split(' ')).toEqual(['--status']);
    expect(complete('grantory identities list -o ""')).toBe('table json ndjson csv yaml');
    expect(complete('grantory identities list --status o')).toBe('on_leave');
    expect((await cli(['completion', 'zsh'])).stdout).toMatch(/^#compdef grantory\n/);
    const fish = (await cli(['completion', 'fish'])).stdout;
    expect(fish).toContain("complete -c grantory -n '__fish_use_subcommand' -a identities -d 'people and service accounts'");
    expect(fish).toMatch(/complete -c grantory -n '__fish_seen_subcommand_from identities; and __fish_seen_subcommand_from list' -l status -x -a 'active on_leave terminated'/);
    expect(await cli(['completion', 'tcsh'])).toMatchObject({ code: 2 });
  });
});

// Last: it edits the trail behind the server's back.
describe('audit verify --remote', PROCESS_TIMEOUT, () => {
  it('checks the chain and the checkpoints over the API; an edited event is found (exit 1)', async () => {
    json(await cli(['api', 'POST', 'audit-checkpoints']));
    const exported = join(context.dir, 'checkpoints.json');
    writeFileSync(exported, (await cli(['api', 'GET', 'audit-checkpoints', '--query', 'limit=10'])).stdout);
    const ok = await cli(['audit', 'verify', '--remote', '--checkpoints', exported]);
    expect(ok.stderr).toBe('');
    expect(ok.code).toBe(0);
    expect(ok.stdout).toMatch(/^tenant default: ok, \d+ events, 2 checkpoints matched, head [0-9a-f]{64}\n$/);

    const edit = "update audit_events set action = 'identity.delete' where seq = 3";
    if (context.database) {
      const { default: pg } = await import('pg');
      const client = new pg.Client({ connectionString: context.database.url });
      await client.connect();
      await client.query(edit);
      await client.end();
    } else {
      const { default: Database } = await import('better-sqlite3');
      const db = new Database(join(context.dir, 'data', 'grantory.db'));
      db.prepare(edit).run();
      db.close();
    }
    expect(await cli(['audit', 'verify', '--remote'])).toMatchObject({ code: 1, stdout: 'tenant default: BROKEN at event #3: event #3 was altered after it was written\n', stderr: '' });
  });
});
