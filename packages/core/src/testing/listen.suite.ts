/** LISTEN delivery of the notification enqueue sends. */
import { expect, it } from 'vitest';
import type { Fixture } from './target.js';
import { sleep, waitFor } from './wait.js';

export function listenCases(fx: () => Fixture): void {
  it('refuses channel names that are not lower-case identifiers', async () => {
    for (const channel of ['Upper', 'a-b', '1abc', 'a"b', '', 'x y']) {
      const error = (await fx()
        .driver.listen(channel, () => {})
        .then(() => undefined, (e: unknown) => e)) as { code?: string } | undefined;
      expect(error?.code).toBe('INVALID_ARGUMENT');
    }
  });

  it('receives notifications, also on a channel named like a keyword, until closed', async () => {
    const { driver } = fx();
    const received: string[] = [];
    const handle = await driver.listen('select', (payload) => received.push(payload));
    await driver.query("SELECT pg_notify('select', 'hello')");
    await driver.query("SELECT pg_notify('select', '')");
    await waitFor('two notifications', () => received.length === 2);
    expect(received).toEqual(['hello', '']);
    await handle.close();
    await handle.close();
    await driver.query("SELECT pg_notify('select', 'late')");
    await sleep(100);
    expect(received).toEqual(['hello', '']);
  });

  it('listens on a connection of its own: notifications arrive while every pooled one is in a transaction', async (context) => {
    const { driver } = fx();
    if (!driver.capabilities.concurrentQueries) return context.skip('one connection: nothing else can hold it');
    const channel = fx().entrypoint('busy');
    const received: string[] = [];
    const handle = await driver.listen(channel, (payload) => received.push(payload));
    try {
      const { driver: other } = await fx().extraDriver();
      // The targets' pools hold at most four connections; all four wait inside a transaction.
      const holders = Array.from({ length: 4 }, () =>
        driver.transaction(async (tx) => {
          await tx.query('SELECT 1');
          await waitFor('the notification', () => received.length === 1);
        }),
      );
      await sleep(100);
      await other.query('SELECT pg_notify($1, $2)', [channel, 'during']);
      await Promise.all(holders);
      expect(received).toEqual(['during']);
    } finally {
      await handle.close();
    }
  });

  it('delivers an enqueue notification naming the entrypoints that got work', async () => {
    const { driver, queries } = fx();
    const received: string[] = [];
    const handle = await driver.listen(queries.channel, (payload) => received.push(payload));
    try {
      const [a, b] = [fx().entrypoint(), fx().entrypoint()];
      await queries.enqueue([{ entrypoint: a }, { entrypoint: b }, { entrypoint: a }]);
      await waitFor('the enqueue notification', () => received.length > 0);
      const event = JSON.parse(received[0]!) as { type: string; entrypoints: string[] };
      expect(event.type).toBe('job_enqueued');
      expect([...event.entrypoints].sort()).toEqual([a, b].sort());
    } finally {
      await handle.close();
    }
  });

  it('says "look at everything" when the entrypoints would not fit in one notification', async () => {
    // 40 names of 100 three-byte characters: about 4,000 characters but 12,000 bytes, over
    // PostgreSQL's 8000-byte limit. Both enqueue statements must count bytes, not characters.
    const { driver, queries } = fx();
    const received: string[] = [];
    const handle = await driver.listen(queries.channel, (payload) => received.push(payload));
    try {
      for (const options of [{}, { onDuplicate: 'skip' as const }]) {
        const label = fx().entrypoint('wide');
        const jobs = Array.from({ length: 40 }, (_, i) => ({ entrypoint: `${label}_${i}_${'€'.repeat(100)}` }));
        const ids = await queries.enqueue(jobs, options);
        expect(ids).toHaveLength(40);
        await waitFor('the enqueue notification', () => received.length > 0);
        expect(JSON.parse(received.shift()!)).toEqual({ type: 'job_enqueued', entrypoints: null });
      }
    } finally {
      await handle.close();
    }
  });

  it('sends nothing for an enqueue that rolls back, and stops delivering after close', async () => {
    const { driver, queries } = fx();
    const received: string[] = [];
    const handle = await driver.listen(queries.channel, (payload) => received.push(payload));
    const entrypoint = fx().entrypoint();
    await driver
      .transaction(async (tx) => {
        await queries.enqueue({ entrypoint }, { executor: tx });
        throw new Error('roll back');
      })
      .catch(() => undefined);
    await queries.enqueue({ entrypoint: fx().entrypoint() });
    await waitFor('the committed enqueue notification', () => received.length > 0);
    expect(received.join()).not.toContain(`"${entrypoint}"`);
    await handle.close();
    const before = received.length;
    await queries.enqueue({ entrypoint });
    await sleep(200);
    expect(received).toHaveLength(before);
  });
}
