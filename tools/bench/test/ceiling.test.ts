import { randomUUID } from 'node:crypto';
import { chmod, mkdtemp, rm, writeFile } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { describe, expect, it } from 'vitest';
import { Queries } from '@pgqueue/core';
import { DRIVER_SPECIFICATION_VERSION, type Driver, type SqlParam } from '@pgqueue/core/adapter';
import { countPgbenchErrors, pgbenchArgs, planCeiling, withoutPassword } from '../src/ceiling/pgbench.js';
import { pgbenchScript, scriptVariables } from '../src/ceiling/script.js';
import { emptyCounters } from '../src/counters.js';
import { recordRawStatements } from '../src/strategies/raw.js';
import { MIXED_ENTRYPOINTS, workloadOf } from '../src/workload.js';
import { usePgliteSchema } from './pglite-schema.js';

const SCHEMA = 'pgq_bench_ceiling';

/** What the core sends for one dequeue and one completion, captured here independently of the bench's recorder. */
async function coreStatements(ownerId: string): Promise<{ dequeue: string; complete: string }> {
  const texts: string[] = [];
  const query = async (text: string) => {
    texts.push(text);
    return { rows: [], rowCount: 0 };
  };
  const driver = {
    specificationVersion: DRIVER_SPECIFICATION_VERSION,
    name: 'capture',
    capabilities: { concurrentQueries: true, listen: false },
    query,
    exec: async () => undefined,
    transaction: (fn: (tx: unknown) => Promise<unknown>) => fn({ query }),
    listen: () => Promise.reject(new Error('no listen')),
    close: async () => undefined,
  } as unknown as Driver;
  const queries = new Queries(driver, { schema: SCHEMA });
  await queries.dequeue({ ownerId, batchSize: 50, entrypoints: MIXED_ENTRYPOINTS });
  await queries.completeJobs({ ownerId, ids: [1], statuses: ['successful'] });
  return { dequeue: texts[0]!, complete: texts[1]! };
}

/** The script's SQL with every variable replaced by its value as a literal, the way pgbench's simple protocol would send it. */
function substitute(sql: string, values: Record<string, string>): string {
  return sql.replace(/(?<!:):(\w+)/g, (_m, name: string) => {
    const value = values[name];
    if (value === undefined) throw new Error(`no value for :${name}`);
    return `'${value.replace(/'/g, "''")}'`;
  });
}

describe('pgbench script of the ceiling', () => {
  it('holds the core dequeue and completion text as they are today, schema-qualified, with $n as variables', async () => {
    const ownerId = randomUUID();
    const statements = await recordRawStatements({ schema: SCHEMA, entrypoints: MIXED_ENTRYPOINTS, ownerId, batchSize: 50 });
    const script = pgbenchScript(statements);
    const core = await coreStatements(ownerId);

    const dequeue = core.dequeue.replace(/\$(\d+)/g, (_m, n: string) => `:dq_${n}`);
    const complete = core.complete.replace(/\$(\d+)/g, (_m, n: string) => ({ '1': ':cp_ids', '2': ':cp_statuses', '3': ':cp_3' })[n]!);
    expect(script.text).toContain(`FROM (${dequeue}) d \\gset`);
    expect(script.text).toContain(`${complete};`);
    expect(script.text).toContain(`"${SCHEMA}"."pgqueuer_dequeue"`);
    expect(script.text).toContain(`"${SCHEMA}"."pgqueuer_statistics"`);
    expect(script.text).not.toMatch(/\$\d/);
    // No concurrency limits: the core sends an array of NULLs, and so does the script.
    expect(script.variables).toEqual({
      dq_1: '50',
      dq_2: '{"email","resize","webhook","report"}',
      dq_3: '{NULL,NULL,NULL,NULL}',
      dq_4: ownerId,
      dq_5: '30000',
      cp_3: ownerId,
    });
    expect(scriptVariables(script.text).sort()).toEqual(['cp_3', 'cp_count', 'cp_ids', 'cp_statuses', 'dq_1', 'dq_2', 'dq_3', 'dq_4', 'dq_5']);
  });

  it('refuses a statement that pgbench would misread', async () => {
    const statements = await recordRawStatements({ schema: SCHEMA, entrypoints: ['noop'], ownerId: randomUUID(), batchSize: 10 });
    expect(() => pgbenchScript({ ...statements, complete: { ...statements.complete, text: 'SELECT 1; SELECT 2' } })).toThrow(/";"/);
    expect(() => pgbenchScript({ ...statements, complete: { ...statements.complete, text: "SELECT '12:30'::time" } })).toThrow(/:name/);
  });

  it('passes pgbench prepared statements, one client and thread per worker, and the constants as --define', () => {
    const args = pgbenchArgs({ clients: 8, databaseUrl: 'postgres://x@h/db', windowEndsAfterSeconds: 6.2 }, '/tmp/s.pgb', { dq_1: '100', cp_3: 'u' });
    expect(args).toEqual([
      '--no-vacuum',
      '--protocol=prepared',
      '--client=8',
      '--jobs=8',
      '--time=37',
      '--define=dq_1=100',
      '--define=cp_3=u',
      '--file=/tmp/s.pgb',
      'postgres://x@h/db',
    ]);
    expect(pgbenchArgs({ clients: 2, databaseUrl: 'u', windowEndsAfterSeconds: undefined }, 'f', {})).toContain('--time=86400');
  });

  it('keeps the password off pgbench\'s command line', () => {
    expect(withoutPassword('postgres://bench:s%40cret@db:5432/app?sslmode=require')).toEqual({
      url: 'postgres://bench@db:5432/app?sslmode=require',
      password: 's@cret',
    });
    expect(withoutPassword('postgres://postgres@127.0.0.1:5432/postgres')).toEqual({ url: 'postgres://postgres@127.0.0.1:5432/postgres', password: undefined });
  });

  it('counts aborted clients, deadlocks apart', () => {
    const counters = emptyCounters();
    countPgbenchErrors(
      [
        'pgbench: error: client 3 script 0 aborted in command 1 query 0: ERROR:  deadlock detected',
        'DETAIL:  Process 12 waits for ShareLock on transaction 9; blocked by process 13.',
        'pgbench: error: client 5 script 0 aborted in command 0 query 0: ERROR:  relation "x" does not exist',
        'pgbench: error: Run was aborted; the above results are incomplete.',
      ].join('\n'),
      counters,
    );
    expect(counters).toMatchObject({ deadlocks: 1, errors: 1 });
    expect(counters.samples[0]).toBe('client 3 script 0 aborted in command 1 query 0: ERROR:  deadlock detected');
  });

  it('runs only on a server driver with pgbench on PATH, and says why not otherwise', async () => {
    const dir = await mkdtemp(join(tmpdir(), 'pgq-path-'));
    try {
      const server = { ceiling: true, driver: 'pg' as const, databaseUrl: 'postgres://x@h/db' };
      expect(await planCeiling({ ...server, driver: 'pglite', databaseUrl: undefined }, { PATH: dir })).toEqual({
        run: false,
        reason: expect.stringMatching(/PGlite runs inside this process/),
      });
      expect(await planCeiling({ ...server, ceiling: false }, { PATH: dir })).toEqual({ run: false, reason: 'skipped: --no-ceiling' });
      expect(await planCeiling(server, { PATH: dir })).toEqual({ run: false, reason: expect.stringMatching(/pgbench is not on PATH/) });
      await writeFile(join(dir, 'pgbench'), '#!/bin/sh\n');
      await chmod(join(dir, 'pgbench'), 0o755);
      expect(await planCeiling(server, { PATH: `/nonexistent:${dir}` })).toEqual({ run: true, pgbench: join(dir, 'pgbench') });
    } finally {
      await rm(dir, { recursive: true, force: true });
    }
  });
});

