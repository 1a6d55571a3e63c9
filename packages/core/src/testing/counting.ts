import type { Driver, Queryable } from '../driver.js';

/** Wraps a driver and counts the statements sent through it, transactions included. */
export function countingDriver(inner: Driver): Driver & { statements: string[] } {
  const statements: string[] = [];
  const wrap = (target: Queryable): Queryable => ({
    query(text, params, options) {
      statements.push(text);
      return target.query(text, params, options);
    },
    exec(text) {
      statements.push(text);
      return target.exec(text);
    },
  });
  const outer = wrap(inner);
  return {
    statements,
    specificationVersion: inner.specificationVersion,
    name: inner.name,
    capabilities: inner.capabilities,
    query: outer.query,
    exec: outer.exec,
    transaction: (fn) => inner.transaction((tx) => fn(wrap(tx))),
    listen: (channel, onPayload, events) => inner.listen(channel, onPayload, events),
    close: () => inner.close(),
  };
}
