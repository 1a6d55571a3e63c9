export { createPgDriver, type PgDriver, type PgDriverOptions } from './driver.js';
export { pgQueryable } from './queryable.js';
export type { PgPool, PgQueryTarget } from './client.js';
