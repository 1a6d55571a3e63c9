import { describe, expect, it } from 'vitest';
import { getInstallSql, getUninstallSql } from '@pgqueue/core';
import { splitStatements } from '../src/statements.js';

describe('splitStatements', () => {
  it('splits on semicolons and drops statements of blanks and comments only', () => {
    expect(splitStatements('SELECT 1; SELECT 2;\n-- the end; really\n  ;')).toEqual(['SELECT 1', 'SELECT 2']);
    expect(splitStatements('')).toEqual([]);
  });

  it('keeps semicolons inside strings, identifiers, dollar quotes and comments', () => {
    const text = `SELECT 'a;''b', "c;d", E'e\\';f', $$g;h$$, $t$ i; $$ ; $t$ /* j; /* k; */ l; */; SELECT 2`;
    expect(splitStatements(text)).toEqual([text.slice(0, text.lastIndexOf(';')), 'SELECT 2']);
  });

  it('reads $1 as a placeholder and x$ as an identifier, not as dollar quotes', () => {
    expect(splitStatements('SELECT $1::int; SELECT 2 AS x$; SELECT 3')).toEqual(['SELECT $1::int', 'SELECT 2 AS x$', 'SELECT 3']);
  });

  it('keeps each plpgsql body of pgqueue’s install SQL in one statement', () => {
    const statements = splitStatements(getInstallSql({ schema: 'jobs', prefix: 'app_' }));
    const dequeue = statements.filter((statement) => statement.includes('CREATE OR REPLACE FUNCTION'));
    expect(dequeue).toHaveLength(1);
    expect(dequeue[0]).toMatch(/\$pgqueue\$$/);
    expect(statements[0]).toMatch(/^SELECT pg_advisory_xact_lock/);
    expect(splitStatements(getUninstallSql({ schema: 'jobs' })).length).toBeGreaterThan(1);
  });
});
