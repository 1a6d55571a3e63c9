import { describe, expect, it } from 'vitest';
import { DRIVER_SPECIFICATION_VERSION, type Driver, type QueryResult } from '@pgqueue/core/adapter';
import { ServerProbe, countingDriver, cpuSecondsFromStat } from '../src/server/probe.js';

/** A driver answering the probe's statements from `answer`, and recording what it was sent. */
function fakeDriver(answer: (text: string) => Record<string, unknown>[]): Driver & { sent: string[] } {
  const sent: string[] = [];
  const query = async <Row>(text: string): Promise<QueryResult<Row>> => {
    sent.push(text);
    const rows = answer(text) as Row[];
    return { rows, rowCount: rows.length };
  };
  return {
    sent,
    specificationVersion: DRIVER_SPECIFICATION_VERSION,
    name: 'fake',
    capabilities: { concurrentQueries: true, listen: false },
    query,
    exec: async () => undefined,
    transaction: (fn) => fn({ query, exec: async () => undefined }),
    listen: () => Promise.reject(new Error('no listen')),
    close: async () => undefined,
  };
}

describe('server probe', () => {
  it('counts the statements sent through it and passes everything else on', async () => {
    let closed = false;
    const inner = { ...fakeDriver(() => [{ one: 1 }]), close: async () => void (closed = true) };
    const counted = countingDriver(inner);
    await counted.query('SELECT 1');
    await counted.transaction((tx) => tx.query('SELECT 2'));
    await counted.close();
    expect(counted.statements).toBe(1);
    expect(inner.sent).toEqual(['SELECT 1', 'SELECT 2']);
    expect(closed).toBe(true);
  });

  it('leaves its own readings and the flushes it asked for out of the transaction count', async () => {
    let xacts = 1000;
    let wal = 5000n;
    const admin = countingDriver(
      fakeDriver((text) => {
        if (text.includes('pg_backend_pid')) return [{ pid: 1, version: 150_004 }];
        if (text.includes('xact_commit')) return [{ xacts: String(xacts), wal: `${wal}.0` }];
        return [];
      }),
    );
    const producer = fakeDriver(() => []);
    const probe = await ServerProbe.open(admin, [producer], false);
    const start = await probe.mark();
    for (let i = 0; i < 5; i++) await admin.query('SELECT count FROM statistics');
    // What the run did (200 transactions, 512,000 bytes of WAL), plus what the probe itself caused
    // after the first reading: that reading, the 5 polls, the second flush of the admin and of the producer.
    xacts += 200 + 1 + 5 + 1 + 1;
    wal += 512_000n;
    const end = await probe.mark();
    expect(producer.sent.filter((t) => t.includes('pg_stat_force_next_flush'))).toHaveLength(2);

    const table = { deadTuples: 2000, tableBytes: 1 << 20, indexBytes: 1 << 18 };
    const figures = probe.figures(start, end, 1000, table, { seconds: 0.5, jobs: 1000 });
    expect(figures).toMatchObject({ xactsPerJob: 0.2, walBytesPerJob: 512, cpuMsPerJob: 0.5, ...table });
    expect(figures.xactsPerSecond).toBeCloseTo(200 / ((end.at - start.at) / 1000));

    const noCpu = probe.figures(start, end, 1000, table, { seconds: undefined, jobs: 1000 });
    expect(noCpu).toMatchObject({ cpuMsPerJob: null, cpuNote: expect.stringMatching(/PGlite/) });
    expect(probe.figures(start, end, 0, table, { seconds: 1, jobs: 0 })).toMatchObject({ xactsPerJob: null, walBytesPerJob: null, cpuMsPerJob: null });
  });

  it('gives null figures, not guesses, when the server cannot answer', async () => {
    const admin = countingDriver(
      fakeDriver((text) => {
        if (text.includes('pg_backend_pid')) return [{ pid: 1, version: 140_000 }];
        throw new Error('permission denied');
      }),
    );
    const probe = await ServerProbe.open(admin, [], false);
    const mark = await probe.mark();
    expect(mark).toMatchObject({ xacts: null, wal: null });
    expect(await probe.tableState('pgq_bench', 'pgqueuer')).toEqual({ deadTuples: null, tableBytes: null, indexBytes: null });
    expect(probe.figures(mark, mark, 10, { deadTuples: null, tableBytes: null, indexBytes: null }, { seconds: undefined, jobs: 0 })).toMatchObject({
      xactsPerSecond: null,
      walBytesPerJob: null,
    });
  });

  it('reads user + system CPU from a /proc stat line whose command holds spaces', () => {
    const line = '4242 (postgres: bench) S 1 4242 4242 0 -1 4194560 500 0 0 0 250 125 0 0 20 0 1 0 1234 0 0';
    expect(cpuSecondsFromStat(line)).toBe(3.75);
  });
});
