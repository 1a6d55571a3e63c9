import { describe, expect, it } from 'vitest';
import { PgQueueError, defineSchedule, parseCron, planTicks } from '../src/index.js';

const at = (iso: string) => new Date(iso).getTime();
const iso = (ms: number | null) => (ms === null ? null : new Date(ms).toISOString());

/** The next `count` ticks strictly after `fromIso`, as ISO strings in UTC. */
function ticksAfter(expression: string, timezone: string, fromIso: string, count: number): (string | null)[] {
  const ticks = parseCron(expression, timezone, 'test');
  const out: (string | null)[] = [];
  let from = at(fromIso);
  for (let i = 0; i < count; i++) {
    const next = ticks.nextAfter(from);
    out.push(iso(next));
    if (next === null) break;
    from = next;
  }
  return out;
}

function invalid(run: () => unknown): PgQueueError {
  try {
    run();
  } catch (error) {
    if (PgQueueError.isInstance(error)) return error;
    throw error;
  }
  throw new Error('expected INVALID_ARGUMENT');
}

describe('cron expressions and time zones (croner, fixed instants)', () => {
  it('reads five fields at minute resolution and six with seconds first', () => {
    expect(ticksAfter('*/15 * * * *', 'UTC', '2026-06-01T10:07:30Z', 3)).toEqual([
      '2026-06-01T10:15:00.000Z',
      '2026-06-01T10:30:00.000Z',
      '2026-06-01T10:45:00.000Z',
    ]);
    expect(ticksAfter('*/20 * * * * *', 'UTC', '2026-06-01T10:00:05.250Z', 3)).toEqual([
      '2026-06-01T10:00:20.000Z',
      '2026-06-01T10:00:40.000Z',
      '2026-06-01T10:01:00.000Z',
    ]);
    expect(ticksAfter('@daily', 'UTC', '2026-06-01T10:00:00Z', 1)).toEqual(['2026-06-02T00:00:00.000Z']);
  });

  it('reads the expression in its time zone', () => {
    // 09:00 in New York is 13:00 UTC in summer (EDT) and 14:00 UTC in winter (EST).
    expect(ticksAfter('0 9 * * *', 'America/New_York', '2026-07-01T00:00:00Z', 1)).toEqual(['2026-07-01T13:00:00.000Z']);
    expect(ticksAfter('0 9 * * *', 'America/New_York', '2026-12-01T00:00:00Z', 1)).toEqual(['2026-12-01T14:00:00.000Z']);
    expect(ticksAfter('0 9 * * *', 'Asia/Kolkata', '2026-12-01T00:00:00Z', 1)).toEqual(['2026-12-01T03:30:00.000Z']);
  });

  it('spring forward (Berlin, 29 March 2026, 02:00 → 03:00): a fixed time in the gap runs once, right after it', () => {
    expect(ticksAfter('30 2 * * *', 'Europe/Berlin', '2026-03-28T12:00:00Z', 3)).toEqual([
      '2026-03-29T01:00:00.000Z', // 03:00 CEST, the first time after the gap
      '2026-03-30T00:30:00.000Z', // 02:30 CEST
      '2026-03-31T00:30:00.000Z',
    ]);
    // An interval expression skips the hour that does not exist: 01:30 CET is followed by 03:00 CEST.
    expect(ticksAfter('*/30 * * * *', 'Europe/Berlin', '2026-03-29T00:15:00Z', 3)).toEqual([
      '2026-03-29T00:30:00.000Z', // 01:30 CET
      '2026-03-29T01:00:00.000Z', // 03:00 CEST
      '2026-03-29T01:30:00.000Z', // 03:30 CEST
    ]);
  });

  it('fall back (Berlin, 25 October 2026, 03:00 → 02:00): a fixed time runs once, an interval at both occurrences', () => {
    expect(ticksAfter('30 2 * * *', 'Europe/Berlin', '2026-10-24T12:00:00Z', 2)).toEqual([
      '2026-10-25T00:30:00.000Z', // 02:30 CEST, the first occurrence only
      '2026-10-26T01:30:00.000Z', // 02:30 CET
    ]);
    expect(ticksAfter('*/30 * * * *', 'Europe/Berlin', '2026-10-24T23:45:00Z', 4)).toEqual([
      '2026-10-25T00:00:00.000Z', // 02:00 CEST
      '2026-10-25T00:30:00.000Z', // 02:30 CEST
      '2026-10-25T01:00:00.000Z', // 02:00 CET
      '2026-10-25T01:30:00.000Z', // 02:30 CET
    ]);
  });

  it('rejects an invalid expression, quoting it and saying what is wrong', () => {
    const bad = invalid(() => parseCron('61 * * * *', 'UTC', 'where'));
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toContain('invalid cron expression "61 * * * *"');
    expect(bad.message).toMatch(/minute/);
    expect(invalid(() => parseCron('every five minutes', 'UTC', 'where')).message).toContain('"every five minutes"');
    expect(invalid(() => parseCron('2026-01-01T00:00:00', 'UTC', 'where')).message).toContain('reads as a date');
    expect(invalid(() => parseCron('', 'UTC', 'where')).message).toContain('non-empty string');
  });

  it('rejects an unknown time zone, quoting it', () => {
    const bad = invalid(() => parseCron('* * * * *', 'Mars/Olympus_Mons', 'where'));
    expect(bad.code).toBe('INVALID_ARGUMENT');
    expect(bad.message).toContain('unknown time zone "Mars/Olympus_Mons"');
  });
});

