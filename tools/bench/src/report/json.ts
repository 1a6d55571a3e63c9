/** Writes the results as JSON and the chart as SVG, creating the folder when needed. */
import { mkdir, writeFile } from 'node:fs/promises';
import { dirname } from 'node:path';
import type { BenchResult } from '../results.js';
import { renderSvg } from './svg.js';

export function toJson(result: BenchResult): string {
  // Infinity and NaN are not JSON; a missing measurement is written as null.
  return `${JSON.stringify(result, (_key, value: unknown) => (typeof value === 'number' && !Number.isFinite(value) ? null : value), 2)}\n`;
}

export async function writeResults(result: BenchResult, paths: { json: string; svg: string }): Promise<void> {
  await mkdir(dirname(paths.json), { recursive: true });
  await writeFile(paths.json, toJson(result));
  await mkdir(dirname(paths.svg), { recursive: true });
  await writeFile(paths.svg, renderSvg(result));
}
