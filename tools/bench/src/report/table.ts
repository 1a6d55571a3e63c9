/**
 * The results as text: Markdown tables, so what the terminal shows can be pasted into
 * docs/benchmarks.md unchanged.
 */
import type { BenchResult, RunResult } from '../results.js';
import { STRATEGY_LABELS } from '../strategies/index.js';

export function formatInt(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : Math.round(value).toLocaleString('en-US');
}

export function formatRatio(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : `${value.toFixed(value >= 10 ? 0 : 1)}×`;
}

export function formatPercent(value: number | undefined): string {
  return value === undefined || !Number.isFinite(value) ? '–' : `${Math.round(value * 100)}%`;
}

function formatMs(value: number): string {
  return Number.isFinite(value) ? `${value.toFixed(value >= 10 ? 0 : 1)} ms` : '–';
}

/** A Markdown table with columns padded to their widest cell; `right` marks right-aligned columns. */
export function markdownTable(header: readonly string[], rows: readonly (readonly string[])[], right: readonly boolean[] = []): string {
  const widths = header.map((title, i) => Math.max(3, title.length, ...rows.map((row) => (row[i] ?? '').length)));
  const line = (cells: readonly string[]) =>
    `| ${cells.map((cell, i) => (right[i] ? cell.padStart(widths[i]!) : cell.padEnd(widths[i]!))).join(' | ')} |`;
  const rule = `|${widths.map((width, i) => (right[i] ? `${'-'.repeat(width + 1)}:` : '-'.repeat(width + 2))).join('|')}|`;
  return [line(header), rule, ...rows.map(line)].join('\n');
}

function find(runs: RunResult[], workers: number, strategy: RunResult['strategy']): RunResult | undefined {
  return runs.find((run) => run.workers === workers && run.strategy === strategy);
}

/** Per worker count: before, after, improvement, deadlocks, jobs left; then raw and efficiency. */
export function renderSummary(result: BenchResult): string {
  const strategies = (['before', 'before-lock', 'after'] as const).filter((s) => result.runs.some((run) => run.strategy === s));
  const triple = (pick: (run: RunResult) => string, workers: number) =>
    strategies.map((s) => {
      const run = find(result.runs, workers, s);
      return run === undefined ? '–' : pick(run);
    }).join(' / ');
  const names = strategies.map((s) => STRATEGY_LABELS[s]).join(' / ');
  const header = [
    'workers',
    ...strategies.map((s) => STRATEGY_LABELS[s]),
    'raw',
    'improvement',
    'efficiency',
    `deadlocks (${names})`,
    `left (${names})`,
  ];
  const rows = result.summary.map((row) => [
    String(row.workers),
    ...strategies.map((s) => formatInt(find(result.runs, row.workers, s)?.jobsPerSecond)),
    formatInt(row.raw),
    formatRatio(row.improvement),
    formatPercent(row.efficiency),
    triple((run) => String(run.deadlocks), row.workers),
    triple((run) => formatInt(run.left.queued + run.left.picked), row.workers),
  ]);
  return markdownTable(header, rows, header.map((_, i) => i < header.length - 2));
}

/** Every run: jobs, seconds, rate, errors, what was left and whether the queue ran dry. */
export function renderRuns(result: BenchResult): string {
  const header = ['workers', 'strategy', 'jobs', 'seconds', 'jobs/s', 'deadlocks', 'other errors', 'left queued', 'left picked', 'note'];
  const runs = [...result.runs, ...result.raw].sort(
    (a, b) => a.workers - b.workers || order(a.strategy) - order(b.strategy),
  );
  const rows = runs.map((run) => [
    String(run.workers),
    STRATEGY_LABELS[run.strategy],
    formatInt(run.jobs),
    run.seconds.toFixed(2),
    formatInt(run.jobsPerSecond),
    String(run.deadlocks),
    String(run.errors),
    formatInt(run.left.queued),
    formatInt(run.left.picked),
    run.queueRanDry ? 'queue ran dry' : '',
  ]);
  return markdownTable(header, rows, [true, false, true, true, true, true, true, true, true, false]);
}

function order(strategy: RunResult['strategy']): number {
  return ['before', 'before-lock', 'after', 'raw'].indexOf(strategy);
}

export function renderReport(result: BenchResult): string {
  const parts: string[] = [];
  parts.push('jobs/s; improvement = after / before; efficiency = after / raw (the same SQL with no queue runtime)');
  parts.push('');
  parts.push(renderSummary(result));
  parts.push('');
  const efficiency = result.summary
    .filter((row) => row.efficiency !== undefined)
    .map((row) => `${row.workers} workers ${formatPercent(row.efficiency)}`);
  if (efficiency.length > 0) parts.push(`efficiency = after / raw: ${efficiency.join(', ')}`);
  parts.push(
    `batch enqueue: ${formatInt(result.enqueue.jobsPerSecond)} jobs/s (batches of ${formatInt(result.enqueue.batch)}, ` +
      `${formatInt(result.enqueue.jobs)} jobs in ${result.enqueue.seconds.toFixed(2)} s, one connection)`,
  );
  parts.push(
    `enqueue-to-start latency, idle worker woken by ${result.latencyMs.wake === 'notify' ? 'NOTIFY' : 'polling'}: ` +
      `p50 ${formatMs(result.latencyMs.p50)}, p99 ${formatMs(result.latencyMs.p99)} (${result.latencyMs.samples} samples)`,
  );
  parts.push('');
  parts.push(renderRuns(result));
  const errors = [...result.runs, ...result.raw].filter((run) => run.errorSamples.length > 0);
  if (errors.length > 0) {
    parts.push('');
    parts.push('errors seen (first of each kind):');
    for (const run of errors) {
      for (const sample of run.errorSamples) parts.push(`  ${run.workers} workers, ${STRATEGY_LABELS[run.strategy]}: ${sample}`);
    }
  }
  if (result.targets.length > 0) {
    parts.push('');
    parts.push('targets:');
    for (const check of result.targets) {
      const value = check.target === 0 ? String(check.value) : check.target < 1 ? formatPercent(check.value) : check.target < 100 ? formatRatio(check.value) : formatInt(check.value);
      parts.push(`  ${check.ok ? 'met   ' : 'MISSED'} ${check.name} (measured ${value})`);
    }
  }
  return parts.join('\n');
}
