import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { PGlite } from '@electric-sql/pglite';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import type { PgQueueError } from '@pgqueue/core';
import { rejectionOf, waitFor } from '@pgqueue/core/testing';
import { createPGliteDriver, type PGliteDriver } from '../src/index.js';

describe('PGlite adapter', () => {
  let driver: PGliteDriver;

  beforeAll(() => {
    driver = createPGliteDriver();
  });

  afterAll(async () => {
    await driver?.close();
  });

  it('has one connection, so the core runs one statement at a time, and LISTENs in process', () => {
    expect(driver.capabilities).toEqual({ concurrentQueries: false, listen: true });
  });

  it('refuses a database together with a dataDir', () => {
    const db = {} as PGlite;
    expect(() => createPGliteDriver(db, { dataDir: '/tmp/x' })).toThrow(
      expect.objectContaining({ code: 'INVALID_ARGUMENT' }),
    );
  });

  it('serializes a parameter by the type PostgreSQL infers for its placeholder', async () => {
    // Why the core casts through text: a string bound straight to a bytea placeholder is refused
    // by PGlite's own serializer before it reaches PostgreSQL.
    await expect(driver.query('SELECT $1::bytea AS b', ['\\x00ff'])).rejects.toThrow(/bytea/);
    const { rows } = await driver.query<{ hex: string }>("SELECT encode($1::text::bytea, 'hex') AS hex", ['\\x00ff']);
    expect(rows).toEqual([{ hex: '00ff' }]);
  });

  describe('listen', () => {
    it('delivers a NOTIFY sent in a transaction when it commits, and not when it rolls back', async () => {
      const received: string[] = [];
      const handle = await driver.listen('txchan', (payload) => received.push(payload));
      await rejectionOf(
        driver.transaction(async (tx) => {
          await tx.query("SELECT pg_notify('txchan', 'rolled back')");
          throw new Error('abort');
        }),
      );
      await driver.transaction(async (tx) => {
        await tx.query("SELECT pg_notify('txchan', 'committed')");
      });
      await driver.query('SELECT 1');
      await waitFor('the committed notification', () => received.length === 1);
      expect(received).toEqual(['committed']);
      await handle.close();
    });

    it('reports a throwing callback to onError instead of throwing it', async () => {
      const errors: unknown[] = [];
      const failure = new Error('callback failed');
      const handle = await driver.listen(
        'throwing',
        () => {
          throw failure;
        },
        { onError: (error) => errors.push(error) },
      );
      await driver.query("SELECT pg_notify('throwing', 'x')");
      await waitFor('onError', () => errors.length === 1);
      expect(errors).toEqual([failure]);
      await handle.close();
    });
  });

  describe('close', () => {
    it('reports DRIVER_CLOSED when the caller closed its PGlite', async () => {
      const db = new PGlite();
      const borrowed = createPGliteDriver(db);
      await db.close();
      expect(((await rejectionOf(borrowed.query('SELECT 1'))) as PgQueueError).code).toBe('DRIVER_CLOSED');
      await borrowed.close();
    });

    it('keeps the data of a dataDir database across drivers', async () => {
      const dataDir = await mkdtemp(join(tmpdir(), 'pgqueue-pglite-'));
      try {
        const first = createPGliteDriver(undefined, { dataDir });
        await first.exec('CREATE TABLE kept (v text); INSERT INTO kept VALUES (\'persisted\')');
        await first.close();
        const second = createPGliteDriver(undefined, { dataDir });
        expect((await second.query('SELECT v FROM kept')).rows).toEqual([{ v: 'persisted' }]);
        await second.close();
      } finally {
        await rm(dataDir, { recursive: true, force: true });
      }
    });
  });
});