describe('defineSchedule', () => {
  it('fills the defaults and names a schedule after its entrypoint', () => {
    const definition = defineSchedule('*/5 * * * *', 'report', { payload: { kind: 'daily' } });
    expect(definition).toMatchObject({
      name: 'report',
      expression: '*/5 * * * *',
      timezone: 'UTC',
      entrypoint: 'report',
      priority: 0,
      missed: 'run_once',
      missedAfterMs: 30_000,
      skipWhileRunning: false,
      payloadHex: Buffer.from('{"kind":"daily"}').toString('hex'),
    });
  });

  it('rejects bad options before anything is written', () => {
    expect(invalid(() => defineSchedule('* * * * *', 'report', { timezone: 'Nowhere/City' })).message).toContain('"Nowhere/City"');
    expect(invalid(() => defineSchedule('0 0 30 2 *', 'report')).message).toContain('has no future tick');
    expect(invalid(() => defineSchedule('* * * * *', 'report', { missed: 'all' as 'skip' })).message).toContain("'runOnce' or 'skip'");
    expect(invalid(() => defineSchedule('* * * * *', 'report', { missedAfterMs: -1 })).message).toContain('missedAfterMs');
    expect(invalid(() => defineSchedule('* * * * *', '')).message).toContain('entrypoint');
    expect(invalid(() => defineSchedule('* * * * *', 'report', { payload: { big: 1n } })).code).toBe('PAYLOAD_NOT_SERIALIZABLE');
  });
});

describe('planTicks', () => {
  const everySecond = parseCron('* * * * * *', 'UTC', 'test');
  const hourly = parseCron('0 * * * *', 'UTC', 'test');

  it('gives each on-time tick its own job, however late within missedAfterMs', () => {
    const plan = planTicks({
      ticks: everySecond,
      nextRunMs: at('2026-06-01T10:00:00Z'),
      nowMs: at('2026-06-01T10:00:02.400Z'),
      missed: 'skip',
      missedAfterMs: 30_000,
    });
    expect(plan.jobs.map((job) => [iso(job.tickMs), job.missed])).toEqual([
      ['2026-06-01T10:00:00.000Z', false],
      ['2026-06-01T10:00:01.000Z', false],
      ['2026-06-01T10:00:02.000Z', false],
    ]);
    expect(iso(plan.nextRunMs)).toBe('2026-06-01T10:00:03.000Z');
    expect(iso(plan.lastTickMs)).toBe('2026-06-01T10:00:02.000Z');
    expect(plan.missed).toBe(false);
    expect(plan.more).toBe(false);
  });

  it('runOnce: ticks missed during a downtime get one job, marked missed, then on-time ticks their own', () => {
    const plan = planTicks({
      ticks: hourly,
      nextRunMs: at('2026-06-01T03:00:00Z'),
      nowMs: at('2026-06-01T10:00:10Z'),
      missed: 'run_once',
      missedAfterMs: 30_000,
    });
    // 03:00 … 09:00 were missed; 10:00 is 10 s old, on time.
    expect(plan.jobs.map((job) => [iso(job.tickMs), job.missed])).toEqual([
      ['2026-06-01T03:00:00.000Z', true],
      ['2026-06-01T10:00:00.000Z', false],
    ]);
    expect(iso(plan.nextRunMs)).toBe('2026-06-01T11:00:00.000Z');
    expect(plan.missed).toBe(true);
  });

  it('skip: missed ticks get no job and next_run moves to the next tick', () => {
    const plan = planTicks({
      ticks: hourly,
      nextRunMs: at('2026-06-01T03:00:00Z'),
      nowMs: at('2026-06-01T10:20:00Z'),
      missed: 'skip',
      missedAfterMs: 30_000,
    });
    expect(plan.jobs).toEqual([]);
    expect(plan.lastTickMs).toBeNull();
    expect(iso(plan.nextRunMs)).toBe('2026-06-01T11:00:00.000Z');
    expect(plan.missed).toBe(true);
  });

  it('jumps over a long downtime instead of walking every missed tick, and caps one claim', () => {
    const plan = planTicks({
      ticks: everySecond,
      nextRunMs: at('2026-01-01T00:00:00Z'),
      nowMs: at('2026-06-01T00:00:00Z'),
      missed: 'run_once',
      missedAfterMs: 5_000,
    });
    expect(plan.jobs.length).toBe(6); // the missed job, then 23:59:55 … 00:00:00
    expect(plan.jobs.filter((job) => job.missed).map((job) => iso(job.tickMs))).toEqual(['2026-01-01T00:00:00.000Z']);
    const capped = planTicks({
      ticks: everySecond,
      nextRunMs: at('2026-06-01T00:00:00Z'),
      nowMs: at('2026-06-01T00:00:09.500Z'),
      missed: 'run_once',
      missedAfterMs: 30_000,
      maxTicks: 4,
    });
    expect(capped.jobs.length).toBe(4);
    expect(iso(capped.nextRunMs)).toBe('2026-06-01T00:00:04.000Z');
    expect(capped.more).toBe(true);
  });
});
