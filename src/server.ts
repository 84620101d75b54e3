/**
 * Starts a Grantory node: open the store, apply migrations, build the app, listen, then
 * bootstrap; shut down gracefully on SIGTERM/SIGINT (stop accepting, finish in-flight
 * requests for at most the grace period, close the remaining connections and the store).
 */
import { type Config, ConfigError } from './config.ts';
import { buildApp, warmUpSchemas } from './api/app.ts';
import type { App } from './api/deps.ts';
import { createMetrics } from './api/metrics.ts';
import { startJobs } from './jobs/index.ts';
import { bootstrap } from './services/bootstrap.ts';
import { createServices, DEFAULT_SECURITY, EXTERNAL_ALGORITHMS } from './services/index.ts';
import type { SecuritySettings } from './services/deps.ts';
import { AccessEngine } from './engine/engine.ts';
import { createServerSecrets } from './domain/server-secrets.ts';
import { resolveSecretKey } from './secret-key.ts';
import { openConfiguredStore } from './configured-store.ts';
import { createImportWorker } from './jobs/import-worker.ts';
import type { Store } from './store/store.ts';
import { CONSOLE_DIR } from './domain/install-dir.ts';
import { announceListening, clusterExposition, firstWorkerListening, primaryRateTransport, workerIndex } from './cluster.ts';
import { createSharedRateCounter, storeRateTransport } from './services/kernel/index.ts';
import { CONSOLE_PATH, DOCS_PATH, consoleInstalled } from './api/routes/front-door.ts';

/**
 * Binds the port without Fastify's own "Server listening at ..." line: Fastify logs it at
 * `info` for every bound address, unconditionally, while the start message on stderr (and
 * the "Grantory listening on" line) already says where the server is. The logger is held at
 * `warn` while the port is bound (never made louder than configured) and restored at once.
 */
async function listenQuietly(app: App, options: { port: number; host: string }): Promise<void> {
  // Fastify's logger is pino's when logging is on (levelVal and levels are pino's, not in
  // Fastify's base type); with logging off (`silent`) it is a no-op logger without them.
  const log = app.log as typeof app.log & { levelVal?: number; levels?: { values?: Record<string, number> } };
  const level = log.level;
  const warn = log.levels?.values?.warn;
  const quieter = typeof log.levelVal === 'number' && typeof warn === 'number' && log.levelVal < warn;
  if (quieter) log.level = 'warn';
  try {
    await app.listen(options);
  } finally {
    if (quieter) log.level = level;
  }
}

export interface RunningServer {
  app: App;
  store: Store;
  url: string;
  close(): Promise<void>;
}

