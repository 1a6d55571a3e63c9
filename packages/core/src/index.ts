/**
 * `@pgqueue/core`: what an application uses. Helpers for writing an adapter are in
 * `@pgqueue/core/adapter`, the conformance suites in `@pgqueue/core/testing`.
 */
export type {
  Driver,
  DriverCapabilities,
  ListenEvents,
  ListenHandle,
  QueryOptions,
  QueryResult,
  Queryable,
  SqlParam,
} from './driver.js';
export { PgQueueError, type PgQueueErrorCode, type PgQueueErrorOptions } from './errors.js';
export type { Names, SchemaOptions } from './names.js';
export { JOB_STATUSES } from './sql/schema.js';
export {
  SCHEMA_VERSION,
  getInstallSql,
  getUninstallSql,
  installSchema,
  uninstallSchema,
  verifySchema,
  type InstallResult,
  type SchemaReport,
} from './schema.js';
export {
  COMPLETION_STATUSES,
  jsonPayload,
  type CompletionStatus,
  type Job,
  type JobError,
  type JobId,
  type JobStatus,
  type NewJob,
} from './job.js';
export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_STALE_AFTER_MS,
  MAX_BATCH,
  Queries,
  type CancelResult,
  type CompleteBatch,
  type DequeueOptions,
  type EnqueueOptions,
  type EntrypointLimit,
  type HoldBatch,
  type LeaseRenewal,
  type ListFailedOptions,
  type QueriesOptions,
  type QueueSizeRow,
  type RetryBatch,
  type RetryRequest,
  type StatementOptions,
  type StatisticsRow,
  type StatisticsTotal,
} from './queries.js';
export {
  QueueManager,
  type EntrypointOptions,
  type RunOptions,
  type StopOptions,
} from './worker/queue-manager.js';
export { QUEUE_MANAGER_DEFAULTS, type QueueManagerOptions } from './worker/options.js';
export type { FinalFailure, QueueManagerEvents, RetryReason, WorkerOperation } from './worker/events.js';
export type { JobContext, JobHandler, WorkerJob } from './worker/job.js';
export { DEFAULT_RETRY_POLICY, RetryLater, retryDelayMs, type RetryPolicy } from './worker/retry.js';
export { stopOnSignals, type StopOnSignalsOptions } from './worker/shutdown.js';
export { MAX_ENTRYPOINT_LENGTH } from './validate.js';
