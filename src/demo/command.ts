/**
 * `grantory demo`: a populated Grantory to look around in. Starts the server on a demo
 * tenant in its own data directory (`./data-demo` unless --data-dir / GRANTORY_DATA_DIR say
 * otherwise), seeded on the first start and reused afterwards.
 *
 *   grantory demo [--seed N] [--identities N] [--port P] [--data-dir D]
 *
 * Listens on 127.0.0.1 unless GRANTORY_HOST / --host is set. On the embedded store, the
 * administrator key is a fixed, printed demo key (unless GRANTORY_BOOTSTRAP_ADMIN_KEY is
 * set): the demo is for a laptop, never for real data.
 */
import { loadConfig } from '../config.ts';
import { openConfiguredStore } from '../configured-store.ts';
import { startServer } from '../server.ts';
import { systemActor } from '../services/kernel/index.ts';
import { bootstrap } from '../services/bootstrap.ts';
import { createServerSecrets } from '../domain/server-secrets.ts';
import { resolveSecretKey } from '../secret-key.ts';
import { createServices } from '../services/index.ts';
import { DEFAULT_DEMO_IDENTITIES, DEFAULT_DEMO_SEED } from './generator.ts';
import { seedDemoTenant } from './seed.ts';

export const DEMO_ADMIN_KEY = 'grantory-demo-admin-key-not-for-production';

interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

/** What `grantory demo` is asked for (the CLI checks the numbers); unset: the defaults. */
export interface DemoOptions {
  seed?: number;
  identities?: number;
}

export async function demo(settings: Record<string, string>, options: DemoOptions, io: Io): Promise<number> {
  const seed = options.seed ?? DEFAULT_DEMO_SEED;
  const identities = options.identities ?? DEFAULT_DEMO_IDENTITIES;
  const env = {
    ...process.env,
    GRANTORY_DATA_DIR: process.env.GRANTORY_DATA_DIR || './data-demo',
    GRANTORY_HOST: process.env.GRANTORY_HOST || '127.0.0.1',
  };
  const base = loadConfig(env, settings);
  const config = { ...base, bootstrapAdminKey: base.bootstrapAdminKey ?? (base.databaseUrl ? undefined : DEMO_ADMIN_KEY) };

  const store = await openConfiguredStore(config);
  try {
    await store.migrate();
    // The same secret the server started below resolves (the data directory's key file or GRANTORY_SECRET_KEY).
    const secrets = createServerSecrets(resolveSecretKey(config).secretKey);
    const boot = await bootstrap(store, { adminKey: config.bootstrapAdminKey, secrets });
    if (boot.generatedKey) io.err(`grantory: generated the administrator API key (shown once): ${boot.generatedKey}`);
    // The demo's account import runs through the import service: it needs the import directory.
    const services = createServices({ store, now: () => new Date(), secrets, imports: { importDir: config.importDir, uploadLimit: config.importUploadLimit } });
    const started = Date.now();
    const report = await seedDemoTenant(services.deps, systemActor(boot.tenantId, 'demo'), { seed, identities, progress: (line) => io.err(`grantory: seeding the demo tenant: ${line}`) });
    if (report) io.err(`grantory: seeded the demo tenant (seed ${seed}) in ${Date.now() - started} ms: ${report.join('; ')}`);
    else io.err('grantory: the demo tenant is already seeded; reusing it');
  } finally {
    await store.close();
  }

  // Listen for signals before starting (as `grantory serve` does): one that arrives during
  // startup stops the server as soon as it is up.
  const stopSignal = new Promise<string>((resolveSignal) => {
    process.once('SIGTERM', () => resolveSignal('SIGTERM'));
    process.once('SIGINT', () => resolveSignal('SIGINT'));
  });
  const server = await startServer(config, io);
  if (config.bootstrapAdminKey === DEMO_ADMIN_KEY) {
    io.out(`demo administrator key: ${DEMO_ADMIN_KEY}`);
    io.out(`try: curl -H "Authorization: Bearer ${DEMO_ADMIN_KEY}" "${server.url}/api/v1/identities?q=ada&limit=5"`);
  }
  io.err(`grantory: ${await stopSignal} received, stopping the demo`);
  await server.close();
  return 0;
}
