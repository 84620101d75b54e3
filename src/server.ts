/**
 * Starts a Grantory node: open the store, apply migrations, bootstrap, build the app,
 * listen, and shut down gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight
 * requests, close the store).
 */
import type { Config } from './config.ts';
import { ConfigError } from './config.ts';
import { buildApp, type App } from './api/app.ts';
import { createMetrics } from './api/metrics.ts';
import { bootstrap } from './services/bootstrap.ts';
import { createServices } from './services/index.ts';
import { AccessEngine } from './engine/engine.ts';
import { createImportWorker } from './jobs/import-worker.ts';
import { openStore, StoreOpenError, type Store } from './store/store.ts';

export interface RunningServer {
  app: App;
  store: Store;
  url: string;
  close(): Promise<void>;
}

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

export async function startServer(config: Config, io: { out: (line: string) => void; err: (line: string) => void }): Promise<RunningServer> {
  const metrics = createMetrics({ defaultMetrics: true });
  const store = await openConfiguredStore(config, metrics.observeQuery);
  try {
    const applied = await store.migrate();
    if (applied.length) io.err(`grantory: applied migrations ${applied.join(', ')}`);
    const boot = await bootstrap(store, { adminKey: config.bootstrapAdminKey });
    if (boot.generatedKey) {
      io.err('grantory: generated the administrator API key (shown once; store it now):');
      io.err(`  ${boot.generatedKey}`);
      io.err('  use it as: Authorization: Bearer <key>');
    }
    // The access index is built in the background; /readyz answers 503 until it is.
    const access = new AccessEngine(store, { clock: () => Date.now() });
    access.start().catch((e: unknown) => io.err(`grantory: building the access index failed: ${(e as Error).message}`));
    // Services tell the worker about new imports; the worker needs the services' deps: tie the knot.
    let kickImports = (): void => undefined;
    const services = createServices({
      store,
      now: () => new Date(),
      access,
      imports: { importDir: config.importDir, uploadLimit: config.importUploadLimit, notify: () => kickImports() },
    });
    const importWorker = createImportWorker({
      deps: services.deps,
      leaseMs: config.importLeaseSeconds * 1000,
      // One process owns an SQLite file: an import Running at start was interrupted.
      failRunningOnStart: store.dialect === 'sqlite',
      onError: (e) => io.err(`grantory: import worker: ${(e as Error).message}`),
    });
    kickImports = () => importWorker.kick();
    const app = await buildApp({
      services,
      store,
      metrics,
      bodyLimit: config.bodyLimit,
      logLevel: config.logLevel,
      readiness: async () => access.notReadyReason(),
    });
    try {
      await app.listen({ port: config.port, host: config.host });
    } catch (e) {
      access.stop();
      await app.close();
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new ConfigError('GRANTORY_PORT', `port ${config.port} is already in use`);
      if (code === 'EACCES') throw new ConfigError('GRANTORY_PORT', `not allowed to listen on port ${config.port}`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ConfigError('GRANTORY_HOST', `cannot listen on host ${config.host}`);
      throw e;
    }
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const url = `http://${shownHost}:${port}`;
    importWorker.start();
    io.out(`Grantory listening on ${url} (store: ${store.dialect === 'sqlite' ? `SQLite in ${config.dataDir}` : 'PostgreSQL'})`);
    let closing: Promise<void> | null = null;
    return {
      app,
      store,
      url,
      close: () => (closing ??= (async () => {
        access.stop();
        await app.close();
        await importWorker.stop();
        await store.close();
      })()),
    };
  } catch (e) {
    await store.close().catch(() => undefined);
    throw e;
  }
}
