import { SessionError } from '../../errors.js';
import { SessionEventSchema, type SessionEvent } from '../../events/session-event.js';
import type { AppendRequest } from '../event-store.js';

interface Waiting {
  request: AppendRequest;
  reject: (error: unknown) => void;
}

/**
 * Decides which appends of a group commit go in: each one's expected revisions are checked
 * against the latest state plus the appends accepted before it in the same batch. Accepted
 * events get consecutive `seq`s; a multi-event append marks its first event with `txSize`.
 * Refused appends are rejected here (`CONFLICT`, or `INVALID_INPUT` for an event the schema
 * refuses) and write nothing.
 */
export function stampBatch<P extends Waiting>(
  batch: readonly P[],
  lastSeq: number,
  revisionOf: (sessionId: string) => number,
  location: string,
): { accepted: { pending: P; stored: SessionEvent[] }[]; events: SessionEvent[] } {
  const bumped = new Map<string, number>();
  const current = (id: string) => bumped.get(id) ?? revisionOf(id);
  const accepted: { pending: P; stored: SessionEvent[] }[] = [];
  const events: SessionEvent[] = [];
  let seq = lastSeq;
  for (const pending of batch) {
    const { events: pendingEvents, expectedRevisions } = pending.request;
    const stale = [...expectedRevisions].find(([id, expected]) => current(id) !== expected);
    if (stale !== undefined) {
      const [id, expected] = stale;
      pending.reject(
        new SessionError('CONFLICT', `session ${id} changed in ${location} (revision ${current(id)}, expected ${expected})`, { sessionId: id }),
      );
      continue;
    }
    const stored = pendingEvents.map((event, i) => {
      const { id, type, sessionId, timestamp, schemaVersion, data } = event;
      const txSize = i === 0 && pendingEvents.length > 1 ? { txSize: pendingEvents.length } : {};
      // Key order is fixed here so every writer produces the same bytes for the same event.
      return { seq: seq + i + 1, id, type, sessionId, timestamp, schemaVersion, ...txSize, data } as SessionEvent;
    });
    // Nothing the reader would refuse may reach the log, or one bad write would block every open.
    const invalid = stored.map((e) => SessionEventSchema.safeParse(e)).find((r) => !r.success);
    if (invalid !== undefined && !invalid.success) {
      pending.reject(new SessionError('INVALID_INPUT', `refusing to write an invalid event: ${invalid.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ')}`));
      continue;
    }
    seq += stored.length;
    for (const event of stored) bumped.set(event.sessionId, current(event.sessionId) + 1);
    accepted.push({ pending, stored });
    events.push(...stored);
  }
  return { accepted, events };
}
