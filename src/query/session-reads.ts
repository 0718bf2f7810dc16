import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionMap } from '../checkpoint/session-map.js';
import type { Session } from '../domain/session.js';
import { lineageOf } from '../projections/lineage.js';
import { inSpawnOrder, pipelineOf, querySessions, streamSessions, streamWalked, type SessionPage, type SessionQuery } from '../projections/session-query.js';
import { streamSessionsFile } from '../checkpoint/sessions-file.js';
import { statsOf, type SessionStats } from '../projections/stats.js';
import type { TimedSession } from '../projections/time-series.js';
import type { StoreCursor } from '../store/event-store.js';
import { FileEventStore } from '../store/file/file-event-store.js';
import type { PostgresEventStore } from '../store/postgres/postgres-event-store.js';
import { PostgresSessions } from './postgres-sessions.js';
import { FoldedSessions } from './folded-sessions.js';
import { readStore, type StoreView } from './read-store.js';
import { sessionsTableFoldOf } from '../projections/sessions-table-folder.js';
import { sessionLines, sessionLinesOf } from './session-lines.js';

/**
 * The sessions of a store as the read commands and the report ask for them, without writing:
 * the file store through its read-only view, PostgreSQL through its sessions table.
 */
export interface SessionReads {
  /** The store read, as people name it: its directory, or its url (without a password) and schema. */
  readonly location: string;
  /** How many sessions the store holds. */
  size(): Promise<number>;
  /** The last seq the answers cover (they are the log's state there). */
  readonly lastSeq: number;
  /** Where the answers stand in the store: a session's history is read up to here. */
  readonly cursor: StoreCursor;
  /**
   * Every session in spawn order as a compact sessions.json of the original's format, in pieces
   * of about 1 MiB ({@link streamSessionsFile}): on files, a record read from sessions.json is
   * copied as it stands there.
   */
  sessionsFile(): AsyncIterable<Buffer>;
  /** Several sessions by id (unknown ones left out), in spawn order. */
  getMany(ids: readonly string[]): Promise<Map<string, Session>>;
  /** One page of a query. */
  page(query: SessionQuery): Promise<SessionPage>;
  /** Every session a query matches, in its order, as read. */
  stream(query: Omit<SessionQuery, 'limit' | 'after'>): AsyncIterable<Session>;
  /**
   * Every session a query matches, in its order, as NDJSON in pieces of about 256 KiB: one
   * session's JSON a line, safe for a terminal (`\u` escapes for what a terminal acts on).
   * Keys may come in another order than `JSON.stringify` of the session gives them.
   */
  lines(query: Omit<SessionQuery, 'limit' | 'after'>): AsyncIterable<Buffer>;
  /** Stats of every session. */
  stats(): Promise<SessionStats>;
  /** The id of the root of the pipeline `id` belongs to; undefined for an unknown session. */
  rootOf(id: string): Promise<string | undefined>;
  /** The sessions of the pipeline whose root is `root`, in spawn order. */
  pipeline(root: string): Promise<Map<string, Session>>;
  /** The pipeline of each of several sessions (as {@link pipeline} of its root), by session id; unknown ones left out. */
  pipelinesOf(ids: readonly string[]): Promise<Map<string, Map<string, Session>>>;
  /** Every session, in spawn order, as much of it as a chart over time reads (on PostgreSQL, the sessions table's columns alone). */
  timeline(): AsyncIterable<TimedSession>;
}

/**
 * Runs `read` on the sessions of the file store at `dir`, through its read-only view (sessions
 * read from sessions.json as they are asked for), and closes the view's file when it is done.
 * Throws as `readStore` does.
 */
export async function readFileSessions<T>(dir: string, read: (reads: SessionReads) => Promise<T>): Promise<T> {
  const view = await fileReads(dir);
  try {
    return await read(view.reads);
  } finally {
    view.close();
  }
}

/** A long-lived reader of a file store: {@link FileSessionReader.read} as {@link readFileSessions}, the view kept between reads. */
export interface FileSessionReader {
  read<T>(read: (reads: SessionReads) => Promise<T>): Promise<T>;
  /** Closes the kept view (at once when no read is using it, else when the last one ends). */
  close(): Promise<void>;
}

/**
 * Reads of the file store at `dir` for a process that reads it again and again (the
 * dashboard): the read-only view is kept and used again while neither the log nor
 * sessions.json has changed (their size, time and inode, asked of the file system at each
 * read), and opened anew once either has. A replaced view's file is closed when the last read
 * using it ends. Opening the view of 250,000 sessions reads a 15 MB record index: ~100 ms a
 * request, where a kept view answers in a few.
 */
export function fileSessionReader(dir: string): FileSessionReader {
  // The store's location is its log.
  const files = [new FileEventStore(dir).location, join(dir, 'sessions.json')];
  const storeStamp = async () => (await Promise.all(files.map(fileStamp))).join('|');
  let current: { stamp: string; view: Promise<FileView>; users: number; stale: boolean } | null = null;
  const release = async (entry: NonNullable<typeof current>) => {
    if (entry.stale && entry.users === 0) await entry.view.then((view) => view.close(), () => {});
  };
  return {
    async read(read) {
      const stamp = await storeStamp();
      if (current === null || current.stamp !== stamp) {
        if (current !== null) {
          current.stale = true;
          void release(current);
        }
        current = { stamp, view: fileReads(dir), users: 0, stale: false };
        const opening = current;
        // A view that failed to open is not kept: the next read tries again.
        opening.view.catch(() => {
          if (current === opening) current = null;
        });
      }
      const entry = current;
      entry.users += 1;
      try {
        return await read((await entry.view).reads);
      } finally {
        entry.users -= 1;
        void release(entry);
      }
    },
    async close() {
      if (current === null) return;
      const last = current;
      current = null;
      last.stale = true;
      await release(last);
    },
  };
}

