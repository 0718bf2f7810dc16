import type { SessionEvent } from '../events/session-event.js';
import type { AppendRequest } from './event-store.js';

/** An append waiting for its commit. */
export interface PendingAppend {
  request: AppendRequest;
  resolve: (events: SessionEvent[]) => void;
  reject: (error: unknown) => void;
}

/**
 * Group commit: appends that arrive while a commit is in flight wait and go out together in the
 * next one (one write and one fsync, or one transaction), at most `maxBatch` at a time.
 * `commit` must settle every append of its batch.
 */
export class GroupCommit {
  private queue: PendingAppend[] = [];
  private flushing: Promise<void> | null = null;

  constructor(
    private readonly commit: (batch: PendingAppend[]) => Promise<void>,
    private readonly maxBatch: number,
  ) {}

  /** Queues an append; resolves with its stored events once committed. */
  enqueue(request: AppendRequest): Promise<SessionEvent[]> {
    return new Promise((resolve, reject) => {
      this.queue.push({ request, resolve, reject });
      this.flushing ??= this.flushLoop();
    });
  }

  /** Resolves when nothing is queued or in flight. */
  async drained(): Promise<void> {
    while (this.flushing !== null) await this.flushing;
  }

  /**
   * Commits until nothing is queued. It marks itself ended in the same turn as it finds the
   * queue empty: an append queued a moment later (its caller released by the last commit)
   * starts a new loop, where waiting for this one to be seen as ended would strand it.
   */
  private async flushLoop(): Promise<void> {
    try {
      for (;;) {
        const batch = this.queue.splice(0, this.maxBatch);
        await this.commit(batch);
        // After a batch of several, let every caller it released append again before the next
        // batch is taken, or the loop is found idle (one turn of the event loop): one larger
        // write instead of many small ones, each paying the disk's fixed cost. Looking at the
        // queue first found it empty, the callers' answers still on their way: the first of
        // them then started a commit of its own, the others waited for it, and a third of the
        // commits of 100 callers carried one append. A lone caller never waits.
        if (batch.length > 1) await new Promise((resolve) => setImmediate(resolve));
        if (this.queue.length === 0) return;
      }
    } finally {
      this.flushing = null;
    }
  }
}
