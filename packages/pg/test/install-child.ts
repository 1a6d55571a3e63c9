/**
 * An installer process for install-processes.test.ts: connects once, then for every line
 * `install <schema> [prefix]` on stdin calls installSchema on that schema and answers one line,
 * `ok <schema> <created>` or `fail <schema> <code> <message>`. Configured by DATABASE_URL.
 */
import { createInterface } from 'node:readline';
import { PgQueueError, installSchema } from '@pgqueue/core';
import { createPgDriver } from '../src/index.js';

const driver = createPgDriver(process.env.DATABASE_URL!, { max: 1 });
// Connected before the first round, so the rounds race on installSchema, not on connecting.
await driver.query('SELECT 1');
process.stdout.write('ready\n');

for await (const line of createInterface({ input: process.stdin })) {
  const [command, schema, prefix] = line.split(' ');
  if (command !== 'install' || schema === undefined) continue;
  try {
    const { created } = await installSchema(driver, { schema, ...(prefix === undefined ? {} : { prefix }) });
    process.stdout.write(`ok ${schema} ${created}\n`);
  } catch (error) {
    const code = PgQueueError.isInstance(error) ? error.code : 'NOT_A_PGQUEUE_ERROR';
    process.stdout.write(`fail ${schema} ${code} ${String((error as Error).message).replace(/\n/g, ' ')}\n`);
  }
}
await driver.close();
