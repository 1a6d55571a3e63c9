/**
 * Where the pgqueue objects live. Names follow PgQueuer (pgqueuer, pgqueuer_statistics,
 * pgqueuer_status) so the tables read familiar; an optional PostgreSQL schema and a table
 * prefix let several installations share one database (tests use one schema per file).
 */
import { invalidArgument } from './errors.js';

export interface SchemaOptions {
  /** PostgreSQL schema holding the objects. Default: none (the connection's search_path). */
  schema?: string;
  /** Prefix for every object name, e.g. "app_" gives app_pgqueuer. Default: "". */
  prefix?: string;
  /** NOTIFY channel. Default: "ch_pgqueuer" with the schema and prefix folded in. */
  channel?: string;
}

export interface Names {
  schema: string | undefined;
  prefix: string;
  /** Qualified, quoted names ready to splice into SQL. */
  jobs: string;
  statistics: string;
  status: string;
  entrypoints: string;
  dequeueFunction: string;
  /** One row per periodic fleet task (statistics pruning): the worker that claims it runs it. */
  maintenance: string;
  schedules: string;
  /** Unqualified names, for catalog lookups. */
  raw: {
    jobs: string;
    statistics: string;
    status: string;
    entrypoints: string;
    dequeueFunction: string;
    maintenance: string;
    schedules: string;
  };
  channel: string;
}

const IDENTIFIER = /^[a-z_][a-z0-9_]*$/;
// PostgreSQL truncates identifiers at 63 bytes; the longest derived name (a sequence or key) adds 31.
const MAX_PREFIX = 32;

function checkIdentifier(value: string, what: string, max: number): void {
  if (!IDENTIFIER.test(value) || value.length > max) {
    throw invalidArgument(
      `${what} "${value}" is not allowed: use lower-case letters, digits and underscores, ` +
        `starting with a letter or underscore, at most ${max} characters.`,
    );
  }
}

/**
 * Throws unless `channel` is a name an adapter can LISTEN on: the same lower-case identifier
 * rule as the names above (it is spliced, quoted, into LISTEN). `driverName` prefixes the message.
 */
export function assertChannelName(channel: string, driverName: string): void {
  if (typeof channel !== 'string' || !IDENTIFIER.test(channel)) {
    throw invalidArgument(
      `pgqueue (${driverName}): channel "${String(channel)}" is not allowed: use lower-case letters, digits and ` +
        `underscores, starting with a letter or underscore.`,
    );
  }
}

export function resolveNames(options: SchemaOptions = {}): Names {
  const prefix = options.prefix ?? '';
  if (prefix !== '') checkIdentifier(prefix, 'prefix', MAX_PREFIX);
  const schema = options.schema;
  if (schema !== undefined) checkIdentifier(schema, 'schema', 63);
  const channel = options.channel ?? `ch_${schema === undefined ? '' : `${schema}_`}${prefix}pgqueuer`;
  checkIdentifier(channel, 'channel', 63);

  const raw = {
    jobs: `${prefix}pgqueuer`,
    statistics: `${prefix}pgqueuer_statistics`,
    status: `${prefix}pgqueuer_status`,
    entrypoints: `${prefix}pgqueuer_entrypoint_lock`,
    dequeueFunction: `${prefix}pgqueuer_dequeue`,
    maintenance: `${prefix}pgqueuer_maintenance`,
    schedules: `${prefix}pgqueuer_schedules`,
  };
  const qualify = (name: string) => (schema === undefined ? `"${name}"` : `"${schema}"."${name}"`);
  return {
    schema,
    prefix,
    jobs: qualify(raw.jobs),
    statistics: qualify(raw.statistics),
    status: qualify(raw.status),
    entrypoints: qualify(raw.entrypoints),
    dequeueFunction: qualify(raw.dequeueFunction),
    maintenance: qualify(raw.maintenance),
    schedules: qualify(raw.schedules),
    raw,
    channel,
  };
}
