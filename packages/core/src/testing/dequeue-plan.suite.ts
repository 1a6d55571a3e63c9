/**
 * What a dequeue costs must not depend on the backlog: whatever the table's statistics say, a
 * dequeue of 100 walks an index in order and stops after the jobs it claims. Each case counts
 * the rows the server read for one dequeue (`pg_stat_xact_user_tables`: heap rows fetched through
 * indexes plus rows read by sequential scans, this transaction only), so a plan that sorts the
 * backlog or walks past jobs that are not due shows up as hundreds of thousands of rows.
 *
 * Each case installs its own schema with autovacuum off, so the jobs table is never analysed
 * behind the test's back, and runs in one transaction on one connection: the function's plans
 * are cached by the session that ran the first dequeues on the empty table, as on a worker.
 */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import type { Queryable } from '../driver.js';
import { resolveNames, type Names } from '../names.js';
import { installSql } from '../sql/schema.js';
import type { Fixture } from './target.js';

const BACKLOG = 200_000;
const BATCH = 100;
/**
 * Rows one dequeue of BATCH may read: the claimed rows through the queued index, again through
 * the primary key for the update, and the index entries of rows claimed just before, still
 * visible to the scan. A backlog-sized plan reads ~BACKLOG.
 */
const MAX_ROWS_READ = 5 * BATCH;

interface Cost {
  claimed: number;
  rowsRead: number;
  priorities: number[];
}

async function dequeueCost(tx: Queryable, n: Names, entrypoint: string): Promise<Cost> {
  const read = async () => {
    const { rows } = await tx.query<{ rows: string }>(
      `SELECT (coalesce(idx_tup_fetch, 0) + coalesce(seq_tup_read, 0))::text AS rows
       FROM pg_stat_xact_user_tables WHERE relid = $1::regclass`,
      [n.jobs],
    );
    return Number(rows[0]?.rows ?? 0);
  };
  const before = await read();
  const { rows } = await tx.query<{ priority: number }>(
    `SELECT d.priority FROM ${n.dequeueFunction}($1::integer, $2::text[], '{NULL}'::integer[], $3::uuid, interval '30 seconds') d`,
    [String(BATCH), `{${entrypoint}}`, randomUUID()],
  );
  return { claimed: rows.length, rowsRead: (await read()) - before, priorities: rows.map((row) => Number(row.priority)) };
}

/** Runs `body` in a transaction on a schema of its own, installed afresh and never analysed. */
async function onFreshSchema(fx: Fixture, body: (tx: Queryable, n: Names) => Promise<void>): Promise<void> {
  const schema = `${fx.schema}_plan_${randomUUID().slice(0, 8)}`;
  const n = resolveNames({ schema });
  await fx.driver.exec(installSql(n));
  try {
    await fx.driver.transaction(async (tx) => {
      await tx.exec(`ALTER TABLE ${n.jobs} SET (autovacuum_enabled = false)`);
      await body(tx, n);
    });
  } finally {
    await fx.driver.exec(`DROP SCHEMA IF EXISTS "${schema}" CASCADE`);
  }
}

/** Inserts `count` jobs in one statement, as a burst of enqueues would leave them. */
async function insertJobs(tx: Queryable, n: Names, count: number, priority: number, dueIn: string): Promise<void> {
  await tx.query(
    `INSERT INTO ${n.jobs} (entrypoint, priority, execute_after, payload)
     SELECT 'work', $2::integer, now() + $3::interval, convert_to('{"n":1}', 'UTF8') FROM generate_series(1, $1::integer)`,
    [String(count), String(priority), dueIn],
  );
}

export function dequeuePlanCases(fx: () => Fixture): void {
  it(`reads about what it claims from a never-analysed backlog of ${BACKLOG} jobs, planned while the table was empty`, async () => {
    await onFreshSchema(fx(), async (tx, n) => {
      // A fresh install: the first dequeues find nothing, and their plans are made on an empty table.
      for (let i = 0; i < 6; i++) expect((await dequeueCost(tx, n, 'work')).claimed).toBe(0);
      await insertJobs(tx, n, BACKLOG, 0, '0 seconds');
      for (let i = 0; i < 3; i++) {
        const cost = await dequeueCost(tx, n, 'work');
        expect(cost.claimed).toBe(BATCH);
        expect(cost.rowsRead).toBeLessThanOrEqual(MAX_ROWS_READ);
      }
    });
  });

  for (const delayedPriority of [10, 0]) {
    it(`is not slowed by ${BACKLOG} jobs not yet due at priority ${delayedPriority} (analysed table)`, async () => {
      await onFreshSchema(fx(), async (tx, n) => {
        await insertJobs(tx, n, BACKLOG, delayedPriority, '1 day');
        await insertJobs(tx, n, 2_000, 0, '-1 second');
        await tx.exec(`ANALYZE ${n.jobs}`);
        for (let i = 0; i < 3; i++) {
          const cost = await dequeueCost(tx, n, 'work');
          expect(cost.claimed).toBe(BATCH);
          expect(cost.priorities.every((priority) => priority === 0)).toBe(true);
          expect(cost.rowsRead).toBeLessThanOrEqual(MAX_ROWS_READ);
        }
      });
    });
  }
}
