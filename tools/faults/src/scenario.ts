/**
 * What every fault scenario shares: its database, its worker processes, the jobs it enqueued, and
 * the verdict. The verdict is the promise pgqueue makes, checked from the server's own records
 * (database.ts): every job ran, the queue is empty, the statistics count every job exactly once,
 * and a job ran more than once only after its lease expired and another pick took it over (or
 * its worker put it back), never again by the worker that still held it. Timings are printed as
 * figures, never asserted, except the bounds a user relies on: a stop that ends, a worker that
 * recovers.
 */
import { expect } from 'vitest';
import type { FaultJob, WorkerSpec } from './protocol.js';
import { createFaultsDatabase, type FaultsDatabase } from './database.js';
import { WorkerProcess, type StopFigures } from './workers.js';

/** Short leases so a scenario outlives several of them in seconds; heartbeats every third. */
export const STALE_AFTER_MS = 2_000;
const ENQUEUE_BATCH = 1_000;
const POLL_MS = 100;
/** Jobs fed in per poll while waiting for a worker to recover: a few hundred a second, far below what the workers drain. */
const FEED_JOBS = 20;

export interface Takeover {
  jobId: number;
  oldOwner: string;
  newOwner: string;
  leaseAgeMs: number;
}

export interface Verdict {
  jobs: number;
  runs: number;
  /** Runs beyond the first, over all jobs. */
  duplicates: number;
  takeovers: Takeover[];
  requeues: number;
}

export interface VerdictExpectations {
  /** Which takeovers the fault explains (a worker it impaired); default none. */
  takeoverAllowed?: (takeover: Takeover) => boolean;
  /** Whether a worker may put jobs back (stop deadline); default no. */
  requeuesAllowed?: boolean;
}

export class Scenario {
  readonly entrypoint = 'fault';
  readonly workers: WorkerProcess[] = [];
  private readonly ids: number[] = [];

  private constructor(
    readonly name: string,
    readonly db: FaultsDatabase,
  ) {}

  static async open(name: string): Promise<Scenario> {
    return new Scenario(name, await createFaultsDatabase(name));
  }

  get jobs(): number {
    return this.ids.length;
  }

  /** Starts a worker process on the scenario's database (or `workerUrl`, a proxy in front of it). */
  async worker(label: string, overrides: Partial<WorkerSpec> = {}): Promise<WorkerProcess> {
    const worker = await WorkerProcess.start(
      {
        workerUrl: this.db.url,
        recorderUrl: this.db.url,
        entrypoint: this.entrypoint,
        staleAfterMs: STALE_AFTER_MS,
        pollIntervalMs: 200,
        batchSize: 10,
        maxConcurrentTasks: 20,
        shutdownTimeoutMs: 5_000,
        ...overrides,
      },
      label,
    );
    this.workers.push(worker);
    return worker;
  }

  workersNamed(...labels: string[]): Promise<WorkerProcess[]> {
    return Promise.all(labels.map((label) => this.worker(label)));
  }

  async enqueue(count: number, job: FaultJob = {}, delayMs = 0): Promise<number[]> {
    const ids: number[] = [];
    for (let from = 0; from < count; from += ENQUEUE_BATCH) {
      const batch = Array.from({ length: Math.min(ENQUEUE_BATCH, count - from) }, () => ({
        entrypoint: this.entrypoint,
        payload: job,
        delayMs,
      }));
      ids.push(...(await this.db.queries.enqueue(batch)));
    }
    this.ids.push(...ids);
    return ids;
  }

  /** Runs recorded so far, by any worker or by `owner`. */
  async runs(owner?: string): Promise<number> {
    const { rows } = await this.db.admin.query<{ n: number }>(
      'SELECT count(*)::integer AS n FROM faults_runs WHERE $1::uuid IS NULL OR owner = $1::uuid',
      [owner ?? null],
    );
    return rows[0]!.n;
  }

  /** Waits until every job enqueued was completed: none left in the queue, all counted. */
  async drained(timeoutMs = 120_000): Promise<void> {
    await this.until(`all ${this.jobs} jobs of ${this.name} to be completed`, timeoutMs, async () => {
      const { rows } = await this.db.admin.query<{ left: number; counted: number }>(
        `SELECT (SELECT count(*) FROM pgqueuer)::integer AS left,
                (SELECT coalesce(sum(count), 0) FROM pgqueuer_statistics)::integer AS counted`,
      );
      return rows[0]!.left === 0 && rows[0]!.counted >= this.jobs;
    });
  }

