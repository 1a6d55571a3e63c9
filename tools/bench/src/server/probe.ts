/**
 * What the server did during a run, read from the server itself: transactions per second
 * (pg_stat_database), WAL bytes per job (pg_current_wal_lsn), the jobs table's dead tuples and
 * size at the end, and — when the server runs on this machine — the CPU time of the run's
 * backends from /proc/<pid>/stat. Each figure is null where the server cannot give it (PGlite
 * has no /proc backends, an older server has no pg_stat_force_next_flush), never a guess.
 */
import { readFile } from 'node:fs/promises';
import type { Driver } from '@pgqueue/core';

/** The application_name every benchmark connection carries (workers, producer, pgbench clients). */
export const BENCH_APPLICATION_NAME = 'pgqueue-bench';

/** /proc reports utime and stime in USER_HZ, which Linux fixes at 100 for user space. */
const CLOCK_TICKS_PER_SECOND = 100;
/** How long to wait for the run's backends to exit (they flush their statistics on exit). */
const EXIT_WAIT_MS = 3_000;

export interface ServerFigures {
  /** Transactions committed or rolled back per second over the run (an autocommitted statement is one). */
  xactsPerSecond: number | null;
  xactsPerJob: number | null;
  /** WAL written over the run, per job completed (cluster-wide: other clients of the server count too). */
  walBytesPerJob: number | null;
  /** The jobs table at the end of the run. */
  deadTuples: number | null;
  tableBytes: number | null;
  indexBytes: number | null;
  /** User + system CPU of the run's backends per job, in milliseconds (a local server only). */
  cpuMsPerJob: number | null;
  /** Why the CPU figure is missing, when it is. */
  cpuNote?: string;
}

export interface TableState {
  deadTuples: number | null;
  /** pg_total_relation_size: heap, indexes and TOAST. */
  tableBytes: number | null;
  indexBytes: number | null;
}

/** A driver that counts the statements sent through it, so the probe can leave its own out. */
export interface CountingDriver extends Driver {
  readonly statements: number;
}

export function countingDriver(driver: Driver): CountingDriver {
  let statements = 0;
  // Every member delegated by name: an adapter may be a class instance, whose methods a spread would drop.
  return {
    specificationVersion: driver.specificationVersion,
    name: driver.name,
    capabilities: driver.capabilities,
    query: (text, params, options) => {
      statements++;
      return driver.query(text, params, options);
    },
    exec: (text) => driver.exec(text),
    transaction: (fn) => driver.transaction(fn),
    listen: (channel, onPayload, events) => driver.listen(channel, onPayload, events),
    close: () => driver.close(),
    get statements() {
      return statements;
    },
  };
}

export interface Mark {
  at: number;
  xacts: number | null;
  wal: bigint | null;
  /** Statements the admin connection had sent when the mark was read. */
  ownStatements: number;
}

/** utime + stime of a process in seconds, from the 14th and 15th fields of /proc/<pid>/stat. */
export function cpuSecondsFromStat(stat: string): number {
  // The command name (field 2) is in parentheses and may hold spaces: count from after it.
  const rest = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  const utime = Number(rest[11]);
  const stime = Number(rest[12]);
  if (!Number.isFinite(utime) || !Number.isFinite(stime)) throw new Error(`unexpected /proc stat line: ${stat.slice(0, 80)}`);
  return (utime + stime) / CLOCK_TICKS_PER_SECOND;
}

async function readCpuSeconds(pid: number): Promise<number | undefined> {
  try {
    return cpuSecondsFromStat(await readFile(`/proc/${pid}/stat`, 'utf8'));
  } catch {
    return undefined;
  }
}

async function optional<T>(read: () => Promise<T>): Promise<T | null> {
  try {
    return await read();
  } catch {
    return null;
  }
}

export class ServerProbe {
  private constructor(
    private readonly admin: CountingDriver,
    private readonly others: readonly Driver[],
    private readonly forceFlush: boolean,
    private readonly onServer: boolean,
    /** Why CPU cannot be read, or undefined when it can. */
    readonly cpuUnavailable: string | undefined,
  ) {}

  /**
   * `others` are long-lived connections whose pending statistics must be flushed before each
   * reading (the producer); the run's own connections flush when they close.
   */
  static async open(admin: CountingDriver, others: readonly Driver[], onServer: boolean): Promise<ServerProbe> {
    const { rows } = await admin.query<{ pid: number; version: number }>(
      `SELECT pg_backend_pid() AS pid, current_setting('server_version_num')::int AS version`,
    );
    const pid = Number(rows[0]?.pid);
    // Backends keep their statistics for up to a second before flushing; PostgreSQL 15 can be told to flush now.
    const forceFlush = Number(rows[0]?.version) >= 150_000;
    if (!onServer) return new ServerProbe(admin, others, forceFlush, false, 'PGlite runs inside this process: no server backends');
    let cpuUnavailable: string | undefined;
    try {
      const stat = await readFile(`/proc/${pid}/stat`, 'utf8');
      // Same pid in another pid namespace (a server in a container) would be some other process.
      if (!stat.includes('(postgres)')) cpuUnavailable = `/proc/${pid} is not a postgres process here (server not local)`;
    } catch {
      cpuUnavailable = `/proc/${pid}/stat is not readable (server not local)`;
    }
    return new ServerProbe(admin, others, forceFlush, true, cpuUnavailable);
  }

