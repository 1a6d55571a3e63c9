#!/usr/bin/env node
/**
 * `pnpm bench [options]`: the 2/4/8-worker throughput tables against the raw-SQL limit.
 * Prints the table, writes the JSON results and the SVG chart. See docs/benchmarks.md.
 */
import { relative } from 'node:path';
import { describePlan, runBench } from './bench.js';
import { planCeiling } from './ceiling/pgbench.js';
import { USAGE, UsageError, parseOptions } from './options.js';
import { createProgress } from './progress.js';
import { writeResults } from './report/json.js';
import { renderReport } from './report/table.js';

async function main(): Promise<number> {
  // pnpm runs the script inside tools/bench; INIT_CWD is where `pnpm bench` was typed.
  const cwd = process.env.INIT_CWD ?? process.cwd();
  let options;
  try {
    options = parseOptions(process.argv.slice(2), { env: process.env, cwd, now: new Date() });
  } catch (error) {
    if (error instanceof UsageError) {
      process.stderr.write(`${error.message}\n\n${USAGE}\n`);
      return 2;
    }
    throw error;
  }
  if (options === 'help') {
    process.stdout.write(`${USAGE}\n`);
    return 0;
  }
  const progress = createProgress();
  const ceiling = await planCeiling(options, process.env);
  progress.line(describePlan(options, ceiling));
  const result = await runBench(options, progress, ceiling);
  process.stdout.write(`\n${renderReport(result)}\n\n`);
  await writeResults(result, options);
  const shown = (path: string) => {
    const near = relative(cwd, path);
    return near === '' || near.startsWith('..') ? path : near;
  };
  process.stdout.write(`results: ${shown(options.json)}\nchart:   ${shown(options.svg)}\n`);
  return 0;
}

main().then(
  (code) => {
    process.exitCode = code;
  },
  (error: unknown) => {
    process.stderr.write(`pgqueue bench failed: ${error instanceof Error ? (error.stack ?? error.message) : String(error)}\n`);
    process.exitCode = 1;
  },
);
