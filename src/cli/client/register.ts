/**
 * Builds the client commands (commands.ts) as commander commands from the operations they call
 * (operations.generated.ts): path parameters become arguments, query parameters and JSON body
 * fields become flags, and every command gets the connection flags, the output flags and
 * examples in its help. Loaded only when a client command runs (main.ts), so that
 * `grantory --help` stays fast.
 */
import { Command, Option } from 'commander';
import type { CommandContext } from '../io.ts';
import { camel, convert, kebab, parseData } from './arguments.ts';
import { CHECK_COMMAND, CLIENT_GROUPS, DESTRUCTIVE, type ClientCommand, type ClientGroup } from './commands.ts';
import { confirm } from './confirm.ts';
import { CliFailure, EXIT } from './exit-codes.ts';
import { ApiClient } from './http.ts';
import type { FieldSpec, OperationSpec } from './operation-spec.ts';
import { OPERATIONS } from './operations.generated.ts';
import { addConnectionOptions, addOutputOptions, guarded, type Options } from './flags.ts';
import { Printer, streamSink } from './output.ts';
import { resolveConnection } from './profiles.ts';
import { registerSessionCommands } from './session.ts';
import { runSpecial } from './special.ts';


/** Flags every client command has; an API field with one of these names is not offered as a flag. */
const RESERVED = new Set(['url', 'apiKey', 'profile', 'output', 'fields', 'quiet', 'all', 'data', 'help', 'out', 'yes']);

export const specOf = (command: ClientCommand): OperationSpec => OPERATIONS[command.op];

const placeholder = (field: FieldSpec) => (field.type === 'json' ? 'json' : field.type === 'string[]' ? 'list' : field.type === 'boolean' ? 'bool' : field.enum ? 'value' : field.type === 'string' ? 'value' : 'n');

function fieldOption(field: FieldSpec, where: 'query' | 'body'): Option[] {
  const flag = `--${kebab(field.name)}`;
  const parts = [field.description, field.required ? 'required' : undefined, field.type === 'json' ? 'JSON, @file or key=value,...' : undefined, field.type === 'string[]' ? 'comma-separated or repeated' : undefined].filter(Boolean);
  const description = parts.join('; ') || (where === 'query' ? 'query parameter' : 'body field');
  if (field.type === 'boolean') {
    return [new Option(flag, description), new Option(`--no-${kebab(field.name)}`, `${field.name} false`)];
  }
  const option = new Option(`${flag} <${placeholder(field)}>`, description);
  if (field.enum) option.choices([...field.enum]);
  if (field.type === 'string[]') option.argParser((value: string, previous: string[] | undefined) => [...(previous ?? []), value]);
  return [option];
}

/** An example made from the operation when the table gives none: its arguments and required flags. */
function defaultExample(path: string, argNames: string[], spec: OperationSpec): string {
  const flags = [...spec.query, ...(spec.body?.fields ?? [])].filter((f) => f.required).map((f) => `--${kebab(f.name)} ${f.enum?.[0] ?? placeholder(f).toUpperCase()}`);
  return [path, ...argNames.map((a) => a.toUpperCase().replace(/-/g, '_')), ...flags].join(' ');
}

/** The query and body of a call from the command's flags (`--data` first, flags win). */
export function requestParts(spec: OperationSpec, options: Options): { query: Record<string, string | string[]>; body: Record<string, unknown> | undefined } {
  const query: Record<string, string | string[]> = {};
  for (const field of spec.query) {
    if (RESERVED.has(field.name)) continue;
    const value = options[camel(kebab(field.name))];
    if (value === undefined) continue;
    const converted = convert(field, value);
    query[field.name] = Array.isArray(converted) ? converted.map(String) : String(converted);
  }
  let body: Record<string, unknown> | undefined;
  if (spec.body?.contentType === 'application/json') {
    body = options.data !== undefined ? parseData(options.data) : {};
    for (const field of spec.body.fields) {
      if (RESERVED.has(field.name)) continue;
      const value = options[camel(kebab(field.name))];
      if (value !== undefined) body[field.name] = convert(field, value);
    }
    const missing = spec.body.fields.filter((f) => f.required && body?.[f.name] === undefined);
    if (missing.length) throw new CliFailure(`missing ${missing.map((f) => `--${kebab(f.name)}`).join(', ')}`, EXIT.usage, ['give the flags, or the whole body with --data JSON|@file|-']);
    if (!spec.body.required && Object.keys(body).length === 0 && spec.method === 'POST') body = {};
  }
  return { query, body };
}

export const fillPath = (spec: OperationSpec, values: string[]): string => {
  let index = 0;
  return spec.path.replace(/\{[^}]+\}/g, () => encodeURIComponent(values[index++] ?? ''));
};

/**
 * One page after another while `--all` (the next page is asked for before the current one is
 * written, so the server and the writing overlap); otherwise the first page, and its next
 * cursor on stderr on a terminal.
 */
