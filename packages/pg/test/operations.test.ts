import { runOperationsSuite } from '@pgqueue/core/testing';
import { createPgDriver } from '../src/index.js';

runOperationsSuite({
  name: 'pg',
  requiresServer: true,
  // Each call its own pool: upgraders, claimers and workers race on separate connections.
  createDriver: () => createPgDriver(process.env.DATABASE_URL!, { max: 4 }),
});
