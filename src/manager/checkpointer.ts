import { closeSync } from 'node:fs';
import { loadSessionsFile } from '../projections/load-sessions-file.js';
import { SessionArchive } from '../projections/session-archive.js';
import { SessionMap } from '../projections/session-map.js';
import { renderSessionsFileParts } from '../projections/sessions-file.js';
import { emptySessionsState, type SessionsState } from '../projections/sessions-projection.js';
import type { EventStore, StoreCursor } from '../store/event-store.js';
import { writeFileAtomicKeepingFd } from '../store/file/atomic-file.js';

/** Why a checkpoint could not be used at open. */
export type CheckpointVerdict = 'loaded' | 'missing' | 'corrupt' | 'stale';

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
  const loaded = await loadSessionsFile(path);
  if (typeof loaded === 'string') return { state: emptySessionsState(), cursor: null, verdict: loaded };
  const { state, cursor } = loaded;
  let matches = false;
  try {
    matches = state.lastEventId === null || (await store.verifyCursor(cursor, state.lastEventId));
  } finally {
    if (!matches) closeSessions(state);
  }
  if (!matches) return { state: emptySessionsState(), cursor: null, verdict: 'stale' };
  return { state, cursor, verdict: 'loaded' };
}

/** Lets go of the file a loaded state still reads ended sessions from, without reading them. */
export function closeSessions(state: SessionsState): void {
  if (state.sessions instanceof SessionMap) state.sessions.discard();
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
    // Rendered at once, so the file is the state at `cursor` even if events arrive while it is written.
    const { parts, layout, moved } = renderSessionsFileParts(state, cursor);
    try {
      const fd = await writeFileAtomicKeepingFd(this.path, parts);
      // Sessions still unread now read from the new file, so the old one can go.
      const kept = state.sessions instanceof SessionMap && state.sessions.adopt(new SessionArchive(fd, this.path, layout), moved);
      if (!kept) closeSync(fd);
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