export async function startServer(config: Config, io: { out: (line: string) => void; err: (line: string) => void }): Promise<RunningServer> {
  // One of several workers (src/cluster.ts), or the only process.
  const worker = workerIndex();
  const first = worker === null || worker === 1;
  // A worker after the first joins a node that serves already: it waits for the first to have
  // migrated and bootstrapped the database, and listens only once it is ready (cluster.ts).
  const joining = !first;
  if (joining) await firstWorkerListening();
  // A worker's /metrics shows every worker of the node (summed by the primary).
  const metrics = createMetrics({ defaultMetrics: true, ...(worker !== null ? { exposition: clusterExposition } : {}) });
  const store = await openConfiguredStore(config, metrics.observeQuery);
  // Rate limits across processes: PostgreSQL nodes and workers share counters in the
  // database; SQLite workers in the primary; a lone SQLite process counts in memory.
  const rateTransport = store.dialect === 'postgres' ? storeRateTransport(store) : worker !== null ? primaryRateTransport() : null;
  const rateCounter = rateTransport
    ? createSharedRateCounter(rateTransport, { onError: (e) => io.err(`grantory: sharing rate-limit counts failed (retrying): ${(e as Error).message}`) })
    : null;
  let app: App | undefined;
  let access: AccessEngine | undefined;
  try {
    const applied = joining ? [] : await store.migrate();
    let bootstrapped = false;
    const { secretKey, generatedFile } = resolveSecretKey(config);
    const secrets = createServerSecrets(secretKey);
    // The token issuer is the public URL, or the URL this node listens on once it is known.
    let issuer = config.publicUrl ?? `http://localhost:${config.port}`;
    const security: SecuritySettings = {
      ...DEFAULT_SECURITY,
      issuer: () => issuer,
      audience: config.tokenAudience,
      accessTokenTtlSeconds: config.tokenTtlSeconds,
      keyRing: {
        ...DEFAULT_SECURITY.keyRing,
        rotationDays: config.signingKeyRotationDays,
        retiredKeyTtlSeconds: Math.max(DEFAULT_SECURITY.keyRing.retiredKeyTtlSeconds, config.tokenTtlSeconds + DEFAULT_SECURITY.clockToleranceSeconds),
      },
      externalIssuer: config.externalIssuer ? { ...config.externalIssuer, algorithms: EXTERNAL_ALGORITHMS } : null,
      sessions: config.sessions,
      consoleOidc: config.consoleOidc ?? null,
    };
    // The access index is built in the background (after bootstrap, below); /readyz answers
    // 503 until it is.
    access = new AccessEngine(store, { clock: () => Date.now() });
    const engine = access;
    // Services tell the worker about new imports; the worker needs the services' deps: tie the knot.
    let kickImports = (): void => undefined;
    const services = createServices({
      store,
      now: () => new Date(),
      secrets,
      security,
      access: engine,
      imports: { importDir: config.importDir, uploadLimit: config.importUploadLimit, notify: () => kickImports() },
    });
    const importWorker = createImportWorker({
      deps: services.deps,
      leaseMs: config.importLeaseSeconds * 1000,
      // One process owns an SQLite file: an import Running at start was interrupted.
      failRunningOnStart: store.dialect === 'sqlite',
      onError: (e) => io.err(`grantory: import worker: ${(e as Error).message}`),
    });
    // Another worker's new import waits for the first worker's next poll.
    if (first) kickImports = () => importWorker.kick();
    app = await buildApp({
      services,
      store,
      metrics,
      bodyLimit: config.bodyLimit,
      logLevel: config.logLevel,
      logFormat: config.logFormat ?? (process.stdout.isTTY ? 'pretty' : 'json'),
      consoleDir: CONSOLE_DIR,
      rateLimits: config.rateLimits,
      rateCounter,
      accessLog: config.accessLog,
      slowRequestMs: config.slowRequestMs,
      connections: config.connections,
      readiness: async () => (bootstrapped ? engine.notReadyReason() : 'the first-start setup is not finished'),
    });
    const built = app;
    const warmUp = async (): Promise<void> => {
      const { errors } = await warmUpSchemas(built);
      for (const e of errors) io.err(`grantory: a route schema does not compile: ${e.message}`);
    };
    if (joining) {
      await engine.start();
      await warmUp();
      bootstrapped = true;
    }
    try {
      await listenQuietly(app, { port: config.port, host: config.host });
    } catch (e) {
      const code = (e as NodeJS.ErrnoException).code;
      if (code === 'EADDRINUSE') throw new ConfigError('GRANTORY_PORT', `port ${config.port} is already in use`);
      if (code === 'EACCES') throw new ConfigError('GRANTORY_PORT', `not allowed to listen on port ${config.port}`);
      if (code === 'EADDRNOTAVAIL' || code === 'ENOTFOUND') throw new ConfigError('GRANTORY_HOST', `cannot listen on host ${config.host}`);
      throw e;
    }
    // Bootstrap only once the port is bound: a generated administrator key is shown once,
    // so it must be shown by a start that goes on serving, not by one that then fails
    // (after which the key would exist but nobody could have kept it).
    const boot = joining ? { generatedKey: null } : await bootstrap(store, { adminKey: config.bootstrapAdminKey, secrets });
    bootstrapped = true;
    // Schemas compile on first use; the rest once the index is built (lazy-schemas.ts).
    if (!joining) engine.start().then(warmUp, (e: unknown) => io.err(`grantory: building the access index failed: ${(e as Error).message}`));
    if (applied.length) io.err(`grantory: applied migrations ${applied.join(', ')}`);
    if (generatedFile) io.err(`grantory: generated the server secret key into ${generatedFile} (back it up with the database)`);
    const address = app.server.address();
    const port = typeof address === 'object' && address ? address.port : config.port;
    const shownHost = config.host === '0.0.0.0' || config.host === '::' ? 'localhost' : config.host;
    const url = `http://${shownHost}:${port}`;
    if (!config.publicUrl) issuer = url;
    const running = app;
    // Background jobs and the import worker run in one process of a node (the first worker).
    const jobs = !first ? { stop: async () => undefined } : startJobs(services.deps, {
      checkpointIntervalMs: config.auditCheckpointIntervalMs,
      deliveryIntervalMs: config.deliveryIntervalMs,
      schedulerIntervalMs: config.schedulerIntervalMs,
      schedulerLeaseMs: config.schedulerLeaseSeconds * 1000,
      historyRetentionDays: config.historyRetentionDays,
      onError: (job, e) => running.log.error({ err: e, job }, 'background job failed'),
    });
    if (first) importWorker.start();
    const listening = `Grantory listening on ${url} (store: ${store.dialect === 'sqlite' ? `SQLite in ${config.dataDir}` : 'PostgreSQL'})`;
    if (worker === null) io.out(listening);
    else announceListening(url, listening);
    if (boot.generatedKey) {
      io.err('grantory: generated the administrator API key (shown once; store it now):');
      io.err(`  ${boot.generatedKey}`);
      io.err(`  use it as: Authorization: Bearer <key>, e.g. curl -H "Authorization: Bearer <key>" ${url}/api/v1/me`);
    }
    if (first) io.err(
      consoleInstalled(CONSOLE_DIR)
        ? `grantory: next: open ${url}${CONSOLE_PATH} (the console) or ${url}${DOCS_PATH} (the API reference)`
        : `grantory: next: open ${url}${DOCS_PATH} (the API reference; ${url}/ lists the starting points)`,
    );
    let closing: Promise<void> | null = null;
    return {
      app: running,
      store,
      url,
      close: () => (closing ??= (async () => {
        // Requests in flight get the grace period; connections still open then are cut.
        const grace = setTimeout(() => {
          io.err(`grantory: closing connections still open after the ${config.connections.shutdownGraceMs / 1000} s grace period`);
          running.server.closeAllConnections();
        }, config.connections.shutdownGraceMs);
        try {
          await running.close();
        } finally {
          clearTimeout(grace);
        }
        await importWorker.stop();
        await jobs.stop();
        engine.stop();
        await rateCounter?.stop().catch(() => undefined);
        await store.close();
      })()),
    };
  } catch (e) {
    access?.stop();
    await app?.close().catch(() => undefined);
    await rateCounter?.stop().catch(() => undefined);
    await store.close().catch(() => undefined);
    throw e;
  }
}
