/**
 * The scenario's side of a worker process (worker-process.ts): start it, kill, freeze or thaw it
 * with signals, or stop it over IPC and learn how long `stop()` took.
 */
import { fork, type ChildProcess } from 'node:child_process';
import { fileURLToPath } from 'node:url';
import type { FromWorker, ToWorker, WorkerSpec } from './protocol.js';

const CHILD_SCRIPT = fileURLToPath(new URL('./worker-process.ts', import.meta.url));
const CHILD_TSCONFIG = fileURLToPath(new URL('../tsconfig.child.json', import.meta.url));
/** tsx compiles the sources at start; on a busy 2-core machine that takes seconds. */
const START_TIMEOUT_MS = 60_000;
/** Closing pools and a LISTEN connection takes milliseconds when the server answers. */
const CLOSE_WITHIN_MS = 10_000;

export interface StopFigures {
  /** From `stop()` to `run()` resolving, measured in the worker. */
  stopMs: number;
  /** From `run()` resolving to the driver closed. */
  closeMs: number;
}

export class WorkerProcess {
  readonly errors: { operation: string; message: string }[] = [];
  leasesLost = 0;
  /** The latest memory report (when the spec asked for them). */
  memory: { rss: number; heapUsed: number; resources: number } | undefined;
  readonly exited: Promise<{ code: number | null; signal: NodeJS.Signals | null }>;
  private onStopped: ((figures: { stopMs: number }) => void) | undefined;
  private onClosed: ((figures: { closeMs: number }) => void) | undefined;
  private closing: Promise<{ closeMs: number }> | undefined;
  private alive = true;

  private constructor(
    private readonly child: ChildProcess,
    readonly ownerId: string,
    readonly label: string,
  ) {
    this.exited = new Promise((resolve) =>
      child.once('exit', (code, signal) => {
        this.alive = false;
        resolve({ code, signal });
      }),
    );
    child.on('message', (message: FromWorker) => {
      if (message.type === 'error') this.errors.push({ operation: message.operation, message: message.message });
      else if (message.type === 'leaseLost') this.leasesLost++;
      else if (message.type === 'memory') this.memory = { rss: message.rss, heapUsed: message.heapUsed, resources: message.resources };
      else if (message.type === 'stopped') this.onStopped?.({ stopMs: message.stopMs });
      else if (message.type === 'closed') this.onClosed?.({ closeMs: message.closeMs });
    });
  }

  static start(spec: WorkerSpec, label: string): Promise<WorkerProcess> {
    const child = fork(CHILD_SCRIPT, [], {
      execArgv: ['--import', 'tsx', ...(spec.memoryEveryMs === undefined ? [] : ['--expose-gc'])],
      env: { ...process.env, TSX_TSCONFIG_PATH: CHILD_TSCONFIG },
      stdio: ['ignore', 'inherit', 'inherit', 'ipc'],
    });
    return new Promise((resolve, reject) => {
      const timer = setTimeout(() => {
        child.kill('SIGKILL');
        reject(new Error(`worker ${label} did not start within ${START_TIMEOUT_MS} ms`));
      }, START_TIMEOUT_MS);
      const onMessage = (message: FromWorker) => {
        if (message.type === 'ready') {
          clearTimeout(timer);
          child.off('message', onMessage);
          resolve(new WorkerProcess(child, message.ownerId, label));
        } else if (message.type === 'failed') {
          clearTimeout(timer);
          reject(new Error(`worker ${label} failed to start: ${message.message}`));
        }
      };
      child.on('message', onMessage);
      child.once('exit', (code, signal) => {
        clearTimeout(timer);
        reject(new Error(`worker ${label} exited before it was ready (code ${code}, signal ${signal})`));
      });
      child.send({ type: 'start', spec } satisfies ToWorker);
    });
  }

  get running(): boolean {
    return this.alive;
  }

  async kill(): Promise<void> {
    if (!this.alive) return;
    this.child.kill('SIGKILL');
    await this.exited;
  }

  freeze(): void {
    this.child.kill('SIGSTOP');
  }

  thaw(): void {
    this.child.kill('SIGCONT');
  }

  /**
   * Asks the worker to stop with `timeoutMs` for its running jobs. Resolves with how long
   * `stop()` took; rejects when it has not returned `stopWithinMs` after the request.
   */
  async stop(timeoutMs: number, stopWithinMs: number): Promise<number> {
    const stopped = new Promise<{ stopMs: number }>((resolve) => (this.onStopped = resolve));
    this.closing = new Promise<{ closeMs: number }>((resolve) => (this.onClosed = resolve));
    this.child.send({ type: 'stop', timeoutMs } satisfies ToWorker);
    const { stopMs } = await this.within(stopped, stopWithinMs, `stop({ timeoutMs: ${timeoutMs} }) did not return`);
    return stopMs;
  }

  /**
   * After `stop()`: resolves with how long closing the driver took once `run()` had resolved,
   * when it closed and the process exited within `withinMs`; rejects otherwise.
   */
  async closed(withinMs = CLOSE_WITHIN_MS): Promise<number> {
    if (this.closing === undefined) throw new Error(`worker ${this.label}: closed() before stop()`);
    const { closeMs } = await this.within(this.closing, withinMs, 'driver.close() did not return');
    await this.within(this.exited, withinMs, 'the driver closed, but the process did not exit');
    return closeMs;
  }

  private async within<T>(promise: Promise<T>, ms: number, failure: string): Promise<T> {
    let timer: ReturnType<typeof setTimeout> | undefined;
    const late = new Promise<never>((_, reject) => {
      timer = setTimeout(() => reject(new Error(`worker ${this.label}: ${failure} within ${ms} ms`)), ms);
    });
    try {
      return await Promise.race([promise, late]);
    } finally {
      clearTimeout(timer);
    }
  }
}
