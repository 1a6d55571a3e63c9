import { runConformanceSuite } from '@pgqueue/core/testing';
import { createPgDriver } from '../src/index.js';

runConformanceSuite({
  name: 'pg',
  requiresServer: true,
  // Each call opens its own pool, so simulated workers never share a connection.
  createDriver: async () => createPgDriver(process.env.DATABASE_URL!, { max: 4 }),
});
