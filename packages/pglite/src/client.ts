/**
 * The part of PGlite this adapter touches, declared structurally: the core never imports a
 * driver, and a PGlite instance (or transaction) of any supported version fits these shapes.
 */
import { PGlite } from '@electric-sql/pglite';
import type { SqlParam } from '@pgqueue/core/adapter';

/**
 * The fields of PGlite's Results we read. `rowCount` is the command tag's count (PGlite 0.5+);
 * `affectedRows` counts INSERT/UPDATE/DELETE/MERGE/COPY rows only and is 0 for a SELECT.
 */
export interface PGliteResults {
  rows: unknown[];
  affectedRows?: number | undefined;
  rowCount?: number | undefined;
}

/** The database itself, or the `tx` of `db.transaction(async (tx) => …)`. */
export interface PGliteQueryTarget {
  /** PGlite serializes each parameter by the type the server infers for its placeholder. */
  query(query: string, params?: SqlParam[]): Promise<PGliteResults>;
  /** Simple protocol: several statements, no parameters. */
  exec(query: string): Promise<unknown>;
}

export interface PGliteDatabase extends PGliteQueryTarget {
  readonly closed: boolean;
  readonly waitReady: Promise<void>;
  /** PGlite has one connection; while the callback runs, other statements wait for it. */
  transaction<T>(callback: (tx: PGliteQueryTarget) => Promise<T>): Promise<T>;
  /** Folds an unquoted channel to lower case, as PostgreSQL does; `"name"` keeps it verbatim. */
  listen(channel: string, callback: (payload: string) => void): Promise<unknown>;
  unlisten(channel: string, callback?: (payload: string) => void): Promise<void>;
  close(): Promise<void>;
}

/** In memory without `dataDir`; otherwise a database directory on disk. */
export function createOwnedDatabase(dataDir: string | undefined): PGliteDatabase {
  return new PGlite(dataDir);
}
