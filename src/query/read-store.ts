import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionError } from '../errors.js';
import { assertOwnSessionsFile } from '../checkpoint/foreign-sessions-file.js';
import { resolveCheckpoint, type CheckpointVerdict } from '../checkpoint/checkpointer.js';
import { SessionMap } from '../checkpoint/session-map.js';
import { emptySessionsState, evolveSessions, type SessionsState } from '../projections/sessions-projection.js';
import type { StoreCursor, StoredRecord } from '../store/event-store.js';
import { FileEventStore } from '../store/file/file-event-store.js';
import { readLogSync } from '../store/file/read-log-sync.js';
import type { Session } from '../domain/session.js';

/** Where to stop reading: after event `seq`, or before the first event later than `time`. */
export interface ReadLimit {
  seq?: number;
  time?: string;
}

/** A store as read without writing anything. */
export interface StoreView {
  state: SessionsState;
  /** Events folded from the log (on top of the checkpoint, when one was used). */
  eventsRead: number;
  checkpoint: CheckpointVerdict | 'unused';
  /** Unfinished bytes at the end of the log (left as they are: this is a read). */
  pendingBytes: number;
  /** Where the folded part of the log ends. */
  cursor: StoreCursor;
}

/**
 * The file store at `dir`, to be read only: it must exist (`NOT_FOUND`), and an original's
 * `sessions.json` there is refused (`FOREIGN_STORE`: import it first), never read as an empty store.
 */
export async function fileStoreToRead(dir: string): Promise<FileEventStore> {
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new SessionError('NOT_FOUND', `no session store at ${dir}`);
  const store = new FileEventStore(dir);
  await assertOwnSessionsFile(join(dir, 'sessions.json'), store);
  return store;
}

/** Options of {@link readStore}. */
export interface ReadStoreOptions {
  /**
   * Told when a record of sessions.json fails its checksum as it is read: the read answers that
   * session from the log instead (replayed once, up to the checkpoint), and goes on.
   */
  onBadRecord?: (sessionId: string) => void;
}

/**
 * Reads a store without touching it: no lock, no repair, no checkpoint write, nothing created.
 * With a limit it replays from the start up to that point (time travel); without, it starts from
 * a valid sessions.json and reads the tail, and the sessions stay in sessions.json until asked
 * for (the view keeps the file open until every record is read, or the process ends). `onRecord` (which forces a replay from the start)
 * sees every event with its line and the state right after it. Throws `NOT_FOUND` when `dir` does not exist,
 * `FOREIGN_STORE` when its sessions.json is the original's (import it first) and `CORRUPT_LOG` (line and byte) on a damaged log.
 */
export async function readStore(
  dir: string,
  limit?: ReadLimit,
  onRecord?: (record: StoredRecord, state: SessionsState) => void,
  options: ReadStoreOptions = {},
): Promise<StoreView> {
  const store = await fileStoreToRead(dir);
  let state = emptySessionsState();
  let from: StoreCursor | null = null;
  let checkpoint: StoreView['checkpoint'] = 'unused';
  if (limit === undefined && onRecord === undefined) {
    const resolved = await resolveCheckpoint(join(dir, 'sessions.json'), store);
    checkpoint = resolved.verdict;
    if (resolved.cursor !== null) {
      state = resolved.state;
      from = resolved.cursor;
      // Sessions stay in sessions.json until asked for; a damaged record is answered from the log.
      if (state.sessions instanceof SessionMap) state.sessions.recoverWith(answerFromLog(store.location, from.seq, options.onBadRecord));
    }
  }
  const read = await store.readRecords(from);
  let eventsRead = 0;
  let last: StoredRecord | null = null;
  outer: for await (const batch of read.records) {
    for (const record of batch) {
      const { event } = record;
      if (limit?.seq !== undefined && event.seq > limit.seq) break outer;
      if (limit?.time !== undefined && event.timestamp > limit.time) break outer;
      evolveSessions(state, event);
      last = record;
      onRecord?.(record, state);
      eventsRead += 1;
    }
  }
  const end = read.end();
  // Stopped early (time travel): the view ends after the last event folded, not where the read did.
  const cursor = limit === undefined || last === null ? end.cursor : read.cursorAfter(last);
  return { state, eventsRead, checkpoint, pendingBytes: limit === undefined ? end.pendingBytes : 0, cursor };
}

/**
 * Answers a session whose record fails its checksum from the log: replayed once, synchronously
 * (a projection asks for sessions synchronously), up to the seq the checkpoint covers.
 */
function answerFromLog(logPath: string, upToSeq: number, onBadRecord?: (sessionId: string) => void): (id: string) => Session | undefined {
  let fromLog: SessionsState | null = null;
  return (id) => {
    onBadRecord?.(id);
    if (fromLog === null) {
      fromLog = emptySessionsState();
      for (const event of readLogSync(logPath, upToSeq)) evolveSessions(fromLog, event);
    }
    return fromLog.sessions.get(id);
  };
}
