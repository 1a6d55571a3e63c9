/**
 * Typed errors with stable codes callers can switch on. A PostgreSQL error keeps its SQLSTATE
 * in `sqlState` and stays reachable as `cause`. Messages never include payloads or parameters.
 */

export type PgQueueErrorCode =
  /** The database could not be reached, or the connection string is malformed. */
  | 'CONNECTION_FAILED'
  /** The pgqueue tables (or one of them) are missing: run installSchema. */
  | 'SCHEMA_NOT_INSTALLED'
  /** An argument was rejected before anything was sent to the database. */
  | 'INVALID_ARGUMENT'
  /** A payload is larger than `maxPayloadBytes`. */
  | 'PAYLOAD_TOO_LARGE'
  /** A payload (or headers) could not be serialised to JSON. */
  | 'PAYLOAD_NOT_SERIALIZABLE'
  /** A job with the same dedupe key is already queued or running. */
  | 'DUPLICATE_JOB'
  /** PostgreSQL detected a deadlock (40P01). pgqueue's own statements are built never to cause one. */
  | 'DEADLOCK'
  /**
   * A statement did not answer within its deadline (a hung connection, lock waits, an overloaded
   * server), or the server canceled it (statement_timeout, lock_timeout: 57014, 55P03). The worker
   * treats it as transient and tries again; a write that timed out may still have been applied.
   */
  | 'STATEMENT_TIMEOUT'
  /** Outcomes a stopping worker could not write before its deadline; `jobIds` names their jobs. */
  | 'OUTCOMES_NOT_WRITTEN'
  /** The driver (or its pool) was closed. */
  | 'DRIVER_CLOSED'
  /** The abort reason of a handler whose job was canceled (Queries.cancelJobs). */
  | 'JOB_CANCELED'
  /** The abort reason of a handler whose job another worker took over after its lease expired. */
  | 'LEASE_LOST'
  /** The abort reason of a handler still running when its worker's stop deadline passed. */
  | 'WORKER_STOPPED'
  /** Any other database error; see `sqlState` and `cause`. */
  | 'DATABASE_ERROR';

const MARKER = Symbol.for('@pgqueue/core/PgQueueError');

export interface PgQueueErrorOptions {
  cause?: unknown;
  sqlState?: string;
  /** The jobs the error is about, when it is about several (OUTCOMES_NOT_WRITTEN). */
  jobIds?: readonly number[];
}

export class PgQueueError extends Error {
  override readonly name = 'PgQueueError';
  readonly code: PgQueueErrorCode;
  /** The five-character PostgreSQL SQLSTATE when the error came from the server. */
  readonly sqlState: string | undefined;
  /** The jobs the error is about, when it names several (OUTCOMES_NOT_WRITTEN); empty otherwise. */
  readonly jobIds: readonly number[];
  private readonly [MARKER] = true;

  constructor(code: PgQueueErrorCode, message: string, options: PgQueueErrorOptions = {}) {
    super(message, options.cause === undefined ? undefined : { cause: options.cause });
    this.code = code;
    this.sqlState = options.sqlState;
    this.jobIds = options.jobIds ?? [];
  }

  /** True for a PgQueueError, even one created by another copy of @pgqueue/core. */
  static isInstance(value: unknown): value is PgQueueError {
    return typeof value === 'object' && value !== null && (value as Record<symbol, unknown>)[MARKER] === true;
  }
}

export function invalidArgument(message: string): PgQueueError {
  return new PgQueueError('INVALID_ARGUMENT', message);
}

/** Reads the SQLSTATE that pg, postgres.js and PGlite all put on `code`. */
export function sqlStateOf(error: unknown): string | undefined {
  const code = (error as { code?: unknown } | null)?.code;
  return typeof code === 'string' && /^[0-9A-Z]{5}$/.test(code) ? code : undefined;
}

/** The constraint a driver error names: `constraint` on pg and PGlite, `constraint_name` on postgres.js. */
function constraintOf(error: unknown): string | undefined {
  const fields = error as { constraint?: unknown; constraint_name?: unknown } | null;
  const name = fields?.constraint ?? fields?.constraint_name;
  return typeof name === 'string' ? name : undefined;
}

