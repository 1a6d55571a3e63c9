/** A benchmark schema on an in-process PGlite for one describe block: installed before its tests, dropped after. */
import { afterAll, beforeAll } from 'vitest';
import { Queries, type Driver } from '@pgqueue/core';
import { createConnector, dropSchema, resetSchema, type Connector } from '../src/setup.js';

export interface PgliteSchema {
  /** Set once the block's beforeAll has run. */
  driver: Driver;
  queries: Queries;
}

export function usePgliteSchema(schema: string): PgliteSchema {
  const db = {} as PgliteSchema;
  let connector: Connector;
  beforeAll(async () => {
    connector = await createConnector('pglite', undefined);
    db.driver = await connector.open();
    await resetSchema(db.driver, schema);
    db.queries = new Queries(db.driver, { schema });
  });
  afterAll(async () => {
    await dropSchema(db.driver, schema);
    await db.driver.close();
    await connector.close();
  });
  return db;
}
