/** What a schedule is registered with, checked before anything is written. */
import { invalidArgument } from '../errors.js';
import { bytesToHex, toJson } from '../params.js';
import { checkEntrypoint, checkInt32, checkNonNegative } from '../validate.js';
import { DEFAULT_TIMEZONE, parseCron, type CronTicks } from './cron.js';
import type { MissedPolicy } from './plan.js';

export interface ScheduleOptions<Payload = unknown> {
  /**
   * The schedule's identity, by which it is updated on the next start, paused, resumed and
   * removed. Default: the entrypoint; give each schedule of one entrypoint a name of its own.
   */
  name?: string;
  /** The payload of every job this schedule enqueues: data stored as JSON, or a Uint8Array. */
  payload?: Payload | Uint8Array | null;
  /** IANA time zone the expression is read in. Default "UTC". */
  timezone?: string;
  /** Priority of the jobs it enqueues (higher first). Default 0. */
  priority?: number;
  /**
   * Ticks that came due while no scheduler ran (the fleet was down): 'runOnce' enqueues one job
   * for all of them when a scheduler starts again (default); 'skip' enqueues none and waits for
   * the next tick.
   */
  missed?: 'runOnce' | 'skip';
  /**
   * How late a tick may be and still count as on time (each such tick gets its own job).
   * Default 30 s: a fleet stalled for less loses no tick; a downtime longer than this is missed.
   */
  missedAfterMs?: number;
  /**
   * Skip a tick while the previous job of this schedule is still queued or running (its jobs
   * carry the dedupe key `pgqueue:schedule:<name>`). Default false: jobs may overlap.
   */
  skipWhileRunning?: boolean;
}

export interface ScheduleDefinition {
  name: string;
  expression: string;
  timezone: string;
  entrypoint: string;
  /** The payload as the hex of its stored bytes (JSON text in UTF-8, or the bytes given); null for none. */
  payloadHex: string | null;
  priority: number;
  missed: MissedPolicy;
  missedAfterMs: number;
  skipWhileRunning: boolean;
  ticks: CronTicks;
}

export const DEFAULT_MISSED_AFTER_MS = 30_000;
/** Longest schedule name; it is part of the jobs' dedupe key. */
export const MAX_SCHEDULE_NAME_LENGTH = 128;
const MAX_MISSED_AFTER_MS = 2_147_483_647;

/**
 * Checks a registration and parses its expression: throws INVALID_ARGUMENT, quoting what was
 * wrong, for a bad expression, time zone, entrypoint or option. `where` names the caller.
 */
export function defineSchedule(
  expression: unknown,
  entrypoint: unknown,
  options: ScheduleOptions = {},
  where = 'schedule',
): ScheduleDefinition {
  if (typeof options !== 'object' || options === null) throw invalidArgument(`${where}: options must be an object.`);
  const at = `${where}("${String(expression)}", "${String(entrypoint)}")`;
  checkEntrypoint(entrypoint, at);
  const name = options.name ?? (entrypoint as string);
  if (typeof name !== 'string' || name === '' || name.length > MAX_SCHEDULE_NAME_LENGTH || name.includes('\u0000')) {
    throw invalidArgument(`${at}: name must be a non-empty string of at most ${MAX_SCHEDULE_NAME_LENGTH} characters.`);
  }
  const ticks = parseCron(expression, options.timezone ?? DEFAULT_TIMEZONE, at);
  if (ticks.nextAfter(Date.now()) === null) {
    throw invalidArgument(`${at}: the cron expression "${ticks.expression}" has no future tick, so it would never run.`);
  }
  const missed = options.missed ?? 'runOnce';
  if (missed !== 'runOnce' && missed !== 'skip') {
    throw invalidArgument(`${at}: missed must be 'runOnce' or 'skip', got ${JSON.stringify(missed)}.`);
  }
  const missedAfterMs = options.missedAfterMs ?? DEFAULT_MISSED_AFTER_MS;
  checkNonNegative(missedAfterMs, `${at}: missedAfterMs`);
  if (!Number.isInteger(missedAfterMs) || missedAfterMs > MAX_MISSED_AFTER_MS) {
    throw invalidArgument(`${at}: missedAfterMs must be a whole number of milliseconds up to ${MAX_MISSED_AFTER_MS}.`);
  }
  if (options.skipWhileRunning !== undefined && typeof options.skipWhileRunning !== 'boolean') {
    throw invalidArgument(`${at}: skipWhileRunning must be a boolean.`);
  }
  return {
    name,
    expression: ticks.expression,
    timezone: ticks.timezone,
    entrypoint: entrypoint as string,
    payloadHex: encodePayload(options.payload, `${at}: payload`),
    priority: options.priority === undefined ? 0 : checkInt32(options.priority, `${at}: priority`),
    missed: missed === 'runOnce' ? 'run_once' : 'skip',
    missedAfterMs,
    skipWhileRunning: options.skipWhileRunning ?? false,
    ticks,
  };
}

function encodePayload(payload: unknown, what: string): string | null {
  if (payload === undefined || payload === null) return null;
  if (payload instanceof Uint8Array) return bytesToHex(payload);
  return Buffer.from(toJson(payload, what), 'utf8').toString('hex');
}
