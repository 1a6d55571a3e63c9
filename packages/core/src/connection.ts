import { PgQueueError } from './errors.js';

/** Removes the password from a connection string so it can appear in an error message. */
export function redactConnectionString(value: string): string {
  try {
    const url = new URL(value);
    if (url.password) url.password = '***';
    return url.toString();
  } catch {
    return value.replace(/(:\/\/[^:/@]*:)[^@]*@/, '$1***@');
  }
}

/**
 * Checks that a connection string is a postgres:// or postgresql:// URL before a client gets
 * it, so a typo fails at once with a clear message instead of as a confusing socket error.
 */
export function assertConnectionString(value: unknown, driver: string): asserts value is string {
  const fail = (why: string) =>
    new PgQueueError(
      'CONNECTION_FAILED',
      `pgqueue (${driver}): invalid connection string: ${why}. Expected ` +
        `postgres://user:password@host:5432/database (for example DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres).`,
    );
  if (typeof value !== 'string' || value.trim() === '') throw fail('it is empty');
  let url: URL;
  try {
    url = new URL(value);
  } catch {
    throw fail(`"${redactConnectionString(value)}" is not a URL`);
  }
  if (url.protocol !== 'postgres:' && url.protocol !== 'postgresql:') {
    throw fail(`"${redactConnectionString(value)}" uses ${url.protocol} instead of postgres:`);
  }
  if (url.hostname === '' && !url.searchParams.has('host')) {
    throw fail(`"${redactConnectionString(value)}" names no host`);
  }
}
