import { PGlite } from '@electric-sql/pglite';
import { runConformanceSuite } from '@pgqueue/core/testing';
import { createPGliteDriver, pgliteQueryable, type PGliteDriver } from '../src/index.js';

runConformanceSuite({
  name: 'pglite',
  requiresServer: false,
  // A new in-memory database per call.
  createDriver: () => createPGliteDriver(),
  inClientTransaction: (driver, fn) => (driver as PGliteDriver).db.transaction((tx) => fn(pgliteQueryable(tx))),
  borrow() {
    const db = new PGlite();
    return { driver: createPGliteDriver(db), clientQuery: (text) => db.query(text), end: () => db.close() };
  },
});
