/**
 * Bad settings stop `grantory serve` with exit code 2 and exactly one line on stderr that
 * names the setting — no stack trace, no half-started server, no secret echoed.
 */
import { existsSync, writeFileSync } from 'node:fs';
import { availableParallelism } from 'node:os';
import { createServer, type Server } from 'node:net';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { ConfigError, loadConfig } from '../../src/config.ts';
import { PROCESS_TIMEOUT, runCli, tempDir } from '../support/cli.ts';

let dir: ReturnType<typeof tempDir>;
let occupied: Server;
let occupiedPort: number;

beforeAll(async () => {
  dir = tempDir('config');
  writeFileSync(join(dir.path, 'a-file'), 'not a directory\n');
  occupied = createServer();
  await new Promise<void>((resolveListen) => occupied.listen(0, '127.0.0.1', () => resolveListen()));
  const address = occupied.address();
  if (!address || typeof address !== 'object') throw new Error('no port');
  occupiedPort = address.port;
});

afterAll(async () => {
  await new Promise<void>((resolveClose) => occupied.close(() => resolveClose()));
  dir.remove();
});

/** A data directory of its own for each case, so that a case that wrongly starts shows it. */
const dataDir = (name: string) => join(dir.path, name);

interface Case {
  name: string;
  env: () => Record<string, string>;
  args?: string[];
  stderr: () => RegExp | string;
}

const cases: Case[] = [
  {
    name: 'GRANTORY_PORT not a number',
    env: () => ({ GRANTORY_PORT: 'abc', GRANTORY_DATA_DIR: dataDir('port-abc') }),
    stderr: () => 'grantory: GRANTORY_PORT: "abc" is not a port number (0-65535; 0 picks a free port)\n',
  },
  {
    name: 'GRANTORY_PORT in use',
    env: () => ({ GRANTORY_PORT: String(occupiedPort), GRANTORY_HOST: '127.0.0.1', GRANTORY_DATA_DIR: dataDir('port-in-use') }),
    stderr: () => `grantory: GRANTORY_PORT: port ${occupiedPort} is already in use\n`,
  },
  {
    name: 'GRANTORY_HOST that does not resolve',
    env: () => ({ GRANTORY_PORT: '0', GRANTORY_HOST: 'no-such-host.invalid', GRANTORY_DATA_DIR: dataDir('host') }),
    stderr: () => 'grantory: GRANTORY_HOST: cannot listen on host no-such-host.invalid\n',
  },
  {
    name: 'GRANTORY_DATA_DIR under a regular file',
    env: () => ({ GRANTORY_DATA_DIR: join(dir.path, 'a-file', 'data') }),
    stderr: () => `grantory: GRANTORY_DATA_DIR: ${join(dir.path, 'a-file', 'data')} is not a writable directory (ENOTDIR)\n`,
  },
  {
    name: 'DATABASE_URL unreachable',
    env: () => ({ DATABASE_URL: 'postgres://postgres:s3cret-password@127.0.0.1:1/x' }),
    stderr: () => /^grantory: DATABASE_URL: cannot connect to PostgreSQL at 127\.0\.0\.1:1\/x: connect ECONNREFUSED 127\.0\.0\.1:1\n$/,
  },
  {
    name: 'DATABASE_URL not a PostgreSQL URL',
    env: () => ({ DATABASE_URL: 'mysql://root:s3cret-password@127.0.0.1/x' }),
    stderr: () => 'grantory: DATABASE_URL: must be a postgres:// or postgresql:// URL (leave it unset for the embedded SQLite store)\n',
  },
  {
    name: 'GRANTORY_BOOTSTRAP_ADMIN_KEY too short',
    env: () => ({ GRANTORY_BOOTSTRAP_ADMIN_KEY: 's3cret-password', GRANTORY_DATA_DIR: dataDir('short-key') }),
    stderr: () => 'grantory: GRANTORY_BOOTSTRAP_ADMIN_KEY: must be 32 to 512 characters without spaces\n',
  },
  {
    name: 'GRANTORY_LOG_LEVEL unknown',
    env: () => ({ GRANTORY_LOG_LEVEL: 'loud', GRANTORY_DATA_DIR: dataDir('log-level') }),
    stderr: () => 'grantory: GRANTORY_LOG_LEVEL: "loud" is not one of fatal, error, warn, info, debug, trace, silent\n',
  },
  {
    name: 'GRANTORY_LOG_FORMAT unknown',
    env: () => ({ GRANTORY_LOG_FORMAT: 'xml', GRANTORY_DATA_DIR: dataDir('log-format') }),
    stderr: () => 'grantory: GRANTORY_LOG_FORMAT: "xml" is not one of pretty, json\n',
  },
  {
    name: 'GRANTORY_BODY_LIMIT not a byte count',
    env: () => ({ GRANTORY_BODY_LIMIT: '1mb', GRANTORY_DATA_DIR: dataDir('body-limit') }),
    stderr: () => 'grantory: GRANTORY_BODY_LIMIT: "1mb" is not a byte count between 1024 and 1073741824\n',
  },
];

