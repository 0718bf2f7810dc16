import { open, type FileHandle } from 'node:fs/promises';
import { SessionError, storageError } from '../../errors.js';
import type { SessionEvent } from '../../events/session-event.js';
import { decodeEventLine } from './line-codec.js';
import { readLogChunks } from './read-log-chunks.js';

const NEWLINE = 0x0a;
/** Bytes read at each probe of the seek: enough to hold a whole line. */
const PROBE = 64 * 1024;
/** How much earlier than the session's spawn a search starts: writers' clocks and queues differ by less. */
const SLACK_MS = 10 * 60 * 1000;

/** What the caller knows of the session, to read only the part of the log its events are in. */
export interface SessionHint {
  /** When it was spawned (its record's `createdAt`). */
  createdAt: string;
  /** How many events it has up to the end of the search (its record's `revision`). */
  revision: number;
}

/**
 * The events of one session in a log, up to byte `end`: the log is searched for the session's id
 * as bytes (memchr speed, one chunk in memory at a time) and only the lines that hold it are
 * decoded and checked. No per-session index is kept: a store's writes stay what they were.
 * With a hint the search starts shortly before the session's spawn (found by bisecting the log
 * on its timestamps) and stops at its last event: the part of the log the session lived in. The
 * result is checked — it must start with the spawn and hold `revision` events — and if it does
 * not (clocks that disagree, an import), the whole log is searched.
 * Throws `CORRUPT_LOG` for a matching line that fails its checksum, `STORAGE`.
 */
export async function sessionEventsInLog(path: string, sessionId: string, end: number, hint?: SessionHint): Promise<SessionEvent[]> {
  if (hint === undefined) return search(path, sessionId, 0, end, Infinity);
  const from = await offsetBefore(path, Date.parse(hint.createdAt) - SLACK_MS, end);
  const events = await search(path, sessionId, from, end, hint.revision);
  // From the start, a search that did not stop early read the whole log already.
  if ((events.length === hint.revision && events[0]?.type === 'SessionSpawned') || from === 0) return events;
  return search(path, sessionId, 0, end, Infinity);
}

/** The session's events in `[from, end)` (from a line's start), stopping once `enough` are found. */
async function search(path: string, sessionId: string, from: number, end: number, enough: number): Promise<SessionEvent[]> {
  const needle = Buffer.from(`"sessionId":"${sessionId}"`);
  const events: SessionEvent[] = [];
  let carry: Buffer = Buffer.alloc(0);
  let carryOffset = from;
  for await (const chunk of readLogChunks(path, from, end)) {
    const data: Buffer = carry.length === 0 ? chunk : Buffer.concat([carry, chunk]);
    const whole = data.lastIndexOf(NEWLINE) + 1;
    for (let hit = data.indexOf(needle); hit !== -1 && hit < whole; ) {
      const start = data.lastIndexOf(NEWLINE, hit) + 1;
      const stop = data.indexOf(NEWLINE, hit);
      const decoded = decodeEventLine(data.toString('utf8', start, stop), 'checksum');
      if (!decoded.ok) {
        const offset = carryOffset + start;
        throw new SessionError('CORRUPT_LOG', `${path} (byte ${offset}): ${decoded.reason}`, { position: { file: path, line: 0, offset } });
      }
      if (decoded.event.sessionId === sessionId) events.push(decoded.event);
      if (events.length >= enough) return events;
      // On from the next line: a line holds its session's id once.
      hit = data.indexOf(needle, stop + 1);
    }
    carry = data.subarray(whole);
    carryOffset += whole;
  }
  return events;
}

/**
 * The start of a line whose timestamp is before `time` and as late in the log as a bisection
 * finds (0 when none is): the log is in `seq` order, its timestamps close to it. Reads a few
 * dozen small pieces of the file.
 */
async function offsetBefore(path: string, time: number, end: number): Promise<number> {
  let handle: FileHandle;
  try {
    handle = await open(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 0;
    throw storageError('opening', path, error);
  }
  try {
    let low = 0;
    let high = end;
    let found = 0;
    while (high - low > PROBE) {
      const middle = Math.floor((low + high) / 2);
      const line = await lineAfter(handle, middle, end);
      if (line === null) {
        high = middle;
        continue;
      }
      if (line.time < time) {
        found = line.start;
        low = middle;
      } else high = middle;
    }
    return found;
  } finally {
    await handle.close();
  }
}

/** The first whole line starting after `position`: where it starts and its timestamp (null when there is none, or no timestamp). */
async function lineAfter(handle: FileHandle, position: number, end: number): Promise<{ start: number; time: number } | null> {
  const buffer = Buffer.allocUnsafe(Math.min(PROBE, end - position));
  const { bytesRead } = await handle.read(buffer, 0, buffer.length, position);
  const bytes = buffer.subarray(0, bytesRead);
  const newline = bytes.indexOf(NEWLINE);
  if (newline === -1) return null;
  const stop = bytes.indexOf(NEWLINE, newline + 1);
  if (stop === -1) return null;
  const match = /"timestamp":"([^"]{1,40})"/.exec(bytes.toString('utf8', newline + 1, stop));
  const time = match === null ? Number.NaN : Date.parse(match[1]!);
  return Number.isNaN(time) ? null : { start: position + newline + 1, time };
}
