/**
 * All the workers of one run: a group in this process, or groups spread over child processes
 * (`--processes N`), since Node runs JavaScript on one core and PostgreSQL does not.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import { addCounters, emptyCounters, type Counters } from './counters.js';
import type { FromChild, ToChild } from './process-worker.js';
import type { Connector } from './setup.js';
import { startLocalGroup, type GroupSpec, type WorkerGroup } from './workers.js';

export interface Fleet {
  /** The sum of the latest counters of every group. */
  counters(): Counters;
  stop(): Promise<Counters>;
}

/** Splits `workers` over at most `processes` groups as evenly as possible: 8 over 3 → 3, 3, 2. */
export function splitWorkers(workers: number, processes: number): number[] {
  const groups = Math.min(workers, processes);
  return Array.from({ length: groups }, (_, i) => Math.floor(workers / groups) + (i < workers % groups ? 1 : 0));
}

export async function startFleet(spec: GroupSpec, processes: number, connector: Connector): Promise<Fleet> {
  if (processes <= 1) {
    const group = await startLocalGroup(spec, connector);
    return { counters: () => ({ ...group.counters }), stop: () => group.stop() };
  }
  const shares = splitWorkers(spec.workers, processes);
  const settled = await Promise.allSettled(shares.map((workers) => startChild({ ...spec, workers })));
  const children = settled.flatMap((result) => (result.status === 'fulfilled' ? [result.value] : []));
  const failure = settled.find((result) => result.status === 'rejected');
  if (failure !== undefined) {
    await Promise.allSettled(children.map((child) => child.stop()));
    throw (failure as PromiseRejectedResult).reason;
  }
  return {
    counters: () => children.reduce((sum, child) => addCounters(sum, child.counters), emptyCounters()),
    async stop() {
      const finals = await Promise.all(children.map((child) => child.stop()));
      return finals.reduce((sum, counters) => addCounters(sum, counters), emptyCounters());
    },
  };
}

function childScript(): { path: string; execArgv: string[]; env: NodeJS.ProcessEnv } {
  const url = new URL(import.meta.url);
  // Under vitest the sources run as TypeScript: the child then needs tsx to load them, and the
  // workspace packages from their sources too (a fresh clone has no build when `pnpm test` runs).
  const typescript = url.pathname.endsWith('.ts');
  return {
    path: fileURLToPath(new URL(typescript ? './process-worker.ts' : './process-worker.js', url)),
    execArgv: typescript ? ['--import', 'tsx'] : [],
    env: typescript ? { ...process.env, TSX_TSCONFIG_PATH: fileURLToPath(new URL('../tsconfig.child.json', url)) } : process.env,
  };
}

function startChild(spec: GroupSpec): Promise<WorkerGroup> {
  const { path, execArgv, env } = childScript();
  const child: ChildProcess = fork(path, [], { execArgv, env, stdio: ['ignore', 'inherit', 'inherit', 'ipc'] });
  let latest = emptyCounters();
  let onStopped: ((counters: Counters) => void) | undefined;
  let onFailed: ((error: Error) => void) | undefined;
  let exited = false;

  return new Promise<WorkerGroup>((resolve, reject) => {
    onFailed = reject;
    child.on('message', (message: FromChild) => {
      switch (message.type) {
        case 'ready':
          onFailed = undefined;
          resolve(group);
          break;
        case 'counters':
          latest = message.counters;
          break;
        case 'stopped':
          latest = message.counters;
          onStopped?.(latest);
          break;
        case 'failed':
          onFailed?.(new Error(`a worker process failed: ${message.message}`));
          break;
      }
    });
    child.once('error', (error) => onFailed?.(error));
    child.once('exit', (code) => {
      exited = true;
      onFailed?.(new Error(`a worker process exited with code ${code} before it was ready`));
      onStopped?.(latest);
    });
    child.send({ type: 'start', spec } satisfies ToChild);

    const group: WorkerGroup = {
      get counters() {
        return latest;
      },
      stop() {
        if (exited) return Promise.resolve(latest);
        return new Promise<Counters>((resolveStop) => {
          onStopped = (counters) => {
            onStopped = undefined;
            resolveStop(counters);
          };
          child.send({ type: 'stop' } satisfies ToChild);
        });
      },
    };
  });
}
