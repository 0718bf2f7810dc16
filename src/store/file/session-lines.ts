import { SessionError } from '../../errors.js';
import type { SessionEvent } from '../../events/session-event.js';
import { decodeEventLine } from './line-codec.js';
import { readLogChunks } from './read-log-chunks.js';

const NEWLINE = 0x0a;

/**
 * The events of one session in a log, up to byte `end`: the log is searched for the session's
 * id as bytes (memchr speed, one chunk in memory at a time) and only the lines that hold it are
 * decoded and checked. No per-session index is kept: a store's writes stay what they were.
 * Throws `CORRUPT_LOG` for a matching line that fails its checksum.
 */
export async function sessionEventsInLog(path: string, sessionId: string, end: number): Promise<SessionEvent[]> {
  const needle = Buffer.from(`"sessionId":"${sessionId}"`);
  const events: SessionEvent[] = [];
  let carry: Buffer = Buffer.alloc(0);
  let carryOffset = 0;
  for await (const chunk of readLogChunks(path, 0, end)) {
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
      // On from the next line: a line holds its session's id once.
      hit = data.indexOf(needle, stop + 1);
    }
    carry = data.subarray(whole);
    carryOffset += whole;
  }
  return events;
}
