/** A line chart of jobs/s against worker count, one line per strategy and one for raw SQL. */
import type { BenchResult, RunResult } from '../results.js';
import { STRATEGY_LABELS } from '../strategies/index.js';
import { formatInt } from './table.js';

const WIDTH = 720;
const HEIGHT = 440;
const MARGIN = { top: 56, right: 150, bottom: 56, left: 84 };

const SERIES: { strategy: RunResult['strategy']; color: string; dash?: string }[] = [
  { strategy: 'before', color: '#c0392b' },
  { strategy: 'before-lock', color: '#e67e22' },
  { strategy: 'after', color: '#2471a3' },
  { strategy: 'raw', color: '#7f8c8d', dash: '6 4' },
];

function escapeXml(text: string): string {
  return text.replace(/[<>&"']/g, (c) => ({ '<': '&lt;', '>': '&gt;', '&': '&amp;', '"': '&quot;', "'": '&apos;' })[c]!);
}

/** A round upper bound for the axis and its step: 1, 2 or 5 times a power of ten. */
export function niceScale(max: number, ticks = 5): { max: number; step: number } {
  if (!(max > 0)) return { max: 1, step: 0.2 };
  const rough = max / ticks;
  const power = 10 ** Math.floor(Math.log10(rough));
  const step = [1, 2, 5, 10].map((m) => m * power).find((s) => s >= rough)!;
  return { max: Math.ceil(max / step) * step, step };
}

export function renderSvg(result: BenchResult): string {
  const all = [...result.runs, ...result.raw];
  const workers = [...new Set(all.map((run) => run.workers))].sort((a, b) => a - b);
  const y = niceScale(Math.max(0, ...all.map((run) => run.jobsPerSecond)));
  const xMax = Math.max(1, ...workers);
  const plotW = WIDTH - MARGIN.left - MARGIN.right;
  const plotH = HEIGHT - MARGIN.top - MARGIN.bottom;
  const px = (w: number) => MARGIN.left + (w / xMax) * plotW;
  const py = (v: number) => MARGIN.top + plotH - (v / y.max) * plotH;
  const out: string[] = [];

  out.push(
    `<svg xmlns="http://www.w3.org/2000/svg" width="${WIDTH}" height="${HEIGHT}" viewBox="0 0 ${WIDTH} ${HEIGHT}" font-family="sans-serif" font-size="12">`,
  );
  out.push(`<rect width="${WIDTH}" height="${HEIGHT}" fill="#ffffff"/>`);
  const title = `pgqueue jobs/s by workers — ${result.driver}, batch ${result.batchSize}, ${result.date.slice(0, 10)}`;
  out.push(`<text x="${MARGIN.left}" y="22" font-size="15" font-weight="bold">${escapeXml(title)}</text>`);
  const run = result.jobsPerRun === undefined ? `${result.durationSeconds} s per run` : `${formatInt(result.jobsPerRun)} jobs per run`;
  const subtitle =
    `${result.machine.cpus} CPUs · ${result.driver === 'pglite' ? 'PGlite' : 'PostgreSQL'} ${result.server.version} · ` +
    `synchronous_commit ${result.server.synchronousCommit} · ${run} · ${result.processes} process${result.processes > 1 ? 'es' : ''}`;
  out.push(`<text x="${MARGIN.left}" y="38" font-size="11" fill="#555">${escapeXml(subtitle)}</text>`);

  for (let value = 0; value <= y.max + y.step / 2; value += y.step) {
    const at = py(value).toFixed(1);
    out.push(`<line x1="${MARGIN.left}" y1="${at}" x2="${MARGIN.left + plotW}" y2="${at}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${at}" text-anchor="end" dominant-baseline="middle">${formatInt(value)}</text>`);
  }
  for (const w of workers) {
    const at = px(w).toFixed(1);
    out.push(`<line x1="${at}" y1="${MARGIN.top + plotH}" x2="${at}" y2="${MARGIN.top + plotH + 5}" stroke="#333"/>`);
    out.push(`<text x="${at}" y="${MARGIN.top + plotH + 20}" text-anchor="middle">${w}</text>`);
  }
  out.push(
    `<line x1="${MARGIN.left}" y1="${MARGIN.top + plotH}" x2="${MARGIN.left + plotW}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" y1="${MARGIN.top}" x2="${MARGIN.left}" y2="${MARGIN.top + plotH}" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${HEIGHT - 14}" text-anchor="middle">workers</text>`,
    `<text transform="translate(18 ${MARGIN.top + plotH / 2}) rotate(-90)" text-anchor="middle">jobs/s</text>`,
  );

  let legendY = MARGIN.top + 8;
  for (const series of SERIES) {
    const points = all
      .filter((run) => run.strategy === series.strategy)
      .sort((a, b) => a.workers - b.workers)
      .map((run) => ({ x: px(run.workers), y: py(run.jobsPerSecond), run }));
    if (points.length === 0) continue;
    const dash = series.dash === undefined ? '' : ` stroke-dasharray="${series.dash}"`;
    out.push(
      `<polyline fill="none" stroke="${series.color}" stroke-width="2"${dash} points="${points.map((p) => `${p.x.toFixed(1)},${p.y.toFixed(1)}`).join(' ')}"/>`,
    );
    for (const p of points) {
      out.push(
        `<circle cx="${p.x.toFixed(1)}" cy="${p.y.toFixed(1)}" r="3.5" fill="${series.color}"><title>${escapeXml(
          `${STRATEGY_LABELS[series.strategy]}, ${p.run.workers} workers: ${formatInt(p.run.jobsPerSecond)} jobs/s, ${p.run.deadlocks} deadlocks`,
        )}</title></circle>`,
      );
    }
    const legendX = MARGIN.left + plotW + 16;
    out.push(`<line x1="${legendX}" y1="${legendY}" x2="${legendX + 22}" y2="${legendY}" stroke="${series.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${legendX + 28}" y="${legendY}" dominant-baseline="middle">${escapeXml(STRATEGY_LABELS[series.strategy])}</text>`);
    legendY += 20;
  }
  out.push('</svg>');
  return `${out.join('\n')}\n`;
}
