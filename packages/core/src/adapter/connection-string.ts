/**
 * Connection strings, read the way node-postgres reads them (its own parser, pg-connection-string),
 * so every form pg accepts is accepted here too: `postgres://` and `postgresql://` URLs, the unix
 * socket forms `socket:/var/run/postgresql?db=app` and `postgres://user@/app?host=/var/run/postgresql`,
 * and a bare socket directory `/var/run/postgresql app`. A password never appears in an error.
 */
import { parse } from 'pg-connection-string';
import { PgQueueError } from '../errors.js';

/** What a connection string names; absent parts fall back to the client's defaults (PGHOST, ...). */
export interface ConnectionParameters {
  /** A host name or address, or a socket directory (it starts with `/`). */
  host: string | undefined;
  port: number | undefined;
  user: string | undefined;
  password: string | undefined;
  database: string | undefined;
  /** True when `host` is a unix socket directory. */
  socket: boolean;
  /** Every other query parameter (sslmode, application_name, ...), for the client to interpret. */
  params: Record<string, string>;
}

const URL_SCHEMES = new Set(['postgres:', 'postgresql:', 'socket:']);
// Parameters that say where to connect, read into ConnectionParameters rather than passed on.
const LOCATION_PARAMS = new Set(['host', 'port', 'user', 'password', 'db', 'dbname', 'database']);

/** Removes the password (in the user-info part or as `password=`) so the string can appear in a message. */
export function redactConnectionString(value: string): string {
  return value.replace(/(:\/\/[^:/@?#]*:)[^@/?#]*@/, '$1***@').replace(/([?&]password=)[^&#]*/gi, '$1***');
}

/**
 * Parses a connection string as pg does, or throws CONNECTION_FAILED saying what is wrong with it
 * (a typo then fails at once, not as a confusing socket error on the first query).
 */
export function parseConnectionString(value: unknown, driver: string): ConnectionParameters {
  const fail = (why: string) =>
    new PgQueueError(
      'CONNECTION_FAILED',
      `pgqueue (${driver}): invalid connection string: ${why}. Expected postgres://user:password@host:5432/database ` +
        `(for example DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres), or a unix socket: ` +
        `postgres://user@/database?host=/var/run/postgresql or socket:/var/run/postgresql?db=database.`,
    );
  if (typeof value !== 'string' || value.trim() === '') throw fail('it is empty');
  const shown = `"${redactConnectionString(value)}"`;
  const scheme = /^([a-z][a-z0-9+.-]*:)/i.exec(value)?.[1]?.toLowerCase();
  if (scheme === undefined && !value.startsWith('/')) throw fail(`${shown} is neither a URL nor a socket directory`);
  if (scheme !== undefined && !URL_SCHEMES.has(scheme)) {
    throw fail(`${shown} uses ${scheme} instead of postgres:, postgresql: or socket:`);
  }
  let parsed: ReturnType<typeof parse>;
  try {
    // sslmode is the client's to interpret; parsing it here would print pg's sslmode deprecation
    // warning to postgres.js users as well.
    parsed = parse(value.replace(/([?&])sslmode=[^&#]*&?/i, '$1'));
  } catch {
    throw fail(`${shown} is not a URL`);
  }
  const text = (field: unknown) => (typeof field === 'string' && field !== '' ? field : undefined);
  const host = text(parsed.host);
  const database = text(parsed.database);
  if (host === undefined && database === undefined) throw fail(`${shown} names no host and no database`);
  const port = text(parsed.port);
  if (port !== undefined && !/^\d{1,5}$/.test(port)) throw fail(`${shown} has the port "${port}", which is not a number`);
  const params: Record<string, string> = {};
  for (const [key, param] of new URLSearchParams(value.includes('?') ? value.slice(value.indexOf('?') + 1) : '')) {
    if (!LOCATION_PARAMS.has(key)) params[key] = param;
  }
  return {
    host,
    port: port === undefined ? undefined : Number(port),
    user: text(parsed.user),
    password: text(parsed.password),
    database,
    socket: host?.startsWith('/') ?? false,
    params,
  };
}

/** Checks a connection string before a client gets it; see `parseConnectionString`. */
export function assertConnectionString(value: unknown, driver: string): asserts value is string {
  parseConnectionString(value, driver);
}
