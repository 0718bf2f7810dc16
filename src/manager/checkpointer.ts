import { readFile } from 'node:fs/promises';
import { isSessionError, storageError } from '../errors.js';
import { parseSessionsFile, renderSessionsFile, type Checkpoint } from '../projections/sessions-file.js';
import { emptySessionsState, type SessionsState } from '../projections/sessions-projection.js';
import type { EventStore, StoreCursor } from '../store/event-store.js';
import { writeFileAtomic } from '../store/file/atomic-file.js';

/** Why a checkpoint could not be used at open. */
export type CheckpointVerdict = 'loaded' | 'missing' | 'corrupt' | 'stale';

/** Reads sessions.json: null when missing; `'corrupt'` when unreadable or edited. */
export async function readCheckpoint(path: string): Promise<Checkpoint | 'missing' | 'corrupt'> {
  let text: Buffer;
  try {
    text = await readFile(path);
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw storageError('reading', path, error);
  }
  try {
    return parseSessionsFile(text, path);
  } catch (error) {
    if (isSessionError(error, 'CORRUPT_CHECKPOINT')) return 'corrupt';
    throw error;
  }
}

/** Where a store's replay starts: the checkpoint's state and position if it matches the store, else nothing. */
export interface CheckpointStart {
  state: SessionsState;
  cursor: StoreCursor | null;
  verdict: CheckpointVerdict;
}

/**
 * Reads sessions.json and keeps it only if the store holds, at the position it claims, exactly
 * the event it names; otherwise the store is replayed from the start and the file rebuilt.
 */
export async function resolveCheckpoint(path: string, store: Pick<EventStore, 'verifyCursor'>): Promise<CheckpointStart> {
  const loaded = await readCheckpoint(path);
  if (typeof loaded === 'string') return { state: emptySessionsState(), cursor: null, verdict: loaded };
  const { state, cursor } = loaded;
  if (state.lastEventId !== null && !(await store.verifyCursor(cursor, state.lastEventId))) {
    return { state: emptySessionsState(), cursor: null, verdict: 'stale' };
  }
  return { state, cursor, verdict: 'loaded' };
}

/**
 * Keeps sessions.json close behind the log without rewriting it on every change (the original's
 * cost that grows with the store): it is written after `every` events, after `idleMs` without
 * new events, and on close. Writes are atomic and never overlap.
 */
export class Checkpointer {
  private pendingEvents = 0;
  private timer: NodeJS.Timeout | null = null;
  private writing: Promise<void> = Promise.resolve();
  private lastError: unknown = null;

  constructor(
    private readonly path: string,
    private readonly snapshot: () => { state: SessionsState; cursor: StoreCursor },
    private readonly every: number,
    private readonly idleMs: number,
  ) {}

  /** Counts newly folded events and schedules a write when due. */
  noteEvents(count: number): void {
    this.pendingEvents += count;
    if (this.pendingEvents >= this.every) {
      void this.write().catch(() => undefined);
      return;
    }
    if (this.timer !== null || this.idleMs < 0) return;
    this.timer = setTimeout(() => {
      this.timer = null;
      void this.write().catch(() => undefined);
    }, this.idleMs);
    // A pending checkpoint must not keep the process alive: the log already holds everything.
    this.timer.unref();
  }

  /** Writes sessions.json now (after any write in flight), from the current state. */
  write(): Promise<void> {
    this.clearTimer();
    this.pendingEvents = 0;
    this.writing = this.writing.then(
      () => this.writeNow(),
      () => this.writeNow(),
    );
    return this.writing;
  }

  /** Writes if anything changed since the last write; rethrows the last background failure. */
  async flush(): Promise<void> {
    this.clearTimer();
    if (this.pendingEvents > 0) await this.write();
    else await this.writing;
  }

  /** The error of the last background write, if it failed (the log is unaffected). */
  get backgroundError(): unknown {
    return this.lastError;
  }

  private async writeNow(): Promise<void> {
    const { state, cursor } = this.snapshot();
    const text = renderSessionsFile(state, cursor);
    try {
      await writeFileAtomic(this.path, text);
      this.lastError = null;
    } catch (error) {
      this.lastError = error;
      throw error;
    }
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
