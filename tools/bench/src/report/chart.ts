/**
 * One line chart as SVG elements, placed at a vertical offset so that the report can stack
 * several (jobs/s by workers, by backlog, over time) in one file without a charting library.
 */
export interface ChartPoint {
  x: number;
  y: number;
  /** Hover text of the point. */
  title: string;
}

export interface ChartSeries {
  label: string;
  color: string;
  dash?: string;
  points: ChartPoint[];
}

export interface ChartSpec {
  title: string;
  xLabel: string;
  yLabel: string;
  /** A log scale spreads backlogs of 20,000 to 500,000 evenly. */
  xScale: 'linear' | 'log';
  /** The x values to label; default: every x of every point. */
  xTicks?: number[];
  formatX: (x: number) => string;
  formatY: (y: number) => string;
  series: ChartSeries[];
  /** Lines of text under the plot (efficiencies). */
  notes?: string[];
}

export const CHART_WIDTH = 720;
const PLOT_HEIGHT = 280;
const MARGIN = { top: 34, right: 170, bottom: 48, left: 84 };
const NOTE_LINE = 16;

export function escapeXml(text: string): string {
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

/** The height a chart with these notes takes. */
export function chartHeight(spec: Pick<ChartSpec, 'notes'>): number {
  return MARGIN.top + PLOT_HEIGHT + MARGIN.bottom + (spec.notes?.length ?? 0) * NOTE_LINE;
}

/** The chart's elements, with its top edge at `top`. */
export function renderChart(spec: ChartSpec, top: number): string[] {
  const points = spec.series.flatMap((s) => s.points);
  const xs = spec.xTicks ?? [...new Set(points.map((p) => p.x))].sort((a, b) => a - b);
  const y = niceScale(Math.max(0, ...points.map((p) => p.y)));
  const plotW = CHART_WIDTH - MARGIN.left - MARGIN.right;
  const plotTop = top + MARGIN.top;
  const plotBottom = plotTop + PLOT_HEIGHT;
  const xMin = spec.xScale === 'log' ? Math.min(...xs) : 0;
  const xMax = Math.max(1, ...xs);
  const px = (x: number) => {
    if (spec.xScale === 'log') {
      // Margins of a sixth on each side, so a single backlog sits in the middle.
      const span = Math.log(xMax) - Math.log(xMin);
      const share = span === 0 ? 0.5 : (Math.log(x) - Math.log(xMin)) / span;
      return MARGIN.left + (1 / 6 + (share * 2) / 3) * plotW;
    }
    return MARGIN.left + (x / xMax) * plotW;
  };
  const py = (v: number) => plotBottom - (v / y.max) * PLOT_HEIGHT;
  const out: string[] = [];

  out.push(`<text x="${MARGIN.left}" y="${top + 20}" font-size="13" font-weight="bold">${escapeXml(spec.title)}</text>`);
  for (let value = 0; value <= y.max + y.step / 2; value += y.step) {
    const at = py(value).toFixed(1);
    out.push(`<line x1="${MARGIN.left}" y1="${at}" x2="${MARGIN.left + plotW}" y2="${at}" stroke="#e5e5e5"/>`);
    out.push(`<text x="${MARGIN.left - 8}" y="${at}" text-anchor="end" dominant-baseline="middle">${escapeXml(spec.formatY(value))}</text>`);
  }
  for (const x of xs) {
    const at = px(x).toFixed(1);
    out.push(`<line x1="${at}" y1="${plotBottom}" x2="${at}" y2="${plotBottom + 5}" stroke="#333"/>`);
    out.push(`<text x="${at}" y="${plotBottom + 20}" text-anchor="middle">${escapeXml(spec.formatX(x))}</text>`);
  }
  out.push(
    `<line x1="${MARGIN.left}" y1="${plotBottom}" x2="${MARGIN.left + plotW}" y2="${plotBottom}" stroke="#333"/>`,
    `<line x1="${MARGIN.left}" y1="${plotTop}" x2="${MARGIN.left}" y2="${plotBottom}" stroke="#333"/>`,
    `<text x="${MARGIN.left + plotW / 2}" y="${plotBottom + 38}" text-anchor="middle">${escapeXml(spec.xLabel)}</text>`,
    `<text transform="translate(18 ${plotTop + PLOT_HEIGHT / 2}) rotate(-90)" text-anchor="middle">${escapeXml(spec.yLabel)}</text>`,
  );

  let legendY = plotTop + 8;
  for (const series of spec.series) {
    if (series.points.length === 0) continue;
    const dash = series.dash === undefined || series.dash === '' ? '' : ` stroke-dasharray="${series.dash}"`;
    const sorted = [...series.points].sort((a, b) => a.x - b.x);
    out.push(
      `<polyline fill="none" stroke="${series.color}" stroke-width="2"${dash} points="${sorted
        .map((p) => `${px(p.x).toFixed(1)},${py(p.y).toFixed(1)}`)
        .join(' ')}"/>`,
    );
    for (const p of sorted) {
      out.push(
        `<circle cx="${px(p.x).toFixed(1)}" cy="${py(p.y).toFixed(1)}" r="3" fill="${series.color}"><title>${escapeXml(p.title)}</title></circle>`,
      );
    }
    const legendX = MARGIN.left + plotW + 16;
    out.push(`<line x1="${legendX}" y1="${legendY}" x2="${legendX + 22}" y2="${legendY}" stroke="${series.color}" stroke-width="2"${dash}/>`);
    out.push(`<text x="${legendX + 28}" y="${legendY}" dominant-baseline="middle">${escapeXml(series.label)}</text>`);
    legendY += 18;
  }
  (spec.notes ?? []).forEach((note, i) => {
    out.push(`<text x="${MARGIN.left}" y="${plotBottom + MARGIN.bottom + 4 + i * NOTE_LINE}" font-size="11" fill="#333">${escapeXml(note)}</text>`);
  });
  return out;
}
