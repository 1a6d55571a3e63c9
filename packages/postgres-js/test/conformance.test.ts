import { runConformanceSuite } from '@pgqueue/core/testing';
import { createPostgresJsDriver } from '../src/index.js';

runConformanceSuite({
  name: 'postgres-js',
  requiresServer: true,
  // Each call opens its own sql pool, so simulated workers never share a connection.
  createDriver: async () => createPostgresJsDriver(process.env.DATABASE_URL!, { max: 4 }),
});
