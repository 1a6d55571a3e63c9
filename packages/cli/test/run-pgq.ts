/**
 * Runs the real pgq as a child process, from the sources through tsx (so the tests need no
 * build): the same entry point as bin/pgq.js, its output and exit code as a user sees them.
 */
import { spawn, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { expect } from 'vitest';

const packageDir = fileURLToPath(new URL('..', import.meta.url));
const entry = fileURLToPath(new URL('../src/bin.ts', import.meta.url));
const tsconfig = fileURLToPath(new URL('../tsconfig.source.json', import.meta.url));

export interface PgqResult {
  code: number | null;
  stdout: string;
  stderr: string;
}

export interface PgqOptions {
  /** Replaces DATABASE_URL; null removes it. */
  url?: string | null;
}

function environment(options: PgqOptions): NodeJS.ProcessEnv {
  const env: NodeJS.ProcessEnv = { ...process.env, TSX_TSCONFIG_PATH: tsconfig, NO_COLOR: '1' };
  delete env.PGQ_DEBUG;
  if (options.url === null) delete env.DATABASE_URL;
  else if (options.url !== undefined) env.DATABASE_URL = options.url;
  return env;
}

/** Starts pgq and leaves it running (top, metrics). */
export function startPgq(args: readonly string[], options: PgqOptions = {}): ChildProcess {
  return spawn(process.execPath, ['--import', 'tsx', entry, ...args], {
    cwd: packageDir,
    env: environment(options),
    stdio: ['pipe', 'pipe', 'pipe'],
  });
}

/** Runs pgq to its end. */
export function pgq(args: readonly string[], options: PgqOptions = {}): Promise<PgqResult> {
  const child = startPgq(args, options);
  child.stdin!.end();
  return finished(child);
}

export function finished(child: ChildProcess): Promise<PgqResult> {
  let stdout = '';
  let stderr = '';
  child.stdout!.setEncoding('utf8').on('data', (chunk: string) => (stdout += chunk));
  child.stderr!.setEncoding('utf8').on('data', (chunk: string) => (stderr += chunk));
  return new Promise((resolve, reject) => {
    child.on('error', reject);
    child.on('close', (code) => resolve({ code, stdout, stderr }));
  });
}

/** Runs pgq and parses its --json output, expecting exit code `code` (default 0). */
export async function pgqJson<T = unknown>(args: readonly string[], code = 0, options: PgqOptions = {}): Promise<T> {
  const result = await pgq([...args, '--json'], options);
  expect({ code: result.code, stderr: result.stderr }).toEqual({ code, stderr: '' });
  return JSON.parse(result.stdout) as T;
}

/**
 * Expects pgq to fail the way a user should see it: exit code `code`, stdout empty, and on
 * stderr one line starting "pgq: " (or commander's "error: ") that matches `message`, never a
 * stack trace.
 */
export async function expectFailure(args: readonly string[], code: number, message: RegExp, options: PgqOptions = {}): Promise<string> {
  const result = await pgq(args, options);
  expect(result.code, `exit code of pgq ${args.join(' ')} (stderr: ${result.stderr})`).toBe(code);
  expect(result.stdout).toBe('');
  const lines = result.stderr.trimEnd().split('\n');
  expect(lines, result.stderr).toHaveLength(1);
  expect(lines[0]).toMatch(/^(pgq|error): /);
  expect(lines[0]).toMatch(message);
  expect(result.stderr).not.toMatch(/\n\s+at /);
  return lines[0]!;
}

/** Collects a running child's stdout until `match` appears in it. */
export function waitForOutput(child: ChildProcess, match: RegExp, timeoutMs = 30_000): Promise<string> {
  let seen = '';
  return new Promise((resolve, reject) => {
    const timer = setTimeout(() => reject(new Error(`pgq did not print ${match} within ${timeoutMs} ms; it printed: ${seen}`)), timeoutMs);
    const onData = (chunk: Buffer | string) => {
      seen += chunk.toString();
      if (match.test(seen)) {
        clearTimeout(timer);
        child.stdout!.off('data', onData);
        resolve(seen);
      }
    };
    child.stdout!.on('data', onData);
    child.on('exit', () => {
      clearTimeout(timer);
      if (!match.test(seen)) reject(new Error(`pgq exited before printing ${match}; it printed: ${seen}`));
    });
  });
}