describe('pgbench script, its SQL run on PGlite', () => {
  const db = usePgliteSchema(SCHEMA);

  it('one pass dequeues a batch and completes exactly it; an empty queue gives an empty completion', async () => {
    await db.queries.enqueue(workloadOf('mixed').batch(25));
    const statements = await recordRawStatements({ schema: SCHEMA, entrypoints: MIXED_ENTRYPOINTS, ownerId: randomUUID(), batchSize: 10 });
    const script = pgbenchScript(statements);
    // The script's commands: the dequeue up to \gset, then \if on its count, the completion under \else.
    const lines = script.text.split('\n').filter((line) => !line.startsWith('--'));
    const gset = lines.findIndex((line) => line.endsWith(' \\gset'));
    const first = lines.slice(0, gset + 1).join('\n').replace(/ \\gset$/, '');
    expect(lines.slice(gset + 1, gset + 4)).toEqual(['\\if :cp_count = 0', '\\sleep 1 ms', '\\else']);
    expect(lines.at(-2)).toBe('\\endif');
    const second = lines.slice(gset + 4, -2).join('\n').replace(/;$/, '');
    const pass = async (): Promise<{ ids: string; completed: number }> => {
      const { rows } = await db.driver.query<{ cp_ids: string; cp_statuses: string; cp_count: string | number }>(substitute(first, script.variables));
      const row = rows[0]!;
      if (Number(row.cp_count) === 0) return { ids: row.cp_ids, completed: 0 };
      const done = await db.driver.query(substitute(second, { ...script.variables, cp_ids: row.cp_ids, cp_statuses: row.cp_statuses }));
      // The wrapper builds the same array literals as the raw loop, so the completion gets the parameters it would.
      expect(row.cp_statuses).toBe(statements.completeParams(row.cp_ids.slice(1, -1).split(',').filter(Boolean))[1] as SqlParam);
      return { ids: row.cp_ids, completed: done.rows.length };
    };
    expect((await pass()).completed).toBe(10);
    expect((await pass()).completed).toBe(10);
    expect((await pass()).completed).toBe(5);
    expect(await pass()).toEqual({ ids: '{}', completed: 0 });
    const totals = await db.queries.statisticsTotals();
    expect(totals.reduce((sum, t) => sum + t.count, 0)).toBe(25);
    expect(new Set(totals.map((t) => t.entrypoint))).toEqual(new Set(MIXED_ENTRYPOINTS));
  });
});
