import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { SessionError } from '../errors.js';
import type { StoreCursor } from '../store/event-store.js';
import { fromRecord, toRecord, type SessionRecord } from './session-record.js';
import { emptySessionsState, type SessionsState } from './sessions-projection.js';

/*
 * sessions.json in the original (Rust) format: `{ "sessions": [...], "version": 1 }` with
 * snake_case keys (the records themselves: session-record.ts).
 * The extra `checkpoint` object says which prefix of the log the file covers, so an open
 * replays only the tail; its `checksum` (CRC-32 of every byte before it) catches a hand-edited
 * or truncated file, which is then rebuilt from the log.
 */

/** The outer shape only: records are checked one by one, cheaply (the checksum vouches for them). */
const SessionsFileShape = z.object({
  sessions: z.array(z.unknown()),
  version: z.literal(1),
  checkpoint: z.object({
    seq: z.number(),
    event_id: z.string().nullable(),
    offset: z.number(),
    line: z.number(),
    last_line_offset: z.number(),
    checksum: z.number(),
  }),
});

/** A checkpoint read back: the projection and the log position it covers. */
export interface Checkpoint {
  state: SessionsState;
  cursor: StoreCursor;
}

/** Renders the projection as sessions.json. Same state and cursor, same bytes. */
export function renderSessionsFile(state: SessionsState, cursor: StoreCursor): string {
  const sessions = [...state.sessions.values()].map(toRecord);
  const checkpoint = {
    seq: cursor.seq,
    event_id: state.lastEventId,
    offset: cursor.offset,
    line: cursor.line,
    last_line_offset: cursor.lastLineOffset,
  };
  const body = JSON.stringify({ sessions, version: 1, checkpoint }, null, 2);
  // The checksum covers every byte before it, and goes last so it can be cut off to check them.
  const head = body.slice(0, -CLOSE.length);
  return `${head},\n    "checksum": ${crc32(CLOSE, crc32(Buffer.from(head)))}${CLOSE}\n`;
}

const CLOSE = '\n  }\n}';
const CHECKSUM_TAIL = /,\n {4}"checksum": (\d{1,10})\n {2}\}\n\}\n?$/;

/**
 * Parses sessions.json; throws `CORRUPT_CHECKPOINT` if its checksum fails (the file was edited
 * or cut) or it does not hold what this library writes. The checksum, not a schema pass over
 * every record, is what makes loading a large checkpoint cheap.
 */
export function parseSessionsFile(input: string | Buffer, path: string): Checkpoint {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  // Only the end of the file is searched for the checksum: a regex over hundreds of MB is not free.
  const tailStart = Math.max(0, bytes.length - 64);
  const match = CHECKSUM_TAIL.exec(bytes.toString('utf8', tailStart));
  if (match === null) throw new SessionError('CORRUPT_CHECKPOINT', `${path} has no checksum: it was not written by this library, or was edited`);
  if (crc32(CLOSE, crc32(bytes.subarray(0, tailStart + match.index))) !== Number(match[1])) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} was edited: its checksum does not match its content`);
  }
  let parsed;
  try {
    parsed = SessionsFileShape.parse(JSON.parse(bytes.toString('utf8')));
  } catch (error) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} is not a valid sessions file`, { cause: error });
  }
  const { sessions, checkpoint } = parsed;
  const state = emptySessionsState();
  for (const record of sessions) {
    if (!isSessionRecord(record)) throw new SessionError('CORRUPT_CHECKPOINT', `${path} holds a malformed session record`);
    state.sessions.set(record.id, fromRecord(record));
  }
  state.lastSeq = checkpoint.seq;
  state.lastEventId = checkpoint.event_id;
  const cursor = { seq: checkpoint.seq, offset: checkpoint.offset, line: checkpoint.line, lastLineOffset: checkpoint.last_line_offset };
  return { state, cursor };
}

const STATUSES = new Set(['Active', 'HandedOff', 'Completed', 'Failed']);

function isSessionRecord(r: unknown): r is SessionRecord {
  const o = r as Partial<SessionRecord> | null;
  return (
    typeof o === 'object' && o !== null && typeof o.id === 'string' && typeof o.agent_name === 'string' &&
    typeof o.context === 'object' && o.context !== null && Array.isArray(o.context.previous_results) &&
    STATUSES.has(o.status as string) && Array.isArray(o.child_sessions) && typeof o.revision === 'number'
  );
}

