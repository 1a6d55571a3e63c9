/**
 * The part of node-postgres this adapter touches, declared structurally: the core never imports
 * a driver, and a Pool or Client from any compatible pg 8.x copy fits these shapes.
 */
import pg from 'pg';
import type { SqlParam } from '@pgqueue/core/adapter';

/**
 * `{ name, text, values }`: with `name`, pg parses the statement once per connection. With
 * `query_timeout` pg fails the query after that many milliseconds, and the pool then discards the
 * client instead of handing a connection that may still be busy to the next query.
 */
export interface PgQueryConfig {
  text: string;
  values?: SqlParam[];
  name?: string;
  query_timeout?: number;
}

/** The fields of pg's Result we read; `rowCount` is null for commands without a count. */
export interface PgQueryResult {
  rows: unknown[];
  rowCount: number | null;
  command: string;
}

/** Anything that runs a statement: a Pool, a Client, or a PoolClient checked out of a pool. */
export interface PgQueryTarget {
  query(config: PgQueryConfig): Promise<PgQueryResult>;
}

/** A pool connection held for a transaction or a timed statement; `release(error)` discards a broken one. */
export interface PgPoolClient extends PgQueryTarget {
  release(error?: Error | boolean): void;
  /** The server process behind the connection, to cancel its statement from another connection. */
  readonly processID?: number | null;
  /** A checked-out client's socket error is emitted here (no pool listener holds it then). */
  once(event: 'error', listener: (error: Error) => void): unknown;
  removeListener(event: 'error', listener: (error: Error) => void): unknown;
}

/**
 * The connection settings a pool was built with. pg keeps the password non-enumerable, which is
 * why it is named here: a spread alone would drop it.
 */
export interface PgPoolOptions {
  password?: unknown;
  connectionTimeoutMillis?: number | undefined;
  keepAliveInitialDelayMillis?: number | undefined;
}

export interface PgPool extends PgQueryTarget {
  connect(): Promise<PgPoolClient>;
  end(): Promise<void>;
  /** An idle client's socket error is emitted here; without a listener it crashes the process. */
  on(event: 'error', listener: (error: Error) => void): unknown;
  readonly options: PgPoolOptions;
  /** Set once `end()` was called, by us or by the caller. */
  readonly ending: boolean;
}

export interface PgNotification {
  channel: string;
  payload?: string | undefined;
}

/** The dedicated LISTEN connection. */
export interface PgListenClient {
  connect(): Promise<unknown>;
  query(text: string): Promise<unknown>;
  end(): Promise<void>;
  /** The socket, to cut a connection whose `end()` never completes (pg does the same internally). */
  readonly connection?: { readonly stream?: { destroy(): void } };
  on(event: 'error', listener: (error: Error) => void): unknown;
  on(event: 'end', listener: () => void): unknown;
  on(event: 'notification', listener: (message: PgNotification) => void): unknown;
}

export interface OwnedPoolConfig {
  connectionString: string;
  max: number | undefined;
  applicationName: string | undefined;
}

// pg waits forever for a connection by default; a blackholed host should fail with an error.
const OWNED_POOL_CONNECT_TIMEOUT_MS = 30_000;
const LISTEN_CONNECT_TIMEOUT_MS = 10_000;
// The OS default before the first keep-alive probe is often two hours: far too long to notice
// that a NAT or proxy dropped an idle LISTEN connection.
const LISTEN_KEEPALIVE_DELAY_MS = 10_000;

export function createOwnedPool(config: OwnedPoolConfig): PgPool {
  return new pg.Pool({
    connectionString: config.connectionString,
    connectionTimeoutMillis: OWNED_POOL_CONNECT_TIMEOUT_MS,
    ...(config.max === undefined ? {} : { max: config.max }),
    ...(config.applicationName === undefined ? {} : { application_name: config.applicationName }),
  });
}

/** A new Client with the pool's connection settings (host, credentials, ssl, stream, ...). */
export function createListenClient(poolOptions: PgPoolOptions): PgListenClient {
  const config: pg.ClientConfig = {
    ...(poolOptions as pg.ClientConfig),
    keepAlive: true,
    keepAliveInitialDelayMillis: poolOptions.keepAliveInitialDelayMillis || LISTEN_KEEPALIVE_DELAY_MS,
    connectionTimeoutMillis: poolOptions.connectionTimeoutMillis || LISTEN_CONNECT_TIMEOUT_MS,
  };
  if (poolOptions.password !== undefined) config.password = poolOptions.password as pg.ClientConfig['password'];
  return new pg.Client(config);
}
