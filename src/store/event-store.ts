import type { AgentLogStore } from './agent-log-store.js';
import type { TranscriptStore } from './transcript-store.js';
import type { PendingEvent, SessionEvent } from '../events/session-event.js';
import type { SessionsTableFold } from './postgres/session-row.js';
import type { SlotTableStore } from './slot-store.js';

/** Where a cursor stands in a store's own terms: only the store that made it reads it. */
export type StorePosition = Readonly<Record<string, number>>;

/**
 * How far a reader has got in a store: the last `seq` it covers (every store numbers its events
 * so), and where that is in the store's own terms (the file store: the byte offset past that
 * event's line, the line's number and its start). Readers keep a cursor and hand it back; they
 * never look inside `position`.
 */
export interface StoreCursor {
  readonly seq: number;
  readonly position: StorePosition;
}

/** The cursor before the first event of any store. */
export const START: StoreCursor = { seq: 0, position: {} };

/** An append: its events, written together or not at all, and the revisions it was decided on. */
export interface AppendRequest {
  events: readonly PendingEvent[];
  /**
   * For every session the decision read: how many events it had (0 = must not exist yet).
   * If any differs when the store is about to write, the append fails with `CONFLICT`
   * and nothing of it is written.
   */
  expectedRevisions: ReadonlyMap<string, number>;
}

/** The consumer a store feeds, in `seq` order, every event it learns of (its own and other writers'). */
export interface EventSink {
  /** Folds events into the consumer's state. Throws `CORRUPT_LOG` if they do not fit. */
  apply(events: readonly SessionEvent[]): void;
  /** How many events the consumer has seen for a session (0 if none). */
  revisionOf(sessionId: string): number;
  /**
   * Optional: called with events about to be applied while their write is still on its way to
   * disk, so the consumer can do work that needs no state change (e.g. build session actors)
   * in the time the disk takes. The events may yet fail to commit; `apply` is what counts.
   */
  prepare?(events: readonly SessionEvent[]): void;
}

/**
 * One event as a read-only reader gets it, and where it stands: in the file store its line, the
 * byte offset of that line and the offset past it; in other stores all three are its `seq`.
 */
export interface StoredRecord {
  event: SessionEvent;
  line: number;
  offset: number;
  end: number;
  /** The event's JSON as the store holds it, where it is exactly `JSON.stringify(event)` (a reader passing events on need not serialize them again). */
  json?: string;
}

/** A problem a tolerant read (the audit's) found and stepped over. */
export interface ReadFinding {
  line: number;
  offset: number;
  message: string;
}

/** Options of {@link EventStore.readRecords}. */
export interface ReadOptions {
  /** `'checksum'` (default) trusts an event its checksum vouches for; `'schema'` checks each against its schema too. */
  verify?: 'schema' | 'checksum';
  /** Given (the audit), a bad event is reported here and the read goes on, instead of throwing `CORRUPT_LOG`. */
  onFinding?: (finding: ReadFinding) => void;
}

/** Where a read-only pass ended: its position past the last whole transaction, and what unfinished part follows. */
export interface ReadEnd {
  cursor: StoreCursor;
  /** The same place as a finding names one: the last whole line's number and the offset past it (the `seq` elsewhere). */
  line: number;
  offset: number;
  /** Bytes after the cursor that do not (yet) form a whole transaction: a write in progress, or torn by a crash. */
  pendingBytes: number;
  /** Complete lines among them, of a transaction whose other lines are missing. */
  pendingLines: number;
}

/** A read-only pass over what a store holds as it starts. */
export interface StoreRead {
  /** How far the store reaches as the pass began (the file log's bytes; the last `seq` elsewhere): progress is `end / size`. */
  readonly size: number;
  /** The records, whole transactions only, in `seq` order, in batches. */
  readonly records: AsyncIterable<StoredRecord[]>;
  /** Where the pass ended; call it once the records are read. */
  end(): ReadEnd;
  /** The cursor just past a record of this pass (for a reader that stops early). */
  cursorAfter(record: StoredRecord): StoreCursor;
}

/** What connecting found: how much was replayed and whether a torn tail was cut off. */
export interface ConnectReport {
  replayedEvents: number;
  tornTail: TornTail | null;
}

/** Bytes at the end of the log that a crash left unfinished, cut off when the store opened. */
export interface TornTail {
  /** Offset where the cut was made (the end of the last whole transaction). */
  offset: number;
  bytes: number;
  /** Whole lines dropped because their transaction's other lines never made it. */
  lines: number;
}

