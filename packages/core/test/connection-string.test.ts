import { describe, expect, it } from 'vitest';
import { parseConnectionString, redactConnectionString } from '../src/adapter/connection-string.js';

const parsed = (value: string) => parseConnectionString(value, 'pg');
const failure = (value: unknown) => {
  try {
    parseConnectionString(value, 'pg');
  } catch (error) {
    return error as Error & { code: string };
  }
  throw new Error(`expected ${String(value)} to be refused`);
};

describe('connection strings', () => {
  it('reads the URL forms pg reads, host, port, user, password and database included', () => {
    expect(parsed('postgres://u:p%40ss@db.example:6543/jobs?application_name=app&sslmode=require')).toEqual({
      host: 'db.example',
      port: 6543,
      user: 'u',
      password: 'p@ss',
      database: 'jobs',
      socket: false,
      params: { application_name: 'app', sslmode: 'require' },
    });
    expect(parsed('postgresql://u@[::1]/db')).toMatchObject({ host: '::1', database: 'db', socket: false });
    expect(parsed('postgres:///db')).toMatchObject({ host: undefined, database: 'db' });
  });

  it('reads every unix socket form pg reads', () => {
    const socket = { host: '/var/run/postgresql', socket: true };
    expect(parsed('socket:/var/run/postgresql?db=jobs')).toMatchObject({ ...socket, database: 'jobs', params: {} });
    expect(parsed('socket://app:pw@/var/run/postgresql?db=jobs&port=5433')).toMatchObject({
      ...socket,
      user: 'app',
      password: 'pw',
      database: 'jobs',
      port: 5433,
    });
    expect(parsed('postgres://app@/jobs?host=/var/run/postgresql')).toMatchObject({ ...socket, user: 'app', database: 'jobs' });
    expect(parsed('/var/run/postgresql jobs')).toMatchObject({ ...socket, database: 'jobs' });
  });

  it('refuses what pg would misread, with CONNECTION_FAILED and an example of a good one', () => {
    expect(failure('').message).toMatch(/it is empty/);
    expect(failure(undefined).message).toMatch(/it is empty/);
    expect(failure('localhost:5432').message).toMatch(/uses localhost: instead of postgres:, postgresql: or socket:/);
    expect(failure('not a url').message).toMatch(/neither a URL nor a socket directory/);
    expect(failure('postgres://').message).toMatch(/names no host and no database/);
    expect(failure('postgres://h:port/db').message).toMatch(/not a URL|not a number/);
    for (const value of ['', 'mysql://u@h/db', 'postgres://']) {
      const error = failure(value);
      expect(error.code).toBe('CONNECTION_FAILED');
      expect(error.message).toMatch(/Expected postgres:\/\/user:password@host:5432\/database .*host=\/var\/run\/postgresql/);
    }
  });

  it('never shows the password, in the user info or as a parameter', () => {
    expect(redactConnectionString('postgres://u:secret@h/db')).toBe('postgres://u:***@h/db');
    expect(redactConnectionString('socket:/run/pg?db=x&password=secret&user=u')).toBe('socket:/run/pg?db=x&password=***&user=u');
    for (const value of ['mysql://u:secret@h/db', 'mysql://h/db?password=secret', 'postgres://u:secret@h:port/db']) {
      expect(failure(value).message).not.toContain('secret');
    }
  });
});
