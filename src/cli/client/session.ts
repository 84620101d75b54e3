/**
 * `grantory login`, `logout`, `profiles`, `api` (any native route, like `gh api`) and
 * `completion bash|zsh|fish`.
 */
import { readFileSync } from 'node:fs';
import type { Command } from 'commander';
import type { CommandContext } from '../io.ts';
import { parseData } from './arguments.ts';
import { completionScript, SHELLS } from './completion.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { ApiClient } from './http.ts';
import { Printer, streamSink } from './output.ts';
import { configPath, DEFAULT_PROFILE, readConfig, resolveConnection, writeConfig, type Profile } from './profiles.ts';
import { addConnectionOptions, addOutputOptions, guarded, type Options } from './flags.ts';

/** A secret given as `-` is read from stdin (so it stays out of the shell history and `ps`). */
function secretValue(value: string | undefined): string | undefined {
  if (value !== '-') return value;
  const text = readFileSync(0, 'utf8').trim();
  if (!text) throw new CliFailure('stdin is empty: pipe the secret in, e.g. `printenv KEY | grantory login --api-key -`', EXIT.usage);
  return text;
}

interface LoginOptions {
  url: string;
  apiKey?: string;
  clientId?: string;
  clientSecret?: string;
  profile?: string;
  default?: boolean;
}

async function login(options: LoginOptions, context: CommandContext): Promise<number> {
  const apiKey = secretValue(options.apiKey);
  const clientSecret = secretValue(options.clientSecret);
  if (!apiKey && !(options.clientId && clientSecret)) throw new CliFailure('give --api-key KEY, or --client-id ID and --client-secret SECRET', EXIT.usage);
  if (apiKey && options.clientId) throw new CliFailure('give --api-key or --client-id, not both', EXIT.usage);
  const profile: Profile = apiKey ? { url: options.url, apiKey } : { url: options.url, clientId: options.clientId, clientSecret };
  // The credential is tried before it is saved.
  const connection = resolveConnection({ url: profile.url, apiKey: profile.apiKey }, { ...(profile.clientId ? { GRANTORY_CLIENT_ID: profile.clientId, GRANTORY_CLIENT_SECRET: profile.clientSecret } : {}) });
  const me = await new ApiClient(connection).json<{ name?: string; kind?: string; scopes?: string[] | null }>({ method: 'GET', path: '/api/v1/me' });
  const config = readConfig();
  const name = options.profile ?? DEFAULT_PROFILE;
  config.profiles[name] = { ...profile, url: connection.url };
  if (options.default || !config.defaultProfile) config.defaultProfile = name;
  const path = writeConfig(config);
  context.io.err(`logged in to ${connection.url} as ${me.name ?? 'unknown'} (${me.kind ?? 'credential'}); profile "${name}" saved in ${path}${config.defaultProfile === name ? ' (default)' : ''}`);
  return EXIT.ok;
}

function logout(options: { profile?: string }, context: CommandContext): number {
  const config = readConfig();
  const name = options.profile ?? config.defaultProfile ?? DEFAULT_PROFILE;
  if (!config.profiles[name]) throw new CliFailure(`no profile "${name}" in ${configPath()}`, EXIT.notFound);
  delete config.profiles[name];
  if (config.defaultProfile === name) config.defaultProfile = Object.keys(config.profiles)[0];
  writeConfig(config);
  context.io.err(`profile "${name}" removed`);
  return EXIT.ok;
}

async function profiles(options: Options): Promise<number> {
  const config = readConfig();
  const rows = Object.entries(config.profiles).map(([name, p]) => ({ name, url: p.url, credential: p.apiKey ? 'api key' : `client ${p.clientId ?? ''}`, default: name === config.defaultProfile }));
  const writer = new Printer(streamSink(), options, ['name', 'url', 'credential', 'default']).list();
  await writer.page(rows);
  await writer.end();
  return EXIT.ok;
}

const METHODS = ['GET', 'POST', 'PUT', 'PATCH', 'DELETE'];

