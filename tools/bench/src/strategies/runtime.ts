/**
 * The queue runtime under test: one QueueManager per worker, each on its own driver, serving
 * no-op jobs. `before` and `after` differ only in the Queries object handed to it.
 */
import { QueueManager, type Driver } from '@pgqueue/core';
import { recordError, type Counters } from '../counters.js';
import type { Strategy, WorkloadName } from '../options.js';
import { workloadOf } from '../workload.js';
import { queriesFor } from './index.js';

export interface RuntimeSpec {
  kind: Strategy;
  batchSize: number;
  schema: string;
  workload: WorkloadName;
}

/** Long enough for a before+lock worker to flush a buffer that waits on deadlock detection. */
const STOP_TIMEOUT_MS = 60_000;

export async function startQueueRuntimes(spec: RuntimeSpec, drivers: Driver[], counters: Counters): Promise<() => Promise<void>> {
  const managers = drivers.map((driver) => {
    const manager = new QueueManager(driver, {
      schema: spec.schema,
      queries: queriesFor(spec.kind, driver, spec.schema),
      batchSize: spec.batchSize,
      completion: { batchSize: spec.batchSize },
    });
    for (const entrypoint of workloadOf(spec.workload).entrypoints) manager.entrypoint(entrypoint, async () => {});
    manager.on('jobCompleted', () => {
      counters.completed++;
    });
    manager.on('error', (error: unknown) => recordError(counters, error));
    return manager;
  });
  const running = managers.map((manager) => manager.run());
  return async () => {
    await Promise.all(managers.map((manager) => manager.stop({ timeoutMs: STOP_TIMEOUT_MS })));
    await Promise.all(running);
  };
}
