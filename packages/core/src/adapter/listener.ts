/**
 * The LISTEN side shared by the adapters on a server connection: one LISTEN on a connection of
 * its own that, when that connection is lost, reports it and LISTENs again with backoff (100 ms,
 * doubling to 5 s, with jitter: TRANSIENT_BACKOFF) until it succeeds or the listener is closed. The adapter supplies how to
 * connect and LISTEN and how to end its connection; it reports a lost connection with `lost()`
 * and each notification on the channel with `deliver()`.
 */
import { Backoff } from '../backoff.js';
import type { ListenEvents } from '../driver.js';
import { PgQueueError } from '../errors.js';

export interface ReconnectingListenerOptions {
  /** Names the adapter in errors. */
  driverName: string;
  /**
   * Connects (or lets the client reconnect) and LISTENs; resolves once listening. Called for the
   * first attempt and for every retry. A rejection fails `start()`, or is reported and retried.
   */
  subscribe(): Promise<void>;
  /** Ends the connection and any attempt under way. Called once, by `close()`; errors are ignored. */
  shutdown(): Promise<void>;
  onPayload(payload: string): void;
  events: ListenEvents;
  /** Called once the listener is closed. */
  onClosed?(): void;
}

export class ReconnectingListener {
  #closed = false;
  #closing: Promise<void> | undefined;
  /** True from a successful subscribe until the connection is lost. */
  #listening = false;
  #wake: (() => void) | undefined;

  constructor(private readonly options: ReconnectingListenerOptions) {}

  get closed(): boolean {
    return this.#closed;
  }

  /** The first LISTEN. When it fails the listener is closed and the error rethrown. */
  async start(): Promise<void> {
    try {
      await this.#subscribe();
    } catch (error) {
      await this.close();
      throw error;
    }
  }

  /** Hands a notification to the caller; a throw of theirs goes to `onError`. */
  deliver(payload: string): void {
    if (this.#closed) return;
    try {
      this.options.onPayload(payload);
    } catch (error) {
      this.#report(error);
    }
  }

  /** The listening connection was lost: report it and LISTEN again. Ignored unless listening. */
  lost(error: Error): void {
    if (this.#closed || !this.#listening) return;
    this.#listening = false;
    this.#report(error);
    void this.#reconnect();
  }

  close(): Promise<void> {
    this.#closing ??= (async () => {
      this.#closed = true;
      this.#wake?.();
      await this.options.shutdown().catch(() => {});
      this.options.onClosed?.();
    })();
    return this.#closing;
  }

  async #subscribe(): Promise<void> {
    await this.options.subscribe();
    if (this.#closed) {
      throw new PgQueueError('DRIVER_CLOSED', `pgqueue (${this.options.driverName}): the listener was closed.`);
    }
    this.#listening = true;
  }

  async #reconnect(): Promise<void> {
    const backoff = new Backoff();
    let delay = backoff.failed();
    while (!this.#closed) {
      await this.#sleep(delay);
      if (this.#closed) return;
      try {
        await this.#subscribe();
        safely(this.options.events.onReconnect);
        return;
      } catch (error) {
        if (this.#closed) return;
        this.#report(error);
        delay = backoff.failed();
      }
    }
  }

  #sleep(ms: number): Promise<void> {
    return new Promise((resolve) => {
      const timer = setTimeout(resolve, ms);
      this.#wake = () => {
        clearTimeout(timer);
        resolve();
      };
    });
  }

  #report(error: unknown): void {
    safely(() => this.options.events.onError?.(error));
  }
}

function safely(callback: (() => void) | undefined): void {
  try {
    callback?.();
  } catch {
    // A throwing callback of the caller's must not break the connection or the reconnect loop.
  }
}
