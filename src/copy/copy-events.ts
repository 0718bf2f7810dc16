import { SessionError } from '../errors.js';
import type { PendingEvent, SessionEvent } from '../events/session-event.js';
import { projectionSink } from '../projections/projection-sink.js';
import { emptySessionsState, evolveSessions, type SessionsState } from '../projections/sessions-projection.js';
import type { EventStore } from '../store/event-store.js';
import { copyTranscripts } from '../store/copy-transcripts.js';
import { sameRendering } from '../checkpoint/sessions-file.js';

/** What a copy did, and the state both stores replay to. */
export interface CopyReport {
  events: number;
  /** The projection rebuilt from the source. */
  source: SessionsState;
  /** The projection rebuilt from the target after the copy. */
  target: SessionsState;
  /** Stored transcripts copied (each read back and its SHA-256 compared). */
  transcripts: number;
  /** True when both replay to the same sessions, byte for byte, and every transcript came through intact. */
  identical: boolean;
}

/**
 * Copies every event of `from` into the empty store `to`, keeping ids, timestamps, order and
 * transactions (a handoff's two events stay one append), and every stored transcript, then
 * replays both and compares (transcripts by SHA-256).
 * Throws `CONFLICT` if `to` is not empty. The source is only read; both stores are closed here.
 * `onProgress` is told how far the source has been read, in the source's own unit (`StoreRead.size`).
 */
export async function copyEvents(from: EventStore, to: EventStore, onProgress?: (done: number, total: number) => void): Promise<CopyReport> {
  const target = emptySessionsState();
  const revisions = new Map<string, number>();
  await to.connect(projectionSink(target), null);
  try {
    if (to.cursor().seq !== 0) throw new SessionError('CONFLICT', `${to.location} is not empty (it holds events up to seq ${to.cursor().seq})`);
    const source = emptySessionsState();
    let events = 0;
    let pending: Promise<unknown>[] = [];
    let tx: SessionEvent[] = [];
    const flush = () => {
      const expectedRevisions = new Map(tx.map((e) => [e.sessionId, revisions.get(e.sessionId) ?? 0]));
      for (const e of tx) revisions.set(e.sessionId, (revisions.get(e.sessionId) ?? 0) + 1);
      pending.push(to.append({ events: tx.map(toPending), expectedRevisions }));
      tx = [];
    };
    const read = await from.readRecords(null);
    for await (const records of read.records) {
      onProgress?.(records.at(-1)!.end, read.size);
      const batch = records.map((record) => record.event);
      for (const event of batch) {
        evolveSessions(source, event);
        events += 1;
        if (tx.length > 0 && event.txSize !== undefined) flush();
        tx.push(event);
        const size = tx[0]!.txSize ?? 1;
        if (tx.length >= size) flush();
      }
      // Many appends in flight let the target group-commit them; bound how many wait at once.
      if (pending.length >= 5000) {
        await Promise.all(pending);
        pending = [];
      }
    }
    if (tx.length > 0) flush();
    await Promise.all(pending);
    await to.refresh();
    // Session by session: the two stores' sessions as one string each were 300 MB apiece at
    // 250,000 sessions, and past ~500,000 longer than a string may be.
    const same = sameRendering(source, target);
    const transcripts = await copyTranscripts(from, to);
    return { events, source, target, transcripts: transcripts.count, identical: same && source.lastSeq === target.lastSeq && transcripts.identical };
  } finally {
    await to.close();
    await from.close();
  }
}

function toPending(event: SessionEvent): PendingEvent {
  const { seq: _seq, txSize: _txSize, ...rest } = event;
  return rest as PendingEvent;
}
