/**
 * The ceiling row: pgbench drives the core's dequeue + completion (ceiling/script.ts) with one
 * client per worker, so the table shows what PostgreSQL itself does with pgqueue's statements
 * when no client library is in the way. It plugs into a run as a Fleet: the run prefills,
 * produces, measures and counts exactly as for the workers, from the statistics table.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomUUID } from 'node:crypto';
import { access, constants, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { delimiter, join } from 'node:path';
import { emptyCounters, type Counters } from '../counters.js';
import type { Fleet } from '../fleet.js';
import type { BenchOptions } from '../options.js';
import { BENCH_APPLICATION_NAME } from '../server/probe.js';
import { recordRawStatements } from '../strategies/raw.js';
import { workloadOf } from '../workload.js';
import { pgbenchScript } from './script.js';

/** How often the jobs completed so far are read from the statistics table (for the producer and the drain). */
const POLL_MS = 20;
/**
 * pgbench is stopped by the run (SIGINT) when its window or drain is over, as the workers are;
 * its own time limit is only a backstop, set past the window so it never ends inside it.
 */
const MARGIN_SECONDS = 30;
const DRAIN_LIMIT_SECONDS = 86_400;

export type CeilingPlan = { run: true; pgbench: string } | { run: false; reason: string };

async function onPath(name: string, env: Record<string, string | undefined>): Promise<string | undefined> {
  for (const dir of (env.PATH ?? '').split(delimiter)) {
    if (dir === '') continue;
    const candidate = join(dir, name);
    try {
      await access(candidate, constants.X_OK);
      return candidate;
    } catch {
      // not in this directory
    }
  }
  return undefined;
}

/** Whether the ceiling row can run, and if not, the reason printed in its place. */
export async function planCeiling(
  options: Pick<BenchOptions, 'ceiling' | 'driver' | 'databaseUrl'>,
  env: Record<string, string | undefined>,
): Promise<CeilingPlan> {
  if (!options.ceiling) return { run: false, reason: 'skipped: --no-ceiling' };
  if (options.driver === 'pglite' || options.databaseUrl === undefined) {
    return { run: false, reason: 'skipped: PGlite runs inside this process, and pgbench needs a PostgreSQL server (set DATABASE_URL)' };
  }
  const pgbench = await onPath('pgbench', env);
  if (pgbench === undefined) return { run: false, reason: 'skipped: pgbench is not on PATH (it comes with the PostgreSQL client tools)' };
  return { run: true, pgbench };
}

export interface PgbenchSpec {
  pgbench: string;
  databaseUrl: string;
  schema: string;
  clients: number;
  batchSize: number;
  workload: BenchOptions['workload'];
  /** Seconds the window ends after the start (duration runs); undefined for a drain. */
  windowEndsAfterSeconds: number | undefined;
  /** The jobs completed so far, read from the database. */
  completed: () => Promise<number>;
}

/** pgbench's arguments: no vacuum of its own tables, prepared statements, one thread per client. */
export function pgbenchArgs(spec: Pick<PgbenchSpec, 'clients' | 'databaseUrl' | 'windowEndsAfterSeconds'>, scriptPath: string, variables: Record<string, string>): string[] {
  const seconds = spec.windowEndsAfterSeconds === undefined ? DRAIN_LIMIT_SECONDS : Math.ceil(spec.windowEndsAfterSeconds) + MARGIN_SECONDS;
  return [
    '--no-vacuum',
    '--protocol=prepared',
    `--client=${spec.clients}`,
    `--jobs=${spec.clients}`,
    `--time=${seconds}`,
    ...Object.entries(variables).map(([name, value]) => `--define=${name}=${value}`),
    `--file=${scriptPath}`,
    spec.databaseUrl,
  ];
}

/** Counts pgbench's client errors: a client that hits an error is aborted and says so on stderr. */
export function countPgbenchErrors(stderr: string, counters: Counters): void {
  for (const line of stderr.split('\n')) {
    if (!/client \d+ .*aborted/.test(line)) continue;
    if (/deadlock detected/.test(line)) counters.deadlocks++;
    else counters.errors++;
    const sample = line.replace(/^pgbench: (error: )?/, '').trim();
    if (counters.samples.length < 5 && !counters.samples.includes(sample)) counters.samples.push(sample);
  }
}

/** The password goes to pgbench through PGPASSWORD, so that it is not on its command line for every `ps` to see. */
export function withoutPassword(databaseUrl: string): { url: string; password: string | undefined } {
  const url = new URL(databaseUrl);
  if (url.password === '') return { url: databaseUrl, password: undefined };
  const password = decodeURIComponent(url.password);
  url.password = '';
  return { url: url.toString(), password };
}

export async function startPgbench(spec: PgbenchSpec): Promise<Fleet> {
  const statements = await recordRawStatements({
    schema: spec.schema,
    entrypoints: workloadOf(spec.workload).entrypoints,
    ownerId: randomUUID(),
    batchSize: spec.batchSize,
  });
  const script = pgbenchScript(statements);
  const dir = await mkdtemp(join(tmpdir(), 'pgq-ceiling-'));
  const scriptPath = join(dir, 'ceiling.pgb');
  await writeFile(scriptPath, script.text);

  const counters = emptyCounters();
  let stderr = '';
  let exit: { code: number | null; signal: NodeJS.Signals | null } | undefined;
  const { url, password } = withoutPassword(spec.databaseUrl);
  const child: ChildProcess = spawn(spec.pgbench, pgbenchArgs({ ...spec, databaseUrl: url }, scriptPath, script.variables), {
    env: {
      ...process.env,
      PGAPPNAME: BENCH_APPLICATION_NAME,
      PGOPTIONS: '--client-min-messages=warning',
      ...(password === undefined ? {} : { PGPASSWORD: password }),
    },
    stdio: ['ignore', 'ignore', 'pipe'],
  });
  child.stderr!.setEncoding('utf8');
  child.stderr!.on('data', (chunk: string) => {
    stderr += chunk;
  });
  const exited = new Promise<void>((resolve) => {
    child.once('exit', (code, signal) => {
      exit = { code, signal };
      resolve();
    });
    child.once('error', (error) => {
      stderr += `pgbench could not start: ${error.message}\n`;
      exit = { code: -1, signal: null };
      resolve();
    });
  });

  let completed = 0;
  let polling = true;
  const poller = (async () => {
    while (polling && exit === undefined) {
      completed = await spec.completed();
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  })();

  return {
    counters: () => ({ ...counters, completed }),
    async stop() {
      // Cut off in the middle of a pair, a client leaves its dequeued batch picked: the run reports it under "left picked".
      const killed = exit === undefined;
      if (killed) child.kill('SIGINT');
      await exited;
      polling = false;
      await poller;
      completed = await spec.completed();
      countPgbenchErrors(stderr, counters);
      if (!killed && exit !== undefined && exit.code !== 0) {
        counters.errors++;
        counters.samples.push(`pgbench exited with code ${exit.code}: ${stderr.trim().split('\n').at(-1) ?? ''}`);
      }
      await rm(dir, { recursive: true, force: true });
      return { ...counters, completed };
    },
  };
}
