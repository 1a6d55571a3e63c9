/**
 * Each scenario runs in a database of its own, created on DATABASE_URL's server and dropped
 * after: connection kills and lock holders are aimed at that database alone, and nothing a
 * scenario leaves behind reaches other tests. Besides pgqueue's schema it holds the scenario's
 * instruments, filled by the server itself so that a killed or frozen worker cannot skip them:
 *
 * - `faults_runs`: one row per handler run, written by the handler before it returns (see
 *   recorder.ts), so a job that ran is recorded even if its worker dies before completing it;
 * - `faults_takeovers`: one row per re-pick of a job still picked, with the age of the lease
 *   taken over, written by a trigger on the dequeue's UPDATE;
 * - `faults_requeues`: one row per job put back in the queue by its worker (a failed handler, or
 *   one aborted at the stop deadline), the other way a job legitimately runs again;
 * - `faults_completions`: per completion statement, how many jobs each owner deleted, written by
 *   a statement trigger, which tells when a worker writes outcomes again after a fault.
 */
import { randomBytes } from 'node:crypto';
import pg from 'pg';
import { Queries, installSchema } from '@pgqueue/core';
import { createPgDriver, type PgDriver } from '@pgqueue/pg';

/** application_name of the workers' own connections: the only ones a connection-kill storm may end. */
export const WORKER_APPLICATION = 'pgq_faults_worker';
/** application_name of the handlers' run recorder, which must outlive the workers' connections. */
export const RECORDER_APPLICATION = 'pgq_faults_recorder';
const ADMIN_APPLICATION = 'pgq_faults_admin';

const INSTRUMENTS_SQL = `
CREATE TABLE faults_runs (
  job_id  bigint NOT NULL,
  owner   uuid NOT NULL,
  attempt integer NOT NULL,
  started timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE faults_takeovers (
  job_id       bigint NOT NULL,
  old_owner    uuid NOT NULL,
  new_owner    uuid NOT NULL,
  lease_age_ms float8 NOT NULL,
  at           timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE faults_requeues (
  job_id bigint NOT NULL,
  owner  uuid NOT NULL,
  at     timestamptz NOT NULL DEFAULT clock_timestamp()
);
CREATE TABLE faults_completions (
  owner uuid NOT NULL,
  jobs  integer NOT NULL,
  at    timestamptz NOT NULL DEFAULT clock_timestamp()
);
-- now() is the dequeue's own transaction time, the clock its staleness test used.
CREATE FUNCTION faults_log_takeover() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO faults_takeovers (job_id, old_owner, new_owner, lease_age_ms)
  VALUES (OLD.id, OLD.queue_manager_id, NEW.queue_manager_id, extract(epoch FROM now() - OLD.heartbeat) * 1000);
  RETURN NULL;
END $$;
CREATE TRIGGER faults_takeover AFTER UPDATE ON pgqueuer FOR EACH ROW
  WHEN (OLD.status = 'picked' AND NEW.status = 'picked' AND NEW.attempts > OLD.attempts)
  EXECUTE FUNCTION faults_log_takeover();
CREATE FUNCTION faults_log_requeue() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO faults_requeues (job_id, owner) VALUES (OLD.id, OLD.queue_manager_id);
  RETURN NULL;
END $$;
CREATE TRIGGER faults_requeue AFTER UPDATE ON pgqueuer FOR EACH ROW
  WHEN (OLD.status = 'picked' AND NEW.status = 'queued')
  EXECUTE FUNCTION faults_log_requeue();
CREATE FUNCTION faults_log_completion() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO faults_completions (owner, jobs)
  SELECT queue_manager_id, count(*) FROM gone WHERE queue_manager_id IS NOT NULL GROUP BY queue_manager_id;
  RETURN NULL;
END $$;
CREATE TRIGGER faults_completion AFTER DELETE ON pgqueuer REFERENCING OLD TABLE AS gone
  FOR EACH STATEMENT EXECUTE FUNCTION faults_log_completion();
`;

export interface FaultsDatabase {
  name: string;
  /** DATABASE_URL pointed at this database. */
  url: string;
  /** The scenario's own connections (never ended by a storm). */
  admin: PgDriver;
  queries: Queries;
  /** A connection of its own, for a session the scenario drives (a lock holder, a killer). */
  session(applicationName: string): Promise<pg.Client>;
  drop(): Promise<void>;
}

export function serverUrl(): string {
  const url = process.env.DATABASE_URL;
  if (url === undefined || url === '') {
    throw new Error(
      'pnpm test:faults needs DATABASE_URL, e.g. DATABASE_URL=postgres://postgres@127.0.0.1:5432/postgres: ' +
        'the scenarios run worker processes against a real PostgreSQL server, where they create and drop a database of their own.',
    );
  }
  return url;
}

export async function createFaultsDatabase(label: string): Promise<FaultsDatabase> {
  const server = serverUrl();
  const name = `pgq_faults_${label.replace(/[^a-z0-9]/g, '_')}_${randomBytes(3).toString('hex')}`;
  const maintenance = new pg.Client({ connectionString: server, application_name: ADMIN_APPLICATION });
  await maintenance.connect();
  try {
    // template0: nobody connects to it, so the copy cannot fail on "being accessed by other users".
    await maintenance.query(`CREATE DATABASE "${name}" TEMPLATE template0`);
  } finally {
    await maintenance.end();
  }
  const target = new URL(server);
  target.pathname = `/${name}`;
  const url = target.toString();
  const admin = createPgDriver(url, { max: 4, applicationName: ADMIN_APPLICATION });
  await installSchema(admin);
  await admin.exec(INSTRUMENTS_SQL);
  const sessions: pg.Client[] = [];

  return {
    name,
    url,
    admin,
    queries: new Queries(admin),
    async session(applicationName) {
      const client = new pg.Client({ connectionString: url, application_name: applicationName });
      // A session a scenario terminates on purpose reports it here; unhandled, it ends the run.
      client.on('error', () => undefined);
      await client.connect();
      sessions.push(client);
      return client;
    },
    async drop() {
      await Promise.all(sessions.map((client) => client.end().catch(() => undefined)));
      await admin.close();
      const cleanup = new pg.Client({ connectionString: server, application_name: ADMIN_APPLICATION });
      await cleanup.connect();
      try {
        // FORCE: a worker process that failed to stop must not keep the database alive.
        await cleanup.query(`DROP DATABASE IF EXISTS "${name}" WITH (FORCE)`);
      } finally {
        await cleanup.end();
      }
    },
  };
}