/** What tells a changed file from an unchanged one: its size, time and inode. */
async function fileStamp(path: string): Promise<string> {
  return stat(path).then((s) => `${s.ino}:${s.size}:${s.mtimeMs}`, () => '-');
}

/**
 * Runs `read` on the sessions of a PostgreSQL store, through its sessions table, in one
 * snapshot: SQL, never a replay. What the table has not folded yet is folded first (what was
 * appended since the last read, a page at a time); should that fail (a role that may only
 * read), the answers are the log's state where the table stands, and `onBehind` is told how
 * many events behind that is and why. Does not close the store.
 */
export async function readPostgresSessions<T>(
  store: PostgresEventStore,
  read: (reads: SessionReads) => Promise<T>,
  onBehind?: (events: number, folded: number, why: string) => void,
  cache: FoldedSessions | null = null,
): Promise<T> {
  const refused = await store.catchUpSessionsTable(sessionsTableFoldOf(store)).then(
    () => null,
    (error: unknown) => (error as Error).message,
  );
  return store.inSnapshot(async (query) => {
    const sessions = await PostgresSessions.open(query, cache);
    // Events appended since the fold are not what this read has read: its answers stand at `folded`.
    if (refused !== null && sessions.top > sessions.folded) onBehind?.(sessions.top - sessions.folded, sessions.folded, refused);
    return read(postgresReads(sessions, store.location));
  });
}

/**
 * Reads of a PostgreSQL store for a process that reads it again and again (the dashboard), as
 * {@link readPostgresSessions} answers each: the sessions they fold are kept between reads by
 * their revision ({@link FoldedSessions}, the last 10,000), so a page asked for again fetches
 * the events only of the sessions that changed since.
 */
export function postgresSessionReader(store: PostgresEventStore, onBehind?: (events: number, folded: number, why: string) => void): { read<T>(read: (reads: SessionReads) => Promise<T>): Promise<T> } {
  const cache = new FoldedSessions();
  return { read: (read) => readPostgresSessions(store, read, onBehind, cache) };
}

/** A file store's reads, and how to close the file they read. */
interface FileView {
  reads: SessionReads;
  close(): void;
}

/** Records a kept view keeps decoded between reads (see SessionMap.keepWalked): some pages' worth, a few MB. */
const KEPT_RECORDS = 1_000;

async function fileReads(dir: string): Promise<FileView> {
  const view = await readStore(dir);
  const { sessions } = view.state;
  // Read only, and asked for the same pages again and again.
  if (sessions instanceof SessionMap) sessions.keepWalked(KEPT_RECORDS);
  const close = () => {
    if (sessions instanceof SessionMap) sessions.discard();
  };
  return { reads: fileReadsOf(dir, view, sessions), close };
}

function fileReadsOf(dir: string, view: StoreView, sessions: ReadonlyMap<string, Session>): SessionReads {
  return {
    location: dir,
    size: async () => sessions.size,
    lastSeq: view.state.lastSeq,
    cursor: view.cursor,
    // A loaded file counted its ended sessions: those read from it are copied, never decoded.
    sessionsFile: () => streamSessionsFile(toAsync(streamWalked(sessions, {})), view.cursor, view.state.lastEventId, sessions instanceof SessionMap ? statsOf(sessions, 'ended') : undefined),
    getMany: async (ids) => new Map(inSpawnOrder(sessions, ids).map((id) => [id, sessions.get(id)!])),
    page: async (query) => querySessions(sessions, query),
    stream: (query) => toAsync(streamSessions(sessions, query)),
    lines: (query) => toAsync(sessionLines(sessions, query)),
    stats: async () => statsOf(sessions),
    rootOf: async (id) => (sessions.has(id) ? lineageOf(sessions, id)[0]!.id : undefined),
    pipeline: async (root) => pipelineOf(sessions, root),
    pipelinesOf: async (ids) => new Map(ids.filter((id) => sessions.has(id)).map((id) => [id, pipelineOf(sessions, lineageOf(sessions, id)[0]!.id)])),
    timeline: () => toAsync(timelineOf(sessions)),
  };
}

function postgresReads(sessions: PostgresSessions, location: string): SessionReads {
  const cursor: StoreCursor = { seq: sessions.folded, position: {} };
  return {
    location,
    size: () => sessions.count(),
    lastSeq: sessions.folded,
    cursor,
    sessionsFile: () => postgresSessionsFile(sessions, cursor),
    getMany: (ids) => sessions.get(ids),
    page: (query) => sessions.page(query),
    stream: (query) => sessions.stream(query),
    lines: (query) => sessionLinesOf(sessions.stream(query)),
    stats: () => sessions.stats(),
    rootOf: (id) => sessions.rootOf(id),
    pipeline: (root) => sessions.pipeline(root),
    pipelinesOf: (ids) => sessions.pipelinesOf(ids),
    timeline: () => sessions.timeline(),
  };
}

async function* postgresSessionsFile(sessions: PostgresSessions, cursor: StoreCursor): AsyncGenerator<Buffer> {
  const filed = async function* () {
    for await (const session of sessions.stream({})) yield { session };
  };
  yield* streamSessionsFile(filed(), cursor, await sessions.lastEventId());
}

/** Every session in spawn order, for a chart: a walk that keeps none of the records it read (see SessionMap.keepWalked). */
function* timelineOf(sessions: ReadonlyMap<string, Session>): Generator<Session> {
  if (!(sessions instanceof SessionMap)) return yield* streamSessions(sessions, {});
  for (const walked of sessions.walk({ keep: false })) yield walked.session;
}

async function* toAsync<T>(items: Iterable<T>): AsyncGenerator<T> {
  yield* items;
}
