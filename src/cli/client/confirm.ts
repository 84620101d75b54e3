/**
 * Confirmation of the commands that delete or end something (delete, revoke, cancel), the way
 * `gh` does it: on a terminal (stdin and stderr both terminals) the command asks
 * "Delete identity ID? [y/N]" on stderr and goes on only on y or yes; `--yes` skips the
 * question. Where no one can answer (a pipe, cron, a scheduler, CI) it refuses with exit 2
 * and says to pass --yes, so a script states that it means it instead of deleting by default.
 */
import { CliFailure, EXIT } from './exit-codes.ts';

export interface Confirmation {
  /** The command's verb: delete, revoke or cancel. */
  verb: string;
  /** What one object is called, e.g. "identity". */
  noun: string;
  /** The object's id (the command's argument). */
  id: string;
}

const PAST: Record<string, string> = { delete: 'deleted', revoke: 'revoked', cancel: 'canceled' };

/** Whether someone can answer a question: stdin and stderr are both terminals. */
export const interactive = (stdin: { isTTY?: boolean } = process.stdin, stderr: { isTTY?: boolean } = process.stderr): boolean => stdin.isTTY === true && stderr.isTTY === true;

/** Asks a yes/no question on the terminal; Enter, n, Ctrl-C and Ctrl-D are no. */
async function ask(question: string): Promise<boolean> {
  // Loaded only when asking: the other runs do not pay for it before their first byte.
  const { createInterface } = await import('node:readline');
  const lines = createInterface({ input: process.stdin, output: process.stderr });
  return new Promise<boolean>((resolve) => {
    // Resolved before the close, whose own handler (Ctrl-D) says no.
    const answer = (yes: boolean) => {
      resolve(yes);
      lines.close();
    };
    lines.once('SIGINT', () => {
      process.stderr.write('\n');
      answer(false);
    });
    lines.once('close', () => resolve(false));
    lines.question(question, (text) => answer(/^\s*y(es)?\s*$/i.test(text)));
  });
}

/** Resolves when the command may go on; throws a CliFailure (exit 2 refused, 1 declined) otherwise. */
export async function confirm(what: Confirmation, yes: boolean | undefined): Promise<void> {
  if (yes) return;
  const action = `${what.verb} ${what.noun} ${what.id}`;
  if (!interactive()) throw new CliFailure(`${action}: not confirmed; pass --yes to ${what.verb} without being asked`, EXIT.usage, ['commands that delete or end something ask first on a terminal, and need --yes elsewhere']);
  const question = `${what.verb.replace(/^./, (c) => c.toUpperCase())} ${what.noun} ${what.id}? [y/N] `;
  if (!(await ask(question))) throw new CliFailure(`not ${PAST[what.verb] ?? 'done'}: ${what.noun} ${what.id}`, EXIT.negative);
}
