import { describe, expect, it } from 'vitest';
import { resolveNames } from '../src/names.js';
import { getInstallSql, getUninstallSql } from '../src/schema.js';

describe('resolveNames', () => {
  it('uses PgQueuer names by default', () => {
    const names = resolveNames();
    expect(names.jobs).toBe('"pgqueuer"');
    expect(names.statistics).toBe('"pgqueuer_statistics"');
    expect(names.status).toBe('"pgqueuer_status"');
    expect(names.channel).toBe('ch_pgqueuer');
  });

  it('qualifies with schema and prefix, and folds both into the channel', () => {
    const names = resolveNames({ schema: 'jobs', prefix: 'app_' });
    expect(names.jobs).toBe('"jobs"."app_pgqueuer"');
    expect(names.channel).toBe('ch_jobs_app_pgqueuer');
  });

  it('refuses identifiers that would need quoting or be truncated', () => {
    expect(() => resolveNames({ prefix: 'Bad' })).toThrow(/prefix "Bad"/);
    expect(() => resolveNames({ schema: 'a;drop' })).toThrow(/schema/);
    expect(() => resolveNames({ prefix: 'p'.repeat(33) })).toThrow(/at most 32/);
    expect(() => resolveNames({ channel: 'Chan' })).toThrow(/channel/);
  });
});

describe('schema SQL without a connection', () => {
  it('creates every object under the prefix and drops them again', () => {
    const install = getInstallSql({ prefix: 'x_' });
    for (const object of [
      'CREATE TYPE "x_pgqueuer_status"',
      'CREATE TABLE IF NOT EXISTS "x_pgqueuer"',
      'CREATE TABLE IF NOT EXISTS "x_pgqueuer_statistics"',
      'CREATE OR REPLACE FUNCTION "x_pgqueuer_dequeue"',
    ]) {
      expect(install).toContain(object);
    }
    expect(install).not.toMatch(/"pgqueuer/);
    const uninstall = getUninstallSql({ prefix: 'x_' });
    expect(uninstall).toContain('DROP TABLE IF EXISTS "x_pgqueuer"');
    expect(uninstall).toContain('DROP TYPE IF EXISTS "x_pgqueuer_status"');
  });
});