async function api(method: string, path: string, options: Options & { query: string[] }): Promise<number> {
  const verb = method.toUpperCase();
  if (!METHODS.includes(verb)) throw new CliFailure(`${method}: use one of ${METHODS.join(', ')}`, EXIT.usage);
  const full = path.startsWith('/api/') || path.startsWith('/scim/') || path.startsWith('/oauth') ? path : `/api/v1/${path.replace(/^\//, '')}`;
  const query: Record<string, string[]> = {};
  for (const pair of options.query) {
    const at = pair.indexOf('=');
    if (at < 1) throw new CliFailure(`--query ${pair}: give name=value`, EXIT.usage);
    (query[pair.slice(0, at)] ??= []).push(pair.slice(at + 1));
  }
  const client = new ApiClient(resolveConnection(options));
  const result = await client.json<unknown>({ method: verb, path: full, query, body: options.data !== undefined ? parseData(options.data) : undefined });
  await new Printer(streamSink(), { ...options, output: options.output ?? 'json' }).one(result);
  return EXIT.ok;
}

export function registerSessionCommands(program: Command, context: CommandContext): void {
  program
    .command('login')
    .description('save a server and credential as a connection profile (config file mode 0600)')
    .requiredOption('--url <url>', 'the server, e.g. https://grantory.example.com')
    .option('--api-key <key>', 'an API key (- reads it from stdin)')
    .option('--client-id <id>', 'an OAuth 2.0 client id (client credentials)')
    .option('--client-secret <secret>', 'its secret (- reads it from stdin)')
    .option('--profile <name>', 'the profile to save', DEFAULT_PROFILE)
    .option('--default', 'make it the default profile')
    .addHelpText('after', `\nThe credential is checked (GET /api/v1/me) before it is saved in ${'$XDG_CONFIG_HOME/grantory/config.json'} (~/.config/grantory; GRANTORY_CONFIG_DIR overrides).\n\nExamples:\n  $ printenv GRANTORY_KEY | grantory login --url https://grantory.example.com --api-key -\n  $ grantory login --url https://grantory.example.com --client-id opcon --client-secret - --profile prod\n`)
    .action((options: LoginOptions) => guarded(context, () => login(options, context)));
  program
    .command('logout')
    .description('remove a connection profile')
    .option('--profile <name>', 'the profile (default: the default profile)')
    .addHelpText('after', '\nExamples:\n  $ grantory logout --profile prod\n')
    .action((options: { profile?: string }) => guarded(context, async () => logout(options, context)));
  addOutputOptions(program.command('profiles').description('list the saved connection profiles (without their secrets)'))
    .addHelpText('after', '\nExamples:\n  $ grantory profiles -o json\n')
    .action((options: Options) => guarded(context, () => profiles(options)));
  addConnectionOptions(
    addOutputOptions(
      program
        .command('api')
        .description('call any route of the API (a path under /api/v1 unless it starts with /api/, /scim/ or /oauth)')
        .argument('<method>', 'GET, POST, PUT, PATCH or DELETE')
        .argument('<path>', 'e.g. identities or /api/v1/identities?limit=5')
        .option('--query <name=value>', 'a query parameter (repeatable)', (value: string, previous: string[]) => [...previous, value], [] as string[])
        .option('--data <json>', 'the request body: JSON, @file or - (stdin)'),
    ),
  )
    .addHelpText('after', '\nExamples:\n  $ grantory api GET me\n  $ grantory api GET org-units --query limit=5\n  $ grantory api POST check --data \'{"identity":"jdoe","application":"Payroll","permission":"payroll.approve"}\'\n')
    .action((method: string, path: string, options: Options & { query: string[] }) => guarded(context, () => api(method, path, options)));
  program
    .command('completion')
    .description('print a shell completion script')
    .argument('<shell>', SHELLS.join(', '))
    .addHelpText('after', '\nExamples:\n  $ grantory completion bash > /etc/bash_completion.d/grantory\n  $ grantory completion zsh > "${fpath[1]}/_grantory"\n  $ grantory completion fish > ~/.config/fish/completions/grantory.fish\n')
    .action((shell: string) =>
      guarded(context, async () => {
        if (!(SHELLS as readonly string[]).includes(shell)) throw new CliFailure(`completion: "${shell}" is not one of ${SHELLS.join(', ')}`, EXIT.usage);
        process.stdout.write(completionScript(shell as (typeof SHELLS)[number], program));
        return EXIT.ok;
      }),
    );
}
