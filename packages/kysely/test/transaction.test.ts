import { runOwnTransactionSuite } from '@pgqueue/core/testing';
import { kyselyQueryable } from '../src/index.js';
import { openDriver, targets } from './targets.js';

for (const target of targets) {
  runOwnTransactionSuite({
    name: target.name,
    requiresServer: target.requiresServer,
    createDriver: () => openDriver(target),
    ownTransaction: (driver, fn) => driver.opened.db.transaction().execute((trx) => fn(kyselyQueryable(trx))),
  });
}
