/**
 * Exit codes of the client commands (documented in docs/cli.md):
 * 0 success, 1 a negative answer (`check` denied, `imports watch` of a failed import),
 * 2 usage (bad flags, or a request the API refused as invalid), 3 not found, 4 unauthenticated
 * or forbidden, 5 conflict, 6 server or network error.
 */
export const EXIT = { ok: 0, negative: 1, usage: 2, notFound: 3, forbidden: 4, conflict: 5, server: 6 } as const;

/** The exit code for an HTTP error status. */
export function exitCodeOf(status: number): number {
  if (status === 404) return EXIT.notFound;
  if (status === 401 || status === 403) return EXIT.forbidden;
  if (status === 409 || status === 412 || status === 428) return EXIT.conflict;
  if (status >= 400 && status < 500 && status !== 408 && status !== 429) return EXIT.usage;
  return EXIT.server;
}

/** A failure the command reports on stderr and ends with its exit code. */
export class CliFailure extends Error {
  constructor(
    message: string,
    readonly exitCode: number,
    /** Further lines (field errors, hints), printed indented under the message. */
    readonly details: string[] = [],
  ) {
    super(message);
    this.name = 'CliFailure';
  }
}
