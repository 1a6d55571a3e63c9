/** What every command shares: the global options, a connection opened for the action, the exit code. */
import type { Command } from 'commander';
import { connect, requireSchema, type Connection, type GlobalOptions, type MinimumVersion } from './connect.js';

export interface Context {
  /** The exit code main() returns once the action is done; errors set theirs when thrown. */
  exitCode: number;
}

export function globalsOf(command: Command): GlobalOptions & { json?: boolean } {
  return command.optsWithGlobals();
}

/**
 * Connects, runs `fn`, and closes the connection however `fn` ended. Unless told otherwise,
 * fails with exit 4 first when pgqueue is not installed under the given schema and prefix, and
 * with exit 5 when it is older than `minimumVersion`.
 */
export async function withConnection<T>(
  command: Command,
  fn: (connection: Connection) => Promise<T>,
  options: { requireInstalled?: boolean; minimumVersion?: MinimumVersion } = {},
): Promise<T> {
  const connection = await connect(globalsOf(command));
  try {
    if (options.requireInstalled !== false) await requireSchema(connection, options.minimumVersion);
    return await fn(connection);
  } finally {
    await connection.close().catch(() => undefined);
  }
}
