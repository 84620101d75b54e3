/**
 * The commands that work on the data of the configured database — `audit verify`,
 * `audit checkpoint`, `keys rotate` — as an operator sees them: output and exit codes before
 * the database is migrated, before the default tenant exists, and once it does.
 */
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { createServerSecrets } from '../../src/domain/server-secrets.ts';
import { bootstrap } from '../../src/services/bootstrap.ts';
import { openStore } from '../../src/store/open.ts';
import { PROCESS_TIMEOUT, runCli, tempDir } from '../support/cli.ts';
import { createThrowawayDatabase, TEST_BACKEND, TEST_SECRET_KEY, type ThrowawayDatabase } from '../support/harness.ts';

const PENDING = 'grantory: the database has pending migrations; run `grantory migrate` first\n';

describe(`the store commands (${TEST_BACKEND})`, PROCESS_TIMEOUT, () => {
  const dir = tempDir('store-commands');
  let database: ThrowawayDatabase | null = null;
  const env: Record<string, string> = { GRANTORY_DATA_DIR: dir.path, GRANTORY_SECRET_KEY: TEST_SECRET_KEY };

  beforeAll(async () => {
    if (TEST_BACKEND === 'postgres') {
      database = await createThrowawayDatabase();
      env.DATABASE_URL = database.url;
    }
  });
  afterAll(async () => {
    await database?.drop();
    dir.remove();
  });

  it('refuses to read or write a database with pending migrations (exit 2), then works through the tenant lifecycle', async () => {
    expect(await runCli(['audit', 'verify'], env)).toEqual({ code: 2, signal: null, stdout: '', stderr: PENDING });
    expect(await runCli(['keys', 'rotate'], env)).toEqual({ code: 2, signal: null, stdout: '', stderr: PENDING });

    expect((await runCli(['migrate'], env)).code).toBe(0);
    // Migrated, but no server has started yet: no tenant.
    expect(await runCli(['keys', 'rotate'], env)).toEqual({ code: 2, signal: null, stdout: '', stderr: 'grantory: no default tenant yet; start the server once first\n' });
    expect(await runCli(['audit', 'checkpoint'], env)).toEqual({ code: 0, signal: null, stdout: '', stderr: '' });
    expect(await runCli(['audit', 'verify'], env)).toEqual({ code: 0, signal: null, stdout: '', stderr: '' });

    const store = await openStore({ databaseUrl: env.DATABASE_URL, dataDir: dir.path });
    try {
      await bootstrap(store, { adminKey: 'store-commands-admin-key-0123456789abcdef', secrets: createServerSecrets(TEST_SECRET_KEY) });
    } finally {
      await store.close();
    }

    const checkpoint = await runCli(['audit', 'checkpoint'], env);
    expect(checkpoint.stdout).toMatch(/^tenant default: checkpoint at event #\d+, hash [0-9a-f]{64}\n$/);
    expect(checkpoint).toMatchObject({ code: 0, stderr: '' });

    const rotate = await runCli(['keys', 'rotate'], env);
    expect(rotate.stdout).toMatch(/^new signing key [0-9a-f-]{36}; earlier keys keep verifying until their tokens expire \(nodes pick it up within \d+ s\)\n$/);
    expect(rotate).toMatchObject({ code: 0, stderr: '' });

    const verify = await runCli(['audit', 'verify'], env);
    expect(verify.stdout).toMatch(/^tenant default: ok, \d+ events, 1 checkpoints matched, head [0-9a-f]{64}\n$/);
    expect(verify).toMatchObject({ code: 0, stderr: '' });
  });
});
