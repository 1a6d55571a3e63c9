/**
 * The worker's LISTEN: parses the queue's notifications and keeps trying to subscribe. The
 * adapters reconnect a subscription they lost by themselves and report it; this adds the retry
 * of a subscription that failed to start, so a worker started while the database is briefly
 * unreachable still ends up listening. Until then, and whenever LISTEN is unavailable, the
 * worker's poll keeps jobs moving.
 */
import { Backoff } from '../backoff.js';
import type { Driver, ListenHandle } from '../driver.js';
import type { JobId } from '../job.js';
import { NOTIFY_CANCELED, NOTIFY_ENQUEUED } from '../sql/notify.js';

export type QueueEvent =
  /** Jobs became due for these entrypoints; null: for any (the list was too long to send). */
  | { type: typeof NOTIFY_ENQUEUED; entrypoints: string[] | null }
  /** These running jobs were canceled; null: some (the list was too long to send). */
  | { type: typeof NOTIFY_CANCELED; ids: JobId[] | null };

/** Reads a notification payload; anything this version does not know is ignored. */
export function parseQueueEvent(payload: string): QueueEvent | undefined {
  let event: unknown;
  try {
    event = JSON.parse(payload);
  } catch {
    return undefined;
  }
  if (typeof event !== 'object' || event === null) return undefined;
  const { type, entrypoints, ids } = event as { type?: unknown; entrypoints?: unknown; ids?: unknown };
  if (type === NOTIFY_ENQUEUED && (entrypoints === null || isArrayOf(entrypoints, 'string'))) {
    return { type, entrypoints };
  }
  if (type === NOTIFY_CANCELED && (ids === null || isArrayOf(ids, 'number'))) return { type, ids };
  return undefined;
}

function isArrayOf<T extends 'string' | 'number'>(
  value: unknown,
  type: T,
): value is (T extends 'string' ? string : number)[] {
  return Array.isArray(value) && value.every((item) => typeof item === type);
}

export interface QueueListenerHooks {
  onEvent(event: QueueEvent): void;
  /** Listening again after an interruption: notifications may have been missed. */
  onReconnect(): void;
  onError(error: unknown): void;
}

export class QueueListener {
  private handle: ListenHandle | undefined;
  private closed = false;
  private retryTimer: ReturnType<typeof setTimeout> | undefined;
  private readonly backoff = new Backoff();

  constructor(
    private readonly driver: Driver,
    private readonly channel: string,
    private readonly hooks: QueueListenerHooks,
  ) {}

  /** Subscribes; on failure reports it and keeps retrying in the background until close. */
  async start(): Promise<void> {
    await this.subscribe(false);
  }

  async close(): Promise<void> {
    this.closed = true;
    if (this.retryTimer !== undefined) clearTimeout(this.retryTimer);
    this.retryTimer = undefined;
    const handle = this.handle;
    this.handle = undefined;
    await handle?.close();
  }

  private async subscribe(isRetry: boolean): Promise<void> {
    let handle: ListenHandle;
    try {
      handle = await this.driver.listen(this.channel, (payload) => this.received(payload), {
        onReconnect: () => this.hooks.onReconnect(),
        onError: (error) => this.hooks.onError(error),
      });
    } catch (error) {
      if (this.closed) return;
      this.hooks.onError(error);
      this.retryTimer = setTimeout(() => void this.subscribe(true), this.backoff.failed());
      return;
    }
    if (this.closed) {
      // Closed while subscribing: close() did not wait for this attempt (against an unreachable
      // server it lasts until the connect timeout), so the late subscription is ended here.
      await handle.close().catch((error: unknown) => this.hooks.onError(error));
      return;
    }
    this.handle = handle;
    this.backoff.succeeded();
    if (isRetry) this.hooks.onReconnect();
  }

  private received(payload: string): void {
    if (this.closed) return;
    const event = parseQueueEvent(payload);
    if (event !== undefined) this.hooks.onEvent(event);
  }
}
