/**
 * Compile-time tests of typed jobs (job-map.ts): checked by `pnpm test` (vitest typecheck) and by
 * `pnpm typecheck`. Nothing here runs; each `@ts-expect-error` fails the check if the line
 * below it ever compiles, and each `expectTypeOf` if a type drifts.
 */
import { describe, expectTypeOf, it } from 'vitest';
import {
  QueueManager,
  Queries,
  jsonPayload,
  type Driver,
  type Job,
  type JobId,
  type Queryable,
  type WorkerJob,
} from '../src/index.js';

type Jobs = {
  'send-email': { to: string; subject?: string };
  'resize-image': { key: string; width: number };
  'nightly-report': null;
  cleanup: void;
};

declare const driver: Driver;
declare const tx: Queryable;
const queries = new Queries<Jobs>(driver);
const qm = new QueueManager<Jobs>(driver, { queries });

describe('enqueue with a job map', () => {
  it('accepts the declared names and payloads, one job or a batch', () => {
    expectTypeOf(queries.enqueue({ entrypoint: 'send-email', payload: { to: 'a@example.com' } })).toEqualTypeOf<Promise<JobId>>();
    expectTypeOf(
      queries.enqueue([
        { entrypoint: 'send-email', payload: { to: 'a@example.com', subject: 'hi' }, priority: 5 },
        { entrypoint: 'resize-image', payload: { key: 'k', width: 100 }, dedupeKey: 'k' },
        { entrypoint: 'nightly-report' },
        { entrypoint: 'cleanup' },
      ]),
    ).toEqualTypeOf<Promise<JobId[]>>();
    expectTypeOf(queries.enqueue({ entrypoint: 'nightly-report', payload: null }, { onDuplicate: 'skip' })).toEqualTypeOf<
      Promise<JobId | null>
    >();
  });

  it('refuses an unknown entrypoint', () => {
    // @ts-expect-error 'send-emial' is not an entrypoint of Jobs
    void queries.enqueue({ entrypoint: 'send-emial', payload: { to: 'a@example.com' } });
    // @ts-expect-error not in a batch either
    void queries.enqueue([{ entrypoint: 'send-email', payload: { to: 'a' } }, { entrypoint: 'nope' }]);
  });

  it('refuses a wrongly shaped, missing or extra payload', () => {
    // @ts-expect-error `to` must be a string
    void queries.enqueue({ entrypoint: 'send-email', payload: { to: 42 } });
    // @ts-expect-error the payload of another entrypoint
    void queries.enqueue({ entrypoint: 'send-email', payload: { key: 'k', width: 1 } });
    // @ts-expect-error send-email needs its payload
    void queries.enqueue({ entrypoint: 'send-email' });
    // @ts-expect-error an unknown payload field
    void queries.enqueue({ entrypoint: 'send-email', payload: { to: 'a', cc: 'b' } });
    // @ts-expect-error a wrong payload inside a batch
    void queries.enqueue([{ entrypoint: 'nightly-report' }, { entrypoint: 'resize-image', payload: { key: 'k' } }]);
  });

  it('keeps the types through in(tx) and transaction()', () => {
    expectTypeOf(queries.in(tx)).toEqualTypeOf<Queries<Jobs>>();
    // @ts-expect-error the bound queries are just as strict
    void queries.in(tx).enqueue({ entrypoint: 'send-email', payload: {} });
    void queries.transaction(async (inTx, raw) => {
      expectTypeOf(inTx).toEqualTypeOf<Queries<Jobs>>();
      expectTypeOf(raw).toEqualTypeOf<Queryable>();
      // @ts-expect-error unknown entrypoint in a transaction
      await inTx.enqueue({ entrypoint: 'other' });
    });
  });
});