  private async flushOthers(): Promise<void> {
    if (!this.forceFlush) return;
    await Promise.all([...this.others, this.admin].map((driver) => driver.query('SELECT pg_stat_force_next_flush()')));
  }

  /** A reading at the start or the end of a run. */
  async mark(): Promise<Mark> {
    await optional(() => this.flushOthers());
    const row = await optional(async () => {
      const { rows } = await this.admin.query<{ xacts: string | null; wal: string }>(
        `SELECT (SELECT xact_commit + xact_rollback FROM pg_stat_database WHERE datname = current_database())::text AS xacts,
           (pg_current_wal_lsn() - '0/0'::pg_lsn)::text AS wal`,
      );
      return rows[0];
    });
    const ownStatements = this.admin.statements;
    return {
      at: performance.now(),
      xacts: row?.xacts == null ? null : Number(row.xacts),
      wal: row?.wal == null ? null : BigInt(row.wal.replace(/\..*$/, '')),
      ownStatements,
    };
  }

  /** The pids of the benchmark's backends that started during this run (workers, pgbench clients). */
  async runBackends(since: Date): Promise<number[]> {
    if (!this.onServer) return [];
    // pg_backend_pid(), not a stored pid: the admin pool may have reconnected since.
    const { rows } = await this.admin.query<{ pid: number }>(
      `SELECT pid FROM pg_stat_activity
       WHERE application_name = $1 AND backend_start >= $2::timestamptz AND pid <> pg_backend_pid()`,
      [BENCH_APPLICATION_NAME, since.toISOString()],
    );
    return rows.map((row) => Number(row.pid));
  }

  /** CPU seconds the given backends have used since they started; undefined when /proc cannot tell. */
  async cpuSeconds(pids: readonly number[]): Promise<number | undefined> {
    if (this.cpuUnavailable !== undefined || pids.length === 0) return undefined;
    const each = await Promise.all(pids.map(readCpuSeconds));
    return each.reduce<number>((sum, seconds) => sum + (seconds ?? 0), 0);
  }

  /** Waits until the given backends are gone, so their statistics are flushed. */
  async waitForExit(pids: readonly number[]): Promise<void> {
    if (pids.length === 0) return;
    const until = performance.now() + EXIT_WAIT_MS;
    while (performance.now() < until) {
      const { rows } = await this.admin.query<{ n: number }>(`SELECT count(*)::int AS n FROM pg_stat_activity WHERE pid = ANY ($1::int[])`, [
        `{${pids.join(',')}}`,
      ]);
      if (Number(rows[0]?.n) === 0) return;
      await new Promise((resolve) => setTimeout(resolve, 10));
    }
  }

  /** Dead tuples (as last reported by the backends) and sizes of the jobs table. */
  async tableState(schema: string, table: string): Promise<TableState> {
    const row = await optional(async () => {
      const { rows } = await this.admin.query<{ dead: string | null; total: string; indexes: string }>(
        `SELECT (SELECT n_dead_tup FROM pg_stat_user_tables WHERE schemaname = $1 AND relname = $2)::text AS dead,
           pg_total_relation_size(format('%I.%I', $1::text, $2::text))::text AS total,
           pg_indexes_size(format('%I.%I', $1::text, $2::text))::text AS indexes`,
        [schema, table],
      );
      return rows[0];
    });
    return {
      deadTuples: row?.dead == null ? null : Number(row.dead),
      tableBytes: row?.total == null ? null : Number(row.total),
      indexBytes: row?.indexes == null ? null : Number(row.indexes),
    };
  }

  /**
   * The figures between two marks. The probe's own statements (readings, polls of the statistics
   * table) and the flushes it asked of the other connections are left out of the transaction count.
   */
  /**
   * `cpu` is read just before the run's backends stop: their CPU since they started, and the jobs
   * completed by then.
   */
  figures(start: Mark, end: Mark, jobs: number, table: TableState, cpu: { seconds: number | undefined; jobs: number }): ServerFigures {
    const seconds = (end.at - start.at) / 1000;
    const ownExtra = end.ownStatements - start.ownStatements + (this.forceFlush ? this.others.length : 0);
    const xacts = start.xacts === null || end.xacts === null ? null : Math.max(0, end.xacts - start.xacts - ownExtra);
    const wal = start.wal === null || end.wal === null ? null : Number(end.wal - start.wal);
    const perJob = (value: number | null) => (value === null || jobs <= 0 ? null : value / jobs);
    return {
      xactsPerSecond: xacts === null || seconds <= 0 ? null : xacts / seconds,
      xactsPerJob: perJob(xacts),
      walBytesPerJob: perJob(wal),
      ...table,
      cpuMsPerJob: cpu.seconds === undefined || cpu.jobs <= 0 ? null : (cpu.seconds * 1000) / cpu.jobs,
      ...(cpu.seconds === undefined ? { cpuNote: this.cpuUnavailable ?? 'no backends of the run were found' } : {}),
    };
  }
}
