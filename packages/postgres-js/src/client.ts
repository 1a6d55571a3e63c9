/**
 * The part of postgres.js this adapter touches, declared structurally: the core never imports a
 * driver, and an `Sql`, `TransactionSql` or `ReservedSql` of any compatible postgres 3.x fits.
 */
import postgres from 'postgres';
import type { ConnectionParameters, SqlParam } from '@pgqueue/core/adapter';

/** postgres.js resolves a query to an Array subclass of rows that also carries the command tag's count. */
export interface PostgresJsRows extends ReadonlyArray<unknown> {
  /** Affected rows for DML, returned rows for SELECT; null for commands without a count (DDL). */
  readonly count: number | null;
}

/** Anything that runs a statement: the `sql` pool, a transaction's `sql`, a reserved connection. */
export interface PostgresJsQueryTarget {
  /** Without parameters postgres.js uses the simple protocol, which accepts several statements. */
  unsafe(query: string, parameters?: SqlParam[], options?: { prepare?: boolean }): PromiseLike<PostgresJsRows>;
}

/** The result hooks that would reshape rows the core parses itself. */
export interface PostgresJsTransform {
  column?: { from?: unknown } | undefined;
  value?: { from?: unknown } | undefined;
  row?: { from?: unknown } | undefined;
}

/** What postgres.js parsed from the connection string and options; reused for LISTEN connections. */
export interface PostgresJsOptions {
  readonly transform?: PostgresJsTransform | undefined;
}

export interface PostgresJsSql extends PostgresJsQueryTarget {
  /** BEGIN on a pooled `sql` would land on any connection; `begin` reserves one for the callback. */
  begin(fn: (tx: PostgresJsQueryTarget) => Promise<unknown>): Promise<unknown>;
  end(options?: { timeout?: number }): Promise<void>;
  readonly options: PostgresJsOptions;
}

export interface ListenConnectionHooks {
  onnotify(channel: string, payload: string): void;
  /** Called whenever the connection closes, including after a failed connection attempt. */
  onclose(): void;
}

export function createOwnedSql(url: string, parameters: ConnectionParameters, max: number | undefined): PostgresJsSql {
  const options = { ...(max === undefined ? {} : { max }), onnotice: () => {} };
  if (!parameters.socket) return postgres(url, options);
  // postgres.js takes the host from the URL's authority only: a socket directory in `?host=` or in
  // the `socket:` form would be ignored, and it would connect to localhost over TCP instead. Given
  // as the host option, a directory becomes the socket path `<dir>/.s.PGSQL.<port>`.
  const tcpForm = new URL('postgres://localhost');
  tcpForm.username = parameters.user ?? '';
  tcpForm.password = parameters.password ?? '';
  if (parameters.port !== undefined) tcpForm.port = String(parameters.port);
  tcpForm.pathname = `/${parameters.database ?? ''}`;
  for (const [key, value] of Object.entries(parameters.params)) tcpForm.searchParams.set(key, value);
  return postgres(tcpForm.toString(), { ...options, host: parameters.host! });
}

/**
 * A one-connection postgres.js instance with the settings of `base`, for LISTEN only.
 *
 * Passing the parsed options of an existing instance back into `postgres()` is what postgres.js
 * itself does for `sql.listen` (it takes an object that has `shared` as already parsed); the
 * overrides below are the ones it applies there, plus ours.
 */
export function createListenSql(base: PostgresJsOptions, hooks: ListenConnectionHooks): PostgresJsSql {
  const options = {
    ...base,
    max: 1,
    // A LISTEN connection is idle by nature; idle and lifetime recycling would drop it.
    idle_timeout: null,
    max_lifetime: null,
    fetch_types: false,
    // The adapter runs its own retry loop with its own backoff; postgres.js must not add a delay.
    backoff: false,
    onnotice: () => {},
    onnotify: hooks.onnotify,
    onclose: hooks.onclose,
  };
  return postgres(options as unknown as postgres.Options<Record<string, postgres.PostgresType>>);
}
