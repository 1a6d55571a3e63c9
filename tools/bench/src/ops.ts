#!/usr/bin/env node
/**
 * `pnpm bench:ops`: tinybench timings per queue operation (enqueue 1 / 100 / 1,000, dequeue
 * 10 / 100, complete 10 / 100) for each adapter side by side.
 */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname, isAbsolute, resolve } from 'node:path';
import { parseArgs } from 'node:util';
import { DRIVERS, type DriverName } from './options.js';
import { renderOpsTable, timeAdapter, type OpTiming } from './ops/timing.js';

const USAGE = `pnpm bench:ops [options]

  --driver LIST   adapters to time, e.g. pglite or pg,postgres-js (default: every adapter with
                  DATABASE_URL set, else pglite)
  --time MS       time budget per operation (default 500)
  --json FILE     also write the timings as JSON
  --help          this text`;

async function main(): Promise<number> {
  const { values } = parseArgs({
    args: process.argv.slice(2).filter((arg) => arg !== '--'),
    options: { driver: { type: 'string' }, time: { type: 'string' }, json: { type: 'string' }, help: { type: 'boolean' } },
  });
  if (values.help) {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const databaseUrl = process.env.DATABASE_URL || undefined;
  const drivers = (values.driver?.split(',').map((d) => d.trim()) ?? (databaseUrl ? [...DRIVERS] : ['pglite'])) as DriverName[];
  for (const driver of drivers) {
    if (!(DRIVERS as readonly string[]).includes(driver)) throw new Error(`--driver: unknown adapter "${driver}" (${DRIVERS.join(', ')})`);
    if (driver !== 'pglite' && !databaseUrl) throw new Error(`--driver ${driver} needs DATABASE_URL=postgres://…`);
  }
  const timeMs = values.time === undefined ? 500 : Number(values.time);
  if (!(timeMs > 0)) throw new Error(`--time expects milliseconds above 0, got "${values.time}"`);

  const timings: OpTiming[] = [];
  for (const driver of drivers) {
    process.stdout.write(`timing ${driver}…\n`);
    timings.push(...(await timeAdapter(driver, databaseUrl, timeMs)));
  }
  process.stdout.write(`\nmean time per call (jobs/s), one connection, ${timeMs} ms per operation\n\n${renderOpsTable(timings)}\n`);
  if (values.json !== undefined) {
    const cwd = process.env.INIT_CWD ?? process.cwd();
    const path = isAbsolute(values.json) ? values.json : resolve(cwd, values.json);
    await mkdir(dirname(path), { recursive: true });
    await writeFile(path, `${JSON.stringify({ date: new Date().toISOString(), timeMs, timings }, null, 2)}\n`);
    process.stdout.write(`\nresults: ${path}\n`);
  }
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`pgqueue bench:ops failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
