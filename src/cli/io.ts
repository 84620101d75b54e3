/** Where the commands write: results on stdout, messages and errors on stderr (one line each). */
export interface Io {
  out: (line: string) => void;
  err: (line: string) => void;
}

export const io: Io = {
  out: (line) => process.stdout.write(`${line}\n`),
  err: (line) => process.stderr.write(`${line}\n`),
};

/** What a command group needs to register its commands: where to write, and how to report its exit code. */
export interface CommandContext {
  io: Io;
  /** Called by a command's action with its exit code (0 success, 1 failure, 2 bad configuration or usage). */
  finish: (code: number) => void;
}
