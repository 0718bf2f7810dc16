import { constants, fstatSync } from 'node:fs';
import { mkdir, open, stat, type FileHandle } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionError, storageError } from '../../errors.js';
import { diskFaults } from './disk-faults.js';
import type { SessionEvent } from '../../events/session-event.js';
import type { AppendRequest, ConnectReport, EventSink, EventStore, ReadOptions, StoreCursor, StoredRecord, StoreRead, TornTail } from '../event-store.js';
import { watchDirectory } from './watch-directory.js';
import { fileCursor, filePositionOf, type FilePosition } from './file-position.js';
import { GroupCommit, type PendingAppend } from '../group-commit.js';
import { fsyncDirectory } from './atomic-file.js';
import { FileLock } from './file-lock.js';
import { LeasedLock } from './leased-lock.js';
import { encodeEventLine, decodeEventLine } from './line-codec.js';
import { LogScanner, type LogRecord } from './log-scanner.js';
import { readLogChunks } from './read-log-chunks.js';
import { sessionEventsInLog } from './session-lines.js';
import { stampBatch } from './stamp-batch.js';
import { FileTranscripts } from './file-transcripts.js';

/** How appends reach the disk. */
export type Durability = 'fsync' | 'none';

/** Options of the {@link FileEventStore}. */
export interface FileEventStoreOptions {
  /**
   * `'fsync'` (default): an append resolves once its bytes are on disk (`O_DSYNC` writes, the
   * same guarantee as `write` + `fdatasync`), so it survives power loss.
   * `'none'`: it resolves after `write`, surviving a crash of the process but not of the machine.
   */
  durability?: Durability;
  /** How long to wait for another process's lock before `LOCKED` (default 10 000 ms). */
  lockTimeoutMs?: number;
  /** Most appends one write and one fsync may cover (default 1 000). */
  maxBatch?: number;
  /**
   * How long the lock stays held after an append in case another follows, in ms (default 2;
   * 0 releases at once). Saves a lock-file create and remove per append for a busy writer;
   * other processes wait at most this long (and never more than 50 ms of continuous hold).
   */
  lockLeaseMs?: number;
}


/** The log file's name inside the store directory. */
export const LOG_FILE = 'events.ndjson';

/**
 * The embedded event store: `<dir>/events.ndjson`, append-only, one event a line, shared
 * safely by any number of processes. Appends from one process are group-committed (every
 * append waiting while a write is in flight goes out in the next write and fsync); across
 * processes a lock file serializes writers, and each writer first catches up with what the
 * others wrote, then checks expected revisions, so two processes never both end a session.
 */
export class FileEventStore implements EventStore {
  readonly location: string;
  /** The agents' conversations, in `<dir>/transcripts`. */
  readonly transcripts: FileTranscripts;
  private readonly lock: LeasedLock;
  private readonly durability: Durability;
  private handle: FileHandle | null = null;
  private sink: EventSink | null = null;
  private scanner: LogScanner;
  private readOffset = 0;
  private position: FilePosition = filePositionOf(null);
  private readonly appends: GroupCommit;
  private closed = false;

  constructor(readonly dir: string, options: FileEventStoreOptions = {}) {
    this.location = join(dir, LOG_FILE);
    this.transcripts = new FileTranscripts(dir);
    this.lock = new LeasedLock(new FileLock(join(dir, 'events.lock'), options.lockTimeoutMs ?? 10_000), options.lockLeaseMs ?? 2, 50);
    this.durability = options.durability ?? 'fsync';
    // A misspelt durability must not quietly mean "no fsync".
    if (this.durability !== 'fsync' && this.durability !== 'none') {
      throw new SessionError('INVALID_INPUT', `option durability must be 'fsync' or 'none', not ${JSON.stringify(this.durability)}`);
    }
    this.appends = new GroupCommit((batch) => this.commit(batch), options.maxBatch ?? 1000);
    this.scanner = new LogScanner(this.location);
  }

  async connect(sink: EventSink, from: StoreCursor | null): Promise<ConnectReport> {
    await mkdir(this.dir, { recursive: true }).catch((e: unknown) => {
      throw storageError('creating directory', this.dir, e);
    });
    this.handle = await this.openLog();
    this.sink = sink;
    if (from !== null) this.position = filePositionOf(from);
    this.resetScanner();
    // The bulk of a replay needs no lock: writers only ever add whole writes, or cut off their own unfinished one.
    let replayedEvents = await this.feedToEnd();
    const release = await this.holdLock();
    let tornTail: TornTail | null;
    try {
      replayedEvents += await this.feedToEnd();
      tornTail = await this.cutTornTail();
    } finally {
      await release();
    }
    return { replayedEvents, tornTail };
  }

