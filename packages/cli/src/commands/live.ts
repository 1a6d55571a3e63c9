/** pgq top (a live terminal view) and pgq metrics (a Prometheus endpoint): the commands that keep running. */
import { createServer } from 'node:http';
import type { AddressInfo } from 'node:net';
import { createMetricsHandler, listJobs, queueOverview, summarizeByStatus, throughput, type Driver, type SchemaOptions } from '@pgqueue/core';
import type { Command } from 'commander';
import { withConnection } from '../context.js';
import { CliError, EXIT, usageError } from '../exit-codes.js';
import { formatSeconds, oneLine, parseDuration, print, table } from '../format.js';

const CLEAR = '\x1b[H\x1b[2J';
const HIDE_CURSOR = '\x1b[?25l';
const SHOW_CURSOR = '\x1b[?25h';
const RUNNING_SHOWN = 10;

/** Resolves on the first SIGINT or SIGTERM (and on `also`, when given); removes its handlers then. */
function untilSignal(also?: (stop: () => void) => void): Promise<NodeJS.Signals | 'key'> {
  return new Promise((resolve) => {
    const onSignal = (signal: NodeJS.Signals) => finish(signal);
    const finish = (how: NodeJS.Signals | 'key') => {
      process.off('SIGINT', onSignal);
      process.off('SIGTERM', onSignal);
      resolve(how);
    };
    process.on('SIGINT', onSignal);
    process.on('SIGTERM', onSignal);
    also?.(() => finish('key'));
  });
}

async function frame(driver: Driver, schemaOptions: SchemaOptions, jobsTable: string, windowMs: number): Promise<string> {
  const [overview, recent, running] = await Promise.all([
    queueOverview(driver, schemaOptions),
    throughput(driver, { ...schemaOptions, windowMs }),
    listJobs(driver, { ...schemaOptions, statuses: ['picked'], limit: 1000 }),
  ]);
  const byStatus = summarizeByStatus(overview);
  const now = Date.now();
  const longest = running.sort((a, b) => a.heartbeatAt.getTime() - b.heartbeatAt.getTime()).slice(0, RUNNING_SHOWN);
  const lines = [
    `pgq top  ${jobsTable}  ${new Date(now).toISOString()}  (q or Ctrl-C to quit)`,
    '',
    'QUEUE',
    byStatus.length === 0 ? '  empty' : table(['ENTRYPOINT', 'STATUS', 'JOBS', 'OLDEST'], byStatus.map((e) => [e.entrypoint, e.status, e.count, formatSeconds(e.oldestAgeSeconds)])),
    '',
    `THROUGHPUT (last ${formatSeconds(windowMs / 1000)})`,
    recent.length === 0 ? '  none' : table(['ENTRYPOINT', 'STATUS', 'JOBS', 'JOBS/S'], recent.map((r) => [r.entrypoint, r.status, r.count, Number(r.perSecond.toFixed(2))])),
    '',
    `RUNNING (${running.length}${running.length === 1000 ? '+' : ''})`,
    longest.length === 0
      ? '  none'
      : table(
          ['ID', 'ENTRYPOINT', 'ATTEMPT', 'PICKED', 'WORKER'],
          longest.map((job) => [job.id, job.entrypoint, job.attempts, `${formatSeconds(Math.max(0, now - job.updatedAt.getTime()) / 1000)} ago`, job.ownerId ?? '']),
        ),
  ];
  return lines.join('\n');
}

export function registerLiveCommands(program: Command): void {
  program
    .command('top')
    .description('a live view of queue sizes, throughput and running jobs; q or Ctrl-C quits')
    .option('--interval <duration>', 'time between refreshes', '1s')
    .option('--window <duration>', 'the throughput window', '10s')
    .action(async (options: { interval: string; window: string }, command: Command) => {
      const intervalMs = parseDuration(options.interval, '--interval');
      const windowMs = parseDuration(options.window, '--window');
      if (intervalMs < 100) throw usageError('--interval: at least 100ms.');
      await withConnection(command, async ({ driver, schemaOptions, queries }) => {
        const out = process.stdout;
        const stdin = process.stdin;
        let quit = false;
        let wake: (() => void) | undefined;
        const onKey = (stop: () => void) => (key: string) => {
          if (key === 'q' || key === 'Q' || key === '\u0003') stop();
        };
        let keyListener: ((key: string) => void) | undefined;
        void untilSignal((stop) => {
          keyListener = onKey(stop);
          if (stdin.isTTY) stdin.setRawMode(true);
          stdin.setEncoding('utf8');
          stdin.on('data', keyListener);
          stdin.resume();
        }).then(() => {
          quit = true;
          wake?.();
        });
        if (out.isTTY) out.write(HIDE_CURSOR);
        try {
          while (!quit) {
            let text: string;
            try {
              text = await frame(driver, schemaOptions, queries.names.jobs, windowMs);
            } catch (error) {
              text = `pgq top: cannot read the queue: ${oneLine(error instanceof Error ? error.message : String(error), 200)}`;
            }
            if (quit) break;
            out.write(`${out.isTTY ? CLEAR : ''}${text}\n`);
            await new Promise<void>((resolve) => {
              const timer = setTimeout(resolve, intervalMs);
              wake = () => {
                clearTimeout(timer);
                resolve();
              };
            });
          }
        } finally {
          if (keyListener !== undefined) stdin.off('data', keyListener);
          if (stdin.isTTY) stdin.setRawMode(false);
          stdin.pause();
          if (out.isTTY) out.write(SHOW_CURSOR);
        }
      });
    });

  program
    .command('metrics')
    .description('serve Prometheus metrics (queue depth, oldest ages, throughput, schema version) until SIGINT/SIGTERM')
    .option('--port <port>', 'TCP port (0 picks a free one)', '9464')
    .option('--host <host>', 'address to listen on', '0.0.0.0')
    .option('--window <duration>', 'the window throughput is averaged over', '60s')
    .action(async (options: { port: string; host: string; window: string }, command: Command) => {
      if (!/^\d{1,5}$/.test(options.port) || Number(options.port) > 65535) throw usageError(`--port: "${options.port}" is not a TCP port.`);
      const windowMs = parseDuration(options.window, '--window');
      await withConnection(command, async ({ driver, schemaOptions }) => {
        const handler = createMetricsHandler(driver, { ...schemaOptions, windowMs });
        const server = createServer((req, res) => {
          const path = (req.url ?? '/').split('?')[0];
          if (path === '/metrics') return void handler(req, res);
          res.writeHead(path === '/' ? 200 : 404, { 'content-type': 'text/plain; charset=utf-8' }).end('pgqueue metrics are at /metrics\n');
        });
        await new Promise<void>((resolve, reject) => {
          server.once('error', (error: NodeJS.ErrnoException) =>
            reject(new CliError(`cannot listen on ${options.host}:${options.port}: ${error.code ?? error.message}`, EXIT.error)),
          );
          server.listen(Number(options.port), options.host, resolve);
        });
        const { port } = server.address() as AddressInfo;
        print(`serving Prometheus metrics on http://${options.host}:${port}/metrics`);
        await untilSignal();
        server.closeAllConnections();
        await new Promise((resolve) => server.close(resolve));
      });
    });
}
