import { runConformanceSuite } from '@pgqueue/core/testing';
import { openDriver, targets } from './targets.js';

for (const target of targets) {
  runConformanceSuite({
    name: target.name,
    requiresServer: target.requiresServer,
    // Each call opens its own client (pool, sql or in-memory database) and Kysely instance.
    createDriver: () => openDriver(target),
  });
}
