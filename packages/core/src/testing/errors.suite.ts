/** Bad input gets a clear error and leaves the database as it was. */
import { randomUUID } from 'node:crypto';
import { expect, it } from 'vitest';
import { PgQueueError, sqlStateOf } from '../errors.js';
import { Queries } from '../queries.js';
import { MAX_ENTRYPOINT_LENGTH } from '../validate.js';
import type { Fixture } from './target.js';

export function errorCases(fx: () => Fixture): void {
  async function jobsOf(entrypoint: string): Promise<number> {
    const rows = await fx().queries.queueSize();
    return rows.filter((row) => row.entrypoint === entrypoint).reduce((sum, row) => sum + row.count, 0);
  }

  it('keeps the SQLSTATE of a PostgreSQL error on the driver error and on PgQueueError', async () => {
    const error: unknown = await fx().driver.query('SELECT 1 / 0').catch((e: unknown) => e);
    expect(sqlStateOf(error)).toBe('22012');
    const missing = new Queries(fx().driver, { schema: fx().schema, prefix: 'never_installed_' });
    const wrapped: unknown = await missing.queueSize().catch((e: unknown) => e);
    expect(PgQueueError.isInstance(wrapped)).toBe(true);
    expect(wrapped).toMatchObject({ code: 'SCHEMA_NOT_INSTALLED', sqlState: '42P01' });
  });

  it('says how to install the schema when it was never installed, for every operation', async () => {
    const missing = new Queries(fx().driver, { schema: `${fx().schema}_absent` });
    const ownerId = randomUUID();
    for (const attempt of [
      () => missing.enqueue({ entrypoint: 'x' }),
      () => missing.dequeue({ ownerId, batchSize: 1, entrypoints: ['x'] }),
      () => missing.completeJobs({ ownerId, ids: [1], statuses: ['successful'] }),
    ]) {
      const error = (await attempt().catch((e: unknown) => e)) as PgQueueError;
      expect(error.code).toBe('SCHEMA_NOT_INSTALLED');
      expect(error.message).toContain(`installSchema(driver, { schema: '${fx().schema}_absent' })`);
      expect(error.cause).toBeDefined();
    }
  });

  it('rejects an empty, over-long or non-string entrypoint and enqueues nothing of the batch', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    for (const bad of ['', 'x'.repeat(MAX_ENTRYPOINT_LENGTH + 1), 42, undefined]) {
      const error = (await queries
        .enqueue([{ entrypoint }, { entrypoint: bad as string }])
        .catch((e: unknown) => e)) as PgQueueError;
      expect(error.code).toBe('INVALID_ARGUMENT');
      expect(error.message).toMatch(/entrypoint/);
    }
    await expect(queries.enqueue({ entrypoint: 'x'.repeat(MAX_ENTRYPOINT_LENGTH) })).resolves.toBeGreaterThan(0);
    expect(await jobsOf(entrypoint)).toBe(0);
  });

  it('rejects payloads that cannot be serialised, and oversized ones, enqueuing nothing', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    const circular: Record<string, unknown> = {};
    circular.self = circular;
    for (const payload of [circular, { n: 10n }, () => 1, Symbol('s')]) {
      await expect(queries.enqueue([{ entrypoint }, { entrypoint, payload }])).rejects.toMatchObject({
        code: 'PAYLOAD_NOT_SERIALIZABLE',
      });
    }
    const small = new Queries(fx().driver, { schema: fx().schema, maxPayloadBytes: 1024 });
    const error = (await small
      .enqueue([{ entrypoint }, { entrypoint, payload: new Uint8Array(1025) }])
      .catch((e: unknown) => e)) as PgQueueError;
    expect(error.code).toBe('PAYLOAD_TOO_LARGE');
    expect(error.message).toContain('1025 bytes');
    await expect(small.enqueue({ entrypoint, headers: { big: 10n } })).rejects.toMatchObject({
      code: 'PAYLOAD_NOT_SERIALIZABLE',
    });
    expect(await jobsOf(entrypoint)).toBe(0);
  });

  it('rejects bad priorities, delays, dedupe keys and headers', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    for (const job of [
      { entrypoint, priority: 1.5 },
      { entrypoint, priority: 2 ** 31 },
      { entrypoint, delayMs: -1 },
      { entrypoint, delayMs: Number.NaN },
      { entrypoint, dedupeKey: '' },
      { entrypoint, headers: ['not', 'an', 'object'] as unknown as Record<string, unknown> },
    ]) {
      await expect(queries.enqueue(job)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
    expect(await jobsOf(entrypoint)).toBe(0);
  });

  it('refuses a delay beyond 100 years with a message naming the job and the field, in enqueue, retry and requeue', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    const tooLate = (await queries.enqueue([{ entrypoint }, { entrypoint, delayMs: 1e300 }]).catch((e: unknown) => e)) as PgQueueError;
    expect(tooLate).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(tooLate.message).toContain('enqueue: job 1: delayMs');
    expect(await jobsOf(entrypoint)).toBe(0);
    const [id] = await queries.enqueue([{ entrypoint }]);
    const ownerId = randomUUID();
    await queries.dequeue({ ownerId, batchSize: 1, entrypoints: [entrypoint] });
    const retry = (await queries.retryJobs({ ownerId, jobs: [{ id: id!, delayMs: 1e300 }] }).catch((e: unknown) => e)) as PgQueueError;
    expect(retry).toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect(retry.message).toContain(`retryJobs: job ${id}: delayMs`);
    await expect(queries.requeueFailed([id!], { delayMs: 1e300 })).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    expect((await queries.getJobs([id!]))[0]).toMatchObject({ status: 'picked', ownerId });
  });

  it('rejects mismatched completion arrays and bad statuses without touching the jobs', async () => {
    const { queries } = fx();
    const entrypoint = fx().entrypoint();
    const ids = await queries.enqueue([{ entrypoint }, { entrypoint }]);
    const ownerId = randomUUID();
    await queries.dequeue({ ownerId, batchSize: 2, entrypoints: [entrypoint] });
    const mismatch = (await queries
      .completeJobs({ ownerId, ids, statuses: ['successful'] })
      .catch((e: unknown) => e)) as PgQueueError;
    expect(mismatch.code).toBe('INVALID_ARGUMENT');
    expect(mismatch.message).toContain('2 ids and 1 statuses');
    await expect(
      queries.completeJobs({ ownerId, ids, statuses: ['successful', 'queued' as 'successful'] }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(
      queries.completeJobs({ ownerId, ids: [ids[0]!, ids[0]!], statuses: ['successful', 'successful'] }),
    ).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    await expect(queries.completeJobs({ ownerId: 'not-a-uuid', ids, statuses: ['successful', 'successful'] })).rejects.toMatchObject({
      code: 'INVALID_ARGUMENT',
    });
    const jobs = await queries.getJobs(ids);
    expect(jobs.map((job) => job.status)).toEqual(['picked', 'picked']);
  });

  it('rejects bad dequeue requests', async () => {
    const { queries } = fx();
    const ownerId = randomUUID();
    for (const request of [
      { ownerId, batchSize: 0, entrypoints: ['a'] },
      { ownerId, batchSize: 1, entrypoints: [] },
      { ownerId, batchSize: 1, entrypoints: ['a', 'a'] },
      { ownerId, batchSize: 1, entrypoints: { a: { concurrencyLimit: 0 } } },
      { ownerId: 'x', batchSize: 1, entrypoints: ['a'] },
    ]) {
      await expect(queries.dequeue(request)).rejects.toMatchObject({ code: 'INVALID_ARGUMENT' });
    }
  });
}