async function runPaged(client: ApiClient, spec: OperationSpec, path: string, query: Record<string, string | string[]>, options: Options, printer: Printer, context: CommandContext): Promise<void> {
  type Page = { items: Record<string, unknown>[]; nextCursor: string | null };
  const writer = printer.list();
  const fetchPage = (cursor?: string) => client.json<Page>({ method: spec.method, path, query: cursor === undefined ? pageQuery : { ...pageQuery, cursor } });
  const pageQuery = { ...query };
  if (options.all && pageQuery.limit === undefined) pageQuery.limit = String(maxLimit(spec));
  let pending = fetchPage();
  for (;;) {
    const page = await pending;
    const next = options.all && page.nextCursor ? page.nextCursor : undefined;
    if (next !== undefined) {
      pending = fetchPage(next);
      // Awaited on the next turn; a failed write first must not leave it unhandled.
      pending.catch(() => undefined);
    }
    await writer.page(page.items);
    if (next === undefined) {
      if (page.nextCursor && process.stderr.isTTY && !options.quiet) context.io.err(`more: --cursor ${page.nextCursor} (or --all for every page)`);
      break;
    }
  }
  await writer.end();
}

/** The page size used by --all: the operation's maximum (500 for the native lists). */
const maxLimit = (_spec: OperationSpec) => 500;

async function runOperation(command: ClientCommand, args: string[], options: Options, context: CommandContext): Promise<number> {
  const spec = specOf(command);
  const { query, body } = requestParts(spec, options);
  const client = new ApiClient(resolveConnection(options));
  const path = fillPath(spec, args);
  if (command.special) return runSpecial(command.special, { client, spec, path, args, options, query, body, context, columns: command.columns });
  const printer = new Printer(streamSink(), options, command.columns);
  if (spec.response.paged) {
    await runPaged(client, spec, path, query, options, printer, context);
    return EXIT.ok;
  }
  const result = await client.json<unknown>({ method: spec.method, path, query, body });
  const items = (result as { items?: unknown } | undefined)?.items;
  // Lists that are not paged: rows for tables, CSV, NDJSON and ids; the whole answer as JSON or YAML.
  if (Array.isArray(items) && (printer.format === 'table' || printer.format === 'csv' || printer.format === 'ndjson' || options.quiet)) {
    const writer = printer.list();
    await writer.page(items as Record<string, unknown>[]);
    await writer.end();
  } else {
    await printer.one(result);
  }
  return EXIT.ok;
}

function buildCommand(parent: Command, command: ClientCommand, context: CommandContext, group?: ClientGroup): Command {
  const spec = specOf(command);
  const argNames = command.args ?? spec.pathParams.map((p) => kebab(p));
  const cmd = parent.command(command.name).description(command.description ?? spec.summary.replace(/^./, (c) => c.toLowerCase()));
  for (const name of argNames) cmd.argument(`<${name}>`);
  const seen = new Set<string>();
  const fields = [...spec.query.map((f) => [f, 'query'] as const), ...(spec.body?.fields ?? []).map((f) => [f, 'body'] as const)];
  for (const [field, where] of fields) {
    if (RESERVED.has(field.name) || seen.has(field.name)) continue;
    seen.add(field.name);
    for (const option of fieldOption(field, where)) cmd.addOption(option);
  }
  if (spec.body?.contentType === 'application/json') cmd.option('--data <json>', 'the whole request body: JSON, @file or - (stdin); flags override its fields');
  if (spec.response.paged) cmd.option('--all', 'every page, streamed as it arrives');
  if (command.special === 'upload') {
    cmd.option('--file <group=path>', "a file for a file group, by the group's name or id (repeatable)", (value: string, previous: string[] = []) => [...previous, value]);
    cmd.option('--watch', 'follow the import to its end (as `imports watch`)');
  }
  if (command.special === 'upload' || command.special === 'watch') cmd.option('--interval <seconds>', 'seconds between polls', '1');
  if (command.special === 'download') cmd.option('--out <file>', 'write to this file instead of stdout');
  const destructive = group !== undefined && DESTRUCTIVE.has(command.name);
  if (destructive) cmd.option('-y, --yes', 'do not ask for confirmation (needed when stdin or stderr is not a terminal)');
  if (command.special !== 'download') addOutputOptions(cmd);
  addConnectionOptions(cmd);
  const path = `grantory ${parent.name() === 'grantory' ? '' : `${parent.name()} `}${command.name}`;
  const examples = command.examples ?? [defaultExample(path, argNames, spec)];
  cmd.addHelpText('after', `\nCalls ${spec.method} ${spec.path} (${command.op}).\n\nExamples:\n${examples.map((e) => `  $ ${e}`).join('\n')}\n`);
  cmd.action(async (...received: unknown[]) => {
    const options = received[argNames.length] as Options;
    const args = received.slice(0, argNames.length) as string[];
    await guarded(context, async () => {
      if (destructive) await confirm({ verb: command.name, noun: group.noun ?? group.name, id: args[0] ?? '' }, options.yes === true);
      return runOperation(command, args, options, context);
    });
  });
  return cmd;
}

/**
 * Adds the client commands to the program (and `list`/`export` to the existing `audit`): all of
 * them, or only the group named by `only` (what main.ts runs: building a hundred commands the
 * run does not use would delay its first byte; `completion` needs them all).
 */
export function registerClientCommands(program: Command, context: CommandContext, only?: string): void {
  const wanted = (name: string) => only === undefined || only === 'completion' || only === name;
  for (const group of CLIENT_GROUPS) {
    if (!wanted(group.name)) continue;
    const existing = program.commands.find((c) => c.name() === group.name);
    const parent = existing ?? program.command(group.name).description(group.description);
    for (const command of group.commands) buildCommand(parent, command, context, group);
  }
  if (wanted(CHECK_COMMAND.name)) buildCommand(program, CHECK_COMMAND, context);
  registerSessionCommands(program, context);
}
