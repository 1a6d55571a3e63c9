export { createPostgresJsDriver, type PostgresJsDriver, type PostgresJsDriverOptions } from './driver.js';
export { postgresJsQueryable } from './queryable.js';
export type { PostgresJsQueryTarget, PostgresJsSql } from './client.js';
