/** pgq requeue | cancel | clear | prune: acting on jobs and statistics. */
import { pruneStatistics, type Job, type JobId, type Queries } from '@pgqueue/core';
import { Argument, type Command } from 'commander';
import { globalsOf, withConnection } from '../context.js';
import { CliError, EXIT, usageError } from '../exit-codes.js';
import { parseDuration, parseIds, print, printJson } from '../format.js';
import { entrypointOption } from './inspect.js';

/** Requeues go out this many ids per statement when --all pages through the failures. */
const PAGE = 1_000;

/** The jobs of `ids`, or one line naming every id that does not exist or fails `accept`. */
async function jobsInState(queries: Queries, ids: readonly JobId[], accept: (job: Job) => string | undefined, nothing: string) {
  const jobs = new Map((await queries.getJobs(ids)).map((job) => [job.id, job]));
  const problems = ids.flatMap((id) => {
    const job = jobs.get(id);
    if (job === undefined) return [`job ${id} does not exist`];
    const why = accept(job);
    return why === undefined ? [] : [why];
  });
  if (problems.length > 0) throw new CliError(`${problems.join('; ')}. ${nothing}`, EXIT.jobState);
}

export function registerRepairCommands(program: Command): void {
  program
    .command('requeue')
    .description('put failed jobs back in the queue as new (attempts from 0)')
    .addArgument(new Argument('[ids...]', 'the failed jobs to requeue'))
    .option('--all', 'every failed job (of the --entrypoint ones, when given)')
    .addOption(entrypointOption())
    .option('--json', 'print the result as JSON')
    .action(async (ids: string[], options: { all?: boolean; entrypoint?: string[] }, command: Command) => {
      if (Boolean(options.all) === ids.length > 0) throw usageError('requeue: name the failed jobs by id, or pass --all (not both).');
      if (options.entrypoint !== undefined && !options.all) throw usageError('requeue: --entrypoint goes with --all.');
      const wanted = parseIds(ids);
      await withConnection(command, async ({ queries }) => {
        const asked: JobId[] = [];
        const requeued: JobId[] = [];
        if (options.all) {
          for (let afterId = 0; ; ) {
            const page = await queries.listFailed({ ...(options.entrypoint === undefined ? {} : { entrypoints: options.entrypoint }), afterId, limit: PAGE });
            if (page.length === 0) break;
            asked.push(...page.map((job) => job.id));
            requeued.push(...(await queries.requeueFailed(page.map((job) => job.id))));
            afterId = page[page.length - 1]!.id;
          }
        } else {
          await jobsInState(
            queries,
            wanted,
            (job) => (job.status === 'failed' ? undefined : `job ${job.id} is ${job.status}, not failed`),
            'Only failed jobs can be requeued (pgq failed lists them); nothing was requeued.',
          );
          asked.push(...wanted);
          requeued.push(...(await queries.requeueFailed(wanted)));
        }
        const kept = asked.filter((id) => !requeued.includes(id));
        if (globalsOf(command).json) printJson({ requeued, kept });
        else print(requeued.length === 0 ? 'no failed job to requeue' : `requeued ${requeued.length} job(s): ${requeued.join(' ')}`);
        if (kept.length > 0) {
          throw new CliError(
            `job(s) ${kept.join(' ')} stay failed: a newer job with the same dedupe key is queued or running`,
            EXIT.jobState,
          );
        }
      });
    });

  program
    .command('cancel')
    .description('cancel jobs: queued and failed ones are deleted, running ones are aborted by their workers')
    .addArgument(new Argument('<ids...>', 'the jobs to cancel'))
    .option('--json', 'print the result as JSON')
    .action(async (ids: string[], _options, command: Command) => {
      const wanted = parseIds(ids);
      await withConnection(command, async ({ queries }) => {
        await jobsInState(queries, wanted, () => undefined, 'Nothing was canceled.');
        const result = await queries.cancelJobs(wanted);
        if (globalsOf(command).json) return printJson(result);
        if (result.canceled.length > 0) print(`canceled ${result.canceled.length} job(s): ${result.canceled.join(' ')}`);
        if (result.canceling.length > 0) print(`asked the workers of ${result.canceling.length} running job(s) to abort them: ${result.canceling.join(' ')}`);
      });
    });

  program
    .command('clear')
    .description('delete every job (or every job of the --entrypoint ones), running ones included, without running them')
    .addOption(entrypointOption())
    .option('--yes', 'confirm: the jobs are deleted, not run')
    .option('--json', 'print the result as JSON')
    .action(async (options: { entrypoint?: string[]; yes?: boolean }, command: Command) => {
      if (!options.yes) throw usageError('clear deletes jobs without running them: pass --yes to confirm.');
      await withConnection(command, async ({ queries }) => {
        const deleted = await queries.clearQueue(options.entrypoint);
        if (globalsOf(command).json) return printJson({ deleted });
        print(`deleted ${deleted} job(s)`);
      });
    });

  program
    .command('prune')
    .description('delete statistics rows older than a duration (the throughput history pgq stats and the metrics read)')
    .requiredOption('--older-than <duration>', 'e.g. 7d, 12h')
    .option('--json', 'print the result as JSON')
    .action(async (options: { olderThan: string }, command: Command) => {
      const olderThan = parseDuration(options.olderThan, '--older-than');
      await withConnection(command, async ({ driver, schemaOptions }) => {
        const result = await pruneStatistics(driver, { ...schemaOptions, olderThan });
        if (globalsOf(command).json) return printJson({ deleted: result.deleted, cutoff: result.cutoff.toISOString() });
        print(`deleted ${result.deleted} statistics row(s) older than ${result.cutoff.toISOString()}`);
      });
    });
}
