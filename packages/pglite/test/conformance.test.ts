import { runConformanceSuite } from '@pgqueue/core/testing';
import { createPGliteDriver } from '../src/index.js';

runConformanceSuite({
  name: 'pglite',
  requiresServer: false,
  // A new in-memory database per call.
  createDriver: () => createPGliteDriver(),
});
