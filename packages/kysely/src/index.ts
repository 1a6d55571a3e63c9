export { createKyselyDriver, type KyselyDriver, type KyselyDriverOptions } from './driver.js';
export { kyselyQueryable } from './queryable.js';
export type { KyselyDatabase, KyselyExecutor } from './client.js';
export type {
  PgInterval,
  PgQueueClient,
  PgQueueClientTypes,
  PgQueueDatabase,
  PgQueueJobsTable,
  PgQueueStatisticsTable,
} from './tables.js';
