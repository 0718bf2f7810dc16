import { join, dirname } from 'node:path';
import { loadSessionsFile, type LoadOptions, type LoadedSessionsFile } from './load-sessions-file.js';
import { SessionMap } from './session-map.js';
import { emptySessionsState, type SessionsState } from '../projections/sessions-projection.js';
import type { SessionEvent } from '../events/session-event.js';
import { START, type EventStore, type StoreCursor } from '../store/event-store.js';
import { FileLock } from '../store/file/file-lock.js';
import { checkUnmarkedSessionsFile } from './foreign-sessions-file.js';
import { estimateCheckpointBytes, pageOf, type CheckpointPolicy } from './checkpoint-policy.js';
import { SessionsFileWriter, type WriteOutcome } from './sessions-file-writer.js';

/** Why a checkpoint could not be used at open. */
export type CheckpointVerdict = 'loaded' | 'missing' | 'corrupt' | 'stale';

/** Where a store's replay starts: the checkpoint's state and position if it matches the store, else nothing. */
export interface CheckpointStart {
  state: SessionsState;
  cursor: StoreCursor | null;
  verdict: CheckpointVerdict;
  /** The file as loaded, when it was used. */
  loaded: LoadedSessionsFile | null;
}

/**
 * Reads sessions.json and keeps it only if the store holds, at the position it claims, exactly
 * the event it names; otherwise the store is replayed from the start and the file rebuilt.
 * Throws `FOREIGN_STORE` when the file is not this library's to rebuild (the original's store).
 */
export async function resolveCheckpoint(path: string, store: Pick<EventStore, 'verifyCursor' | 'holdsEvents'>, options: LoadOptions = {}): Promise<CheckpointStart> {
  const loaded = await loadSessionsFile(path, options);
  if (loaded === 'unmarked') await checkUnmarkedSessionsFile(path, store);
  if (typeof loaded === 'string') return { state: emptySessionsState(), cursor: null, verdict: loaded === 'unmarked' ? 'corrupt' : loaded, loaded: null };
  const { state, cursor } = loaded;
  let matches = false;
  try {
    matches = state.lastEventId === null || (await store.verifyCursor(cursor, state.lastEventId));
  } finally {
    if (!matches) closeSessions(state);
  }
  if (!matches) return { state: emptySessionsState(), cursor: null, verdict: 'stale', loaded: null };
  return { state, cursor, verdict: 'loaded', loaded };
}

/** Lets go of the file a loaded state still reads ended sessions from, without reading them. */
export function closeSessions(state: SessionsState): void {
  if (state.sessions instanceof SessionMap) state.sessions.discard();
}

/** What the checkpointer has done, for benchmarks and tests. */
export interface CheckpointCounters {
  incremental: number;
  full: number;
  bytes: number;
}

/** How many `idleMs` a considered checkpoint waits at most for appends to pause. */
const MAX_WAIT_IDLES = 8;

/**
 * Keeps sessions.json close behind the log at a cost bounded by what changed: it remembers which
 * sessions changed since the file's position, and writes (in place, see SessionsFileWriter)
 * when the log holds `every` events past it, when appends pause for `idleMs` (or 8 × `idleMs`
 * after new events, whichever comes first) and the write would cost at most `costRatio` bytes
 * per byte of those events, and on close. Writes never overlap, in
 * this process (a promise chain) or across processes (the checkpoint lock).
 */
export class Checkpointer {
  readonly counters: CheckpointCounters = { incremental: 0, full: 0, bytes: 0 };
  private readonly writer: SessionsFileWriter;
  private readonly lock: FileLock;
  private dirty = new Set<string>();
  private dirtySince = 0;
  private blankedPages = new Set<number>();
  private eventsSince = 0;
  private base: StoreCursor = START;
  private averageRecordBytes = 1024;
  private timer: NodeJS.Timeout | null = null;
  /** When the last events were noted, and the first of those the next checkpoint would cover (ms). */
  private lastEventAt = 0;
  private firstPendingAt = 0;
  /** A write is queued that has not taken its snapshot yet. */
  private queued = false;
  private writing: Promise<unknown> = Promise.resolve();
  private lastError: unknown = null;

  constructor(
    path: string,
    private readonly snapshot: () => { state: SessionsState; cursor: StoreCursor },
    private readonly policy: CheckpointPolicy,
    lockTimeoutMs: number,
    /** How many bytes of log lie between two cursors, where the store can tell (see `EventStore.bytesBetween`). */
    private readonly bytesBetween: (from: StoreCursor, to: StoreCursor) => number | null = () => null,
  ) {
    this.writer = new SessionsFileWriter(path);
    this.lock = new FileLock(join(dirname(path), 'sessions.lock'), lockTimeoutMs);
  }

  /** Starts from the file the store was opened with. */
  adoptLoaded(loaded: LoadedSessionsFile): void {
    this.writer.adoptLoaded(loaded);
    this.dirtySince = loaded.cursor.seq;
    this.base = loaded.cursor;
  }

