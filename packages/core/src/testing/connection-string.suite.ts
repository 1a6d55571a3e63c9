/**
 * Connection strings, for the adapters that take one: the malformed are refused before anything
 * connects (without the password in the message), every form pg reads is accepted, and where the
 * server has a unix socket the socket forms connect through it.
 */
import { existsSync } from 'node:fs';
import { describe, expect, it } from 'vitest';
import type { Driver } from '../driver.js';
import { PgQueueError, toPgQueueError } from '../errors.js';

export interface ConnectionStringTarget {
  /** The adapter's name, used in test titles. */
  name: string;
  /** A driver of the adapter's own on the connection string (it must not connect before a query). */
  createDriverAt(url: string): Driver;
}

const SOCKET_DIRECTORY = '/var/run/postgresql';

export function runConnectionStringSuite({ name, createDriverAt }: ConnectionStringTarget): void {
  describe(`${name} connection strings`, () => {
    it.each(['', 'not a url', 'mysql://user@host/db', 'postgres://', 'postgres://user:hunter2@host:port/db'])(
      'refuses %j with CONNECTION_FAILED, never showing the password',
      (value) => {
        let caught: unknown;
        try {
          createDriverAt(value);
        } catch (error) {
          caught = error;
        }
        expect(PgQueueError.isInstance(caught)).toBe(true);
        expect(caught).toMatchObject({ code: 'CONNECTION_FAILED', message: expect.stringMatching(/connection string/) });
        expect((caught as Error).message).not.toContain('hunter2');
      },
    );

    it.each([
      'postgres://user:pw@db.example:6543/jobs?application_name=app',
      'postgresql://user@[::1]/jobs',
      'postgres:///jobs',
      `socket:${SOCKET_DIRECTORY}?db=jobs`,
      `postgres://user@/jobs?host=${SOCKET_DIRECTORY}`,
      `${SOCKET_DIRECTORY} jobs`,
    ])('accepts %j', async (value) => {
      const driver = createDriverAt(value);
      expect(driver.name).toBe(name);
      await driver.close();
    });

    it('fails the first query on an unreachable server with an error the core maps to CONNECTION_FAILED', async () => {
      const driver = createDriverAt('postgres://postgres@127.0.0.1:1/postgres?connect_timeout=2');
      try {
        const error: unknown = await driver.query('SELECT 1').then(
          () => undefined,
          (e: unknown) => e,
        );
        expect(toPgQueueError(error, { operation: 'test' }).code).toBe('CONNECTION_FAILED');
      } finally {
        await driver.close();
      }
    });

    const url = process.env.DATABASE_URL;
    const server = url === undefined ? undefined : new URL(url);
    const socketFile = `${SOCKET_DIRECTORY}/.s.PGSQL.${server?.port || 5432}`;
    const why =
      server === undefined ? 'DATABASE_URL is not set' : existsSync(socketFile) ? undefined : `the server has no socket at ${socketFile}`;
    it.skipIf(why !== undefined)(`connects through the unix socket in both socket forms${why ? ` (skipped: ${why})` : ''}`, async () => {
      const user = decodeURIComponent(server!.username || 'postgres');
      const database = decodeURIComponent(server!.pathname.slice(1) || user);
      const port = server!.port || '5432';
      for (const value of [
        `postgres://${encodeURIComponent(user)}@/${encodeURIComponent(database)}?host=${SOCKET_DIRECTORY}&port=${port}`,
        `socket://${encodeURIComponent(user)}@${SOCKET_DIRECTORY}?db=${encodeURIComponent(database)}&port=${port}`,
      ]) {
        const driver = createDriverAt(value);
        try {
          // A TCP connection has an inet_client_addr(); one through the socket has none.
          const { rows } = await driver.query<{ db: string; addr: string | null }>(
            'SELECT current_database() AS db, inet_client_addr()::text AS addr',
          );
          expect(rows).toEqual([{ db: database, addr: null }]);
        } finally {
          await driver.close();
        }
      }
    });
  });
}
