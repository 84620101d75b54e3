/**
 * One `grantory serve` for a test file of the client commands: started before the file's tests
 * on the run's database backend (a throwaway PostgreSQL database, or SQLite in a temporary
 * directory), checked after each test (a server that ended says why, rather than the next
 * test's ECONNREFUSED), and ended with its database and directory after the file.
 */
import { join } from 'node:path';
import { afterAll, afterEach, beforeAll, expect } from 'vitest';
import { killAllServers, runCli, startServer, tempDir, type CliResult, type ServerProcess } from './cli.ts';
import { ADMIN_KEY, createThrowawayDatabase, TEST_BACKEND, TEST_SECRET_KEY, type ThrowawayDatabase } from './harness.ts';

export interface ClientServer {
  /** The file's temporary directory (the server's data is in data/, the client's config in config/). */
  readonly dir: string;
  readonly server: ServerProcess;
  readonly database: ThrowawayDatabase | null;
  /** GRANTORY_URL, GRANTORY_API_KEY (the bootstrap admin) and GRANTORY_CONFIG_DIR for the client. */
  readonly env: Record<string, string>;
  /** `grantory <args>` with env (and the extra variables). */
  cli(args: string[], extra?: Record<string, string>): Promise<CliResult>;
}

/** Registers the file's hooks; the fields are set once its beforeAll has run. */
export function useClientServer(label: string): ClientServer {
  const dir = tempDir(label);
  const state = { dir: dir.path, database: null as ThrowawayDatabase | null, server: undefined as unknown as ServerProcess, env: {} as Record<string, string> };
  beforeAll(async () => {
    state.database = TEST_BACKEND === 'postgres' ? await createThrowawayDatabase() : null;
    state.server = await startServer({
      GRANTORY_DATA_DIR: join(dir.path, 'data'),
      GRANTORY_BOOTSTRAP_ADMIN_KEY: ADMIN_KEY,
      GRANTORY_SECRET_KEY: TEST_SECRET_KEY,
      ...(state.database ? { DATABASE_URL: state.database.url } : {}),
    });
    state.env = { GRANTORY_URL: state.server.url, GRANTORY_API_KEY: ADMIN_KEY, GRANTORY_CONFIG_DIR: join(dir.path, 'config') };
  }, 120_000);
  afterEach(() => {
    const ended = state.server.child.exitCode ?? state.server.child.signalCode;
    if (ended !== null) throw new Error(`the server ended (${ended}):\n${state.server.stdout()}\n${state.server.stderr()}`);
  });
  afterAll(async () => {
    await killAllServers();
    await state.database?.drop();
    dir.remove();
  });
  return Object.assign(state, { cli: (args: string[], extra: Record<string, string> = {}) => runCli(args, { ...state.env, ...extra }) });
}

/** The JSON a command printed, after checking that it succeeded quietly. */
export function printedJson<T = unknown>(result: CliResult): T {
  expect(result.stderr).toBe('');
  expect(result.code).toBe(0);
  return JSON.parse(result.stdout) as T;
}
