export * from './driver.js';
export * from './errors.js';
export { assertConnectionString, redactConnectionString } from './connection.js';
export type { SchemaOptions } from './names.js';
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
  type JobId,
  type JobStatus,
  type NewJob,
} from './job.js';
export {
  DEFAULT_MAX_PAYLOAD_BYTES,
  DEFAULT_STALE_AFTER_MS,
  MAX_BATCH,
  Queries,
  type CompleteBatch,
  type DequeueOptions,
  type EnqueueOptions,
  type EntrypointLimit,
  type QueriesOptions,
  type QueueSizeRow,
  type StatisticsRow,
  type StatisticsTotal,
} from './queries.js';
export { MAX_ENTRYPOINT_LENGTH } from './validate.js';