  async verifyCursor(cursor: StoreCursor, eventId: string): Promise<boolean> {
    const at = filePositionOf(cursor);
    const length = at.offset - at.lastLineOffset;
    if (at.seq === 0) return at.offset === 0;
    if (length <= 1 || length > 64 * 1024 * 1024) return false;
    // Read-only when not connected: a check must never create the log.
    const handle = this.handle ?? (await open(this.location, 'r').catch(() => null));
    if (handle === null) return false;
    const buffer = Buffer.alloc(length);
    const { bytesRead } = await handle.read(buffer, 0, length, at.lastLineOffset);
    if (handle !== this.handle) await handle.close();
    if (bytesRead !== length || buffer[length - 1] !== 0x0a) return false;
    const decoded = decodeEventLine(buffer.toString('utf8', 0, length - 1));
    return decoded.ok && decoded.event.seq === at.seq && decoded.event.id === eventId;
  }

  async holdsEvents(): Promise<boolean> {
    return (await this.logSize()) > 0;
  }

  /** The log's size now (0 when there is none yet); read without opening it. */
  private logSize(): Promise<number> {
    return stat(this.location).then((s) => s.size, (error: NodeJS.ErrnoException) => {
      if (error.code === 'ENOENT') return 0;
      throw storageError('reading', this.location, error);
    });
  }

  append(request: AppendRequest): Promise<SessionEvent[]> {
    if (this.closed || this.handle === null) return Promise.reject(new SessionError('CLOSED', `${this.location} is closed`));
    return this.appends.enqueue(request);
  }

  async refresh(): Promise<number> {
    if (this.closed || this.handle === null) throw new SessionError('CLOSED', `${this.location} is closed`);
    // While this process holds the file lock nobody else can have written. Otherwise a
    // synchronous fstat: this check runs before every command, and the async one queues behind
    // writes on libuv's small thread pool.
    if (this.lock.holdsFile || fstatSync(this.handle.fd).size === this.readOffset) return 0;
    const release = await this.holdLock();
    try {
      return await this.feedToEnd();
    } finally {
      await release();
    }
  }

  async readRecords(from: StoreCursor | null, options: ReadOptions = {}): Promise<StoreRead> {
    const start = filePositionOf(from);
    // The log as it is now; bytes appended meanwhile are the next read's.
    const size = await this.logSize();
    const scanner = new LogScanner(this.location, { offset: start.offset, line: start.line, lastSeq: start.seq }, options.onFinding, options.verify);
    let lastLineOffset = start.lastLineOffset;
    const location = this.location;
    async function* records(): AsyncGenerator<StoredRecord[]> {
      for await (const chunk of readLogChunks(location, start.offset, size)) {
        const batch = scanner.push(chunk);
        if (batch.length === 0) continue;
        lastLineOffset = batch.at(-1)!.offset;
        yield batch;
      }
    }
    return {
      size,
      records: records(),
      end: () => {
        const tail = scanner.tail();
        const cursor = fileCursor({ seq: tail.lastSeq, offset: tail.committedEnd, line: tail.line, lastLineOffset });
        return { cursor, line: tail.line, offset: tail.committedEnd, pendingBytes: tail.pendingBytes, pendingLines: tail.pendingLines };
      },
      cursorAfter: (record) => fileCursor({ seq: record.event.seq, offset: record.end, line: record.line, lastLineOffset: record.offset }),
    };
  }

  async readSessionEvents(sessionId: string, upTo: StoreCursor, known?: { createdAt: string; revision: number }): Promise<SessionEvent[]> {
    return sessionEventsInLog(this.location, sessionId, filePositionOf(upTo).offset, known);
  }

  watch(onChange: () => Promise<unknown>): { stop: () => void } {
    return watchDirectory(this.dir, onChange);
  }

  async *readAll(): AsyncIterable<SessionEvent[]> {
    const scanner = new LogScanner(this.location);
    for await (const chunk of readLogChunks(this.location, 0)) {
      const records = scanner.push(chunk);
      if (records.length > 0) yield records.map((r) => r.event);
    }
  }

  cursor(): StoreCursor {
    return fileCursor(this.position);
  }

  bytesBetween(from: StoreCursor, to: StoreCursor): number {
    return filePositionOf(to).offset - filePositionOf(from).offset;
  }

  async close(): Promise<void> {
    if (this.closed) return;
    this.closed = true;
    await this.appends.drained();
    await this.lock.releaseNow();
    await this.handle?.close();
    this.handle = null;
  }

  private async openLog(): Promise<FileHandle> {
    const existed = await stat(this.location).then(() => true, () => false);
    try {
      diskFaults.allow('log.open');
      const handle = await open(this.location, this.openFlags(), 0o600);
      // A new file's directory entry must be durable too, or a power loss could lose the whole log.
      if (!existed) await fsyncDirectory(this.dir);
      return handle;
    } catch (error) {
      throw storageError('opening', this.location, error);
    }
  }

