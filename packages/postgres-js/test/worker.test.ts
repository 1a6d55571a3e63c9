import { runWorkerSuite } from '@pgqueue/core/testing';
import { createPostgresJsDriver } from '../src/index.js';

runWorkerSuite({
  name: 'postgres-js',
  requiresServer: true,
  // Each worker its own connections, as separate worker processes would have.
  createDriver: () => createPostgresJsDriver(process.env.DATABASE_URL!, { max: 4 }),
  createDriverAt: (url) => createPostgresJsDriver(url, { max: 4 }),
});
