/**
 * A Queryable from an adapter's two plain functions: the core supplies the defaults (no
 * parameters, no options), hands the client a mutable copy of the parameters (pg and postgres.js
 * take `any[]`), and types the rows as the caller asked, since rows are only ever read by the
 * core's own parsers.
 */
import type { QueryOptions, QueryResult, Queryable, SqlParam } from '../driver.js';

export interface Statements {
  /** One statement with `$n` placeholders; `rowCount` as the Driver contract defines it. */
  query(text: string, params: SqlParam[], options: QueryOptions): Promise<{ rows: unknown[]; rowCount: number }>;
  /** Several statements separated by `;`, without parameters. */
  exec(text: string): PromiseLike<unknown>;
}

export function queryableFrom(statements: Statements): Queryable {
  return {
    async query<Row = Record<string, unknown>>(text: string, params: readonly SqlParam[] = [], options: QueryOptions = {}) {
      return (await statements.query(text, [...params], options)) as QueryResult<Row>;
    },
    async exec(text: string) {
      await statements.exec(text);
    },
  };
}
