/**
 * pgq on a PGlite data directory (`--url pglite:<dir>`): the schema life cycle and the reads,
 * as the real program in a child process, with no server. PGlite lets one process at a time
 * open a directory, so the test seeds it, closes it, then runs pgq.
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { Queries, SCHEMA_STEPS, SCHEMA_VERSION, type QueueOverviewRow, type SchemaReport } from '@pgqueue/core';
import { schemaV1Sql } from '@pgqueue/core/testing';
import { createPGliteDriver } from '@pgqueue/pglite';
import { expectFailure, pgqJson } from './run-pgq.js';

describe('pgq on a PGlite data directory', () => {
  let dir: string;
  let url: string;
  let ids: number[] = [];
  const s = ['--schema', 'app'];

  beforeAll(async () => {
    dir = await mkdtemp(join(tmpdir(), 'pgq-cli-pglite-'));
    url = `pglite:${dir}`;
    const driver = createPGliteDriver(undefined, { dataDir: dir });
    try {
      await driver.exec(schemaV1Sql('app'));
      ids = await new Queries(driver, { schema: 'app' }).enqueue([
        { entrypoint: 'local', payload: { n: 1 } },
        { entrypoint: 'local', payload: { n: 2 } },
      ]);
    } finally {
      await driver.close();
    }
  });
  afterAll(async () => {
    if (dir !== undefined) await rm(dir, { recursive: true, force: true });
  });

  it('verifies, dry-runs and runs the upgrade of a version-1 schema holding jobs', async () => {
    const pending = SCHEMA_STEPS.map(({ version, description }) => ({ version, description }));
    expect(await pgqJson<SchemaReport>(['verify', ...s], 5, { url })).toMatchObject({ version: 1, pendingSteps: pending });
    expect(await pgqJson(['upgrade', '--dry-run', ...s], 0, { url })).toEqual({ dryRun: true, fromVersion: 1, toVersion: SCHEMA_VERSION, steps: pending });
    expect(await pgqJson(['upgrade', ...s], 0, { url })).toEqual({ dryRun: false, fromVersion: 1, toVersion: SCHEMA_VERSION, steps: pending });
  });

  it('reads the queue and a job, and refuses to requeue a job that is not failed', async () => {
    const queue = await pgqJson<QueueOverviewRow[]>(['queue', ...s], 0, { url });
    expect(queue.map(({ entrypoint, status, count }) => [entrypoint, status, count])).toEqual([['local', 'queued', 2]]);
    expect(await pgqJson(['jobs', String(ids[1]), ...s], 0, { url })).toMatchObject({ id: ids[1], status: 'queued', payload: { json: { n: 2 } } });
    await expectFailure(['requeue', String(ids[0]), ...s], 6, new RegExp(`job ${ids[0]} is queued, not failed`), { url });
  });
});
