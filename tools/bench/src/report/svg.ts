/**
 * The results as one SVG: jobs/s by workers (a line per strategy, raw SQL and the pgbench
 * ceiling, with the efficiencies under it); for a backlog sweep, jobs/s by backlog; for duration
 * runs, jobs/s over time and the jobs table's dead tuples and size at the same moments.
 */
import type { BenchResult, RunKind, RunResult } from '../results.js';
import { STRATEGY_LABELS } from '../strategies/index.js';
import { CHART_WIDTH, chartHeight, escapeXml, niceScale, renderChart, type ChartSeries, type ChartSpec } from './chart.js';
import { formatBytes, formatInt, formatPercent } from './table.js';

const HEADER_HEIGHT = 50;

const STYLE: Record<RunKind, { color: string; dash?: string }> = {
  before: { color: '#c0392b' },
  'before-lock': { color: '#e67e22' },
  after: { color: '#2471a3' },
  raw: { color: '#7f8c8d', dash: '6 4' },
  ceiling: { color: '#27ae60', dash: '2 3' },
};
const KINDS = Object.keys(STYLE) as RunKind[];
/** Worker counts drawn in one colour are told apart by their dash (and their label). */
const WORKER_DASHES = ['', '8 3', '3 3', '10 3 2 3', '1 2'];

function allRuns(result: BenchResult): RunResult[] {
  return [...result.runs, ...result.raw, ...result.ceiling];
}

function byWorkers(result: BenchResult): ChartSpec {
  const runs = allRuns(result);
  // A sweep has several runs per worker count and kind: this chart shows the largest backlog.
  const backlog = result.jobsPerRun === undefined ? undefined : Math.max(...result.jobsPerRun);
  const shown = runs.filter((run) => backlog === undefined || run.backlog === backlog);
  const notes: string[] = [];
  const rows = result.summary.filter((row) => backlog === undefined || row.backlog === backlog);
  const list = (pick: (row: (typeof rows)[number]) => number | undefined) =>
    rows.filter((row) => pick(row) !== undefined).map((row) => `${row.workers} workers ${formatPercent(pick(row))}`);
  const raw = list((row) => row.efficiency);
  const ceiling = list((row) => row.ceilingEfficiency);
  if (raw.length > 0) notes.push(`after / raw: ${raw.join(', ')}`);
  if (ceiling.length > 0) notes.push(`after / ceiling: ${ceiling.join(', ')}`);
  else notes.push(`ceiling: ${result.ceilingNote}`);
  return {
    title: `jobs/s by workers${backlog === undefined ? '' : ` (drain of ${formatInt(backlog)} jobs)`}`,
    xLabel: 'workers',
    yLabel: 'jobs/s',
    xScale: 'linear',
    formatX: (x) => String(x),
    formatY: formatInt,
    notes,
    series: KINDS.map((kind) => ({
      label: STRATEGY_LABELS[kind],
      ...STYLE[kind],
      points: shown
        .filter((run) => run.strategy === kind)
        .map((run) => ({
          x: run.workers,
          y: run.jobsPerSecond,
          title: `${STRATEGY_LABELS[kind]}, ${run.workers} workers: ${formatInt(run.jobsPerSecond)} jobs/s, ${run.deadlocks} deadlocks`,
        })),
    })),
  };
}

function perRunSeries(result: BenchResult, runs: RunResult[], point: (run: RunResult) => ChartSeries['points']): ChartSeries[] {
  const workers = [...new Set(runs.map((run) => run.workers))].sort((a, b) => a - b);
  return runs.map((run) => ({
    label: `${STRATEGY_LABELS[run.strategy]}${result.workers.length > 1 ? `, ${run.workers} w` : ''}`,
    color: STYLE[run.strategy].color,
    dash: WORKER_DASHES[workers.indexOf(run.workers) % WORKER_DASHES.length],
    points: point(run),
  }));
}

function byBacklog(result: BenchResult): ChartSpec | undefined {
  if (result.sweep.length === 0) return undefined;
  const workers = [...new Set(result.sweep.map((s) => s.workers))].sort((a, b) => a - b);
  return {
    title: 'jobs/s by backlog (each drained from full to empty)',
    xLabel: 'jobs in the queue at the start',
    yLabel: 'jobs/s',
    xScale: 'log',
    formatX: formatInt,
    formatY: formatInt,
    series: result.sweep.map((s) => ({
      label: `${STRATEGY_LABELS[s.strategy]}${workers.length > 1 ? `, ${s.workers} w` : ''}`,
      color: STYLE[s.strategy].color,
      dash: WORKER_DASHES[workers.indexOf(s.workers) % WORKER_DASHES.length],
      points: s.points.map((p) => ({
        x: p.backlog,
        y: p.jobsPerSecond,
        title: `${STRATEGY_LABELS[s.strategy]}, ${s.workers} workers, ${formatInt(p.backlog)} jobs: ${formatInt(p.jobsPerSecond)} jobs/s`,
      })),
    })),
  };
}

