/**
 * Workers for the behaviour suite: each on a driver of its own (its own connections), closed
 * after every test. A target with a single connection (PGlite) cannot open a second view of the
 * same database, so its workers share the fixture's driver: the runtime's behaviour is still
 * checked there, the races between connections only on a server.
 */
import type { Driver } from '../driver.js';
import { PgQueueError } from '../errors.js';
import type { Logger } from '../logger.js';
import type { WorkerOperation } from '../worker/events.js';
import type { QueueManagerOptions } from '../worker/options.js';
import { QueueManager, type RunOptions } from '../worker/queue-manager.js';
import type { ConformanceTarget, Fixture } from './target.js';

export interface TestWorker {
  qm: QueueManager;
  driver: Driver;
  /** Every `error` event, with the step it came from. */
  errors: { error: unknown; operation: WorkerOperation }[];
  /** What the worker logged (unless the test passed a logger of its own), instead of the console. */
  logs: { level: keyof Logger; message: string }[];
  /** Starts `run()`; the promise is awaited again when the test ends. */
  run(options?: RunOptions): Promise<void>;
}

export interface WorkerHarness {
  fx(): Fixture;
  /** A QueueManager on a new driver, on the fixture's schema. */
  worker(options?: QueueManagerOptions & { driver?: Driver }): Promise<TestWorker>;
  /** A driver of its own (the fixture's on a single-connection target), closed after the test. */
  driver(): Promise<Driver>;
  /** A driver on `url` (an outage proxy), closed after the test; undefined when the target cannot make one. */
  driverAt(url: string): Promise<Driver | undefined>;
  /** True when workers have connections of their own (a real server). */
  readonly separateConnections: boolean;
}

export function createWorkerHarness(target: ConformanceTarget, fx: () => Fixture) {
  const workers: TestWorker[] = [];
  const runs: Promise<void>[] = [];
  const drivers: Driver[] = [];
  const separate = () => fx().driver.capabilities.concurrentQueries;

  const harness: WorkerHarness = {
    fx,
    get separateConnections() {
      return separate();
    },
    async driver() {
      if (!separate()) return fx().driver;
      const driver = await target.createDriver();
      drivers.push(driver);
      return driver;
    },
    async driverAt(url) {
      if (target.createDriverAt === undefined) return undefined;
      const driver = await target.createDriverAt(url);
      drivers.push(driver);
      return driver;
    },
    async worker(options = {}) {
      const { driver: given, ...rest } = options;
      const driver = given ?? (await harness.driver());
      const logs: TestWorker['logs'] = [];
      const record = (level: keyof Logger) => (message: string) => void logs.push({ level, message });
      const logger: Logger = { debug: record('debug'), info: record('info'), warn: record('warn'), error: record('error') };
      const qm = new QueueManager(driver, { schema: fx().schema, logger, ...rest });
      const errors: TestWorker['errors'] = [];
      qm.on('error', (error, { operation }) => errors.push({ error, operation }));
      const worker: TestWorker = {
        qm,
        driver,
        errors,
        logs,
        run(runOptions) {
          const running = qm.run(runOptions);
          runs.push(running.catch(() => undefined));
          return running;
        },
      };
      workers.push(worker);
      return worker;
    },
  };

  /** Stops every worker of the test (aborting what still runs) and closes their drivers. */
  async function cleanUp(): Promise<void> {
    await Promise.all(workers.map((worker) => worker.qm.stop({ timeoutMs: 0 })));
    await Promise.all(runs);
    await Promise.all(drivers.map((driver) => driver.close()));
    workers.length = 0;
    runs.length = 0;
    drivers.length = 0;
  }

  return { harness, cleanUp };
}

/** Resolves never; rejects with the signal's reason once it aborts. */
export function untilAborted(signal: AbortSignal): Promise<never> {
  return new Promise((_, reject) => {
    if (signal.aborted) reject(signal.reason);
    else signal.addEventListener('abort', () => reject(signal.reason), { once: true });
  });
}

/** The PgQueueError code of an abort reason (or of any error). */
export function codeOf(error: unknown): string | undefined {
  return PgQueueError.isInstance(error) ? error.code : undefined;
}

/** A promise with its resolve function, for a handler to wait on until the test lets it go. */
export function gate(): { promise: Promise<void>; open(): void } {
  let open!: () => void;
  const promise = new Promise<void>((resolve) => {
    open = resolve;
  });
  return { promise, open };
}

/** The same driver, reporting that LISTEN is unavailable (as Kysely will), so the worker polls. */
export function withoutListen(driver: Driver): Driver {
  return withCapabilities(driver, { listen: false });
}

/** The same driver, reporting other capabilities (e.g. concurrent queries on PGlite, which queues them itself). */
export function withCapabilities(driver: Driver, capabilities: Partial<Driver['capabilities']>): Driver {
  return {
    specificationVersion: driver.specificationVersion,
    name: driver.name,
    capabilities: { ...driver.capabilities, ...capabilities },
    query: (text, params, options) => driver.query(text, params, options),
    exec: (text) => driver.exec(text),
    transaction: (fn) => driver.transaction(fn),
    listen: (channel, onPayload, events) => driver.listen(channel, onPayload, events),
    close: () => driver.close(),
  };
}