// Node socket errors and client-side failures that mean "could not reach the server".
const CONNECTION_ERROR_CODES = new Set([
  'ECONNREFUSED',
  'ECONNRESET',
  'ENOTFOUND',
  'EAI_AGAIN',
  'ETIMEDOUT',
  'EHOSTUNREACH',
  'ENETUNREACH',
  'EPIPE',
  'CONNECT_TIMEOUT',
  'CONNECTION_CLOSED',
  'CONNECTION_ENDED',
  'CONNECTION_DESTROYED',
]);

// SQLSTATEs that mean the pgqueue objects are not there (undefined table / type / function / schema).
const SCHEMA_MISSING_STATES = new Set(['42P01', '42704', '42883', '3F000']);

// Connection exceptions (class 08), authentication (28), database does not exist (3D000),
// and server shutdown (57P01..57P03).
function isConnectionState(state: string): boolean {
  return state.startsWith('08') || state.startsWith('28') || state === '3D000' || /^57P0[123]$/.test(state);
}

export interface ErrorContext {
  /** What pgqueue was doing, e.g. "enqueue". */
  operation: string;
  /** The adapter's name. */
  driver?: string;
  /** How the user installs the schema, for the SCHEMA_NOT_INSTALLED hint. */
  installHint?: string;
}

/** Turns whatever a driver threw into a PgQueueError with a message that says what to do. */
export function toPgQueueError(error: unknown, context: ErrorContext): PgQueueError {
  if (PgQueueError.isInstance(error)) return error;
  const sqlState = sqlStateOf(error);
  const detail = error instanceof Error ? error.message : String(error);
  const where = context.driver ? ` (${context.driver})` : '';
  if (sqlState !== undefined && SCHEMA_MISSING_STATES.has(sqlState)) {
    return new PgQueueError(
      'SCHEMA_NOT_INSTALLED',
      `pgqueue ${context.operation} failed${where}: ${detail}. The pgqueue schema is not installed in this ` +
        `database (or under the schema/prefix you configured). Install it with ` +
        `${context.installHint ?? 'installSchema(driver, options)'} and retry.`,
      { cause: error, sqlState },
    );
  }
  if (sqlState === '23505' && !constraintOf(error)?.endsWith('pgqueuer_dedupe_idx')) {
    const constraint = constraintOf(error);
    return new PgQueueError(
      'DATABASE_ERROR',
      `pgqueue ${context.operation} failed${where}: ${detail}` +
        `${constraint === undefined ? '' : ` (unique constraint ${constraint}, not a job's dedupe key)`}`,
      { cause: error, sqlState },
    );
  }
  if (sqlState === '23505') {
    return new PgQueueError(
      'DUPLICATE_JOB',
      `pgqueue ${context.operation} failed${where}: a job with the same dedupe key is already queued or ` +
        `running. Nothing from this batch was enqueued. Use onDuplicate: 'skip' to drop duplicates instead.`,
      { cause: error, sqlState },
    );
  }
  if (sqlState === '57014' || sqlState === '55P03') {
    return new PgQueueError(
      'STATEMENT_TIMEOUT',
      `pgqueue ${context.operation} failed${where}: the statement did not finish in time: ${detail}`,
      { cause: error, ...(sqlState === undefined ? {} : { sqlState }) },
    );
  }
  if (sqlState === '40P01') {
    return new PgQueueError('DEADLOCK', `pgqueue ${context.operation} failed${where}: deadlock detected: ${detail}`, {
      cause: error,
      sqlState,
    });
  }
  const nodeCode = (error as { code?: unknown } | null)?.code;
  if (
    (sqlState !== undefined && isConnectionState(sqlState)) ||
    (typeof nodeCode === 'string' && CONNECTION_ERROR_CODES.has(nodeCode)) ||
    /Connection terminated/i.test(detail)
  ) {
    return new PgQueueError(
      'CONNECTION_FAILED',
      `pgqueue ${context.operation} failed${where}: could not talk to PostgreSQL: ${detail}. Check the ` +
        `connection string (DATABASE_URL), that the server is running and reachable, and the credentials.`,
      { cause: error, ...(sqlState === undefined ? {} : { sqlState }) },
    );
  }
  return new PgQueueError('DATABASE_ERROR', `pgqueue ${context.operation} failed${where}: ${detail}`, {
    cause: error,
    ...(sqlState === undefined ? {} : { sqlState }),
  });
}
