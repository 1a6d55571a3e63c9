import { runWorkerSuite } from '@pgqueue/core/testing';
import { createPGliteDriver } from '../src/index.js';

// One in-memory database: the suite's workers share its driver (PGlite has a single connection).
runWorkerSuite({
  name: 'pglite',
  requiresServer: false,
  createDriver: () => createPGliteDriver(),
});
