import { runWorkerSuite } from '@pgqueue/core/testing';
import { openDriver, targets } from './targets.js';

// On PGlite the suite's workers share the fixture's driver (one connection); on a server each
// worker gets a client and Kysely instance of its own.
for (const target of targets) {
  runWorkerSuite({
    name: target.name,
    requiresServer: target.requiresServer,
    createDriver: () => openDriver(target),
  });
}