  /**
   * Milliseconds from `sinceMs` (epoch) to the first completion statement `worker` got through
   * after it: how long the worker took to write outcomes again once a fault ended. Short jobs are
   * fed in meanwhile, so a recovered worker always has work to show it, even when the others were
   * quicker to drain what was queued. Fails, with the worker's latest errors, when it has not
   * happened within `timeoutMs`: the worker did not recover by itself.
   */
  async recovery(worker: WorkerProcess, sinceMs: number, timeoutMs = 30_000): Promise<number> {
    let first: number | undefined;
    const check = async () => {
      await this.enqueue(FEED_JOBS, { ms: 5 });
      const { rows } = await this.db.admin.query<{ at: number | null }>(
        `SELECT (extract(epoch FROM min(at)) * 1000)::float8 AS at FROM faults_completions
         WHERE owner = $1::uuid AND at > to_timestamp($2::text::float8 / 1000)`,
        [worker.ownerId, String(sinceMs)],
      );
      first = rows[0]!.at ?? undefined;
      return first !== undefined;
    };
    try {
      await this.until(`worker ${worker.label} to write a completion again`, timeoutMs, check);
    } catch (error) {
      const latest = [...new Set(worker.errors.slice(-20).map((e) => `${e.operation}: ${e.message}`))].slice(-3);
      throw new Error(`${(error as Error).message}; its latest errors: ${latest.join(' | ') || 'none'}`);
    }
    return first! - sinceMs;
  }

  /**
   * The longest stretch between `fromMs` and `toMs` (epoch) in which `worker` got no completion
   * statement through: how long a fault that never stopped it kept it from writing outcomes.
   */
  async longestPause(worker: WorkerProcess, fromMs: number, toMs: number): Promise<number> {
    const { rows } = await this.db.admin.query<{ ms: number }>(
      `WITH marks AS (
         SELECT extract(epoch FROM at) * 1000 AS ms FROM faults_completions
         WHERE owner = $1::uuid AND at BETWEEN to_timestamp($2::text::float8 / 1000) AND to_timestamp($3::text::float8 / 1000)
         UNION ALL SELECT $2::text::float8 UNION ALL SELECT $3::text::float8
       )
       SELECT coalesce(max(gap), 0)::float8 AS ms FROM (SELECT ms - lag(ms) OVER (ORDER BY ms) AS gap FROM marks) gaps`,
      [worker.ownerId, String(fromMs), String(toMs)],
    );
    return rows[0]!.ms;
  }

  /** Stops every live worker with `timeoutMs`; fails unless each stop() returns within `withinMs`. */
  async stopAll(timeoutMs = 5_000, withinMs = timeoutMs + 15_000): Promise<StopFigures> {
    const live = this.workers.filter((worker) => worker.running);
    const stops = await Promise.all(live.map((worker) => worker.stop(timeoutMs, withinMs)));
    const closes = await Promise.all(live.map((worker) => worker.closed()));
    return { stopMs: Math.max(0, ...stops), closeMs: Math.max(0, ...closes) };
  }

  async verdict(expectations: VerdictExpectations = {}): Promise<Verdict> {
    const q = <Row>(text: string) => this.db.admin.query<Row>(text).then((result) => result.rows);
    const runs = await q<{ id: string; runs: number }>('SELECT job_id::text AS id, count(*)::integer AS runs FROM faults_runs GROUP BY job_id');
    const takeovers = (
      await q<{ id: string; old_owner: string; new_owner: string; lease_age_ms: number }>(
        'SELECT job_id::text AS id, old_owner::text, new_owner::text, lease_age_ms FROM faults_takeovers ORDER BY at',
      )
    ).map((row) => ({ jobId: Number(row.id), oldOwner: row.old_owner, newOwner: row.new_owner, leaseAgeMs: row.lease_age_ms }));
    const requeues = await q<{ id: string }>('SELECT job_id::text AS id FROM faults_requeues');
    const [left] = await q<{ n: number }>('SELECT count(*)::integer AS n FROM pgqueuer');
    const statistics = await q<{ status: string; count: number }>(
      'SELECT status::text AS status, sum(count)::integer AS count FROM pgqueuer_statistics GROUP BY status ORDER BY status',
    );

    const runsOf = new Map(runs.map((row) => [Number(row.id), row.runs]));
    const enqueued = new Set(this.ids);
    expect(this.ids.filter((id) => !runsOf.has(id)), 'jobs that never ran').toEqual([]);
    expect([...runsOf.keys()].filter((id) => !enqueued.has(id)), 'runs of jobs never enqueued').toEqual([]);
    expect(left!.n, 'jobs left in the queue').toBe(0);
    expect(statistics, 'statistics: every job counted once, as successful').toEqual([{ status: 'successful', count: this.jobs }]);

    expect(
      takeovers.filter((takeover) => takeover.leaseAgeMs < STALE_AFTER_MS),
      `takeovers of leases younger than staleAfterMs (${STALE_AFTER_MS} ms)`,
    ).toEqual([]);
    const allowed = expectations.takeoverAllowed ?? (() => false);
    expect(
      takeovers.filter((takeover) => !allowed(takeover)),
      'takeovers of jobs whose worker the fault did not impair',
    ).toEqual([]);
    if (expectations.requeuesAllowed !== true) expect(requeues.length, 'jobs put back by their worker').toBe(0);

    // A job may run once, plus once per takeover or requeue of it: any run beyond that is a
    // duplicate no lease expiry explains.
    const explained = new Map<number, number>();
    for (const { jobId } of takeovers) explained.set(jobId, (explained.get(jobId) ?? 0) + 1);
    for (const { id } of requeues) explained.set(Number(id), (explained.get(Number(id)) ?? 0) + 1);
    const unexplained = [...runsOf].filter(([id, n]) => n - 1 > (explained.get(id) ?? 0)).map(([id, n]) => ({ id, runs: n }));
    expect(unexplained, 'jobs that ran again without their lease expiring').toEqual([]);
    // A worker whose own fetch gets back a job it still holds (its lease expired during an
    // outage) has that job's run or outcome already: running it again there only duplicates it.
    // It may run a job again only after getting it back from another worker, or after a requeue.
    const rerunHere = await q<{ id: string; owner: string; runs: number }>(
      `SELECT r.job_id::text AS id, r.owner::text AS owner, r.runs
       FROM (SELECT job_id, owner, count(*)::integer AS runs FROM faults_runs GROUP BY job_id, owner HAVING count(*) > 1) r
       WHERE r.runs - 1 > (SELECT count(*) FROM faults_takeovers t WHERE t.job_id = r.job_id AND t.new_owner = r.owner AND t.old_owner <> r.owner)
                        + (SELECT count(*) FROM faults_requeues q WHERE q.job_id = r.job_id)
       ORDER BY r.job_id LIMIT 100`,
    );
    expect(rerunHere, `jobs run again by the worker that still held them; ${await this.history(rerunHere.slice(0, 3).map((row) => Number(row.id)))}`).toEqual([]);

    const total = runs.reduce((sum, row) => sum + row.runs, 0);
    return { jobs: this.jobs, runs: total, duplicates: total - runsOf.size, takeovers, requeues: requeues.length };
  }

