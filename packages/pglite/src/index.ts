export { createPGliteDriver, type PGliteDriver, type PGliteDriverOptions } from './driver.js';
export { pgliteQueryable } from './queryable.js';
export type { PGliteDatabase, PGliteQueryTarget } from './client.js';
