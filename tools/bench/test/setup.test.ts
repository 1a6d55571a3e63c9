import { describe, expect, it } from 'vitest';
import { QueueManager, Queries } from '@pgqueue/core';
import { waitFor } from '@pgqueue/core/testing';
import { createConnector, dropSchema, resetSchema } from '../src/setup.js';

const url = process.env.DATABASE_URL;

describe.skipIf(url === undefined)('the kysely connector', () => {
  it('hands out Kysely drivers with LISTEN, one connection each, that a worker runs jobs on and close() ends', async () => {
    const connector = await createConnector('kysely', url);
    const [admin, worker] = [await connector.open(), await connector.open()];
    const schema = `pgq_bench_kysely_${process.pid}`;
    try {
      expect(worker.name).toBe('kysely');
      expect(worker.capabilities).toEqual({ concurrentQueries: true, listen: true });
      await resetSchema(admin, schema);
      const qm = new QueueManager(worker, { schema });
      let ran = 0;
      qm.entrypoint('noop', () => void ran++);
      const running = qm.run();
      await new Queries(admin, { schema }).enqueue(Array.from({ length: 50 }, () => ({ entrypoint: 'noop' })));
      await waitFor('the worker to run every job', () => ran === 50);
      await qm.stop();
      await running;
    } finally {
      await dropSchema(admin, schema);
      await Promise.all([admin.close(), worker.close()]);
      await connector.close();
    }
    await expect(worker.query('SELECT 1')).rejects.toMatchObject({ code: 'DRIVER_CLOSED' });
  });
});