  /** What the instruments recorded about these jobs, oldest first, for a failure message. */
  private async history(ids: number[]): Promise<string> {
    if (ids.length === 0) return 'no history';
    const label = new Map(this.workers.map((worker) => [worker.ownerId, worker.label]));
    const { rows } = await this.db.admin.query<{ id: string; at: string; event: string; a: string | null; b: string | null; n: number | null }>(
      `SELECT job_id::text AS id, to_char(at, 'HH24:MI:SS.MS') AS at, event, a, b, n FROM (
         SELECT job_id, started AS at, 'run' AS event, owner::text AS a, NULL AS b, attempt AS n FROM faults_runs
         UNION ALL SELECT job_id, at, 'takeover', old_owner::text, new_owner::text, lease_age_ms::integer FROM faults_takeovers
         UNION ALL SELECT job_id, at, 'requeue', owner::text, NULL, NULL FROM faults_requeues
       ) events WHERE job_id = ANY ($1::bigint[]) ORDER BY job_id, at`,
      [`{${ids.join(',')}}`],
    );
    const who = (owner: string | null) => (owner === null ? '' : (label.get(owner) ?? owner));
    return rows
      .map((row) =>
        row.event === 'run'
          ? `job ${row.id} ${row.at} run by ${who(row.a)} (attempt ${row.n})`
          : row.event === 'takeover'
            ? `job ${row.id} ${row.at} taken over from ${who(row.a)} by ${who(row.b)} (lease ${row.n} ms old)`
            : `job ${row.id} ${row.at} requeued by ${who(row.a)}`,
      )
      .join('; ');
  }

  /** The scenario's figure line, for docs/reliability.md. */
  report(verdict: Verdict, figures: { recoveryMs?: number; shutdown: StopFigures; note?: string }): void {
    const seconds = (ms: number) => `${(ms / 1000).toFixed(1)} s`;
    const parts = [
      `jobs ${verdict.jobs}`,
      `duplicates ${verdict.duplicates} (takeovers ${verdict.takeovers.length}, requeues ${verdict.requeues})`,
      `recovery ${figures.recoveryMs === undefined ? '-' : seconds(figures.recoveryMs)}`,
      `stop ${seconds(figures.shutdown.stopMs)} + close ${seconds(figures.shutdown.closeMs)}`,
    ];
    if (figures.note !== undefined) parts.push(figures.note);
    console.log(`[faults] ${this.name}: ${parts.join(', ')}`);
  }

  async close(): Promise<void> {
    await Promise.all(this.workers.map((worker) => worker.kill()));
    await this.db.drop();
  }

  /** Polls `check` until it holds; fails with `what` after `timeoutMs`. */
  async until(what: string, timeoutMs: number, check: () => Promise<boolean>): Promise<void> {
    const deadline = Date.now() + timeoutMs;
    while (!(await check())) {
      if (Date.now() > deadline) throw new Error(`${this.name}: timed out after ${timeoutMs} ms waiting for ${what}`);
      await new Promise((resolve) => setTimeout(resolve, POLL_MS));
    }
  }
}
