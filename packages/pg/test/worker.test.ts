import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { QueueManager, Queries, installSchema, type JobId } from '@pgqueue/core';
import { runWorkerSuite, waitFor } from '@pgqueue/core/testing';
import { createPgDriver, type PgDriver } from '../src/index.js';

// The children run the TypeScript sources through tsx, @pgqueue/core mapped to its sources.
const CHILD_TSCONFIG = fileURLToPath(new URL('./tsconfig.child.json', import.meta.url));

runWorkerSuite({
  name: 'pg',
  requiresServer: true,
  // Each worker its own pool, as separate worker processes would have.
  createDriver: () => createPgDriver(process.env.DATABASE_URL!, { max: 4 }),
  createDriverAt: (url) => createPgDriver(url, { max: 4 }),
});

const url = process.env.DATABASE_URL;
const STALE_AFTER_MS = 1_500;

describe.skipIf(url === undefined)('pg worker processes', () => {
  const schema = `pgq_test_kill_${randomBytes(4).toString('hex')}`;
  let admin: PgDriver;

  beforeAll(async () => {
    admin = createPgDriver(url!, { max: 2 });
    await installSchema(admin, { schema });
  });

  afterAll(async () => {
    await admin?.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
    await admin?.close();
  });

  it('finishes the jobs of a worker process killed with SIGKILL, after their heartbeat timeout, losing none', async () => {
    const queries = new Queries(admin, { schema });
    const entrypoint = 'killed';
    const total = 20;
    const ids = await queries.enqueue(Array.from({ length: total }, () => ({ entrypoint })));

    const child = startChild(entrypoint);
    const lines: string[] = [];
    child.stdout!.setEncoding('utf8').on('data', (chunk: string) => lines.push(...chunk.split('\n').filter(Boolean)));
    const exited = new Promise<NodeJS.Signals | null>((resolve) => child.on('exit', (_code, signal) => resolve(signal)));
    let held: JobId[] = [];
    try {
      await waitFor('the child to hold five jobs', () => lines.filter((line) => line.startsWith('started ')).length === 5, 30_000);
      held = lines.filter((line) => line.startsWith('started ')).map((line) => Number(line.slice('started '.length)));
      const owner = lines.find((line) => line.startsWith('owner '))!.slice('owner '.length);
      const rows = await queries.getJobs(held);
      expect(rows.map((job) => [job.status, job.ownerId])).toEqual(held.map(() => ['picked', owner]));
    } finally {
      child.kill('SIGKILL');
    }
    expect(await exited).toBe('SIGKILL');

    const runs = new Map<JobId, number[]>();
    const drivers = [createPgDriver(url!, { max: 4 }), createPgDriver(url!, { max: 4 })];
    const workers = drivers.map((driver) => {
      const qm = new QueueManager(driver, { schema, staleAfterMs: STALE_AFTER_MS, pollIntervalMs: 100 });
      qm.entrypoint(entrypoint, (job) => {
        runs.set(job.id, [...(runs.get(job.id) ?? []), job.attempts]);
      });
      return qm;
    });
    const errors: unknown[] = [];
    workers.forEach((qm) => qm.on('error', (error) => errors.push(error)));
    const running = workers.map((qm) => qm.run());
    try {
      await waitFor(
        'every job to be completed',
        async () => (await queries.statisticsTotals()).find((row) => row.entrypoint === entrypoint)?.count === total,
        30_000,
      );
    } finally {
      await Promise.all(workers.map((qm) => qm.stop()));
      await Promise.all(running);
      await Promise.all(drivers.map((driver) => driver.close()));
    }
    expect(errors).toEqual([]);
    expect([...runs.keys()].sort((a, b) => a - b)).toEqual(ids);
    for (const id of ids) expect(runs.get(id)).toEqual([held.includes(id) ? 2 : 1]);
    expect(await queries.getJobs(ids)).toEqual([]);
  });

  function startChild(entrypoint: string): ChildProcess {
    const script = fileURLToPath(new URL('./worker-child.ts', import.meta.url));
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
    return child;
  }
});