describe('grantory serve with a bad setting', PROCESS_TIMEOUT, () => {
  it.concurrent.each(cases)('$name: one line naming it, exit 2', async ({ env, args, stderr }) => {
    const settings = env();
    const result = await runCli(['serve', ...(args ?? [])], settings);
    const expected = stderr();
    if (typeof expected === 'string') expect(result.stderr).toBe(expected);
    else expect(result.stderr).toMatch(expected);
    expect(result.stderr).not.toContain('s3cret-password');
    expect(result.stdout).toBe('');
    expect(result.code).toBe(2);
    // Settings are checked before the store is opened: nothing is created for a bad value.
    const data = settings.GRANTORY_DATA_DIR;
    if (data && !/port-in-use|host/.test(data)) expect(existsSync(data)).toBe(false);
  });

  it('a flag wins over its variable and is checked the same way', async () => {
    const result = await runCli(['serve', '--port', 'abc'], { GRANTORY_PORT: '0', GRANTORY_DATA_DIR: dataDir('flag-port') });
    expect(result).toEqual({ code: 2, signal: null, stdout: '', stderr: 'grantory: GRANTORY_PORT: "abc" is not a port number (0-65535; 0 picks a free port)\n' });
    expect(existsSync(dataDir('flag-port'))).toBe(false);
  });

  it('an unknown command is a usage error (exit 2)', async () => {
    const result = await runCli(['serv'], {});
    expect(result.stderr.split('\n').slice(0, 2)).toEqual(["grantory: unknown command 'serv'", '(Did you mean serve?)']);
    expect(result.stdout).toBe('');
    expect(result.code).toBe(2);
  });
});

