/**
 * The `grantory` command.
 *
 *   grantory serve [--port N] [--host H] [--data-dir D] [--database-url URL] [--log-level L]
 *   grantory migrate
 *   grantory audit verify
 *   grantory keys rotate
 *   grantory openapi [--out FILE | --check FILE]
 *
 * Exit codes: 0 success, 1 failure (e.g. a broken audit chain), 2 bad configuration or usage.
 */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { ConfigError, loadConfig, parseFlags } from '../config.ts';
// Everything else is imported by the command that needs it, after the settings are checked:
// a bad setting is reported at once, without loading the HTTP stack and database drivers,
// and `migrate` or `audit verify` never load Fastify.

const USAGE = `usage: grantory <command>
  serve           start the server (default command)
  migrate         apply pending database migrations
  audit verify    check the audit trail's hash chain
  keys rotate     make a new token-signing key the active one (earlier keys keep verifying)
  openapi         print the OpenAPI document (--out FILE writes it, --check FILE compares)
settings: GRANTORY_PORT, GRANTORY_HOST, GRANTORY_DATA_DIR, DATABASE_URL, GRANTORY_SECRET_KEY,
  GRANTORY_PUBLIC_URL, GRANTORY_BOOTSTRAP_ADMIN_KEY, GRANTORY_LOG_LEVEL, GRANTORY_BODY_LIMIT (or --port, --host,
  --data-dir, --database-url, --log-level, --body-limit)`;

const out = (line: string) => process.stdout.write(`${line}\n`);
const err = (line: string) => process.stderr.write(`${line}\n`);

export async function main(argv: string[]): Promise<number> {
  try {
    const { settings, rest } = parseFlags(argv);
    const [command = 'serve', ...args] = rest;
    switch (command) {
      case 'serve':
        return await serve(settings);
      case 'migrate':
        return await migrate(settings);
      case 'audit':
        if (args[0] === 'verify') return await auditVerify(settings);
        err(USAGE);
        return 2;
      case 'keys':
        if (args[0] === 'rotate') return await rotateKeys(settings);
        err(USAGE);
        return 2;
      case 'openapi':
        return await openapi(args);
      case 'help':
      case '--help':
      case '-h':
        out(USAGE);
        return 0;
      default:
        err(`grantory: unknown command "${command}"\n${USAGE}`);
        return 2;
    }
  } catch (e) {
    if (e instanceof ConfigError) {
      err(`grantory: ${e.message}`);
      return 2;
    }
    err(`grantory: ${(e as Error).message}`);
    return 1;
  }
}

async function serve(settings: Record<string, string>): Promise<number> {
  const config = loadConfig(process.env, settings);
  const { startServer } = await import('../server.ts');
  // Listen for signals before starting: once "listening" is printed a supervisor may send
  // SIGTERM at any moment, and a signal without a listener kills the process on the spot.
  // A signal that arrives during startup stops the server as soon as it is up.
  const stopSignal = new Promise<string>((resolveSignal) => {
    process.once('SIGTERM', () => resolveSignal('SIGTERM'));
    process.once('SIGINT', () => resolveSignal('SIGINT'));
  });
  const server = await startServer(config, { out, err });
  const signal = await stopSignal;
  err(`grantory: ${signal} received, finishing in-flight requests`);
  try {
    await server.close();
  } catch (e) {
    err(`grantory: shutdown failed: ${(e as Error).message}`);
    return 1;
  }
  return 0;
}

