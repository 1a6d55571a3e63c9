/** Stopping a worker process cleanly on SIGINT / SIGTERM. */

export interface StopOnSignalsOptions {
  /** Default SIGINT and SIGTERM. */
  signals?: readonly NodeJS.Signals[];
  /** How long running jobs get to finish before they are aborted. Default: the worker's own default. */
  timeoutMs?: number;
}

/**
 * Stops `worker` on the first of `signals`: no more fetching, running jobs get `timeoutMs` to
 * finish, then completions are flushed and `run()` resolves. A second signal aborts the jobs
 * still running at once. Returns a function that removes the signal handlers.
 *
 * Handling SIGINT replaces Node's default of exiting at once, so the process ends when the
 * worker has stopped and nothing else keeps it alive: close the driver after `run()` resolves.
 */
export function stopOnSignals(
  worker: { stop(options?: { timeoutMs?: number }): Promise<void> },
  options: StopOnSignalsOptions = {},
): () => void {
  const signals = options.signals ?? ['SIGINT', 'SIGTERM'];
  let received = 0;
  const onSignal = () => {
    received++;
    const timeoutMs = received === 1 ? options.timeoutMs : 0;
    void worker.stop(timeoutMs === undefined ? {} : { timeoutMs });
  };
  for (const signal of signals) process.on(signal, onSignal);
  return () => {
    for (const signal of signals) process.off(signal, onSignal);
  };
}
