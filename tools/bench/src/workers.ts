/**
 * A group of workers inside this process: queue runtimes (before / after) or raw loops, each on a
 * driver of its own. The coordinator runs one group locally or one per child process.
 */
import { randomUUID } from 'node:crypto';
import type { Driver } from '@pgqueue/core';
import { emptyCounters, type Counters } from './counters.js';
import type { DriverName, Strategy, WorkloadName } from './options.js';
import type { Connector } from './setup.js';
import { recordRawStatements, runRawLoop } from './strategies/raw.js';
import { startQueueRuntimes } from './strategies/runtime.js';
import { workloadOf } from './workload.js';

export type GroupKind = Strategy | 'raw';

/** Everything a group needs, as plain data so it can cross to a child process. */
export interface GroupSpec {
  kind: GroupKind;
  workers: number;
  batchSize: number;
  schema: string;
  driver: DriverName;
  databaseUrl: string | undefined;
  workload: WorkloadName;
}

export interface WorkerGroup {
  /** Live counters; read them at any time. */
  readonly counters: Counters;
  /** Stops every worker (a runtime finishes and completes what it holds) and closes the drivers. */
  stop(): Promise<Counters>;
}

export async function startLocalGroup(spec: GroupSpec, connector: Connector): Promise<WorkerGroup> {
  const drivers: Driver[] = [];
  const counters = emptyCounters();
  let stopWorkers: () => Promise<void>;
  try {
    for (let i = 0; i < spec.workers; i++) drivers.push(await connector.open());
    stopWorkers =
      spec.kind === 'raw'
        ? await startRawLoops(spec, drivers, counters)
        : await startQueueRuntimes({ ...spec, kind: spec.kind }, drivers, counters);
  } catch (error) {
    await Promise.allSettled(drivers.map((driver) => driver.close()));
    throw error;
  }
  return {
    counters,
    async stop() {
      await stopWorkers();
      await Promise.all(drivers.map((driver) => driver.close()));
      return counters;
    },
  };
}

async function startRawLoops(spec: GroupSpec, drivers: Driver[], counters: Counters): Promise<() => Promise<void>> {
  let stopping = false;
  const statements = await Promise.all(
    drivers.map(() =>
      recordRawStatements({
        schema: spec.schema,
        entrypoints: workloadOf(spec.workload).entrypoints,
        ownerId: randomUUID(),
        batchSize: spec.batchSize,
      }),
    ),
  );
  const loops = drivers.map((driver, i) => runRawLoop(driver, statements[i]!, counters, () => stopping));
  return async () => {
    stopping = true;
    await Promise.all(loops);
  };
}