  /** Notes folded events (their sessions changed); with `schedule`, considers a write. */
  noteEvents(events: readonly SessionEvent[], schedule: boolean): void {
    for (const event of events) {
      if (this.dirty.has(event.sessionId)) continue;
      this.dirty.add(event.sessionId);
      const place = this.writer.placeOf(event.sessionId);
      if (place !== null && !place.ended) this.blankedPages.add(pageOf(place.start));
    }
    this.eventsSince += events.length;
    if (!schedule) return;
    if (this.eventsSince >= this.policy.every) {
      // One at a time: until the queued write takes its snapshot, later events join it.
      if (!this.queued) {
        this.queued = true;
        void this.write().catch(() => undefined);
      }
      return;
    }
    if (this.policy.idleMs < 0) return;
    this.lastEventAt = Date.now();
    if (this.timer !== null) return;
    this.firstPendingAt = this.lastEventAt;
    this.armTimer(this.policy.idleMs);
  }

  /**
   * Considers a checkpoint once appends pause for `idleMs`, or at the latest {@link MAX_WAIT_IDLES}
   * × `idleMs` after the first event it would cover: a burst is not interrupted every `idleMs`
   * to write what its next events change again, and under steady load sessions.json still
   * stays close behind.
   */
  private armTimer(ms: number): void {
    this.timer = setTimeout(() => {
      this.timer = null;
      const now = Date.now();
      const untilQuiet = this.policy.idleMs - (now - this.lastEventAt);
      const untilLatest = this.firstPendingAt + MAX_WAIT_IDLES * this.policy.idleMs - now;
      if (untilQuiet > 0 && untilLatest > 0) return this.armTimer(Math.min(untilQuiet, untilLatest));
      if (this.pays()) void this.write().catch(() => undefined);
    }, ms);
    // A pending checkpoint must not keep the process alive: the log already holds everything.
    this.timer.unref();
  }

  /** Writes sessions.json now (after any write in flight): in place, or whole with `full`. */
  write(full = false): Promise<unknown> {
    this.clearTimer();
    const written = this.writing.then(
      () => this.writeNow(full),
      () => this.writeNow(full),
    );
    this.writing = written;
    return written;
  }

  /** Writes if anything changed since the last write; rethrows the last background failure. */
  async flush(): Promise<void> {
    this.clearTimer();
    if (this.eventsSince > 0 || this.dirty.size > 0) await this.write();
    else await this.writing;
  }

  /** The error of the last background write, if it failed (the log is unaffected). */
  get backgroundError(): unknown {
    return this.lastError;
  }

  /** Whether a write now would cost at most `costRatio` bytes per byte of events since the last. */
  private pays(): boolean {
    const { cursor } = this.snapshot();
    // The log's bytes since, where the store can tell (the file store); else ~256 bytes an event.
    const eventBytes = Math.max(this.bytesBetween(this.base, cursor) ?? 0, this.eventsSince * 256);
    return estimateCheckpointBytes(this.dirty.size, this.averageRecordBytes, this.blankedPages.size) <= this.policy.costRatio * eventBytes;
  }

  private async writeNow(full: boolean): Promise<void> {
    let taken: { dirty: Set<string>; pages: Set<number>; events: number; cursor: StoreCursor } | null = null;
    let release: (() => Promise<void>) | null = null;
    let outcome: WriteOutcome;
    try {
      release = await this.lock.acquire();
      outcome = await this.writer.write(() => {
        const { state, cursor } = this.snapshot();
        this.queued = false;
        taken = { dirty: this.dirty, pages: this.blankedPages, events: this.eventsSince, cursor };
        this.dirty = new Set();
        this.blankedPages = new Set();
        return { state, cursor, dirty: taken.dirty, dirtySince: this.dirtySince };
      }, full);
    } catch (error) {
      this.queued = false;
      this.lastError = error;
      // Nothing of it counts as written: its sessions stay changed for the next write.
      if (taken !== null) this.restore(taken);
      throw error;
    } finally {
      await release?.();
    }
    const { dirty, events, cursor } = taken!;
    this.dirtySince = cursor.seq;
    this.eventsSince -= events;
    this.base = cursor;
    this.lastError = null;
    if (outcome.kind === 'skipped') return;
    this.counters[outcome.kind] += 1;
    this.counters.bytes += outcome.bytes;
    if (outcome.kind === 'incremental' && dirty.size > 0) this.averageRecordBytes = (this.averageRecordBytes + outcome.bytes / dirty.size) / 2;
  }

  private restore(taken: { dirty: Set<string>; pages: Set<number> }): void {
    for (const id of taken.dirty) this.dirty.add(id);
    for (const page of taken.pages) this.blankedPages.add(page);
  }

  private clearTimer(): void {
    if (this.timer !== null) clearTimeout(this.timer);
    this.timer = null;
  }
}