describe('handlers with a job map', () => {
  it('takes the map from the queries it is given: declared once', () => {
    const worker = new QueueManager(driver, { queries, batchSize: 5 });
    expectTypeOf(worker).toEqualTypeOf<QueueManager<Jobs>>();
    // @ts-expect-error the inferred map is just as strict
    worker.entrypoint('send-emial', async () => {});
  });

  it('infers the payload and the entrypoint without a cast', () => {
    qm.entrypoint('send-email', async (job, { queries: own }) => {
      expectTypeOf(job.payload).toEqualTypeOf<{ to: string; subject?: string }>();
      expectTypeOf(job.entrypoint).toEqualTypeOf<'send-email'>();
      expectTypeOf(own).toEqualTypeOf<Queries<Jobs>>();
      await own.enqueue({ entrypoint: 'resize-image', payload: { key: job.payload.to, width: 1 } });
    });
    qm.entrypoint('nightly-report', (job) => {
      expectTypeOf(job.payload).toEqualTypeOf<null>();
    });
  });

  it('refuses an unregistered name and a handler typed for another payload', () => {
    // @ts-expect-error not an entrypoint of Jobs
    qm.entrypoint('send-emial', async () => {});
    // @ts-expect-error the handler expects another payload
    qm.entrypoint('send-email', async (job: WorkerJob<{ key: string }>) => void job);
    // @ts-expect-error the cast form is for untyped use only
    qm.entrypoint<{ other: number }>('send-email', async () => {});
  });

  it('types events as a union narrowed by entrypoint', () => {
    qm.on('jobFailed', (job, info) => {
      expectTypeOf(info.action).toEqualTypeOf<'hold' | 'delete'>();
      expectTypeOf(job.entrypoint).toEqualTypeOf<'send-email' | 'resize-image' | 'nightly-report' | 'cleanup'>();
      if (job.entrypoint === 'resize-image') expectTypeOf(job.payload).toEqualTypeOf<{ key: string; width: number }>();
    });
  });
});

describe('reads with a job map', () => {
  it('types getJobs and listFailed results, and jsonPayload infers from them', async () => {
    const [job] = await queries.getJobs([1]);
    expectTypeOf(job!.entrypoint).toEqualTypeOf<'send-email' | 'resize-image' | 'nightly-report' | 'cleanup'>();
    expectTypeOf(job!.payload).toEqualTypeOf<Uint8Array | null>();
    if (job!.entrypoint === 'send-email') {
      expectTypeOf(jsonPayload(job!)).toEqualTypeOf<{ to: string; subject?: string } | null>();
    }
    const failed = await queries.listFailed();
    expectTypeOf(failed[0]!).toEqualTypeOf<NonNullable<typeof job>>();
  });
});

describe('untyped use', () => {
  const untyped = new Queries(driver);
  const worker = new QueueManager(driver);

  it('accepts any entrypoint and payload, as before', () => {
    expectTypeOf(untyped.enqueue({ entrypoint: 'anything', payload: { any: 'thing' } })).toEqualTypeOf<Promise<JobId>>();
    expectTypeOf(untyped.enqueue({ entrypoint: 'bytes', payload: new Uint8Array([1]) })).toEqualTypeOf<Promise<JobId>>();
    expectTypeOf(untyped.enqueue([{ entrypoint: 'a' }, { entrypoint: 'b', payload: 1 }])).toEqualTypeOf<Promise<JobId[]>>();
  });

  it('types a handler by an explicit payload type, or leaves it unknown', () => {
    worker.entrypoint<{ n: number }>('square', (job) => {
      expectTypeOf(job.payload).toEqualTypeOf<{ n: number }>();
    });
    worker.entrypoint('plain', (job) => {
      expectTypeOf(job.payload).toEqualTypeOf<unknown>();
      expectTypeOf(job.entrypoint).toEqualTypeOf<'plain'>();
    });
  });

  it('reads Job rows and decodes payloads as before', async () => {
    const [job] = await untyped.getJobs([1]);
    expectTypeOf(job!).toEqualTypeOf<Job>();
    expectTypeOf(jsonPayload(job!)).toEqualTypeOf<unknown>();
    expectTypeOf(jsonPayload<{ n: number }>(job!)).toEqualTypeOf<{ n: number } | null>();
  });
});
