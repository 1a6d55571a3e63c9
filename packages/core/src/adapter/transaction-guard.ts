/**
 * The two mistakes a transaction callback can make with pgqueue, turned into immediate errors:
 *
 * - using the driver itself inside `driver.transaction(async (tx) => …)` instead of `tx`. The
 *   statement would run outside the transaction (so an enqueue survives its rollback), and on a
 *   one-connection client (PGlite) it waits for the transaction that waits for it: a hang with no
 *   error. The callback runs in an AsyncLocalStorage scope, and the driver refuses statements made
 *   from inside a scope of its own that is still open;
 * - keeping `tx` and using it after the transaction ended, when its connection may already serve
 *   someone else.
 *
 * The scope exists only while a `driver.transaction` callback runs: the worker runtime never opens
 * one, so its hot path only pays for a `getStore()` per statement (Node turns on its promise hooks
 * for AsyncLocalStorage at the first `run()`, i.e. in processes that use `driver.transaction`).
 */
import { AsyncLocalStorage } from 'node:async_hooks';
import type { QueryOptions, Queryable, SqlParam } from '../driver.js';
import { invalidArgument } from '../errors.js';

interface Scope {
  readonly owner: object;
  open: boolean;
  readonly outer: Scope | undefined;
}

const scopes = new AsyncLocalStorage<Scope>();

export class TransactionGuard {
  /** Identifies the driver's own scopes; another driver's transaction does not restrict this one. */
  readonly #owner = {};

  constructor(private readonly driverName: string) {}

  /** Throws when called from inside an open transaction callback of this driver. */
  assertOutside(): void {
    for (let scope = scopes.getStore(); scope !== undefined; scope = scope.outer) {
      if (scope.owner === this.#owner && scope.open) {
        throw invalidArgument(
          `pgqueue (${this.driverName}): the driver was used inside its own transaction() callback. Inside ` +
            `driver.transaction(async (tx) => …) run every statement on tx (queries.in(tx).enqueue(job) for pgqueue's): ` +
            `the driver itself runs outside the transaction, so its work would survive a rollback` +
            `${this.driverName === 'pglite' ? ', and on PGlite it would wait for the transaction for ever' : ''}.`,
        );
      }
    }
  }

  /**
   * Runs the caller's callback with `tx` wrapped so that it refuses statements once the callback
   * has returned, and with the driver refusing statements while it runs.
   */
  async run<T>(tx: Queryable, fn: (tx: Queryable) => Promise<T>): Promise<T> {
    const scope: Scope = { owner: this.#owner, open: true, outer: scopes.getStore() };
    const refuseAfterEnd = () => {
      if (!scope.open) {
        throw invalidArgument(`pgqueue (${this.driverName}): this transaction has ended; its handle cannot run statements.`);
      }
    };
    const handle: Queryable = {
      async query<Row = Record<string, unknown>>(text: string, params?: readonly SqlParam[], options?: QueryOptions) {
        refuseAfterEnd();
        return tx.query<Row>(text, params, options);
      },
      async exec(text) {
        refuseAfterEnd();
        return tx.exec(text);
      },
    };
    try {
      return await scopes.run(scope, () => fn(handle));
    } finally {
      // From here the connection is about to be committed and handed back: a late statement on
      // the handle would run outside the transaction.
      scope.open = false;
    }
  }
}
