/**
 * The `grantory` command.
 *
 *   grantory serve [--port N] [--host H] [--data-dir D] [--database-url URL] [--log-level L]
 *   grantory migrate
 *   grantory audit verify [--checkpoints FILE]...
 *   grantory audit checkpoint
 *   grantory keys rotate
 *   grantory openapi [--out FILE | --check FILE]
 *   grantory demo [--seed N] [--identities N]
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
import type { CheckpointFile } from '../services/audit/index.ts';

const USAGE = `usage: grantory <command>
  serve           start the server (default command)
  migrate         apply pending database migrations
  audit verify    check the audit trail's hash chain and signed checkpoints
                  (--checkpoints FILE: also against an exported GET /api/v1/audit-checkpoints)
  audit checkpoint  sign a checkpoint of every tenant's chain head now
  keys rotate     make a new token-signing key the active one (earlier keys keep verifying)
  openapi         print the OpenAPI document (--out FILE writes it, --check FILE compares)
  demo            start with a seeded demo tenant in ./data-demo (--seed N, --identities N)
settings: GRANTORY_PORT, GRANTORY_HOST, GRANTORY_DATA_DIR, DATABASE_URL, GRANTORY_SECRET_KEY,
  GRANTORY_PUBLIC_URL, GRANTORY_BOOTSTRAP_ADMIN_KEY, GRANTORY_LOG_LEVEL, GRANTORY_BODY_LIMIT (or --port, --host,
  --data-dir, --database-url, --log-level, --body-limit), GRANTORY_AUDIT_CHECKPOINT_INTERVAL
  (seconds), GRANTORY_DELIVERY_INTERVAL (milliseconds), GRANTORY_TOKEN_TTL, GRANTORY_TOKEN_AUDIENCE,
  GRANTORY_SIGNING_KEY_ROTATION_DAYS, GRANTORY_OIDC_*, GRANTORY_RATE_LIMIT*, GRANTORY_AUTH_FAILURE_LIMIT,
  GRANTORY_IMPORT_DIR, GRANTORY_IMPORT_UPLOAD_LIMIT, GRANTORY_IMPORT_LEASE_SECONDS`;

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
        if (args[0] === 'verify') return await auditVerify(settings, args.slice(1));
        if (args[0] === 'checkpoint') return await auditCheckpoint(settings);
        err(USAGE);
        return 2;
      case 'keys':
        if (args[0] === 'rotate') return await rotateKeys(settings);
        err(USAGE);
        return 2;
      case 'openapi':
        return await openapi(args);
      case 'demo': {
        const { demo } = await import('../demo/command.ts');
        return await demo(settings, args, { out, err });
      }
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
    // configured-store.ts is loaded by the commands that need it; its error is known by name.
    if ((e as Error).name === 'PendingMigrationsError') {
      err(`grantory: ${(e as Error).message}`);
      return 2;
    }
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
  const { migrateConfiguredStore } = await import('../configured-store.ts');
  const applied = await migrateConfiguredStore(config);
  out(applied.length ? `applied: ${applied.join(', ')}` : 'the database is up to date');
  return 0;
}

function readCheckpointFiles(args: string[]): CheckpointFile[] | string {
  const files: CheckpointFile[] = [];
  for (let i = 0; i < args.length; i += 1) {
    const arg = args[i]!;
    const path = arg === '--checkpoints' ? args[++i] : arg.startsWith('--checkpoints=') ? arg.slice('--checkpoints='.length) : null;
    if (!path) return `unexpected argument "${arg}" (usage: grantory audit verify [--checkpoints FILE]...)`;
    try {
      const parsed = JSON.parse(readFileSync(path, 'utf8')) as Partial<CheckpointFile>;
      if (!parsed.tenant?.id || !Array.isArray(parsed.publicKeys) || !Array.isArray(parsed.items)) return `${path} is not an exported checkpoint list (GET /api/v1/audit-checkpoints)`;
      files.push(parsed as CheckpointFile);
    } catch (e) {
      return `cannot read ${path}: ${(e as Error).message}`;
    }
  }
  return files;
}

async function auditVerify(settings: Record<string, string>, args: string[]): Promise<number> {
  const checkpointFiles = readCheckpointFiles(args);
  if (typeof checkpointFiles === 'string') {
    err(`grantory: ${checkpointFiles}`);
    return 2;
  }
  const config = loadConfig(process.env, settings);
  const [{ openMigratedStore }, { verifyAuditTrail }] = await Promise.all([import('../configured-store.ts'), import('../services/audit/index.ts')]);
  const store = await openMigratedStore(config);
  try {
    let broken = false;
    const results = await verifyAuditTrail(store, { checkpointFiles });
    for (const file of checkpointFiles) {
      if (!results.some((r) => r.tenantId === file.tenant.id)) {
        broken = true;
        out(`tenant ${file.tenant.name ?? file.tenant.id}: BROKEN: the exported checkpoints name a tenant that is not in the database`);
      }
    }
    for (const result of results) {
      for (const note of result.notes) out(`tenant ${result.tenant}: note: ${note}`);
      if (result.problem) {
        broken = true;
        out(`tenant ${result.tenant}: BROKEN at event #${result.problem.seq}: ${result.problem.message}`);
      } else {
        out(`tenant ${result.tenant}: ok, ${result.events} events, ${result.checkpoints} checkpoints matched, head ${result.headHash}`);
      }
    }
    return broken ? 1 : 0;
  } finally {
    await store.close();
  }
}

async function auditCheckpoint(settings: Record<string, string>): Promise<number> {
  const config = loadConfig(process.env, settings);
  const [{ openConfiguredStore }, { createCheckpoint }, { listTenants, systemActor }, { resolveSecretKey }, { createServerSecrets }] = await Promise.all([
    import('../configured-store.ts'),
    import('../services/audit/index.ts'),
    import('../services/kernel/index.ts'),
    import('../secret-key.ts'),
    import('../domain/server-secrets.ts'),
  ]);
  const store = await openConfiguredStore(config);
  try {
    // The checkpoint signing key is stored encrypted with the server secret.
    const deps = { store, now: () => new Date(), secrets: createServerSecrets(resolveSecretKey(config).secretKey) };
    for (const tenant of await listTenants(deps)) {
      const { checkpoint } = await createCheckpoint(deps, systemActor(tenant.id, 'grantory audit checkpoint'));
      out(`tenant ${tenant.name}: checkpoint at event #${checkpoint.seq}, hash ${checkpoint.hash}`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

async function rotateKeys(settings: Record<string, string>): Promise<number> {
  const config = loadConfig(process.env, settings);
  const [{ openMigratedStore }, { DEFAULT_SECURITY }, { findTenantByName, systemActor }, { DEFAULT_TENANT }, { rotateSigningKey }, { resolveSecretKey }, { createServerSecrets }] = await Promise.all([
    import('../configured-store.ts'),
    import('../services/index.ts'),
    import('../services/kernel/index.ts'),
    import('../services/bootstrap.ts'),
    import('../services/credentials/index.ts'),
    import('../secret-key.ts'),
    import('../domain/server-secrets.ts'),
  ]);
  const store = await openMigratedStore(config);
  try {
    const tenant = await findTenantByName({ store }, DEFAULT_TENANT);
    if (!tenant) {
      err('grantory: no default tenant yet; start the server once first');
      return 2;
    }
    const deps = { store, now: () => new Date(), secrets: createServerSecrets(resolveSecretKey(config).secretKey) };
    const { kid } = await rotateSigningKey(deps, systemActor(tenant.id, 'grantory keys rotate'), DEFAULT_SECURITY.keyRing);
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
    import('../store/open.ts'),
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
