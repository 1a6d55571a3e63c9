/**
 * installSchema on every start, from a whole fleet at once: 8 processes, each with its own
 * connection, install the same fresh schema at the same moment, for 10 rounds. Before the
 * install took an advisory lock and guarded its DDL, 7 of 90 such first starts failed.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { randomBytes } from 'node:crypto';
import { createInterface } from 'node:readline';
import { fileURLToPath } from 'node:url';
import { afterAll, beforeAll, describe, expect, it } from 'vitest';
import { verifySchema } from '@pgqueue/core';
import { createPgDriver, type PgDriver } from '../src/index.js';

// The children run the TypeScript sources through tsx, @pgqueue/core mapped to its sources.
const CHILD_TSCONFIG = fileURLToPath(new URL('./tsconfig.child.json', import.meta.url));

const url = process.env.DATABASE_URL;
const PROCESSES = 8;
const ROUNDS = 10;

interface Installer {
  child: ChildProcess;
  /** The next line the process writes. */
  next(): Promise<string>;
}

describe.skipIf(url === undefined)('installSchema from separate processes at once', () => {
  const prefix = `pgq_test_install_${randomBytes(3).toString('hex')}`;
  let admin: PgDriver;
  const installers: Installer[] = [];

  beforeAll(async () => {
    admin = createPgDriver(url!, { max: 1 });
    for (let i = 0; i < PROCESSES; i++) installers.push(startInstaller());
    const ready = await Promise.all(installers.map((installer) => installer.next()));
    expect(ready).toEqual(Array.from({ length: PROCESSES }, () => 'ready'));
  });

  afterAll(async () => {
    for (const { child } of installers) child.stdin?.end();
    for (let round = 0; round < ROUNDS; round++) await admin?.exec(`DROP SCHEMA IF EXISTS "${prefix}_${round}" CASCADE`);
    await admin?.close();
  });

  it(`${PROCESSES} processes install a fresh schema at the same moment, ${ROUNDS} rounds: every call succeeds`, async () => {
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const schema = `${prefix}_${round}`;
      for (const { child } of installers) child.stdin!.write(`install ${schema}\n`);
      const answers = await Promise.all(installers.map((installer) => installer.next()));
      failures.push(...answers.filter((answer) => !answer.startsWith(`ok ${schema} `)));
      expect(answers.some((answer) => answer === `ok ${schema} true`)).toBe(true);
      expect(await verifySchema(admin, { schema })).toMatchObject({ installed: true, problems: [] });
    }
    expect(failures).toEqual([]);
  });

  it(`${PROCESSES} processes install under a fresh prefix in an existing schema, ${ROUNDS} rounds: every call succeeds`, async () => {
    // No CREATE SCHEMA to collide on: the type, tables and function of each round are new.
    const schema = `${prefix}_0`;
    const failures: string[] = [];
    for (let round = 0; round < ROUNDS; round++) {
      const tablePrefix = `r${round}_`;
      for (const { child } of installers) child.stdin!.write(`install ${schema} ${tablePrefix}\n`);
      const answers = await Promise.all(installers.map((installer) => installer.next()));
      failures.push(...answers.filter((answer) => !answer.startsWith(`ok ${schema} `)));
      expect(answers.some((answer) => answer === `ok ${schema} true`)).toBe(true);
      expect(await verifySchema(admin, { schema, prefix: tablePrefix })).toMatchObject({ installed: true, problems: [] });
    }
    expect(failures).toEqual([]);
  });
});

function startInstaller(): Installer {
  const script = fileURLToPath(new URL('./install-child.ts', import.meta.url));
  const child = spawn(process.execPath, ['--import', 'tsx', script], {
    cwd: fileURLToPath(new URL('..', import.meta.url)),
    env: { ...process.env, TSX_TSCONFIG_PATH: CHILD_TSCONFIG },
    stdio: ['pipe', 'pipe', 'inherit'],
  });
  const lines = createInterface({ input: child.stdout! })[Symbol.asyncIterator]();
  return {
    child,
    async next() {
      const { value, done } = await lines.next();
      if (done) throw new Error('an installer process exited before answering');
      return value;
    },
  };
}
