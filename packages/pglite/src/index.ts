export { createPGliteDriver, pgliteQueryable, type PGliteDriver, type PGliteDriverOptions } from './driver.js';
export type { PGliteDatabase, PGliteQueryTarget } from './client.js';
