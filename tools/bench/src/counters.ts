/** What a group of workers reports: jobs completed and errors, deadlocks counted apart. */
import { PgQueueError, sqlStateOf } from '@pgqueue/core/adapter';

export const DEADLOCK = '40P01';

export interface Counters {
  completed: number;
  /** Errors with SQLSTATE 40P01, wherever in the cause chain the driver put it. */
  deadlocks: number;
  /** Every other error. */
  errors: number;
  /** The first few distinct error messages, to print with the results. */
  samples: string[];
}

const MAX_SAMPLES = 5;

export function emptyCounters(): Counters {
  return { completed: 0, deadlocks: 0, errors: 0, samples: [] };
}

export function addCounters(into: Counters, from: Counters): Counters {
  into.completed += from.completed;
  into.deadlocks += from.deadlocks;
  into.errors += from.errors;
  for (const sample of from.samples) addSample(into, sample);
  return into;
}

/** The SQLSTATE of an error, looking through `cause` (the core wraps driver errors). */
export function sqlStateIn(error: unknown): string | undefined {
  let current: unknown = error;
  for (let depth = 0; depth < 8 && current !== undefined && current !== null; depth++) {
    const state = (PgQueueError.isInstance(current) ? current.sqlState : undefined) ?? sqlStateOf(current);
    if (state !== undefined) return state;
    current = (current as { cause?: unknown }).cause;
  }
  return undefined;
}

export function recordError(counters: Counters, error: unknown): void {
  const state = sqlStateIn(error);
  if (state === DEADLOCK) counters.deadlocks++;
  else counters.errors++;
  const message = error instanceof Error ? error.message : String(error);
  addSample(counters, state === undefined ? message : `${state}: ${message}`);
}

function addSample(counters: Counters, sample: string): void {
  if (counters.samples.length < MAX_SAMPLES && !counters.samples.includes(sample)) counters.samples.push(sample);
}
