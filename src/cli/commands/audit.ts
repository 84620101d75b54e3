/** `grantory audit verify` and `grantory audit checkpoint`. */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import { loadConfig } from '../../config.ts';
import type { CheckpointFile } from '../../services/audit/index.ts';
import type { CommandContext, Io } from '../io.ts';
import { STORE_SETTINGS, settingsOf, withSettings } from '../settings.ts';

function readCheckpointFiles(paths: string[]): CheckpointFile[] | string {
  const files: CheckpointFile[] = [];
  for (const path of paths) {
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

async function auditVerify(settings: Record<string, string>, paths: string[], io: Io): Promise<number> {
  const checkpointFiles = readCheckpointFiles(paths);
  if (typeof checkpointFiles === 'string') {
    io.err(`grantory: ${checkpointFiles}`);
    return 2;
  }
  const config = loadConfig(process.env, settings);
  const [{ openMigratedStore }, { verifyAndRecordAuditTrails }] = await Promise.all([import('../../configured-store.ts'), import('../../services/audit/index.ts')]);
  const store = await openMigratedStore(config);
  try {
    let broken = false;
    const results = await verifyAndRecordAuditTrails(store, { checkpointFiles });
    for (const file of checkpointFiles) {
      if (!results.some((r) => r.tenantId === file.tenant.id)) {
        broken = true;
        io.out(`tenant ${file.tenant.name ?? file.tenant.id}: BROKEN: the exported checkpoints name a tenant that is not in the database`);
      }
    }
    for (const result of results) {
      for (const note of result.notes) io.out(`tenant ${result.tenant}: note: ${note}`);
      if (result.problem) {
        broken = true;
        io.out(`tenant ${result.tenant}: BROKEN at event #${result.problem.seq}: ${result.problem.message}`);
      } else {
        io.out(`tenant ${result.tenant}: ok, ${result.events} events, ${result.checkpoints} checkpoints matched, head ${result.headHash}`);
      }
    }
    return broken ? 1 : 0;
  } finally {
    await store.close();
  }
}

async function auditCheckpoint(settings: Record<string, string>, io: Io): Promise<number> {
  const config = loadConfig(process.env, settings);
  const [{ openConfiguredStore }, { createCheckpoint }, { listTenants, systemActor }, { resolveSecretKey }, { createServerSecrets }] = await Promise.all([
    import('../../configured-store.ts'),
    import('../../services/audit/index.ts'),
    import('../../services/kernel/index.ts'),
    import('../../secret-key.ts'),
    import('../../domain/server-secrets.ts'),
  ]);
  const store = await openConfiguredStore(config);
  try {
    // The checkpoint signing key is stored encrypted with the server secret.
    const deps = { store, now: () => new Date(), secrets: createServerSecrets(resolveSecretKey(config).secretKey) };
    for (const tenant of await listTenants(deps)) {
      const { checkpoint } = await createCheckpoint(deps, systemActor(tenant.id, 'grantory audit checkpoint'));
      io.out(`tenant ${tenant.name}: checkpoint at event #${checkpoint.seq}, hash ${checkpoint.hash}`);
    }
    return 0;
  } finally {
    await store.close();
  }
}

const collect = (value: string, previous: string[]) => [...previous, value];

export function registerAuditCommands(program: Command, { io, finish }: CommandContext): void {
  const audit = program.command('audit').description("the audit trail: list and export over the API; verify and checkpoint on the server's database");
  withSettings(audit.command('verify').description("check the audit trail's hash chain and signed checkpoints; exit 1 when it is broken"), STORE_SETTINGS)
    .option('--checkpoints <file>', 'also check against an exported GET /api/v1/audit-checkpoints (repeatable)', collect, [] as string[])
    .option('--remote', "check over the API (the server's export and checkpoints) instead of the database")
    .option('--url <url>', 'with --remote: the server (default: GRANTORY_URL, else the profile)')
    .option('--api-key <key>', 'with --remote: API key (default: GRANTORY_API_KEY, else the profile)')
    .option('--profile <name>', 'with --remote: connection profile saved by `grantory login`')
    .addHelpText('after', '\nExamples:\n  $ grantory audit verify --checkpoints checkpoints-2026-01.json\n  $ grantory audit verify --remote --profile prod --checkpoints checkpoints-2026-01.json\n')
    .action(async (options: Record<string, unknown> & { checkpoints: string[]; remote?: boolean; url?: string; apiKey?: string; profile?: string }) => {
      if (!options.remote) return finish(await auditVerify(settingsOf(options), options.checkpoints, io));
      const files = readCheckpointFiles(options.checkpoints);
      if (typeof files === 'string') {
        io.err(`grantory: ${files}`);
        return finish(2);
      }
      const [{ verifyRemote }, { guarded }] = await Promise.all([import('../client/audit-verify.ts'), import('../client/flags.ts')]);
      await guarded({ io, finish }, () => verifyRemote(options, files, io));
    });
  withSettings(audit.command('checkpoint').description("sign a checkpoint of every tenant's chain head now"), STORE_SETTINGS).action(async (options: Record<string, unknown>) =>
    finish(await auditCheckpoint(settingsOf(options), io)),
  );
}
