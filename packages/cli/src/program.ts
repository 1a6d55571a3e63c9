/**
 * The pgq program: commander builds the commands, their help and their argument errors; main()
 * runs one and turns every failure into one line on stderr and an exit code (exit-codes.ts).
 */
import { createRequire } from 'node:module';
import { SCHEMA_VERSION } from '@pgqueue/core';
import { Command, CommanderError, Option } from 'commander';
import { registerInspectCommands } from './commands/inspect.js';
import { registerLiveCommands } from './commands/live.js';
import { registerRepairCommands } from './commands/repair.js';
import { registerScheduleCommands } from './commands/schedules.js';
import { registerSchemaCommands } from './commands/schema.js';
import { exitCodeOf } from './connect.js';
import type { Context } from './context.js';
import { EXIT } from './exit-codes.js';

const { version } = createRequire(import.meta.url)('../package.json') as { version: string };

export function buildProgram(context: Context): Command {
  const program = new Command('pgq')
    .description(`pgqueue command line (schema version ${SCHEMA_VERSION}): install and upgrade, inspect, repair, schedules, top, metrics`)
    .version(version, '-V, --version')
    .addOption(new Option('--url <url>', 'postgres://user@host:5432/db, or pglite:<dir> for a PGlite data directory').env('DATABASE_URL'))
    .option('--schema <name>', 'the PostgreSQL schema pgqueue is installed in (default: the search_path)')
    .option('--prefix <prefix>', 'the table prefix pgqueue was installed with, e.g. app_')
    .addHelpText(
      'after',
      `
Exit codes: 0 ok, 1 database or unexpected error, 2 bad arguments, 3 cannot connect,
4 pgqueue not installed (or incomplete), 5 upgrade pending, 6 a named job or schedule is missing or in the wrong state.`,
    )
    .showSuggestionAfterError()
    .exitOverride();
  registerSchemaCommands(program, context);
  registerInspectCommands(program);
  registerRepairCommands(program);
  registerLiveCommands(program);
  registerScheduleCommands(program);
  // Subcommands (and theirs: pgq schedules list) inherit exitOverride only when set on each of them.
  const override = (command: Command): void => {
    for (const sub of command.commands) {
      sub.exitOverride();
      override(sub);
    }
  };
  override(program);
  return program;
}

/** Runs pgq with `argv` (process.argv shape) and resolves to the exit code. */
export async function main(argv: readonly string[]): Promise<number> {
  const context: Context = { exitCode: EXIT.ok };
  try {
    await buildProgram(context).parseAsync([...argv]);
    return context.exitCode;
  } catch (error) {
    if (error instanceof CommanderError) {
      // Help and version end here too; commander has already printed its message. A command
      // group run without its subcommand (pgq schedules) prints its help as an error.
      if (error.code === 'commander.help') return error.exitCode === 0 ? EXIT.ok : EXIT.usage;
      return error.code === 'commander.helpDisplayed' || error.code === 'commander.version' ? EXIT.ok : EXIT.usage;
    }
    const message = error instanceof Error ? error.message : String(error);
    process.stderr.write(`pgq: ${message.split('\n')[0]}\n`);
    if (process.env.PGQ_DEBUG === '1' && error instanceof Error) process.stderr.write(`${error.stack}\n`);
    return exitCodeOf(error);
  }
}
