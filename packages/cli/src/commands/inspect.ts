/** pgq queue | stats | jobs | failed: reading the queue. */
import { listJobs, queueOverview, throughput, type JobStatus } from '@pgqueue/core';
import { Argument, Option, type Command } from 'commander';
import { globalsOf, withConnection } from '../context.js';
import { CliError, EXIT } from '../exit-codes.js';
import { JOB_HEADERS, decodePayload, formatSeconds, jobJson, jobRow, parseDuration, parseIds, parsePositiveInt, print, printJson, table } from '../format.js';

const collect = (value: string, previous: string[] = []) => [...previous, value];
export const STATUSES: readonly JobStatus[] = ['queued', 'picked', 'successful', 'exception', 'canceled', 'deleted', 'failed'];

export function entrypointOption(): Option {
  return new Option('-e, --entrypoint <name>', 'only this entrypoint (repeatable)').argParser(collect);
}

export function registerInspectCommands(program: Command): void {
  program
    .command('queue')
    .description('jobs per entrypoint, status and priority, with the oldest age and the due backlog')
    .option('--json', 'print the rows as JSON')
    .action(async (_options, command: Command) => {
      await withConnection(command, async ({ driver, schemaOptions }) => {
        const rows = await queueOverview(driver, schemaOptions);
        if (globalsOf(command).json) return printJson(rows);
        if (rows.length === 0) return print('the queue is empty');
        print(
          table(
            ['ENTRYPOINT', 'STATUS', 'PRIORITY', 'COUNT', 'OLDEST', 'DUE', 'LONGEST DUE WAIT'],
            rows.map((r) => [r.entrypoint, r.status, r.priority, r.count, formatSeconds(r.oldestAgeSeconds), r.due, r.due === 0 ? '' : formatSeconds(r.oldestDueWaitSeconds)]),
          ),
        );
      });
    });

  program
    .command('stats')
    .description('jobs completed per entrypoint and status over a recent window, from the statistics table')
    .option('--since <duration>', 'the window, e.g. 30s, 10m, 24h', '10m')
    .option('--json', 'print the rows as JSON')
    .action(async (options: { since: string }, command: Command) => {
      const windowMs = parseDuration(options.since, '--since');
      await withConnection(command, async ({ driver, schemaOptions }) => {
        const rows = await throughput(driver, { ...schemaOptions, windowMs });
        if (globalsOf(command).json) return printJson({ windowSeconds: windowMs / 1000, rows });
        if (rows.length === 0) return print(`no job completed in the last ${options.since}`);
        print(table(['ENTRYPOINT', 'STATUS', 'COUNT', 'JOBS/S'], rows.map((r) => [r.entrypoint, r.status, r.count, Number(r.perSecond.toFixed(3))])));
      });
    });

  program
    .command('jobs')
    .description('list jobs (filter by entrypoint and status), or show one job with its payload, attempts and last error')
    .addArgument(new Argument('[id]', 'show this job'))
    .addOption(entrypointOption())
    .addOption(new Option('-s, --status <status>', 'only this status (repeatable)').choices(STATUSES).argParser(collect))
    .option('--after <id>', 'only jobs with a larger id (the last id of the previous page)')
    .option('--limit <n>', 'most jobs listed', '50')
    .option('--json', 'print as JSON')
    .action(async (id: string | undefined, options: { entrypoint?: string[]; status?: JobStatus[]; after?: string; limit: string }, command: Command) => {
      const json = globalsOf(command).json;
      const limit = parsePositiveInt(options.limit, '--limit');
      const afterId = options.after === undefined ? 0 : parseIds([options.after])[0]!;
      const [jobId] = id === undefined ? [] : parseIds([id]);
      await withConnection(command, async ({ driver, schemaOptions, queries }) => {
        if (jobId !== undefined) {
          const [job] = await queries.getJobs([jobId]);
          if (job === undefined) {
            throw new CliError(`job ${jobId} does not exist (finished jobs are deleted; pgq stats counts them)`, EXIT.jobState);
          }
          if (json) return printJson(jobJson(job));
          const payload = decodePayload(job.payload);
          print(
            [
              `job ${job.id}`,
              `  entrypoint:    ${job.entrypoint}`,
              `  status:        ${job.status}${job.cancelRequested ? ' (cancel requested)' : ''}`,
              `  priority:      ${job.priority}`,
              `  attempts:      ${job.attempts}`,
              `  created:       ${job.createdAt.toISOString()}`,
              `  execute after: ${job.executeAfter.toISOString()}`,
              `  updated:       ${job.updatedAt.toISOString()}`,
              ...(job.ownerId === null ? [] : [`  worker:        ${job.ownerId}`]),
              ...(job.dedupeKey === null ? [] : [`  dedupe key:    ${job.dedupeKey}`]),
              ...(job.headers === null ? [] : [`  headers:       ${JSON.stringify(job.headers)}`]),
              `  payload:       ${payload === null ? '(none)' : 'json' in payload ? JSON.stringify(payload.json) : `(bytes) ${payload.hex}`}`,
              ...(job.lastError === null
                ? []
                : [
                    `  last error:    ${job.lastError.name}: ${job.lastError.message} (attempt ${job.lastError.attempt})`,
                    ...(job.lastError.stack === null ? [] : job.lastError.stack.split('\n').map((line) => `    ${line}`)),
                  ]),
            ].join('\n'),
          );
          return;
        }
        const jobs = await listJobs(driver, {
          ...schemaOptions,
          ...(options.entrypoint === undefined ? {} : { entrypoints: options.entrypoint }),
          ...(options.status === undefined ? {} : { statuses: options.status }),
          afterId,
          limit,
        });
        if (json) return printJson(jobs.map(jobJson));
        if (jobs.length === 0) return print('no job matches');
        print(table(JOB_HEADERS, jobs.map(jobRow)));
      });
    });

  program
    .command('failed')
    .description('jobs held as failed after their last attempt, with their errors (pgq requeue puts them back)')
    .addOption(entrypointOption())
    .option('--limit <n>', 'most jobs listed', '50')
    .option('--json', 'print as JSON')
    .action(async (options: { entrypoint?: string[]; limit: string }, command: Command) => {
      const limit = parsePositiveInt(options.limit, '--limit');
      await withConnection(command, async ({ queries }) => {
        const jobs = await queries.listFailed({ ...(options.entrypoint === undefined ? {} : { entrypoints: options.entrypoint }), limit });
        if (globalsOf(command).json) return printJson(jobs.map(jobJson));
        if (jobs.length === 0) return print('no failed job');
        print(table(JOB_HEADERS, jobs.map(jobRow)));
      });
    });
}
