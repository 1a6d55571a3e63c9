/**
 * The names pgqueue's telemetry uses. Messaging attributes follow the OpenTelemetry semantic
 * conventions for messaging (an entrypoint is the destination, a job the message); they are
 * still "development" conventions, so they are written out here rather than imported from
 * `@opentelemetry/semantic-conventions/incubating`, whose names may move between releases.
 */

/** The tracer's and meter's name (the instrumentation scope). */
export const INSTRUMENTATION_NAME = '@pgqueue/opentelemetry';
export const MESSAGING_SYSTEM = 'pgqueue';

export const ATTR_MESSAGING_SYSTEM = 'messaging.system';
export const ATTR_MESSAGING_OPERATION_TYPE = 'messaging.operation.type';
export const ATTR_MESSAGING_OPERATION_NAME = 'messaging.operation.name';
export const ATTR_MESSAGING_DESTINATION_NAME = 'messaging.destination.name';
export const ATTR_MESSAGING_MESSAGE_ID = 'messaging.message.id';
export const ATTR_MESSAGING_BATCH_MESSAGE_COUNT = 'messaging.batch.message_count';
export const ATTR_MESSAGING_CLIENT_ID = 'messaging.client.id';
export const ATTR_ERROR_TYPE = 'error.type';

/** The job's `attempts`: 1 on its first run. */
export const ATTR_JOB_ATTEMPT = 'pgqueue.job.attempt';
/** Jobs of an enqueue dropped as duplicates (`onDuplicate: 'skip'`). */
export const ATTR_ENQUEUE_SKIPPED = 'pgqueue.enqueue.skipped_count';
/** Why a job went back to the queue: `error`, `retryLater` or `shutdown`. */
export const ATTR_RETRY_REASON = 'pgqueue.retry.reason';
/** What was done with a job whose last attempt failed: `hold` or `delete`. */
export const ATTR_FINAL_FAILURE_ACTION = 'pgqueue.final_failure.action';

export const OPERATION_ENQUEUE = 'enqueue';
export const OPERATION_PROCESS = 'process';

export const METRIC_JOBS_ENQUEUED = 'pgqueue.jobs.enqueued';
export const METRIC_JOBS_STARTED = 'pgqueue.jobs.started';
export const METRIC_JOBS_COMPLETED = 'pgqueue.jobs.completed';
export const METRIC_JOBS_RETRIED = 'pgqueue.jobs.retried';
export const METRIC_JOBS_FAILED = 'pgqueue.jobs.failed';
export const METRIC_JOBS_CANCELED = 'pgqueue.jobs.canceled';
/** The semantic conventions' name for how long processing a message took: here, a handler run. */
export const METRIC_PROCESS_DURATION = 'messaging.process.duration';
export const METRIC_ENQUEUE_TO_START = 'pgqueue.job.enqueue_to_start.duration';

/**
 * Histogram buckets in seconds: the conventions' advice up to 10 s, then longer, because handlers
 * and queue waits run to minutes where an HTTP request would not.
 */
export const DURATION_BUCKETS_S = [0.005, 0.01, 0.025, 0.05, 0.075, 0.1, 0.25, 0.5, 0.75, 1, 2.5, 5, 7.5, 10, 30, 60, 300, 900, 3600];