function overTime(result: BenchResult): ChartSpec[] {
  const runs = allRuns(result).filter((run) => run.series.length > 0);
  if (runs.length === 0) return [];
  const label = (run: RunResult) => `${STRATEGY_LABELS[run.strategy]}, ${run.workers} workers`;
  const common = { xLabel: 'seconds into the window', xScale: 'linear' as const, formatX: (x: number) => (Number.isInteger(x) ? String(x) : x.toFixed(1)) };
  // Round ticks rather than one per point: a 10-minute soak has 60 points per run.
  const time = niceScale(Math.max(...runs.flatMap((run) => run.series.map((p) => p.seconds))), 6);
  const xTicks = Array.from({ length: Math.round(time.max / time.step) + 1 }, (_, i) => Number((i * time.step).toFixed(6)));
  const measured = (values: (number | null)[]) => values.some((v) => v !== null);
  const charts: ChartSpec[] = [
    {
      ...common,
      title: `jobs/s per ${result.sampleSeconds} s window`,
      yLabel: 'jobs/s',
      xTicks,
      formatY: formatInt,
      series: perRunSeries(result, runs, (run) =>
        run.series.map((p) => ({ x: p.seconds, y: p.jobsPerSecond, title: `${label(run)} at ${p.seconds.toFixed(1)} s: ${formatInt(p.jobsPerSecond)} jobs/s` })),
      ),
    },
  ];
  if (measured(runs.flatMap((run) => run.series.map((p) => p.deadTuples)))) {
    charts.push({
      ...common,
      title: 'dead tuples in the jobs table',
      yLabel: 'n_dead_tup',
      xTicks,
      formatY: formatInt,
      series: perRunSeries(result, runs, (run) =>
        run.series.flatMap((p) =>
          p.deadTuples === null ? [] : [{ x: p.seconds, y: p.deadTuples, title: `${label(run)} at ${p.seconds.toFixed(1)} s: ${formatInt(p.deadTuples)} dead tuples` }],
        ),
      ),
    });
  }
  if (measured(runs.flatMap((run) => run.series.map((p) => p.tableBytes)))) {
    charts.push({
      ...common,
      title: 'jobs table size (heap + indexes + TOAST)',
      yLabel: 'bytes',
      xTicks,
      formatY: formatBytes,
      series: perRunSeries(result, runs, (run) =>
        run.series.flatMap((p) =>
          p.tableBytes === null ? [] : [{ x: p.seconds, y: p.tableBytes, title: `${label(run)} at ${p.seconds.toFixed(1)} s: ${formatBytes(p.tableBytes)}` }],
        ),
      ),
    });
  }
  return charts;
}

export function renderSvg(result: BenchResult): string {
  const charts = [byWorkers(result), byBacklog(result), ...overTime(result)].filter((c): c is ChartSpec => c !== undefined);
  const height = HEADER_HEIGHT + charts.reduce((sum, chart) => sum + chartHeight(chart), 0);
  const out: string[] = [];
  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${CHART_WIDTH}" height="${height}" viewBox="0 0 ${CHART_WIDTH} ${height}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${CHART_WIDTH}" height="${height}" fill="#ffffff"/>`);
  const title = `pgqueue — ${result.driver}, batch ${result.batchSize}, ${result.workload} workload, ${result.date.slice(0, 10)}`;
  out.push(`<text x="84" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  const run =
    result.jobsPerRun === undefined
      ? `${result.durationSeconds} s per run`
      : `drains of ${result.jobsPerRun.map((n) => formatInt(n)).join(' / ')} jobs`;
  const subtitle =
    `${result.machine.cpus} CPUs · ${result.driver === 'pglite' ? 'PGlite' : 'PostgreSQL'} ${result.server.version} · ` +
    `synchronous_commit ${result.server.synchronousCommit} · ${run} · ${result.processes} process${result.processes > 1 ? 'es' : ''}`;
  out.push(`<text x="84" y="38" font-size="11" fill="#555">${escapeXml(subtitle)}</text>`);
  let top = HEADER_HEIGHT;
  for (const chart of charts) {
    out.push(...renderChart(chart, top));
    top += chartHeight(chart);
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
