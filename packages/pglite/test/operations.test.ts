import { runOperationsSuite } from '@pgqueue/core/testing';
import { createPGliteDriver } from '../src/index.js';

// One in-memory database; the suite's upgraders, claimers and workers share its one connection.
runOperationsSuite({
  name: 'pglite',
  requiresServer: false,
  createDriver: () => createPGliteDriver(),
});
