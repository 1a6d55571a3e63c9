/**
 * The three dialects the adapter is tested over, each opened the way an application would: a
 * Kysely instance on its client, and a pgqueue driver on the same client as the listen source.
 * `open()` hands back a pgqueue driver whose close() also ends what the test opened.
 */
import { PGlite } from '@electric-sql/pglite';
import { Kysely, PostgresDialect } from 'kysely';
import { PGliteDialect } from 'kysely-pglite-dialect';
import { PostgresJSDialect } from 'kysely-postgres-js';
import pg from 'pg';
import postgres from 'postgres';
import type { Driver } from '@pgqueue/core';
import { createPgDriver } from '@pgqueue/pg';
import { createPGliteDriver } from '@pgqueue/pglite';
import { createPostgresJsDriver } from '@pgqueue/postgres-js';
import { createKyselyDriver, type KyselyDriver, type KyselyDriverOptions } from '../src/index.js';

export interface Opened {
  /** The application's Kysely instance. */
  db: Kysely<unknown>;
  /** A pgqueue driver on the same client, used as the listen source. */
  listener: Driver;
  /** Ends the listen source and the Kysely instance (the adapter never does). */
  end(): Promise<void>;
}

export interface DialectTarget {
  name: 'kysely-pg' | 'kysely-pgjs' | 'kysely-pglite';
  requiresServer: boolean;
  /** Options the adapter needs on this dialect. */
  options: KyselyDriverOptions;
  connect(): Opened;
}

const url = () => process.env.DATABASE_URL!;

export const targets: DialectTarget[] = [
  {
    name: 'kysely-pg',
    requiresServer: true,
    options: {},
    connect() {
      const pool = new pg.Pool({ connectionString: url(), max: 4 });
      // A dropped idle connection is emitted here; without a listener it ends the process.
      pool.on('error', () => {});
      const listener = createPgDriver(pool);
      const db = new Kysely<unknown>({ dialect: new PostgresDialect({ pool }) });
      return { db, listener, end: async () => (await listener.close(), await db.destroy()) };
    },
  },
  {
    name: 'kysely-pgjs',
    requiresServer: true,
    options: {},
    connect() {
      const sql = postgres(url(), { max: 4, onnotice: () => {} });
      const listener = createPostgresJsDriver(sql);
      const db = new Kysely<unknown>({ dialect: new PostgresJSDialect({ postgres: sql }) });
      return { db, listener, end: async () => (await listener.close(), await db.destroy()) };
    },
  },
  {
    name: 'kysely-pglite',
    requiresServer: false,
    options: { concurrentQueries: false },
    connect() {
      const pglite = new PGlite();
      const listener = createPGliteDriver(pglite);
      const db = new Kysely<unknown>({ dialect: new PGliteDialect(pglite) });
      // The dialect's destroy() closes the PGlite database.
      return { db, listener, end: async () => (await listener.close(), await db.destroy()) };
    },
  },
];

/** A Kysely driver on a new connection of `target`; with `listen`, LISTEN goes through the listen source. */
export type OpenedDriver = KyselyDriver & { opened: Opened };

export function openDriver(target: DialectTarget, { listen = true } = {}): OpenedDriver {
  const opened = target.connect();
  const driver = createKyselyDriver(opened.db, { ...target.options, ...(listen ? { listen: opened.listener } : {}) });
  return {
    ...driver,
    opened,
    async close() {
      await driver.close();
      await opened.end();
    },
  };
}

/** The targets that can run here: PGlite always, the server ones when DATABASE_URL is set. */
export const runnableTargets = () => targets.filter((target) => !target.requiresServer || process.env.DATABASE_URL);
