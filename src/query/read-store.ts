import { stat } from 'node:fs/promises';
import { join } from 'node:path';
import { SessionError } from '../errors.js';
import { assertOwnSessionsFile } from '../checkpoint/foreign-sessions-file.js';
import { resolveCheckpoint, type CheckpointVerdict } from '../checkpoint/checkpointer.js';
import { SessionMap } from '../checkpoint/session-map.js';
import { emptySessionsState, evolveSessions, type SessionsState } from '../projections/sessions-projection.js';
import type { StoreCursor } from '../store/event-store.js';
import { FileEventStore, LOG_FILE } from '../store/file/file-event-store.js';
import { LogScanner, type LogRecord } from '../store/file/log-scanner.js';
import { readLogChunks } from '../store/file/read-log-chunks.js';

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
 * Reads a store without touching it: no lock, no repair, no checkpoint write, nothing created.
 * With a limit it replays from the start up to that point (time travel); without, it starts from
 * a valid sessions.json and reads the tail. `onRecord` (which forces a replay from the start)
 * sees every event with its line and the state right after it. Throws `NOT_FOUND` when `dir` does not exist,
 * `FOREIGN_STORE` when its sessions.json is the original's (import it first) and `CORRUPT_LOG` (line and byte) on a damaged log.
 */
export async function readStore(dir: string, limit?: ReadLimit, onRecord?: (record: LogRecord, state: SessionsState) => void): Promise<StoreView> {
  const isDir = await stat(dir).then((s) => s.isDirectory(), () => false);
  if (!isDir) throw new SessionError('NOT_FOUND', `no session store at ${dir}`);
  const logPath = join(dir, LOG_FILE);
  // An original's store is refused, never reported as an empty one.
  await assertOwnSessionsFile(join(dir, 'sessions.json'), new FileEventStore(dir));
  let state = emptySessionsState();
  let start = { offset: 0, line: 0, lastSeq: 0, lastLineOffset: 0 };
  let lastLineOffset: number | undefined;
  let checkpoint: StoreView['checkpoint'] = 'unused';
  if (limit === undefined && onRecord === undefined) {
    const resolved = await resolveCheckpoint(join(dir, 'sessions.json'), new FileEventStore(dir));
    checkpoint = resolved.verdict;
    if (resolved.cursor !== null) {
      state = resolved.state;
      // A read holds no file open after it returns: ended sessions are read from sessions.json now.
      if (state.sessions instanceof SessionMap) state.sessions.close();
      const { offset, line, seq, lastLineOffset } = resolved.cursor;
      start = { offset, line, lastSeq: seq, lastLineOffset };
    }
  }
  const scanner = new LogScanner(logPath, start);
  let eventsRead = 0;
  outer: for await (const chunk of readLogChunks(logPath, start.offset)) {
    for (const record of scanner.push(chunk)) {
      const { event } = record;
      if (limit?.seq !== undefined && event.seq > limit.seq) break outer;
      if (limit?.time !== undefined && event.timestamp > limit.time) break outer;
      evolveSessions(state, event);
      lastLineOffset = record.offset;
      onRecord?.(record, state);
      eventsRead += 1;
    }
  }
  const tail = scanner.tail();
  const cursor = { seq: state.lastSeq, offset: tail.committedEnd, line: tail.line, lastLineOffset: lastLineOffset ?? start.lastLineOffset };
  return { state, eventsRead, checkpoint, pendingBytes: limit === undefined ? tail.pendingBytes : 0, cursor };
}