async function migrate(settings: Record<string, string>): Promise<number> {
  const config = loadConfig(process.env, settings);
  const { openConfiguredStore } = await import('../configured-store.ts');
  const store = await openConfiguredStore(config);
  try {
    const applied = await store.migrate();
    out(applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date');
    return 0;
  } finally {
    await store.close();
  }
}

async function auditVerify(settings: Record<string, string>): Promise<number> {
  const config = loadConfig(process.env, settings);
  const [{ openConfiguredStore }, { verifyAuditTrail }] = await Promise.all([import('../configured-store.ts'), import('../services/audit.ts')]);
  const store = await openConfiguredStore(config);
  try {
    const pending = await store.pendingMigrations();
    if (pending.length) {
      err('grantory: the database has pending migrations; run `grantory migrate` first');
      return 2;
    }
    let broken = false;
    for (const result of await verifyAuditTrail(store)) {
      if (result.problem) {
        broken = true;
        out(`tenant ${result.tenant}: BROKEN at event #${result.problem.seq}: ${result.problem.message}`);
      } else {
        out(`tenant ${result.tenant}: ok, ${result.events} events, head ${result.headHash}`);
      }
    }
    return broken ? 1 : 0;
  } finally {
    await store.close();
  }
}

async function rotateKeys(settings: Record<string, string>): Promise<number> {
  const config = loadConfig(process.env, settings);
  const [{ openConfiguredStore }, { DEFAULT_SECURITY }, { systemActor }, { DEFAULT_TENANT }, { rotateSigningKey }, { resolveSecretKey }, { createServerSecrets }] = await Promise.all([
    import('../configured-store.ts'),
    import('../services/index.ts'),
    import('../services/actor.ts'),
    import('../services/bootstrap.ts'),
    import('../services/signing-keys.ts'),
    import('../secret-key.ts'),
    import('../domain/server-secrets.ts'),
  ]);
  const store = await openConfiguredStore(config);
  try {
    if ((await store.pendingMigrations()).length) {
      err('grantory: the database has pending migrations; run `grantory migrate` first');
      return 2;
    }
    const tenant = await store.findTenantByName(DEFAULT_TENANT);
    if (!tenant) {
      err('grantory: no default tenant yet; start the server once first');
      return 2;
    }
    const secrets = createServerSecrets(resolveSecretKey(config).secretKey);
    const { kid } = await rotateSigningKey({ store, now: () => new Date(), secrets }, systemActor(tenant.id, 'grantory keys rotate'), DEFAULT_SECURITY.keyRing);
    out(`new signing key ${kid}; earlier keys keep verifying until their tokens expire (nodes pick it up within ${DEFAULT_SECURITY.keyRing.reloadSeconds} s)`);
    return 0;
  } finally {
    await store.close();
  }
}

/** Renders the OpenAPI document of the app as built from the code. */
export async function renderOpenApi(): Promise<string> {
  const [{ buildApp }, { createServices }, { openStore }, { createServerSecrets, generateSecretKey }] = await Promise.all([
    import('../api/app.ts'),
    import('../services/index.ts'),
    import('../store/store.ts'),
    import('../domain/server-secrets.ts'),
  ]);
  const dir = mkdtempSync(join(tmpdir(), 'grantory-openapi-'));
  const store = await openStore({ dataDir: dir });
  try {
    // Any secret renders the same document.
    const secrets = createServerSecrets(generateSecretKey());
    const app = await buildApp({ services: createServices({ store, now: () => new Date(), secrets }), store });
    const doc = `${JSON.stringify(app.swagger(), null, 2)}\n`;
    await app.close();
    return doc;
  } finally {
    await store.close();
    rmSync(dir, { recursive: true, force: true });
  }
}

async function openapi(args: string[]): Promise<number> {
  const doc = await renderOpenApi();
  const [flag, file] = args;
  if (flag === '--out' && file) {
    writeFileSync(file, doc);
    out(`wrote ${file}`);
    return 0;
  }
  if (flag === '--check' && file) {
    let committed = '';
    try {
      committed = readFileSync(file, 'utf8');
    } catch {
      committed = '';
    }
    if (committed !== doc) {
      err(`grantory: ${file} is out of date with the code; run \`npm run openapi\` and commit it`);
      return 1;
    }
    out(`${file} matches the code`);
    return 0;
  }
  process.stdout.write(doc);
  return 0;
}
