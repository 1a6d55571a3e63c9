/** pgq install | uninstall | verify | upgrade, and pgq sql: the schema's life cycle. */
import {
  SCHEMA_VERSION,
  getInstallSql,
  getUninstallSql,
  getUpgradeSql,
  installSchema,
  uninstallSchema,
  upgradeSchema,
  verifySchema,
} from '@pgqueue/core';
import { Argument, Option, type Command } from 'commander';
import { schemaOptionsOf } from '../connect.js';
import { globalsOf, withConnection, type Context } from '../context.js';
import { CliError, EXIT, usageError } from '../exit-codes.js';
import { parsePositiveInt, print, printJson } from '../format.js';

export function registerSchemaCommands(program: Command, context: Context): void {
  program
    .command('install')
    .description('create the pgqueue tables (or upgrade an older installation); safe to run on every deploy')
    .option('--json', 'print the result as JSON')
    .action(async (_options, command: Command) => {
      await withConnection(
        command,
        async ({ driver, schemaOptions, queries }) => {
          const result = await installSchema(driver, schemaOptions);
          if (globalsOf(command).json) return printJson({ ...result, version: SCHEMA_VERSION });
          print(
            result.created
              ? `installed pgqueue schema version ${SCHEMA_VERSION} at ${queries.names.jobs}`
              : result.upgradedFrom !== undefined
                ? `upgraded pgqueue schema at ${queries.names.jobs} from version ${result.upgradedFrom} to ${SCHEMA_VERSION}`
                : `pgqueue schema version ${SCHEMA_VERSION} is already installed at ${queries.names.jobs}`,
          );
        },
        { requireInstalled: false },
      );
    });

  program
    .command('uninstall')
    .description('drop every pgqueue object of this schema/prefix, with all jobs and statistics')
    .option('--yes', 'confirm: this deletes every job and statistic')
    .option('--json', 'print the result as JSON')
    .action(async (options: { yes?: boolean }, command: Command) => {
      if (!options.yes) throw usageError('uninstall deletes every job and statistic: pass --yes to confirm.');
      await withConnection(
        command,
        async ({ driver, schemaOptions, queries }) => {
          await uninstallSchema(driver, schemaOptions);
          if (globalsOf(command).json) return printJson({ uninstalled: true });
          print(`uninstalled pgqueue from ${queries.names.jobs}`);
        },
        { requireInstalled: false },
      );
    });

  program
    .command('verify')
    .description(`check the installation: exit 0 when complete at version ${SCHEMA_VERSION}, 4 when missing or incomplete, 5 when an upgrade is pending`)
    .option('--json', 'print the report as JSON')
    .action(async (_options, command: Command) => {
      await withConnection(
        command,
        async ({ driver, schemaOptions, queries, flags }) => {
          const report = await verifySchema(driver, schemaOptions);
          const onlyBehind =
            report.version !== undefined && report.version < report.currentVersion && report.problems.every((p) => p.includes('run upgradeSchema'));
          context.exitCode = report.installed ? EXIT.ok : onlyBehind ? EXIT.upgradePending : EXIT.notInstalled;
          if (globalsOf(command).json) return printJson(report);
          if (report.installed) return print(`ok: pgqueue schema version ${report.version} at ${queries.names.jobs}`);
          if (onlyBehind) {
            print(`upgrade pending: ${queries.names.jobs} is at version ${report.version}, this pgq installs ${report.currentVersion}`);
            for (const step of report.pendingSteps) print(`  version ${step.version}: ${step.description}`);
            return print(`run pgq upgrade${flags}`);
          }
          print(`not installed or incomplete at ${queries.names.jobs}:`);
          for (const problem of report.problems) print(`  ${problem}`);
          if (report.version === undefined) print(`run pgq install${flags}`);
        },
        { requireInstalled: false },
      );
    });

  program
    .command('upgrade')
    .description(`bring an installed schema to version ${SCHEMA_VERSION}, step by step in one transaction`)
    .option('--dry-run', 'print the steps it would run and change nothing')
    .option('--json', 'print the result as JSON')
    .action(async (options: { dryRun?: boolean }, command: Command) => {
      await withConnection(
        command,
        async ({ driver, schemaOptions, queries, flags }) => {
          const json = globalsOf(command).json;
          if (options.dryRun) {
            const report = await verifySchema(driver, schemaOptions);
            if (report.version === undefined) {
              throw new CliError(
                `pgqueue is not installed at ${queries.names.jobs} (${report.problems[0]}): run pgq install${flags}`,
                EXIT.notInstalled,
              );
            }
            if (json) return printJson({ dryRun: true, fromVersion: report.version, toVersion: report.currentVersion, steps: report.pendingSteps });
            if (report.pendingSteps.length === 0) return print(`nothing to do: ${queries.names.jobs} is at version ${report.version}`);
            print(`would upgrade ${queries.names.jobs} from version ${report.version} to ${report.currentVersion}:`);
            for (const step of report.pendingSteps) print(`  version ${step.version}: ${step.description}`);
            return;
          }
          const result = await upgradeSchema(driver, schemaOptions);
          if (json) return printJson({ dryRun: false, fromVersion: result.fromVersion, toVersion: result.toVersion, steps: result.applied });
          if (result.applied.length === 0) return print(`nothing to do: ${queries.names.jobs} is at version ${result.toVersion}`);
          print(`upgraded ${queries.names.jobs} from version ${result.fromVersion} to ${result.toVersion}:`);
          for (const step of result.applied) print(`  version ${step.version}: ${step.description}`);
        },
        { requireInstalled: false },
      );
    });

  program
    .command('sql')
    .description('print the DDL without connecting, e.g. for a migration file (run it in one transaction: psql -1)')
    .addArgument(new Argument('<what>', 'which DDL').choices(['install', 'uninstall', 'upgrade']))
    .addOption(new Option('--from <version>', 'upgrade: the version the database is at').default('1'))
    .action((what: 'install' | 'uninstall' | 'upgrade', options: { from: string }, command: Command) => {
      const schemaOptions = schemaOptionsOf(globalsOf(command));
      const text =
        what === 'install'
          ? getInstallSql(schemaOptions)
          : what === 'uninstall'
            ? getUninstallSql(schemaOptions)
            : getUpgradeSql({ ...schemaOptions, fromVersion: parsePositiveInt(options.from, '--from') });
      process.stdout.write(text.endsWith('\n') ? text : `${text}\n`);
    });
}