/** The rest of the settings' rules, checked in-process (the spawned cases above show the rendering). */
describe('loadConfig', () => {
  const settingOf = (env: Record<string, string>, flags: Record<string, string> = {}) => {
    try {
      loadConfig(env, flags);
      return null;
    } catch (e) {
      expect(e).toBeInstanceOf(ConfigError);
      return `${(e as ConfigError).setting} | ${(e as ConfigError).message}`;
    }
  };

  it('has the documented defaults', () => {
    expect(loadConfig({})).toEqual({
      port: 8080,
      host: '0.0.0.0',
      dataDir: './data',
      databaseUrl: undefined,
      bootstrapAdminKey: undefined,
      logLevel: 'info',
      logFormat: undefined,
      accessLog: 'useful',
      slowRequestMs: 1000,
      workers: Math.min(availableParallelism(), 8),
      bodyLimit: 1048576,
      sqliteSynchronous: 'FULL',
      auditCheckpointIntervalMs: 3_600_000,
      deliveryIntervalMs: 1000,
      schedulerIntervalMs: 1000,
      schedulerLeaseSeconds: 60,
      historyRetentionDays: 0,
      importDir: './data/imports',
      importUploadLimit: 1073741824,
      importLeaseSeconds: 30,
      secretKey: undefined,
      publicUrl: undefined,
      tokenTtlSeconds: 900,
      tokenAudience: 'urn:grantory:api',
      signingKeyRotationDays: 90,
      externalIssuer: undefined,
      sessions: { idleSeconds: 1800, maxSeconds: 43_200, maxFailures: 5, failureWindowSeconds: 900, lockoutSeconds: 900, tenant: 'default' },
      consoleOidc: undefined,
      rateLimits: { windowSeconds: 60, perCredential: 600, decisionPerCredential: 6_000_000, tokenPerClient: 60, authFailuresPerIp: 30 },
      connections: { headersTimeoutMs: 15_000, requestTimeoutMs: 60_000, uploadTimeoutMs: 3_600_000, keepAliveTimeoutMs: 5_000, maxConnections: 2048, shutdownGraceMs: 20_000 },
    });
  });

  it('reads the connection limits in seconds and refuses values out of range', () => {
    expect(
      loadConfig({ GRANTORY_HEADERS_TIMEOUT: '10', GRANTORY_REQUEST_TIMEOUT: '120', GRANTORY_UPLOAD_TIMEOUT: '7200', GRANTORY_KEEP_ALIVE_TIMEOUT: '8', GRANTORY_MAX_CONNECTIONS: '5000', GRANTORY_SHUTDOWN_GRACE: '0' }).connections,
    ).toEqual({ headersTimeoutMs: 10_000, requestTimeoutMs: 120_000, uploadTimeoutMs: 7_200_000, keepAliveTimeoutMs: 8_000, maxConnections: 5000, shutdownGraceMs: 0 });
    expect(settingOf({ GRANTORY_HEADERS_TIMEOUT: '0' })).toBe('GRANTORY_HEADERS_TIMEOUT | GRANTORY_HEADERS_TIMEOUT: "0" is not a whole number between 1 and 300');
    expect(settingOf({ GRANTORY_REQUEST_TIMEOUT: '1.5' })).toMatch(/^GRANTORY_REQUEST_TIMEOUT \| /);
    expect(settingOf({ GRANTORY_UPLOAD_TIMEOUT: '86401' })).toMatch(/^GRANTORY_UPLOAD_TIMEOUT \| /);
    expect(settingOf({ GRANTORY_KEEP_ALIVE_TIMEOUT: '0' })).toMatch(/^GRANTORY_KEEP_ALIVE_TIMEOUT \| /);
    expect(settingOf({ GRANTORY_MAX_CONNECTIONS: '0' })).toMatch(/^GRANTORY_MAX_CONNECTIONS \| /);
    expect(settingOf({ GRANTORY_SHUTDOWN_GRACE: '-1' })).toMatch(/^GRANTORY_SHUTDOWN_GRACE \| /);
  });

  it('reads the session and sign-in settings and refuses values out of range', () => {
    expect(
      loadConfig({
        GRANTORY_SESSION_IDLE_TIMEOUT: '600',
        GRANTORY_SESSION_MAX_AGE: '3600',
        GRANTORY_SIGN_IN_MAX_FAILURES: '3',
        GRANTORY_SIGN_IN_FAILURE_WINDOW: '60',
        GRANTORY_SIGN_IN_LOCKOUT: '120',
        GRANTORY_SIGN_IN_TENANT: 'acme',
      }).sessions,
    ).toEqual({ idleSeconds: 600, maxSeconds: 3600, maxFailures: 3, failureWindowSeconds: 60, lockoutSeconds: 120, tenant: 'acme' });
    expect(settingOf({ GRANTORY_SESSION_IDLE_TIMEOUT: '59' })).toBe('GRANTORY_SESSION_IDLE_TIMEOUT | GRANTORY_SESSION_IDLE_TIMEOUT: "59" is not a whole number between 60 and 86400');
    expect(settingOf({ GRANTORY_SESSION_IDLE_TIMEOUT: '3600', GRANTORY_SESSION_MAX_AGE: '1800' })).toMatch(/^GRANTORY_SESSION_MAX_AGE \| .*at least GRANTORY_SESSION_IDLE_TIMEOUT/);
    expect(settingOf({ GRANTORY_SIGN_IN_MAX_FAILURES: '-1' })).toMatch(/^GRANTORY_SIGN_IN_MAX_FAILURES \| /);
    expect(settingOf({ GRANTORY_SIGN_IN_LOCKOUT: '0' })).toMatch(/^GRANTORY_SIGN_IN_LOCKOUT \| /);
  });

  it('reads console OIDC sign-in, which needs a client and a redirect base', () => {
    const base = { GRANTORY_CONSOLE_OIDC_ISSUER: 'https://idp.example/realms/acme/', GRANTORY_CONSOLE_OIDC_CLIENT_ID: 'grantory-console', GRANTORY_CONSOLE_OIDC_CLIENT_SECRET: 's3cret' };
    expect(loadConfig({ ...base, GRANTORY_PUBLIC_URL: 'https://grantory.example/' }).consoleOidc).toEqual({
      issuer: 'https://idp.example/realms/acme',
      clientId: 'grantory-console',
      clientSecret: 's3cret',
      redirectBase: 'https://grantory.example',
      tenant: 'default',
      subjectClaim: 'sub',
    });
    expect(loadConfig({ ...base, GRANTORY_CONSOLE_OIDC_REDIRECT_BASE: 'http://localhost:8080', GRANTORY_CONSOLE_OIDC_TENANT: 'acme', GRANTORY_CONSOLE_OIDC_SUBJECT_CLAIM: 'preferred_username' }).consoleOidc).toMatchObject({
      redirectBase: 'http://localhost:8080',
      tenant: 'acme',
      subjectClaim: 'preferred_username',
    });
    expect(settingOf(base)).toMatch(/^GRANTORY_CONSOLE_OIDC_REDIRECT_BASE \| /);
    expect(settingOf({ ...base, GRANTORY_CONSOLE_OIDC_CLIENT_SECRET: '' , GRANTORY_PUBLIC_URL: 'https://g.example' })).toMatch(/^GRANTORY_CONSOLE_OIDC_CLIENT_SECRET \| /);
    expect(settingOf({ GRANTORY_CONSOLE_OIDC_ISSUER: 'idp.example' })).toMatch(/^GRANTORY_CONSOLE_OIDC_ISSUER \| /);
  });

  it('takes flags over the environment, and treats an empty variable as unset', () => {
    const settings = { GRANTORY_PORT: '9090', GRANTORY_DATA_DIR: '/srv/grantory', GRANTORY_LOG_LEVEL: 'warn' };
    expect(loadConfig({ GRANTORY_PORT: '7070', GRANTORY_DATA_DIR: '', GRANTORY_BODY_LIMIT: '2048' }, settings)).toMatchObject({
      port: 9090,
      dataDir: '/srv/grantory',
      logLevel: 'warn',
      bodyLimit: 2048,
    });
    expect(loadConfig({ GRANTORY_PORT: '0', GRANTORY_SQLITE_SYNCHRONOUS: 'normal' })).toMatchObject({ port: 0, sqliteSynchronous: 'NORMAL' });
    expect(loadConfig({ GRANTORY_LOG_FORMAT: 'json' }).logFormat).toBe('json');
    expect(loadConfig({ GRANTORY_LOG_FORMAT: 'json' }, { GRANTORY_LOG_FORMAT: 'pretty' }).logFormat).toBe('pretty');
    expect(loadConfig({ GRANTORY_WORKERS: '3' }, { GRANTORY_WORKERS: '2' }).workers).toBe(2);
    expect(loadConfig({ GRANTORY_ACCESS_LOG: 'all', GRANTORY_SLOW_REQUEST_MS: '250' })).toMatchObject({ accessLog: 'all', slowRequestMs: 250 });
    expect(loadConfig({ GRANTORY_RATE_LIMIT: '100', GRANTORY_DECISION_RATE_LIMIT: '0' }).rateLimits).toMatchObject({ perCredential: 100, decisionPerCredential: 0 });
  });

  it('refuses a worker count, access log or decision limit out of range', () => {
    expect(settingOf({ GRANTORY_WORKERS: '0' })).toBe('GRANTORY_WORKERS | GRANTORY_WORKERS: "0" is not a whole number between 1 and 64');
    expect(settingOf({ GRANTORY_ACCESS_LOG: 'some' })).toBe('GRANTORY_ACCESS_LOG | GRANTORY_ACCESS_LOG: "some" is not one of useful, all, off');
    expect(settingOf({ GRANTORY_DECISION_RATE_LIMIT: '-5' })).toMatch(/^GRANTORY_DECISION_RATE_LIMIT \| /);
  });

  it('names the setting of each bad value', () => {
    expect(settingOf({ GRANTORY_PORT: '70000' })).toBe('GRANTORY_PORT | GRANTORY_PORT: "70000" is not a port number (0-65535; 0 picks a free port)');
    expect(settingOf({ GRANTORY_PORT: '80.5' })).toMatch(/^GRANTORY_PORT \| /);
    expect(settingOf({}, { GRANTORY_PORT: '-1' })).toMatch(/^GRANTORY_PORT \| /);
    expect(settingOf({ GRANTORY_BODY_LIMIT: '10' })).toBe('GRANTORY_BODY_LIMIT | GRANTORY_BODY_LIMIT: "10" is not a byte count between 1024 and 1073741824');
    expect(settingOf({ GRANTORY_SQLITE_SYNCHRONOUS: 'off' })).toBe('GRANTORY_SQLITE_SYNCHRONOUS | GRANTORY_SQLITE_SYNCHRONOUS: "off" is not FULL or NORMAL');
    expect(settingOf({ GRANTORY_BOOTSTRAP_ADMIN_KEY: `${'k'.repeat(20)} ${'k'.repeat(20)}` })).toMatch(/^GRANTORY_BOOTSTRAP_ADMIN_KEY \| /);
    expect(settingOf({ GRANTORY_BOOTSTRAP_ADMIN_KEY: 'k'.repeat(513) })).toMatch(/^GRANTORY_BOOTSTRAP_ADMIN_KEY \| /);
    expect(settingOf({ GRANTORY_BOOTSTRAP_ADMIN_KEY: 'k'.repeat(32) })).toBeNull();
    expect(settingOf({ DATABASE_URL: 'postgres://' })).toMatch(/^DATABASE_URL \| /);
    expect(settingOf({ DATABASE_URL: 'postgresql://db.internal/grantory' })).toBeNull();
  });

  it('reads the access-history retention in days (0 keeps it all) and refuses values out of range', () => {
    expect(loadConfig({ GRANTORY_HISTORY_RETENTION_DAYS: '400' }).historyRetentionDays).toBe(400);
    expect(loadConfig({ GRANTORY_HISTORY_RETENTION_DAYS: '0' }).historyRetentionDays).toBe(0);
    expect(settingOf({ GRANTORY_HISTORY_RETENTION_DAYS: '-1' })).toMatch(/^GRANTORY_HISTORY_RETENTION_DAYS \| /);
    expect(settingOf({ GRANTORY_HISTORY_RETENTION_DAYS: '1.5' })).toMatch(/^GRANTORY_HISTORY_RETENTION_DAYS \| /);
    expect(settingOf({ GRANTORY_HISTORY_RETENTION_DAYS: '36501' })).toMatch(/^GRANTORY_HISTORY_RETENTION_DAYS \| /);
  });
});
