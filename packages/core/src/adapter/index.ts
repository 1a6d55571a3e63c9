/**
 * `@pgqueue/core/adapter`: what an adapter for another PostgreSQL client needs and an application
 * does not. An adapter declares the few methods of its client it uses, hands `assembleDriver`
 * the client-specific parts, and runs `@pgqueue/core/testing`'s conformance suite.
 * docs/adapter-authors.md walks through one (the Kysely adapter).
 */
export {
  DRIVER_SPECIFICATION_VERSION,
  type Driver,
  type DriverCapabilities,
  type ListenEvents,
  type ListenHandle,
  type QueryOptions,
  type QueryResult,
  type Queryable,
  type SqlParam,
} from '../driver.js';
export { PgQueueError, invalidArgument, sqlStateOf, toPgQueueError, type ErrorContext } from '../errors.js';
export { assertChannelName } from '../names.js';
export { assembleDriver, type DriverParts, type Subscription } from './assemble.js';
export {
  assertConnectionString,
  parseConnectionString,
  redactConnectionString,
  type ConnectionParameters,
} from './connection-string.js';
export {
  ReconnectingListener,
  type ReconnectingListenerOptions,
} from './listener.js';
export { queryableFrom, type Statements } from './queryable.js';
export { TransactionGuard } from './transaction-guard.js';
