/**
 * The `grantory` command: a commander program with one module per command group in
 * commands/ (each registers its commands and loads what it needs only when it runs).
 *
 *   grantory [serve] [--port N] [--host H] [--data-dir D] [--database-url URL] [--log-level L] ...
 *   grantory migrate
 *   grantory audit verify [--checkpoints FILE]...
 *   grantory audit checkpoint
 *   grantory keys rotate
 *   grantory openapi [--out FILE | --check FILE]
 *   grantory demo [--seed N] [--identities N]
 *   grantory help [command], grantory <command> --help, grantory --version
 *   grantory login | identities | applications | ... | check | completion   (client commands, src/cli/client)
 *
 * `--help` prints help and does nothing else. Exit codes: 0 success, 1 failure (e.g. a broken
 * audit chain), 2 bad configuration or usage; the client commands add 3 not found, 4 forbidden,
 * 5 conflict, 6 server or network (src/cli/client/exit-codes.ts).
 *
 * A new command group is a module in commands/ exporting `registerXCommands(program, context)`,
 * listed in COMMAND_GROUPS.
 */
import { Command, CommanderError, type Option } from 'commander';
import { ConfigError } from '../config.ts';
import { PRODUCT_VERSION } from '../domain/product.ts';
import { io as processIo, type CommandContext, type Io } from './io.ts';
import { registerAuditCommands } from './commands/audit.ts';
import { registerDemoCommand } from './commands/demo.ts';
import { registerKeysCommands } from './commands/keys.ts';
import { registerOpenApiCommand } from './commands/openapi.ts';
import { registerServeCommands } from './commands/serve.ts';
import { CLIENT_COMMAND_NAMES, CLIENT_GROUPS, CHECK_COMMAND } from './client/commands.ts';

const COMMAND_GROUPS: ((program: Command, context: CommandContext) => void)[] = [
  registerServeCommands,
  registerAuditCommands,
  registerKeysCommands,
  registerOpenApiCommand,
  registerDemoCommand,
];

const SETTINGS_HELP = `
Every flag has an environment variable, and more settings are environment variables only
(GRANTORY_SECRET_KEY, GRANTORY_PUBLIC_URL, GRANTORY_BOOTSTRAP_ADMIN_KEY, GRANTORY_OIDC_*,
GRANTORY_RATE_LIMIT*, ...): see "Configuration" in README.md. A flag wins over its variable.`;

/** `grantory serve --port` etc. */
const pathOf = (command: Command): string => (command.parent ? `${pathOf(command.parent)} ${command.name()}` : command.name());

const flagsOf = (options: readonly Option[]): string => options.map((o) => o.long ?? o.short).join(', ');

/**
 * The client commands (src/cli/client) are built only when one of them runs, from the API's
 * operations; otherwise their groups are listed by name (for `grantory --help`).
 */
const CLIENT_SUMMARIES: [string, string][] = [
  ...CLIENT_GROUPS.map((g): [string, string] => [g.name, g.description]),
  [CHECK_COMMAND.name, CHECK_COMMAND.description ?? ''],
  ['login', 'save a server and credential as a connection profile'],
  ['logout', 'remove a connection profile'],
  ['profiles', 'list the saved connection profiles'],
  ['api', 'call any route of the API'],
  ['completion', 'print a shell completion script (bash, zsh, fish)'],
];

function registerClientSummaries(program: Command): void {
  for (const [name, description] of CLIENT_SUMMARIES) {
    if (!program.commands.some((c) => c.name() === name)) program.command(name).description(description);
  }
}

/** The client command these arguments run (or ask help of), if any. */
export const clientCommandOf = (argv: string[]): string | undefined => {
  const words = argv.filter((a) => !a.startsWith('-'));
  const first = words[0] === 'help' ? words[1] : words[0];
  return first !== undefined && CLIENT_COMMAND_NAMES.includes(first) ? first : undefined;
};

/** The program and its commands; every action reports its exit code through `finish`. */
export function createProgram(context: CommandContext, registerClient?: (program: Command, context: CommandContext) => void): Command {
  const program = new Command('grantory')
    .description('Grantory: self-hosted access governance — who has access to what, why, and since when')
    .version(PRODUCT_VERSION, '-V, --version', 'print the version')
    .helpOption('-h, --help', 'print help (and do nothing else)')
    .addHelpText('after', SETTINGS_HELP)
    .showSuggestionAfterError();
  for (const register of COMMAND_GROUPS) register(program, context);
  if (registerClient) registerClient(program, context);
  else registerClientSummaries(program);
  configureErrors(program, context.io);
  return program;
}

/** Usage errors name the command and what it takes, then point to its help. */
function configureErrors(command: Command, io: Io): void {
  const path = pathOf(command);
  command
    .configureOutput({
      writeOut: (text) => process.stdout.write(text),
      writeErr: (text) => process.stderr.write(text),
      outputError: (text, write) => write(text.replace(/^error: /, `${path}: `)),
    })
    .exitOverride((e) => {
      if (e.code === 'commander.unknownOption') {
        const own = command.options.filter((o) => !o.hidden);
        io.err(own.length ? `  ${path} takes: ${flagsOf(own)}, --help` : `  ${path} takes no flags but --help`);
      }
      if (e.code === 'commander.unknownCommand') io.err(`  commands: ${command.commands.map((c) => c.name()).join(', ')}`);
      if (e.exitCode !== 0 && e.code !== 'commander.help') io.err(`  see: ${path} --help`);
      throw e;
    });
  for (const sub of command.commands) configureErrors(sub, io);
}

const TOP_LEVEL_FLAGS = new Set(['-h', '--help', '-V', '--version']);

export async function main(argv: string[], io: Io = processIo): Promise<number> {
  let exitCode = 0;
  // No command (or only settings flags) means `serve`.
  const first = argv[0];
  const args = first === undefined || (first.startsWith('-') && !TOP_LEVEL_FLAGS.has(first)) ? ['serve', ...argv] : argv;
  const client = clientCommandOf(args);
  const register = client === undefined ? undefined : (await import('./client/register.ts')).registerClientCommands;
  const registerClient = register && ((program: Command, context: CommandContext) => register(program, context, client));
  const program = createProgram({ io, finish: (code) => (exitCode = code) }, registerClient);
  try {
    await program.parseAsync(args, { from: 'user' });
    return exitCode;
  } catch (e) {
    if (e instanceof CommanderError) return e.exitCode === 0 ? 0 : 2;
    // configured-store.ts is loaded by the commands that need it; its error is known by name.
    if ((e as Error).name === 'PendingMigrationsError' || e instanceof ConfigError) {
      io.err(`grantory: ${(e as Error).message}`);
      return 2;
    }
    io.err(`grantory: ${(e as Error).message}`);
    return 1;
  }
}
