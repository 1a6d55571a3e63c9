-- The statistics-prune experiment of docs/operations.md ("Why no time partitioning"), 2026-12-01.
-- psql -X $DATABASE_URL -f docs/benchmarks/statistics-prune.sql   (builds 10 M rows twice; minutes; drops its schema at the end)
\timing on
DROP SCHEMA IF EXISTS exp_stats CASCADE;
CREATE SCHEMA exp_stats;
SET search_path = exp_stats;
CREATE TYPE st AS ENUM ('queued','picked','successful','exception','canceled','deleted','failed');
-- A: the table as pgqueue ships it (version 2: plus the index on created)
CREATE TABLE plain (id bigserial PRIMARY KEY, created timestamptz NOT NULL, count bigint NOT NULL, priority int NOT NULL,
  time_in_queue interval NOT NULL, status st NOT NULL, entrypoint text NOT NULL);
-- 10 M rows over 10 days: 12 combinations a second (about 11.6 rows/s).
INSERT INTO plain (created, count, priority, time_in_queue, status, entrypoint)
SELECT timestamptz '2026-11-01' + (i / 12) * interval '1 second' * (864000.0 / (10000000 / 12)), 1 + i % 7, 0, interval '0', 'successful', 'ep' || (i % 12)
FROM generate_series(0, 9999999) AS i;
CREATE UNIQUE INDEX plain_key ON plain (priority, entrypoint, time_in_queue, status, created);
CREATE INDEX plain_created ON plain (created);
VACUUM ANALYZE plain;
SELECT count(*), min(created), max(created) FROM plain;
-- B: partitioned by day
CREATE TABLE parted (id bigserial, created timestamptz NOT NULL, count bigint NOT NULL, priority int NOT NULL,
  time_in_queue interval NOT NULL, status st NOT NULL, entrypoint text NOT NULL) PARTITION BY RANGE (created);
DO $$ BEGIN FOR d IN 0..10 LOOP
  EXECUTE format('CREATE TABLE parted_%s PARTITION OF parted FOR VALUES FROM (%L) TO (%L)', d,
    timestamptz '2026-11-01' + d * interval '1 day', timestamptz '2026-11-01' + (d + 1) * interval '1 day');
END LOOP; END $$;
INSERT INTO parted SELECT * FROM plain;
CREATE UNIQUE INDEX parted_key ON parted (priority, entrypoint, time_in_queue, status, created);
CREATE INDEX parted_created ON parted (created);
VACUUM ANALYZE parted;
SELECT count(*) FROM parted;
-- Partitioned: drop the oldest day (1 M rows).
SELECT count(*) FROM parted_0;
DROP TABLE parted_0;
-- Plain, day 1: batches of 10,000, each restarting at the start of the index on created.
DO $$ DECLARE n int; total int := 0; t0 timestamptz := clock_timestamp(); BEGIN
  LOOP
    WITH doomed AS (SELECT id FROM plain WHERE created < timestamptz '2026-11-02' ORDER BY created LIMIT 10000),
         deleted AS (DELETE FROM plain p USING doomed WHERE p.id = doomed.id RETURNING 1)
    SELECT count(*) INTO n FROM deleted;
    total := total + n;
    EXIT WHEN n < 10000;
  END LOOP;
  RAISE NOTICE 'restarting batches: % rows in % ms', total, round(extract(epoch FROM clock_timestamp() - t0) * 1000);
END $$;
VACUUM plain;
-- Plain, day 2: one DELETE.
DELETE FROM plain WHERE created < timestamptz '2026-11-03';
VACUUM plain;
-- Plain, day 3: batches of 10,000, each starting where the previous ended (what pruneStatistics does).
DO $$ DECLARE n int; total int := 0; last timestamptz := '-infinity'; t0 timestamptz := clock_timestamp(); BEGIN
  LOOP
    WITH doomed AS (SELECT id, created FROM plain WHERE created >= last AND created < timestamptz '2026-11-04' ORDER BY created LIMIT 10000),
         deleted AS (DELETE FROM plain p USING doomed WHERE p.id = doomed.id RETURNING doomed.created)
    SELECT count(*), coalesce(max(created), last) INTO n, last FROM deleted;
    total := total + n;
    EXIT WHEN n < 10000;
  END LOOP;
  RAISE NOTICE 'keyset batches: % rows in % ms', total, round(extract(epoch FROM clock_timestamp() - t0) * 1000);
END $$;
VACUUM plain;
-- What completion does after the prunes: upsert the current second, on both.
EXPLAIN (ANALYZE, BUFFERS) INSERT INTO plain AS s (created, count, priority, time_in_queue, status, entrypoint)
VALUES (timestamptz '2026-11-10 23:59:59', 1, 0, interval '0', 'successful', 'ep1')
ON CONFLICT (priority, entrypoint, time_in_queue, status, created) DO UPDATE SET count = s.count + EXCLUDED.count;
EXPLAIN (ANALYZE, BUFFERS) INSERT INTO parted AS s (created, count, priority, time_in_queue, status, entrypoint)
VALUES (timestamptz '2026-11-10 23:59:59', 1, 0, interval '0', 'successful', 'ep1')
ON CONFLICT (priority, entrypoint, time_in_queue, status, created) DO UPDATE SET count = s.count + EXCLUDED.count;
-- What pgq stats --since 10m reads.
EXPLAIN (ANALYZE, BUFFERS) SELECT entrypoint, status, sum(count) FROM plain WHERE created >= timestamptz '2026-11-10 23:50' GROUP BY 1, 2;
DROP SCHEMA exp_stats CASCADE;
