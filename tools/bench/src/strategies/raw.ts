/**
 * The raw-SQL limit: the core's own dequeue and completion statements driven in a tight loop on
 * one connection, with no queue runtime (no handler dispatch, no completion buffer, no listener)
 * and no row parsing beyond the ids. What the runtime achieves divided by this is its efficiency.
 *
 * The statement texts are taken from the core rather than copied, by letting a Queries object
 * run against a recording driver once, so the loop always measures the SQL the library sends.
 */
import { Queries } from '@pgqueue/core';
import { DRIVER_SPECIFICATION_VERSION, type Driver, type QueryResult, type SqlParam } from '@pgqueue/core/adapter';
import { recordError, type Counters } from '../counters.js';

export interface RecordedStatement {
  text: string;
  params: SqlParam[];
  name: string | undefined;
}

/** A driver that records statements instead of running them; every statement returns no rows. */
function recordingDriver(log: RecordedStatement[]): Driver {
  const query = async <Row>(text: string, params: readonly SqlParam[] = [], options: { name?: string } = {}) => {
    log.push({ text, params: [...params], name: options.name });
    return { rows: [], rowCount: 0 } as QueryResult<Row>;
  };
  return {
    specificationVersion: DRIVER_SPECIFICATION_VERSION,
    name: 'recording',
    capabilities: { concurrentQueries: true, listen: false },
    query,
    exec: async () => undefined,
    transaction: (fn) => fn({ query, exec: async () => undefined }),
    listen: () => Promise.reject(new Error('the recording driver cannot listen')),
    close: async () => undefined,
  };
}

export interface RawStatements {
  dequeue: RecordedStatement;
  /** Completion parameters for a batch of ids (text as the dequeue returned them). */
  completeParams(ids: readonly string[]): SqlParam[];
  complete: { text: string; name: string | undefined };
}

/**
 * Records the dequeue of `batchSize` jobs of `entrypoints` for `ownerId`, and the completion
 * statement. The completion parameters are rebuilt per batch; they are checked against what the
 * core sends for a sample batch, so a change of the core's parameter layout fails here loudly
 * instead of measuring a different statement.
 */
export async function recordRawStatements(options: {
  schema: string;
  entrypoints: readonly string[];
  ownerId: string;
  batchSize: number;
}): Promise<RawStatements> {
  const log: RecordedStatement[] = [];
  const queries = new Queries(recordingDriver(log), { schema: options.schema });
  await queries.dequeue({ ownerId: options.ownerId, batchSize: options.batchSize, entrypoints: options.entrypoints });
  await queries.completeJobs({ ownerId: options.ownerId, ids: [7, 11], statuses: ['successful', 'successful'] });
  const [dequeue, complete] = log;
  if (dequeue === undefined || complete === undefined || log.length !== 2) {
    throw new Error(`raw loop: expected the core to send 2 statements for dequeue + complete, it sent ${log.length}`);
  }
  const completeParams = (ids: readonly string[]): SqlParam[] => [
    `{${ids.join(',')}}`,
    `{${ids.map(() => '"successful"').join(',')}}`,
    options.ownerId,
  ];
  const expected = completeParams(['7', '11']);
  if (JSON.stringify(expected) !== JSON.stringify(complete.params)) {
    throw new Error(
      `raw loop: the core's completion parameters changed (sent ${JSON.stringify(complete.params)}, the benchmark ` +
        `builds ${JSON.stringify(expected)}); update tools/bench/src/strategies/raw.ts to match.`,
    );
  }
  return { dequeue, complete: { text: complete.text, name: complete.name }, completeParams };
}

/**
 * Dequeue a batch, complete it, repeat, until `shouldStop()`. Errors are counted and the loop
 * goes on, as a worker would.
 */
export async function runRawLoop(
  driver: Driver,
  statements: RawStatements,
  counters: Counters,
  shouldStop: () => boolean,
): Promise<void> {
  const { dequeue, complete } = statements;
  while (!shouldStop()) {
    try {
      const { rows } = await driver.query<{ id: string | number }>(dequeue.text, dequeue.params, withName(dequeue.name));
      if (rows.length === 0) {
        // The producer is behind: yield briefly rather than spin on empty fetches.
        await new Promise((resolve) => setTimeout(resolve, 1));
        continue;
      }
      const ids = rows.map((row) => String(row.id));
      const done = await driver.query(complete.text, statements.completeParams(ids), withName(complete.name));
      counters.completed += done.rows.length;
    } catch (error) {
      recordError(counters, error);
    }
  }
}

function withName(name: string | undefined): { name?: string } {
  return name === undefined ? {} : { name };
}
