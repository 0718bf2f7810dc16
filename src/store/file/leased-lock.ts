import type { FileLock } from './file-lock.js';

/**
 * The store's lock as this process uses it: callers inside the process take turns (an async
 * mutex), and the file lock underneath is kept for a short lease after each use, so a writer
 * that appends again within `leaseMs` skips creating and removing the lock file — which would
 * otherwise cost as much as the append. No hold lasts past `maxHoldMs`, so other processes get
 * their turn; a process that dies holding it leaves a lock the others take over (dead pid).
 */
export class LeasedLock {
  private tail: Promise<void> = Promise.resolve();
  private held: { release: () => Promise<void>; since: number } | null = null;
  private timer: NodeJS.Timeout | null = null;

  constructor(
    private readonly lock: FileLock,
    private readonly leaseMs: number,
    private readonly maxHoldMs: number,
  ) {}

  /** Takes the lock (after any in-process holder); resolves to the function that hands it back. */
  async acquire(): Promise<() => Promise<void>> {
    let done!: () => void;
    const turn = new Promise<void>((resolve) => (done = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => turn);
    await previous;
    try {
      this.clearTimer();
      if (this.held !== null && Date.now() - this.held.since >= this.maxHoldMs) await this.releaseFile();
      this.held ??= { release: await this.lock.acquire(), since: Date.now() };
    } catch (error) {
      done();
      throw error;
    }
    return async () => {
      if (this.leaseMs <= 0) await this.releaseFile();
      else {
        this.timer = setTimeout(() => void this.releaseIdle(), this.leaseMs);
        this.timer.unref();
      }
      done();
    };
  }

  /**
   * Whether the file lock is held by this process right now. While it is, no other process can
   * have written since this process's last holder let go of its turn.
   */
  get holdsFile(): boolean {
    return this.held !== null;
  }

  /** Gives the file lock back now (on close); throws `STORAGE` if the lock file cannot be removed. */
  async releaseNow(): Promise<void> {
    await this.tail;
    this.clearTimer();
    await this.releaseFile();
    if (this.held !== null) {
      const held = this.held;
      this.held = null;
      await held.release();
    }
  }

  private async releaseIdle(): Promise<void> {
    const release = await this.acquireTurn();
    try {
      await this.releaseFile();
    } finally {
      release();
    }
  }

  private async acquireTurn(): Promise<() => void> {
    let done!: () => void;
    const turn = new Promise<void>((resolve) => (done = resolve));
    const previous = this.tail;
    this.tail = previous.then(() => turn);
    await previous;
    return done;
  }

  /**
   * Removes the lock file. If that fails (EACCES, EIO…) the lock is still ours: it stays held,
   * the next acquire reuses it and the next release tries again, rather than failing a caller
   * whose append already succeeded.
   */
  private async releaseFile(): Promise<void> {
    const held = this.held;
    if (held === null) return;
    try {
      await held.release();
      this.held = null;
    } catch (error) {
      process.emitWarning(`could not release the store lock yet: ${String(error)}`, 'SessionLockWarning');
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
