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
export type { EnqueueInstrumentation } from './instrumentation.js';
export type { Names, SchemaOptions } from './names.js';
export { JOB_STATUSES } from './sql/schema.js';
export {
  SCHEMA_VERSION,
  getInstallSql,
  getUninstallSql,
  getUpgradeSql,
  installSchema,
  uninstallSchema,
  upgradeSchema,
  verifySchema,
  type InstallResult,
  type SchemaReport,
  type UpgradeResult,
  type UpgradeSqlOptions,
} from './schema.js';
export { SCHEMA_STEPS, type SchemaStep } from './sql/upgrades.js';
export { pruneStatistics, type PruneStatisticsOptions, type PruneStatisticsResult } from './statistics.js';
export {
  collectQueueMetrics,
  createMetricsHandler,
  renderPrometheus,
  DEFAULT_METRICS_WINDOW_MS,
  PROMETHEUS_CONTENT_TYPE,
  type MetricsHandlerOptions,
  type MetricsOptions,
  type QueueMetrics,
} from './metrics/prometheus.js';
export {
  listJobs,
  queueOverview,
  summarizeByStatus,
  throughput,
  type ListJobsOptions,
  type StatusSummary,
  type QueueOverviewRow,
  type ThroughputRow,
} from './monitoring.js';
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
export type { Instrumentation, InstrumentedWorker } from './worker/instrumentation.js';
export type { JobContext, JobHandler, WorkerJob } from './worker/job.js';
export type { EntrypointName, IsUntyped, JobInput, JobOf, NewJobFor, UntypedJobs, WorkerJobOf } from './job-map.js';
export type { PayloadOfJob } from './job.js';
export { DEFAULT_RETRY_POLICY, RetryLater, retryDelayMs, type RetryPolicy } from './worker/retry.js';
export { stopOnSignals, type StopOnSignalsOptions } from './worker/shutdown.js';
export { consoleLogger, type LogLevel, type Logger } from './logger.js';
export { MAX_ENTRYPOINT_LENGTH } from './validate.js';
export {
  DEFAULT_MISSED_AFTER_MS,
  MAX_SCHEDULE_NAME_LENGTH,
  defineSchedule,
  type ScheduleDefinition,
  type ScheduleOptions,
} from './schedule/definition.js';
export { DEFAULT_TIMEZONE, parseCron, type CronTicks } from './schedule/cron.js';
export { MAX_TICKS_PER_CLAIM, planTicks, type MissedPolicy, type PlanInput, type TickJob, type TickPlan } from './schedule/plan.js';
export {
  Schedules,
  scheduleDedupeKey,
  type Schedule,
  type ScheduleHeader,
  type ScheduleStatus,
  type ScheduledJob,
  type SyncResult,
  type TickResult,
} from './schedule/schedules.js';
