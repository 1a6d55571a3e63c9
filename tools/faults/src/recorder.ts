/**
 * Records handler runs in `faults_runs`, on a pool of its own that goes straight to the server
 * (never through the outage proxy, never a target of the kill storm). A handler waits until its
 * row is committed before it returns, so a run is on record before its outcome can be written; the
 * rows of handlers that finish together go out in one INSERT, so recording costs the worker one
 * statement per group of runs instead of one per job.
 */
import pg from 'pg';

interface PendingRun {
  jobId: number;
  attempt: number;
  done(error?: unknown): void;
}

export class RunRecorder {
  private pending: PendingRun[] = [];
  private writing = false;

  constructor(
    private readonly pool: pg.Pool,
    private readonly owner: string,
  ) {}

  record(jobId: number, attempt: number): Promise<void> {
    return new Promise((resolve, reject) => {
      this.pending.push({ jobId, attempt, done: (error) => (error === undefined ? resolve() : reject(error)) });
      void this.write();
    });
  }

  private async write(): Promise<void> {
    if (this.writing) return;
    this.writing = true;
    while (this.pending.length > 0) {
      const batch = this.pending;
      this.pending = [];
      try {
        await this.pool.query(
          `INSERT INTO faults_runs (job_id, owner, attempt)
           SELECT job_id, $3::uuid, attempt FROM unnest($1::bigint[], $2::integer[]) AS r (job_id, attempt)`,
          [batch.map((run) => run.jobId), batch.map((run) => run.attempt), this.owner],
        );
        for (const run of batch) run.done();
      } catch (error) {
        for (const run of batch) run.done(error);
      }
    }
    this.writing = false;
  }
}
