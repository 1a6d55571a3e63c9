/**
 * The exit codes of pgq, stable so scripts can branch on them (docs/operations.md lists them).
 * Anything that goes wrong prints one line on stderr and exits with one of these; a stack trace
 * only with PGQ_DEBUG=1.
 */
export const EXIT = {
  /** Done. */
  ok: 0,
  /** A database error or anything unexpected. */
  error: 1,
  /** Bad arguments or options (unknown command, malformed duration, a missing --yes). */
  usage: 2,
  /** PostgreSQL could not be reached: a wrong URL, host, port, database or credentials. */
  connection: 3,
  /** The pgqueue schema is not installed (or incomplete) under the given --schema/--prefix. */
  notInstalled: 4,
  /**
   * Installed, but at an older version (`pgq verify`, or a command that needs a newer one, such
   * as pgq schedules on a schema without the schedules table); `pgq upgrade` brings it up to date.
   */
  upgradePending: 5,
  /** A job or schedule named on the command line does not exist, or is not in a state the command acts on. */
  jobState: 6,
} as const;

export type ExitCode = (typeof EXIT)[keyof typeof EXIT];

/** An error pgq reports as one line with its own exit code. */
export class CliError extends Error {
  override readonly name = 'CliError';
  constructor(
    message: string,
    readonly exitCode: ExitCode,
  ) {
    super(message);
  }
}

export const usageError = (message: string) => new CliError(message, EXIT.usage);
