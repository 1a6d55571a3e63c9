/** Argument checks that run before anything is sent, so bad input never reaches the database. */
import { invalidArgument } from './errors.js';

/** Longest entrypoint name: long enough for "billing.invoices.send-reminder-v2", short enough for indexes and NOTIFY. */
export const MAX_ENTRYPOINT_LENGTH = 128;
const INT32_MIN = -2147483648;
const INT32_MAX = 2147483647;
const UUID = /^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$/i;

export function checkEntrypoint(value: unknown, where: string): string {
  if (typeof value !== 'string' || value.length === 0) {
    throw invalidArgument(`${where}: entrypoint must be a non-empty string, got ${describe(value)}.`);
  }
  if (value.length > MAX_ENTRYPOINT_LENGTH) {
    throw invalidArgument(
      `${where}: entrypoint "${value.slice(0, 32)}…" is ${value.length} characters; the limit is ${MAX_ENTRYPOINT_LENGTH}.`,
    );
  }
  if (value.includes('\u0000')) throw invalidArgument(`${where}: entrypoint contains a NUL character.`);
  return value;
}

export function checkInt32(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < INT32_MIN || value > INT32_MAX) {
    throw invalidArgument(`${what} must be an integer between ${INT32_MIN} and ${INT32_MAX}, got ${describe(value)}.`);
  }
  return value;
}

export function checkPositiveInt(value: unknown, what: string, max = INT32_MAX): number {
  if (typeof value !== 'number' || !Number.isInteger(value) || value < 1 || value > max) {
    throw invalidArgument(`${what} must be an integer from 1 to ${max}, got ${describe(value)}.`);
  }
  return value;
}

export function checkNonNegative(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0) {
    throw invalidArgument(`${what} must be a finite number ≥ 0, got ${describe(value)}.`);
  }
  return value;
}

/**
 * Longest delay a job can be given: 100 years. PostgreSQL's interval and timestamp ranges end far
 * beyond it, but `now() + delay` has to stay inside them, and nobody means a longer delay.
 */
export const MAX_DELAY_MS = 100 * 365.25 * 24 * 60 * 60 * 1000;

/** A delay in milliseconds: finite, ≥ 0, at most MAX_DELAY_MS. */
export function checkDelayMs(value: unknown, what: string): number {
  if (typeof value !== 'number' || !Number.isFinite(value) || value < 0 || value > MAX_DELAY_MS) {
    throw invalidArgument(
      `${what} must be a number of milliseconds from 0 to ${MAX_DELAY_MS} (100 years), got ${describe(value)}.`,
    );
  }
  return value;
}

export function checkOwnerId(value: unknown): string {
  if (typeof value !== 'string' || !UUID.test(value)) {
    throw invalidArgument(`ownerId must be a UUID (crypto.randomUUID()), got ${describe(value)}.`);
  }
  return value;
}

export function checkIds(ids: unknown, what: string): number[] {
  if (!Array.isArray(ids)) throw invalidArgument(`${what} must be an array of job ids, got ${describe(ids)}.`);
  const seen = new Set<number>();
  for (const id of ids) {
    if (typeof id !== 'number' || !Number.isSafeInteger(id) || id < 1) {
      throw invalidArgument(`${what}: ${describe(id)} is not a job id.`);
    }
    if (seen.has(id)) throw invalidArgument(`${what}: job id ${id} appears twice.`);
    seen.add(id);
  }
  return ids as number[];
}

export function checkPlainObject(value: unknown, what: string): Record<string, unknown> {
  if (typeof value !== 'object' || value === null || Array.isArray(value)) {
    throw invalidArgument(`${what} must be a plain object, got ${describe(value)}.`);
  }
  return value as Record<string, unknown>;
}

function describe(value: unknown): string {
  if (typeof value === 'string') return value.length > 40 ? `"${value.slice(0, 40)}…"` : `"${value}"`;
  if (Array.isArray(value)) return 'an array';
  if (value === null) return 'null';
  return typeof value === 'object' ? 'an object' : String(value);
}
