/**
 * The part of Kysely this adapter touches, declared structurally: a `Kysely<DB>` of any
 * database type, or one from another copy of kysely (its classes have private fields, which
 * would make the class types incompatible), fits these shapes.
 */
import { CompiledQuery } from 'kysely';
import type { SqlParam } from '@pgqueue/core/adapter';

/** The fields of Kysely's QueryResult we read; `numAffectedRows` is set for DML only. */
export interface KyselyQueryResult {
  rows: unknown[];
  numAffectedRows?: bigint | undefined;
}

/** A Kysely instance or a Transaction: something statements run on. */
export interface KyselyExecutor {
  /** True on the `trx` of `db.transaction().execute(async (trx) => …)`. */
  readonly isTransaction: boolean;
  executeQuery(query: CompiledQuery): Promise<KyselyQueryResult>;
  /** The same connection(s) without plugins, so no plugin rewrites pgqueue's statements or rows. */
  withoutPlugins(): KyselyExecutor;
}

/** The user's Kysely instance (not a transaction). */
export interface KyselyDatabase extends KyselyExecutor {
  withoutPlugins(): KyselyDatabase;
  transaction(): { execute<T>(callback: (trx: KyselyExecutor) => Promise<T>): Promise<T> };
  /** Holds one connection of the dialect while the callback runs. */
  connection(): { execute<T>(callback: (db: KyselyExecutor) => Promise<T>): Promise<T> };
}

/** The text as the dialect's client receives it, with the parameters as the core encoded them. */
export function rawQuery(text: string, params: readonly SqlParam[] = []): CompiledQuery {
  return CompiledQuery.raw(text, [...params]);
}

/** Whether `value` looks like a Kysely instance or transaction (duck-typed, see above). */
export function isKyselyExecutor(value: unknown): value is KyselyExecutor {
  const candidate = value as Partial<KyselyDatabase> | null | undefined;
  return (
    typeof candidate === 'object' &&
    candidate !== null &&
    typeof candidate.executeQuery === 'function' &&
    typeof candidate.withoutPlugins === 'function' &&
    typeof candidate.isTransaction === 'boolean'
  );
}
