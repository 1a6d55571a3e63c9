/**
 * A child process running one group of workers for the coordinator (`--processes N`). It opens
 * its own connections, reports its counters every few milliseconds over IPC, and stops when told.
 */
import type { Counters } from './counters.js';
import { createConnector } from './setup.js';
import { startLocalGroup, type GroupSpec } from './workers.js';

export type ToChild = { type: 'start'; spec: GroupSpec } | { type: 'stop' };
export type FromChild =
  | { type: 'ready' }
  | { type: 'counters'; counters: Counters }
  | { type: 'stopped'; counters: Counters }
  | { type: 'failed'; message: string };

/** How often a child pushes its counters: the producer's view of the backlog is this stale at most. */
export const REPORT_INTERVAL_MS = 20;

function send(message: FromChild): void {
  process.send?.(message);
}

async function main(): Promise<void> {
  if (process.send === undefined) throw new Error('process-worker.js is started by the benchmark over IPC, not by hand');
  const spec = await new Promise<GroupSpec>((resolve) => {
    process.once('message', (message: ToChild) => {
      if (message.type === 'start') resolve(message.spec);
    });
  });
  const connector = await createConnector(spec.driver, spec.databaseUrl);
  const group = await startLocalGroup(spec, connector);
  const timer = setInterval(() => send({ type: 'counters', counters: group.counters }), REPORT_INTERVAL_MS);
  send({ type: 'ready' });
  await new Promise<void>((resolve) => {
    process.on('message', (message: ToChild) => {
      if (message.type === 'stop') resolve();
    });
    // The coordinator died: stop rather than run on as an orphan.
    process.once('disconnect', () => resolve());
  });
  clearInterval(timer);
  const counters = await group.stop();
  await connector.close();
  if (process.connected) send({ type: 'stopped', counters });
  process.disconnect?.();
}

main().catch((error: unknown) => {
  if (process.connected) send({ type: 'failed', message: error instanceof Error ? error.stack ?? error.message : String(error) });
  process.exitCode = 1;
  process.disconnect?.();
});
