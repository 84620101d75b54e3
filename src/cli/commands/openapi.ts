/** `grantory openapi`: print, write or check the OpenAPI document of the API as built from the code. */
import { readFileSync, writeFileSync, mkdtempSync, rmSync } from 'node:fs';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { Option, type Command } from 'commander';
import type { CommandContext, Io } from '../io.ts';

/** Renders the OpenAPI document of the app as built from the code. */
export async function renderOpenApi(): Promise<string> {
  const [{ buildApp }, { createServices }, { openStore }, { createServerSecrets, generateSecretKey }] = await Promise.all([
    import('../../api/app.ts'),
    import('../../services/index.ts'),
    import('../../store/open.ts'),
    import('../../domain/server-secrets.ts'),
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

async function openapi(options: { out?: string; check?: string }, io: Io): Promise<number> {
  const doc = await renderOpenApi();
  if (options.out) {
    writeFileSync(options.out, doc);
    io.out(`wrote ${options.out}`);
    return 0;
  }
  if (options.check) {
    let committed = '';
    try {
      committed = readFileSync(options.check, 'utf8');
    } catch {
      committed = '';
    }
    if (committed !== doc) {
      io.err(`grantory: ${options.check} is out of date with the code; run \`npm run openapi\` and commit it`);
      return 1;
    }
    io.out(`${options.check} matches the code`);
    return 0;
  }
  process.stdout.write(doc);
  return 0;
}

export function registerOpenApiCommand(program: Command, { io, finish }: CommandContext): void {
  program
    .command('openapi')
    .description('print the OpenAPI document of the API (3.1, JSON)')
    .addOption(new Option('--out <file>', 'write it to a file instead').conflicts('check'))
    .addOption(new Option('--check <file>', 'compare a file with it; exit 1 when they differ'))
    .action(async (options: { out?: string; check?: string }) => finish(await openapi(options, io)));
}