  /**
   * `a+`, plus `O_DSYNC` when appends must be durable: each write then returns only once its
   * data is on disk, as `write` + `fdatasync` would, in one system call and one trip through
   * libuv's thread pool instead of two (the write-ahead-log flag PostgreSQL calls open_datasync).
   */
  private openFlags(): number {
    const append = constants.O_RDWR | constants.O_APPEND | constants.O_CREAT;
    return this.durability === 'fsync' ? append | constants.O_DSYNC : append;
  }

  private resetScanner(): void {
    const { offset, line, seq } = this.position;
    this.scanner = new LogScanner(this.location, { offset, line, lastSeq: seq });
    this.readOffset = offset;
  }

  /** Reads from where the scanner stopped to the current end, feeding whole transactions to the sink. */
  private async feedToEnd(): Promise<number> {
    let count = 0;
    const { size } = fstatSync(this.handle!.fd);
    if (size < this.readOffset) {
      throw new SessionError('CORRUPT_LOG', `${this.location} shrank to ${size} bytes below the ${this.readOffset} already read; reopen the store`);
    }
    if (size === this.readOffset) return 0;
    for await (const chunk of readLogChunks(this.location, this.readOffset, size)) {
      this.readOffset += chunk.length;
      count += this.deliver(this.scanner.push(chunk));
    }
    return count;
  }

  private deliver(records: LogRecord[]): number {
    if (records.length === 0) return 0;
    this.sink!.apply(records.map((r) => r.event));
    const last = records[records.length - 1]!;
    this.position = { seq: last.event.seq, offset: last.end, line: last.line, lastLineOffset: last.offset };
    return records.length;
  }

  /**
   * Takes the store's lock, and reads again from the last whole write any bytes read earlier
   * past it (read without the lock, or under a hold since given up). They are an unfinished
   * write: a writer whose write failed part way (a full disk), or whose cut of such bytes failed
   * too, and any writer may have cut them off and written there since. What was given to the
   * sink stands: a write is one frame (its lines' `txSize`), so a write cut short never leaves a
   * whole one behind. Every hold of the lock goes through here. Resolves to the release.
   */
  private async holdLock(): Promise<() => Promise<void>> {
    const release = await this.lock.acquire();
    if (this.readOffset !== this.position.offset) this.resetScanner();
    return release;
  }

  /** Under the lock, bytes past the last whole transaction can only be a dead writer's: cut them. */
  private async cutTornTail(): Promise<TornTail | null> {
    const tail = this.scanner.tail();
    if (tail.pendingBytes === 0) return null;
    await this.truncateTo(tail.committedEnd);
    this.resetScanner();
    return { offset: tail.committedEnd, bytes: tail.pendingBytes, lines: tail.pendingLines };
  }

  private async truncateTo(offset: number): Promise<void> {
    try {
      diskFaults.allow('log.truncate');
      await this.handle!.truncate(offset);
      await this.handle!.datasync();
    } catch (error) {
      throw storageError('truncating', this.location, error);
    }
  }

  private async commit(batch: PendingAppend[]): Promise<void> {
    let release: () => Promise<void>;
    try {
      release = await this.holdLock();
    } catch (error) {
      for (const pending of batch) pending.reject(error);
      return;
    }
    let settle = () => {};
    try {
      await this.feedToEnd();
      await this.cutTornTail();
      const { accepted, events } = stampBatch(batch, this.position.seq, (id) => this.sink!.revisionOf(id), this.location);
      if (events.length > 0) await this.write(events);
      settle = () => {
        for (const { pending, stored } of accepted) pending.resolve(stored);
      };
    } catch (error) {
      for (const pending of batch) pending.reject(error);
    } finally {
      // Callers hear back only once the lock is handed back, so nothing of theirs is still in flight.
      await release();
    }
    settle();
  }

  private async write(events: SessionEvent[]): Promise<void> {
    const lines = events.map(encodeEventLine);
    const buffer = Buffer.from(lines.join(''));
    const start = this.position.offset;
    try {
      const writing = this.writeAll(buffer);
      try {
        this.sink!.prepare?.(events);
      } catch {
        // Preparing is only a head start: whatever it could not build, apply builds later.
      }
      await writing;
    } catch (error) {
      // Undo a partial write so no half-acknowledged event stays behind; if even that fails,
      // the next writer's torn-tail check cuts whatever is incomplete.
      await this.truncateTo(start).catch(() => undefined);
      throw storageError('appending to', this.location, error);
    }
    let offset = start;
    const records: LogRecord[] = events.map((event, i) => {
      const end = offset + Buffer.byteLength(lines[i]!);
      const record = { event, line: this.position.line + i + 1, offset, end };
      offset = end;
      return record;
    });
    this.readOffset = offset;
    this.deliver(records);
    this.resetScanner();
  }

  /** Writes the whole buffer; the first write is under way when this returns. */
  private async writeAll(buffer: Buffer): Promise<void> {
    let written = 0;
    while (written < buffer.length) {
      written += (await this.handle!.write(buffer, written, diskFaults.allow('log.write', buffer.length - written))).bytesWritten;
    }
  }
}
