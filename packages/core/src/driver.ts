/**
 * The Driver contract: the only thing an adapter implements.
 *
 * It is small on purpose. The core owns the SQL text, the encoding of every parameter and the
 * parsing of every result, so that node-postgres, postgres.js and PGlite behave identically
 * (their own encodings of arrays, JSON, bytea and int8 disagree; see docs/architecture.md).
 */

/** Bumped when the contract changes in a way adapters must follow. */
export const DRIVER_SPECIFICATION_VERSION = 1 as const;

/**
 * A statement parameter as the core sends it: always text or NULL. The SQL casts every
 * placeholder explicitly (`$1::text[]`, `$2::text::jsonb`), so no driver has to guess a type.
 */
export type SqlParam = string | null;

export interface QueryResult<Row> {
  rows: Row[];
  /** Rows returned or affected. */
  rowCount: number;
}

export interface QueryOptions {
  /**
   * A stable name for a hot statement. Adapters that can prepare statements (pg named
   * statements, postgres.js `prepare`) use it to parse the text once per connection. The core
   * makes the name unique per statement text.
   */
  name?: string;
  /**
   * Give up on the statement after this many milliseconds: reject, and make sure the connection
   * it ran on is not handed to another statement while the old one may still occupy it (pg
   * discards the pooled client; postgres.js cancels the query on the server). The core races
   * the statement against the same deadline as well, so an adapter that cannot stop a statement
   * (PGlite, in-process: it has no network to hang on and no other session to wait for) may ignore it.
   */
  timeoutMs?: number;
}

/** Something statements can run on: a driver, or the handle of an open transaction. */
export interface Queryable {
  /** Runs one statement with `$n` placeholders. */
  query<Row = Record<string, unknown>>(
    text: string,
    params?: readonly SqlParam[],
    options?: QueryOptions,
  ): Promise<QueryResult<Row>>;
  /** Runs several statements separated by `;`, without parameters (schema install). */
  exec(text: string): Promise<void>;
}

export interface DriverCapabilities {
  /**
   * Whether several queries may be in flight at once (a pool). PGlite has one connection:
   * the core then runs one statement at a time and keeps worker concurrency to that.
   */
  readonly concurrentQueries: boolean;
  /** Whether `listen` works. Without it the core falls back to polling. */
  readonly listen: boolean;
}

export interface ListenEvents {
  /**
   * Called after the adapter re-established a lost LISTEN connection. Notifications sent
   * while it was down are lost, so the caller should look for work it may have missed.
   */
  onReconnect?: () => void;
  /** Called with connection errors the adapter recovers from by itself (for logging). */
  onError?: (error: unknown) => void;
}

export interface ListenHandle {
  /** Stops listening and releases the dedicated connection. */
  close(): Promise<void>;
}

export interface Driver extends Queryable {
  readonly specificationVersion: typeof DRIVER_SPECIFICATION_VERSION;
  /** The adapter's name, for error messages: "pg", "postgres-js", "pglite". */
  readonly name: string;
  readonly capabilities: DriverCapabilities;
  /**
   * Runs `fn` in a transaction: committed when it resolves, rolled back when it throws.
   * Inside `fn`, use only `tx`; the outer driver may wait for the transaction to end.
   */
  transaction<T>(fn: (tx: Queryable) => Promise<T>): Promise<T>;
  /**
   * Subscribes to a notification channel (`[a-z_][a-z0-9_]*`). pg and postgres.js hold a
   * dedicated connection that reconnects and re-LISTENs after it is lost.
   */
  listen(channel: string, onPayload: (payload: string) => void, events?: ListenEvents): Promise<ListenHandle>;
  /** Ends what the adapter created itself; a pool or client passed in by the caller stays open. */
  close(): Promise<void>;
}
