/** What every client command shares: the connection and output flags, and how a failure ends it. */
import { Option, type Command } from 'commander';
import type { CommandContext } from '../io.ts';
import { CliFailure } from './exit-codes.ts';
import { FORMATS, type OutputOptions } from './output.ts';
import type { ConnectionFlags } from './profiles.ts';

export type Options = Record<string, unknown> & ConnectionFlags & OutputOptions & { all?: boolean; data?: string };

export function addConnectionOptions(command: Command): Command {
  return command
    .option('--url <url>', 'the server (default: GRANTORY_URL, else the profile)')
    .option('--api-key <key>', 'API key (default: GRANTORY_API_KEY, else the profile)')
    .option('--profile <name>', 'connection profile saved by `grantory login` (default: GRANTORY_PROFILE, else "default")');
}

export function addOutputOptions(command: Command): Command {
  return command
    .addOption(new Option('-o, --output <format>', 'table (default on a terminal), json (default on a pipe), ndjson, csv or yaml').choices([...FORMATS]))
    .option('--fields <list>', 'only these fields, comma-separated (dotted for nested: assignee.id)')
    .option('-q, --quiet', 'print only ids');
}

/** Runs an action and turns a CliFailure into its message on stderr and its exit code. */
export async function guarded(context: CommandContext, action: () => Promise<number>): Promise<void> {
  try {
    context.finish(await action());
  } catch (e) {
    if (!(e instanceof CliFailure)) throw e;
    context.io.err(`grantory: ${e.message}`);
    for (const line of e.details) context.io.err(`  ${line}`);
    context.finish(e.exitCode);
  }
}
