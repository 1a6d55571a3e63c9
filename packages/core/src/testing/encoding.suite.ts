/**
 * The parameter and result cases where pg, postgres.js and PGlite disagree when left to
 * themselves (docs/architecture.md). Each case goes through the core's encoding and must come
 * back identical on every adapter.
 */
import { expect, it } from 'vitest';
import { jsonPayload } from '../job.js';
import { numberArray, textArray } from '../params.js';
import type { Fixture } from './target.js';

export function encodingCases(fx: () => Fixture): void {
  it('sends a text array into an enum array of a type created after connecting', async () => {
    const { driver, schema } = fx();
    await driver.query('SELECT 1');
    await driver.exec(`CREATE TYPE "${schema}".mood AS ENUM ('calm', 'busy', 'odd "quoted", one')`);
    const { rows } = await driver.query<{ value: string }>(
      `SELECT unnest($1::text[]::"${schema}".mood[])::text AS value`,
      [textArray(['busy', 'odd "quoted", one', 'calm'])],
    );
    expect(rows.map((row) => row.value)).toEqual(['busy', 'odd "quoted", one', 'calm']);
  });

  it('round-trips text arrays with quotes, backslashes, braces, commas, "NULL", unicode and null', async () => {
    const values = ['a"b', 'back\\slash', '{braces}', 'com,ma', 'NULL', '', 'ünï😀', ' spaced ', null];
    const { rows } = await fx().driver.query<{ value: string | null }>(
      'SELECT unnest($1::text[]) AS value',
      [textArray(values)],
    );
    expect(rows.map((row) => row.value)).toEqual(values);
  });

  it('stores stringified JSON in jsonb as the object, and JSON arrays as arrays', async () => {
    const { rows } = await fx().driver.query<{ object: string; array: string }>(
      'SELECT jsonb_typeof($1::text::jsonb) AS object, jsonb_typeof($2::text::jsonb) AS array',
      [JSON.stringify({ a: 1 }), JSON.stringify([1, 2, 3])],
    );
    expect(rows[0]).toEqual({ object: 'object', array: 'array' });
  });

  it('stores headers as jsonb objects with nested arrays and reads them back', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    const headers = { trace: 'abc', tags: ['x', 'y'], nested: { n: 1, ok: true, none: null } };
    const id = await queries.enqueue({ entrypoint, headers });
    const [job] = await queries.getJobs([id]);
    expect(job?.headers).toEqual(headers);
    const { rows } = await fx().driver.query<{ kind: string }>(
      `SELECT jsonb_typeof(headers) AS kind FROM "${fx().schema}".pgqueuer WHERE id = $1::bigint`,
      [String(id)],
    );
    expect(rows[0]?.kind).toBe('object');
  });

  it('turns undefined fields into NULL rather than failing', async () => {
    const { queries } = fx();
    const id = await queries.enqueue({
      entrypoint: fx().entrypoint(),
      payload: undefined,
      dedupeKey: undefined,
      headers: undefined,
      priority: undefined,
    });
    const [job] = await queries.getJobs([id]);
    expect(job).toMatchObject({ payload: null, dedupeKey: null, headers: null, priority: 0 });
  });

  it('fills the defaults of columns no job sets, and keeps each job’s own values in a mixed batch', async () => {
    // enqueue sends a column that no job of the batch sets as NULL instead of an array of defaults.
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    const plain = await queries.getJobs(await queries.enqueue([{ entrypoint }, { entrypoint }]));
    for (const job of plain) {
      expect(job).toMatchObject({ priority: 0, payload: null, dedupeKey: null, headers: null, status: 'queued' });
      expect(job.executeAfter.getTime()).toBe(job.createdAt.getTime());
    }
    const mixed = await queries.getJobs(
      await queries.enqueue([
        { entrypoint },
        { entrypoint, priority: -3 },
        { entrypoint, delayMs: 60_000 },
        { entrypoint, dedupeKey: `${entrypoint}-key` },
        { entrypoint, headers: { trace: 't' } },
        { entrypoint, payload: { n: 1 } },
      ]),
    );
    expect(mixed.map((job) => [job.priority, job.dedupeKey, job.headers, job.payload && jsonPayload(job)])).toEqual([
      [0, null, null, null],
      [-3, null, null, null],
      [0, null, null, null],
      [0, `${entrypoint}-key`, null, null],
      [0, null, { trace: 't' }, null],
      [0, null, null, { n: 1 }],
    ]);
    const delays = mixed.map((job) => job.executeAfter.getTime() - job.createdAt.getTime());
    expect(delays).toEqual([0, 0, 60_000, 0, 0, 0]);
  });

  it('round-trips every byte value, unicode JSON, null and a 1 MiB payload', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    const allBytes = Uint8Array.from({ length: 256 }, (_, i) => i);
    const big = new Uint8Array(1024 * 1024).map((_, i) => (i * 31) % 251);
    const unicode = { text: 'Grüße, 世界 👋 \u0000 "quotes" \\ \n' };
    const ids = await queries.enqueue([
      { entrypoint, payload: allBytes },
      { entrypoint, payload: unicode },
      { entrypoint, payload: null },
      { entrypoint, payload: big },
    ]);
    const jobs = await queries.getJobs(ids);
    expect(Buffer.from(jobs[0]!.payload!)).toEqual(Buffer.from(allBytes));
    expect(jsonPayload(jobs[1]!)).toEqual(unicode);
    expect(jobs[2]!.payload).toBeNull();
    expect(jobs[3]!.payload!.byteLength).toBe(big.byteLength);
    expect(Buffer.from(jobs[3]!.payload!).equals(Buffer.from(big))).toBe(true);
  });

  it('returns bigint ids past 2^31 (and 2^40) as exact numbers through enqueue, dequeue and complete', async () => {
    const { driver, queries, schema } = fx();
    const entrypoint = fx().entrypoint();
    for (const start of [2 ** 31 + 5, 2 ** 40 + 7]) {
      await driver.query(`SELECT setval('"${schema}".pgqueuer_id_seq', $1::bigint)`, [String(start)]);
      const ids = await queries.enqueue([{ entrypoint }, { entrypoint }]);
      expect(ids).toEqual([start + 1, start + 2]);
      const ownerId = crypto.randomUUID();
      const jobs = await queries.dequeue({ ownerId, batchSize: 10, entrypoints: [entrypoint] });
      expect(jobs.map((job) => job.id)).toEqual(ids);
      expect(await queries.completeJobs({ ownerId, ids, statuses: ['successful', 'successful'] })).toEqual(ids);
    }
  });

  it('sends numbers as array literals, including negative priorities and fractional delays', async () => {
    const { rows } = await fx().driver.query<{ total: string }>(
      'SELECT sum(x)::text AS total FROM unnest($1::float8[]) AS x',
      [numberArray([-2147483648, 0.5, 2147483647, 1e-3])],
    );
    expect(Number(rows[0]?.total)).toBeCloseTo(-2147483648 + 0.5 + 2147483647 + 0.001, 6);
  });
}
