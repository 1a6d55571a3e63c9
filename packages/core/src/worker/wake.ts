/**
 * The worker loop's one wait: for a notification, a free slot, a finished job or stop, with an
 * optional timeout (the poll interval). A wake while the loop is not waiting is remembered, so
 * a notification that arrives during a fetch makes the loop fetch again instead of sleeping.
 */
export class Wakeup {
  private pending = false;
  private resolve: (() => void) | undefined;
  private timer: ReturnType<typeof setTimeout> | undefined;

  wake(): void {
    const resolve = this.resolve;
    if (resolve === undefined) {
      this.pending = true;
      return;
    }
    this.release();
    resolve();
  }

  /** Forgets earlier wakes: call it just before looking for work. */
  clear(): void {
    this.pending = false;
  }

  /** Resolves on the next wake (or a remembered one), or after `timeoutMs` when given. */
  wait(timeoutMs?: number): Promise<void> {
    if (this.pending) {
      this.pending = false;
      return Promise.resolve();
    }
    return new Promise((resolve) => {
      this.resolve = resolve;
      if (timeoutMs !== undefined) {
        this.timer = setTimeout(() => {
          this.release();
          resolve();
        }, Math.max(0, timeoutMs));
      }
    });
  }

  private release(): void {
    this.resolve = undefined;
    if (this.timer !== undefined) clearTimeout(this.timer);
    this.timer = undefined;
  }
}
