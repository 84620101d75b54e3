/**
 * The process entry of the `grantory` command (bin/grantory.js runs its build, dist/run.js):
 * runs main() and leaves its result as the exit code.
 *
 * A reader that stops early (`grantory openapi | head`) closes the pipe: the next write fails
 * with EPIPE, which ends the command quietly instead of printing a stack trace.
 */
import { main } from './main.ts';

for (const stream of [process.stdout, process.stderr]) {
  stream.on('error', (e: NodeJS.ErrnoException) => {
    if (e.code !== 'EPIPE') throw e;
    process.exit(process.exitCode ?? 0);
  });
}

process.exitCode = await main(process.argv.slice(2));
