/**
 * The results as text: Markdown tables, so what the terminal shows can be pasted into
 * docs/benchmarks.md unchanged.
 */
import type { BenchResult, RunKind, RunResult, SummaryRow } from '../results.js';
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

/** Bytes in the largest binary unit that leaves a number ≥ 1: 812 B, 64 KiB, 1.5 MiB. */
export function formatBytes(value: number | null | undefined): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  const units = ['B', 'KiB', 'MiB', 'GiB', 'TiB'];
  let unit = 0;
  let scaled = value;
  while (Math.abs(scaled) >= 1024 && unit < units.length - 1) {
    scaled /= 1024;
    unit++;
  }
  return `${unit === 0 || scaled >= 100 ? Math.round(scaled) : scaled.toFixed(1)} ${units[unit]}`;
}

/** A server figure: "n/a" where the server could not give it. */
function formatFigure(value: number | null | undefined, digits = 0): string {
  if (value === null || value === undefined || !Number.isFinite(value)) return 'n/a';
  return digits === 0 ? formatInt(value) : value.toFixed(digits);
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

function find(runs: RunResult[], workers: number, strategy: RunKind, backlog: number | undefined): RunResult | undefined {
  return runs.find((run) => run.workers === workers && run.strategy === strategy && (backlog === undefined || run.backlog === backlog));
}

/**
 * Per worker count (and backlog, for drains): the strategies, raw, the ceiling, improvement,
 * both efficiencies, deadlocks and jobs left.
 */
export function renderSummary(result: BenchResult): string {
  const strategies = (['before', 'before-lock', 'after'] as const).filter((s) => result.runs.some((run) => run.strategy === s));
  const sweep = result.jobsPerRun !== undefined && result.jobsPerRun.length > 1;
  const withCeiling = result.ceiling.length > 0;
  const triple = (pick: (run: RunResult) => string, row: SummaryRow) =>
    strategies.map((s) => {
      const run = find(result.runs, row.workers, s, row.backlog);
      return run === undefined ? '–' : pick(run);
    }).join(' / ');
  const names = strategies.map((s) => STRATEGY_LABELS[s]).join(' / ');
  const header = [
    'workers',
    ...(sweep ? ['backlog'] : []),
    ...strategies.map((s) => STRATEGY_LABELS[s]),
    'raw',
    ...(withCeiling ? ['ceiling'] : []),
    'improvement',
    'efficiency',
    ...(withCeiling ? ['vs ceiling'] : []),
    `deadlocks (${names})`,
    `left (${names})`,
  ];
  const rows = result.summary.map((row) => [
    String(row.workers),
    ...(sweep ? [formatInt(row.backlog)] : []),
    ...strategies.map((s) => formatInt(find(result.runs, row.workers, s, row.backlog)?.jobsPerSecond)),
    formatInt(row.raw),
    ...(withCeiling ? [formatInt(row.ceiling)] : []),
    formatRatio(row.improvement),
    formatPercent(row.efficiency),
    ...(withCeiling ? [formatPercent(row.ceilingEfficiency)] : []),
    triple((run) => String(run.deadlocks), row),
    triple((run) => formatInt(run.left.queued + run.left.picked), row),
  ]);
  return markdownTable(header, rows, header.map((_, i) => i < header.length - 2));
}

function sortedRuns(result: BenchResult): RunResult[] {
  return [...result.runs, ...result.raw, ...result.ceiling].sort(
    (a, b) => a.workers - b.workers || a.backlog - b.backlog || order(a.strategy) - order(b.strategy),
  );
}

/** Every run: jobs, seconds, rate, errors, what was left and whether the queue ran dry. */
export function renderRuns(result: BenchResult): string {
  const header = ['workers', 'strategy', 'backlog', 'jobs', 'seconds', 'jobs/s', 'deadlocks', 'other errors', 'left queued', 'left picked', 'note'];
  const rows = sortedRuns(result).map((run) => [
    String(run.workers),
    STRATEGY_LABELS[run.strategy],
    formatInt(run.backlog),
    formatInt(run.jobs),
    run.seconds.toFixed(2),
    formatInt(run.jobsPerSecond),
    String(run.deadlocks),
    String(run.errors),
    formatInt(run.left.queued),
    formatInt(run.left.picked),
    run.queueRanDry ? 'queue ran dry' : '',
  ]);
  return markdownTable(header, rows, [true, false, true, true, true, true, true, true, true, true, false]);
}

/** What the server did in every run: transactions, WAL, CPU per job, and the jobs table at the end. */
export function renderServerFigures(result: BenchResult): string {
  const header = ['workers', 'strategy', 'backlog', 'xacts/s', 'xacts/job', 'WAL/job', 'CPU ms/job', 'dead tuples', 'table', 'indexes'];
  const rows = sortedRuns(result).map((run) => [
    String(run.workers),
    STRATEGY_LABELS[run.strategy],
    formatInt(run.backlog),
    formatFigure(run.server.xactsPerSecond),
    formatFigure(run.server.xactsPerJob, 3),
    formatBytes(run.server.walBytesPerJob),
    formatFigure(run.server.cpuMsPerJob, 3),
    formatFigure(run.server.deadTuples),
    formatBytes(run.server.tableBytes),
    formatBytes(run.server.indexBytes),
  ]);
  return markdownTable(header, rows, header.map((_, i) => i !== 1));
}

function order(strategy: RunKind): number {
  return ['before', 'before-lock', 'after', 'raw', 'ceiling'].indexOf(strategy);
}

export function renderReport(result: BenchResult): string {
  const parts: string[] = [];
  const withCeiling = result.ceiling.length > 0;
  parts.push(
    'jobs/s; improvement = after / before; efficiency = after / raw (the same SQL with no queue runtime)' +
      (withCeiling ? '; vs ceiling = after / ceiling (the same SQL driven by pgbench)' : ''),
  );
  parts.push(`workload ${result.workload}: ${result.entrypoints.join(', ')}`);
  parts.push('');
  parts.push(renderSummary(result));
  parts.push('');
  const where = (row: SummaryRow) => `${row.workers} workers${row.backlog === undefined || result.sweep.length === 0 ? '' : ` (${formatInt(row.backlog)} jobs)`}`;
  const efficiency = result.summary.filter((row) => row.efficiency !== undefined).map((row) => `${where(row)} ${formatPercent(row.efficiency)}`);
  if (efficiency.length > 0) parts.push(`efficiency = after / raw: ${efficiency.join(', ')}`);
  const vsCeiling = result.summary
    .filter((row) => row.ceilingEfficiency !== undefined)
    .map((row) => `${where(row)} ${formatPercent(row.ceilingEfficiency)}`);
  parts.push(vsCeiling.length > 0 ? `after / ceiling: ${vsCeiling.join(', ')}` : `ceiling: ${result.ceilingNote}`);
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
  parts.push('');
  parts.push('server, per run (xacts = transactions committed or rolled back; CPU = the run\'s backends, n/a unless the server is local):');
  parts.push('');
  parts.push(renderServerFigures(result));
  const errors = [...result.runs, ...result.raw, ...result.ceiling].filter((run) => run.errorSamples.length > 0);
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
