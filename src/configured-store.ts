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
