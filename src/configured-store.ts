/**
 * Opens the store a configuration names, for the server and the CLI commands alike.
 * Kept apart from `server.ts` so that `grantory migrate` and `grantory audit verify` load
 * the store without the HTTP stack.
 */
import { ConfigError, type Config } from './config.ts';
import { StoreOpenError, type Store } from './store/store.ts';
import { openStore } from './store/open.ts';

/** Opens the store for a configuration; translates opening problems into ConfigErrors. */
export async function openConfiguredStore(config: Config, onQuery?: (ms: number, failed: boolean) => void): Promise<Store> {
  try {
    return await openStore({
      databaseUrl: config.databaseUrl,
      dataDir: config.dataDir,
      sqliteSynchronous: config.sqliteSynchronous,
      onQuery,
    });
  } catch (e) {
    if (e instanceof StoreOpenError) throw new ConfigError(e.setting, e.message);
    throw e;
  }
}

/** The database has migrations not applied yet: commands that read or write it refuse to run. */
export class PendingMigrationsError extends Error {
  override readonly name = 'PendingMigrationsError';
  constructor() {
    super('the database has pending migrations; run `grantory migrate` first');
  }
}

/** Opens the configured store for a command that uses its data; refuses (and closes it) while migrations are pending. */
export async function openMigratedStore(config: Config): Promise<Store> {
  const store = await openConfiguredStore(config);
  try {
    if ((await store.pendingMigrations()).length) throw new PendingMigrationsError();
    return store;
  } catch (e) {
    await store.close();
    throw e;
  }
}

/** Applies the pending migrations of the configured database; returns their names (none when it is up to date). */
export async function migrateConfiguredStore(config: Config): Promise<string[]> {
  const store = await openConfiguredStore(config);
  try {
    return await store.migrate();
  } finally {
    await store.close();
  }
}
