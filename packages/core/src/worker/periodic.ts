/**
 * A worker's periodic background task (the vacuum, the statistics prune): one look every
 * `intervalMs`, never two at once, and a stop that waits for the look under way.
 */
export class PeriodicTask {
  private timer: ReturnType<typeof setInterval> | undefined;
  private running: Promise<void> | undefined;
  private stopped = false;

  /** `look` reports its own errors: it must not reject. */
  constructor(
    private readonly intervalMs: number,
    private readonly look: () => Promise<void>,
  ) {}

  /** Starts the timer; with `now`, looks at once too. */
  start({ now = false }: { now?: boolean } = {}): void {
    if (this.timer !== undefined || this.stopped) return;
    if (now) void this.check();
    this.timer = setInterval(() => void this.check(), this.intervalMs);
  }

  /** Looks now, or joins the look under way; resolves when it is done. */
  check(): Promise<void> {
    if (this.stopped) return Promise.resolve();
    this.running ??= this.look().finally(() => {
      this.running = undefined;
    });
    return this.running;
  }

  /** No more looks; the look under way goes on. */
  cancel(): void {
    this.stopped = true;
    if (this.timer !== undefined) clearInterval(this.timer);
    this.timer = undefined;
  }

  /** No more looks; resolves when the look under way is done. */
  async stop(): Promise<void> {
    this.cancel();
    await this.running;
  }
}
