import { sql } from 'kysely';
import { runConformanceSuite } from '@pgqueue/core/testing';
import { createKyselyDriver, kyselyQueryable } from '../src/index.js';
import { openDriver, targets, type OpenedDriver } from './targets.js';

for (const target of targets) {
  runConformanceSuite({
    name: target.name,
    requiresServer: target.requiresServer,
    // Each call opens its own client (pool, sql or in-memory database) and Kysely instance.
    createDriver: () => openDriver(target),
    inClientTransaction: (driver, fn) =>
      (driver as OpenedDriver).opened.db.transaction().execute((trx) => fn(kyselyQueryable(trx))),
    borrow() {
      // The Kysely instance and the listen source both stay open: the adapter owns neither.
      const opened = target.connect();
      const driver = createKyselyDriver(opened.db, { ...target.options, listen: opened.listener });
      return { driver, clientQuery: (text) => sql.raw(text).execute(opened.db), end: () => opened.end() };
    },
  });
}
