export {
  createPostgresJsDriver,
  postgresJsQueryable,
  type PostgresJsDriver,
  type PostgresJsDriverOptions,
} from './driver.js';
export type { PostgresJsQueryTarget, PostgresJsSql } from './client.js';
