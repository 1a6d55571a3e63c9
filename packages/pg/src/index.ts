export { createPgDriver, pgQueryable, type PgDriver, type PgDriverOptions } from './driver.js';
export type { PgPool, PgQueryTarget } from './client.js';