/**
 * Durable, ordered storage of session events. The file store is the embedded default;
 * every store gives the same guarantees: appends are atomic, ordered by a gap-free `seq`,
 * checked against expected revisions, and durable when they resolve.
 */
export interface EventStore {
  /** A human-readable location, e.g. the log's path. */
  readonly location: string;
  /** Feeds `sink` every event after `from` (all when null), repairing a torn tail. */
  connect(sink: EventSink, from: StoreCursor | null): Promise<ConnectReport>;
  /** True when the store holds, at `cursor`, exactly the event `eventId`. */
  verifyCursor(cursor: StoreCursor, eventId: string): Promise<boolean>;
  /** Appends atomically; resolves with the stored events once they are durable. */
  append(request: AppendRequest): Promise<SessionEvent[]>;
  /** Feeds the sink whatever other writers appended since; resolves with how many events. */
  refresh(): Promise<number>;
  /**
   * Whether a writer should {@link refresh} before deciding an append (default true). Every store
   * checks an append's expected revisions against the latest where it commits, so a decision made
   * on a stale view is refused (`CONFLICT`, after the store caught up) and decided again, never
   * written. Catching up first only makes that rarer; a store whose catch-up costs a round trip
   * and that follows other writers by itself (PostgreSQL, through LISTEN) says false.
   */
  readonly refreshBeforeWrite?: boolean;
  /**
   * Optional (PostgreSQL): folds into the store's table of sessions the events it has not folded
   * yet, up to the last one committed as it begins, with the projection's fold; resolves with how
   * many. A manager calls it as it opens and as it closes; a read, before it reads.
   */
  catchUpSessionsTable?(fold: SessionsTableFold): Promise<number>;
  /** Where this store keeps the agents' conversations; without one, they go beside the manager's cache. */
  readonly transcripts?: TranscriptStore;
  /**
   * Where the managers running agents publish the ends of their logs, for pages served on
   * other hosts (PostgreSQL); absent where every agent writes its log beside the store (files).
   */
  readonly agentLogs?: AgentLogStore;
  /**
   * Where the store keeps its concurrency slots, shared by every manager and host on it
   * (PostgreSQL: its `slots` tables); without one, a manager keeps them in `slots.json` beside its cache.
   */
  readonly slots?: SlotTableStore;
  /**
   * Whether the store holds any event at all. Reads only, and works before {@link connect}: an
   * open asks it before it takes a sessions.json without a checkpoint for a cache to rebuild.
   */
  holdsEvents(): Promise<boolean>;
  /**
   * Reads what the store holds after `from` (from the start when null) without taking a lock,
   * repairing anything or creating anything: the way in for the read commands, the audit and
   * `watch`. Works before {@link connect}. Throws `CORRUPT_LOG` (unless `onFinding`), `STORAGE`.
   */
  readRecords(from: StoreCursor | null, options?: ReadOptions): Promise<StoreRead>;
  /**
   * Calls `onChange` whenever other processes may have appended (never twice at once, and never
   * keeping the process alive), until the returned `stop`. A reader then calls {@link readRecords}
   * from where it got to.
   */
  watch(onChange: () => Promise<unknown>): { stop: () => void };
  /**
   * The events of one session, in `seq` order, up to the cursor `upTo` (a read's end), read without a lock and without reading the others' (the file store searches its log
   * for the id's bytes and decodes only those lines; PostgreSQL uses its (session_id, version)
   * index). `known` (its record's spawn time and revision at `upTo`) lets the file store read
   * only the part of the log the session lived in. Works before {@link connect}. Throws
   * `CORRUPT_LOG`, `STORAGE`.
   */
  readSessionEvents(sessionId: string, upTo: StoreCursor, known?: { createdAt: string; revision: number }): Promise<SessionEvent[]>;
  /** Streams every event from the start, in batches, independently of the sink. */
  readAll(): AsyncIterable<SessionEvent[]>;
  /** How far the sink has been fed. */
  cursor(): StoreCursor;
  /**
   * How many bytes of log lie between two cursors of this store, where the store can tell (the
   * file store); null elsewhere. A checkpoint weighs its cost against them.
   */
  bytesBetween?(from: StoreCursor, to: StoreCursor): number | null;
  /** Releases files and handles; pending appends settle first. */
  close(): Promise<void>;
}
