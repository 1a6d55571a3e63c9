import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueManager, Queries, installSchema } from '@pgqueue/core';
import { waitFor } from '@pgqueue/core/testing';
import { createPgDriver, type PgDriver } from '../src/index.js';

// The children run the TypeScript sources through tsx, @pgqueue/core mapped to its sources.
const CHILD_TSCONFIG = fileURLToPath(new URL('./tsconfig.child.json', import.meta.url));

const url = process.env.DATABASE_URL;
const STALE_AFTER_MS = 2_000;
const WORKERS = 4;
const TICKS = 30;
if (url === undefined) {
  console.log('@pgqueue/pg schedules: DATABASE_URL is not set, so the four-process fleet test (it needs the real server) is skipped.');
}

describe.skipIf(url === undefined)('a 1-second schedule on four worker processes', () => {
  const schema = `pgq_test_sched_${randomBytes(4).toString('hex')}`;
  const entrypoint = 'every_second';
  let admin: PgDriver;
  const children: ChildProcess[] = [];

  beforeAll(async () => {
    admin = createPgDriver(url!, { max: 2 });
    await installSchema(admin, { schema });
    await admin.exec(`CREATE TABLE "${schema}".tick_runs (job_id bigint NOT NULL, tick timestamptz NOT NULL, pid integer NOT NULL)`);
  });

  afterAll(async () => {
    for (const child of children) if (child.exitCode === null && child.signalCode === null) child.kill('SIGKILL');
    await admin?.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin?.close();
  });

  const ticksSeen = async () =>
    Number((await admin.query<{ n: string }>(`SELECT count(DISTINCT tick)::text AS n FROM "${schema}".tick_runs`)).rows[0]!.n);

  it(`enqueues exactly one job per tick over ${TICKS} ticks, losing none when one process is SIGKILLed midway`, async () => {
    const started = Array.from({ length: WORKERS }, () => startChild());
    const exits = started.map(
      ({ child }) => new Promise<{ code: number | null; signal: NodeJS.Signals | null }>((resolve) => child.on('exit', (code, signal) => resolve({ code, signal }))),
    );
    await Promise.all(started.map(({ ready }) => ready));
    const startedAt = await ticksSeen();
    await waitFor('half the ticks to run', async () => (await ticksSeen()) >= startedAt + TICKS / 2, 60_000);
    const victim = started[0]!.child;
    victim.kill('SIGKILL');
    expect(await exits[0]).toEqual({ code: null, signal: 'SIGKILL' });
    await waitFor('the other half to run', async () => (await ticksSeen()) >= startedAt + TICKS, 60_000);
    for (const { child } of started.slice(1)) child.kill('SIGTERM');
    expect(await Promise.all(exits.slice(1))).toEqual(started.slice(1).map(() => ({ code: 0, signal: null })));

    // Jobs enqueued at the last ticks, or picked by the killed process, run here.
    const queries = new Queries(admin, { schema });
    const drainer = new QueueManager(admin, { schema, staleAfterMs: STALE_AFTER_MS, pollIntervalMs: 100 });
    drainer.entrypoint(entrypoint, async (job) => {
      const tick = (job.headers as { schedule: { tick: string } }).schedule.tick;
      await admin.query(`INSERT INTO "${schema}".tick_runs (job_id, tick, pid) VALUES ($1::bigint, $2::timestamptz, 0)`, [String(job.id), tick]);
    });
    await waitFor(
      'the killed process’s jobs to be free',
      async () => (await queries.queueSize()).every((row) => row.status !== 'picked'),
      STALE_AFTER_MS * 5,
    ).catch(() => undefined);
    await new Promise((resolve) => setTimeout(resolve, STALE_AFTER_MS));
    await drainer.run({ drain: true });
    expect(await queries.queueSize()).toEqual([]);

    const { rows } = await admin.query<{ tick: string; jobs: number; pids: string }>(
      `SELECT to_char(tick AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS') AS tick, count(DISTINCT job_id)::integer AS jobs,
              string_agg(DISTINCT pid::text, ',') AS pids
       FROM "${schema}".tick_runs GROUP BY tick ORDER BY tick`,
    );
    expect(rows.length).toBeGreaterThanOrEqual(TICKS);
    // Exactly one job per tick, and no tick missing from the first to the last.
    expect(rows.filter((row) => row.jobs !== 1)).toEqual([]);
    const first = Date.parse(`${rows[0]!.tick}Z`);
    expect(rows.map((row) => row.tick)).toEqual(rows.map((_, i) => new Date(first + i * 1000).toISOString().slice(0, 19)));
    // The killed process took part before it died, and each job completed once.
    expect(rows.some((row) => row.pids.split(',').includes(String(victim.pid)))).toBe(true);
    const totals = await queries.statisticsTotals();
    expect(totals).toEqual([{ entrypoint, status: 'successful', count: rows.length }]);
  }, 240_000);

  function startChild(): { child: ChildProcess; ready: Promise<void> } {
    const script = fileURLToPath(new URL('./schedule-child.ts', import.meta.url));
    const child = spawn(process.execPath, ['--import', 'tsx', script], {
      cwd: fileURLToPath(new URL('..', import.meta.url)),
      env: {
        ...process.env,
        PGQ_SCHEMA: schema,
        PGQ_ENTRYPOINT: entrypoint,
        PGQ_STALE_AFTER_MS: String(STALE_AFTER_MS),
        TSX_TSCONFIG_PATH: CHILD_TSCONFIG,
      },
      stdio: ['ignore', 'pipe', 'inherit'],
    });
    children.push(child);
    const ready = new Promise<void>((resolve, reject) => {
      child.stdout!.setEncoding('utf8').on('data', (chunk: string) => {
        if (chunk.includes('ready')) resolve();
      });
      child.on('exit', (code, signal) => reject(new Error(`a worker process exited before it was ready (${code ?? signal})`)));
    });
    return { child, ready };
  }
});
