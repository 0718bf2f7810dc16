import { SessionError } from '../../errors.js';
import type { SessionEvent } from '../../events/session-event.js';
import { checkedEvent } from '../../events/schema-refusal.js';
import type { AppendRequest } from '../event-store.js';

interface Waiting {
  request: AppendRequest;
  reject: (error: unknown) => void;
}

/**
 * Decides which appends of a group commit go in: each one's expected revisions are checked
 * against the latest state plus the appends accepted before it in the same batch. Accepted
 * events get consecutive `seq`s, and when there are several the first carries `txSize`, the
 * number of events in the whole write: the write is one transaction of the log. A reader then
 * sees a torn write as torn wherever it was cut, even between two appends' lines, so appends
 * refused because their write failed can never surface later, should cutting the write back
 * have failed too.
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
    const stale = staleRevision(expectedRevisions, current);
    if (stale !== undefined) {
      const [id, expected] = stale;
      pending.reject(
        new SessionError('CONFLICT', `session ${id} changed in ${location} (revision ${current(id)}, expected ${expected})`, { sessionId: id }),
      );
      continue;
    }
    // Stryker disable next-line ConditionalExpression: equivalent in what is written, the frame pass below would set it; set here, a lone handoff (the common write) is framed once.
    const stored = pendingEvents.map((event, i) => framed(event, seq + i + 1, i === 0 && pendingEvents.length > 1 ? pendingEvents.length : undefined));
    // Nothing the reader would refuse may reach the log, or one bad write would block every open.
    const issues = firstInvalid(stored);
    if (issues !== null) {
      pending.reject(new SessionError('INVALID_INPUT', `refusing to write an invalid event: ${issues}`));
      continue;
    }
    seq += stored.length;
    for (const event of stored) bumped.set(event.sessionId, current(event.sessionId) + 1);
    accepted.push({ pending, stored });
    events.push(...stored);
  }
  // Stryker disable next-line ConditionalExpression: equivalent, a write already framed as a whole is left as it is by the pass too (it only reframes what differs).
  if (events.length > 1 && events[0]!.txSize !== events.length) {
    // One frame for the whole write; the appends inside it need none of their own. Only the
    // first event of each append can carry one: only those are framed again.
    let at = 0;
    for (const item of accepted) {
      const first = at === 0 ? events.length : undefined;
      // Stryker disable next-line ConditionalExpression: equivalent in what is written, framing an event again with its own frame gives the same event.
      if (item.stored[0]!.txSize !== first) {
        const reframed = framed(item.stored[0]!, item.stored[0]!.seq, first);
        events[at] = reframed;
        item.stored = [reframed, ...item.stored.slice(1)];
      }
      at += item.stored.length;
    }
  }
  return { accepted, events };
}

function staleRevision(expected: ReadonlyMap<string, number>, current: (id: string) => number): [string, number] | undefined {
  for (const entry of expected) if (current(entry[0]) !== entry[1]) return entry;
  return undefined;
}

/** The schema's complaint about the first event it refuses, or null when it takes them all. */
function firstInvalid(events: readonly SessionEvent[]): string | null {
  for (const event of events) {
    const result = checkedEvent(event);
    if (!result.success) return result.error.issues.map((i) => `${i.path.join('.')}: ${i.message}`).join('; ');
  }
  return null;
}

/** The event as stored, keys in a fixed order so every writer produces the same bytes for it. */
function framed(event: Omit<SessionEvent, 'seq' | 'txSize'> & { txSize?: number }, seq: number, txSize: number | undefined): SessionEvent {
  const { id, type, sessionId, timestamp, schemaVersion, imported, by, data } = event as SessionEvent;
  const stored: Record<string, unknown> = { seq, id, type, sessionId, timestamp, schemaVersion };
  if (txSize !== undefined) stored['txSize'] = txSize;
  if (imported !== undefined) stored['imported'] = imported;
  if (by !== undefined) stored['by'] = by;
  stored['data'] = data;
  return stored as SessionEvent;
}
