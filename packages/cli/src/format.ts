/** Text output: durations in and out, aligned tables, JSON, and how a job's payload is shown. */
import type { Job } from '@pgqueue/core';
import { usageError } from './exit-codes.js';

const UNITS: Record<string, number> = { ms: 1, s: 1_000, m: 60_000, h: 3_600_000, d: 86_400_000, w: 604_800_000 };

/** "10m" → 600000. Accepts ms, s, m, h, d, w; a bare number is seconds. */
export function parseDuration(text: string, option: string): number {
  const match = /^(\d+(?:\.\d+)?)(ms|s|m|h|d|w)?$/.exec(text.trim());
  if (match === null) {
    throw usageError(`${option}: "${text}" is not a duration; use a number and a unit, e.g. 30s, 10m, 6h, 7d.`);
  }
  return Number(match[1]) * UNITS[match[2] ?? 's']!;
}

export function formatSeconds(seconds: number): string {
  if (seconds < 1) return `${Math.round(seconds * 1000)}ms`;
  if (seconds < 120) return `${Math.round(seconds)}s`;
  if (seconds < 7200) return `${Math.round(seconds / 60)}m`;
  if (seconds < 172_800) return `${Math.round(seconds / 3600)}h`;
  return `${Math.round(seconds / 86_400)}d`;
}

export function parseIds(values: readonly string[]): number[] {
  return values.map((value) => {
    if (!/^[1-9]\d{0,15}$/.test(value)) throw usageError(`"${value}" is not a job id (a positive whole number).`);
    return Number(value);
  });
}

export function parsePositiveInt(value: string, option: string): number {
  if (!/^[1-9]\d{0,8}$/.test(value)) throw usageError(`${option}: "${value}" is not a positive whole number.`);
  return Number(value);
}

/** Columns padded to the widest cell; numbers right-aligned. */
export function table(headers: readonly string[], rows: readonly (readonly (string | number)[])[]): string {
  const cells = [headers, ...rows.map((row) => row.map(String))];
  const widths = headers.map((_, i) => Math.max(...cells.map((row) => String(row[i] ?? '').length)));
  const numeric = headers.map((_, i) => rows.length > 0 && rows.every((row) => typeof row[i] === 'number'));
  return cells
    .map((row) => row.map((cell, i) => (numeric[i] ? String(cell).padStart(widths[i]!) : String(cell).padEnd(widths[i]!))).join('  ').trimEnd())
    .join('\n');
}

export function printJson(value: unknown): void {
  process.stdout.write(`${JSON.stringify(value, null, 2)}\n`);
}

export function print(text: string): void {
  process.stdout.write(`${text}\n`);
}

/** A payload as JSON when it is UTF-8 JSON (what enqueue stores for data), else as hex bytes. */
export function decodePayload(payload: Uint8Array | null): { json?: unknown; hex?: string } | null {
  if (payload === null) return null;
  const text = new TextDecoder('utf-8', { fatal: false }).decode(payload);
  try {
    return { json: JSON.parse(text) };
  } catch {
    return { hex: Buffer.from(payload).toString('hex') };
  }
}

/** A job as --json shows it: dates as ISO text, the payload decoded. */
export function jobJson(job: Job): Record<string, unknown> {
  const { payload, createdAt, updatedAt, heartbeatAt, executeAfter, ...rest } = job;
  return {
    ...rest,
    payload: decodePayload(payload),
    createdAt: createdAt.toISOString(),
    updatedAt: updatedAt.toISOString(),
    heartbeatAt: heartbeatAt.toISOString(),
    executeAfter: executeAfter.toISOString(),
  };
}

export function jobRow(job: Job): (string | number)[] {
  return [
    job.id,
    job.entrypoint,
    job.status,
    job.priority,
    job.attempts,
    job.createdAt.toISOString(),
    job.lastError === null ? '' : oneLine(`${job.lastError.name}: ${job.lastError.message}`, 60),
  ];
}

export const JOB_HEADERS = ['ID', 'ENTRYPOINT', 'STATUS', 'PRIORITY', 'ATTEMPTS', 'CREATED', 'LAST ERROR'] as const;

export function oneLine(text: string, max: number): string {
  const flat = text.replace(/\s+/g, ' ').trim();
  return flat.length > max ? `${flat.slice(0, max - 1)}…` : flat;
}
