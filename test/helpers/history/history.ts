import type { SessionEvent } from '../../../src/index.js';

/*
 * A checker of recorded histories, after Jepsen's: writers record every operation they invoke
 * and how it ended (ok, a definite failure, or unknown: the writer died first), readers record
 * every event they read in order, and the checker proves on the final log that
 *   - every acknowledged operation is in the log exactly once, no definitely failed one is, an
 *     unknown one at most once (each event carries its operation's tag as `by`);
 *   - `seq` is gap-free, and the log's order agrees with real time: an operation acknowledged
 *     before another was invoked comes first;
 *   - every reader's view, at every moment, is a prefix of the final log.
 * (The machine's rules on each session's events are the audit's: see its use in the tests.)
 * Each anomaly names the operations, readers and seqs involved.
 */

/** What an operation does. */
export type OpKind = 'spawn' | 'handoff' | 'complete' | 'fail' | 'retry';

/** An operation as invoked: what, on which session. */
export interface HistoryOp {
  kind: OpKind;
  target?: string;
}

/** A line of a writer's history file. */
export type HistoryRecord =
  | { type: 'invoke'; tag: string; writer: string; op: HistoryOp; at: number }
  | { type: 'ok'; tag: string; at: number; session?: string }
  | { type: 'fail'; tag: string; at: number; code: string }
  /** Ended by a disk fault (STORAGE): its outcome stays unknown, as a write may be whole on disk before its sync fails. */
  | { type: 'storage'; tag: string; at: number; site: string };

/** An operation with its outcome: `unknown` when its writer never said how it ended. */
export interface Operation {
  tag: string;
  writer: string;
  op: HistoryOp;
  invokedAt: number;
  completedAt: number | null;
  outcome: 'ok' | 'fail' | 'unknown';
  /** The session an ok spawn, handoff or retry made. */
  session?: string;
  /** The disk fault that ended it, when one did (files; its outcome is unknown). */
  storageFault?: string;
}

/** What a reader read, in the order it read it. */
export interface ReaderView {
  reader: string;
  seen: Array<{ seq: number; id: string }>;
}

/** The kinds of anomaly the checker names. */
export type AnomalyKind = 'lost-ack' | 'two-winners' | 'failed-applied' | 'duplicated' | 'phantom' | 'wrong-target' | 'seq-gap' | 'real-time' | 'reader-prefix';

/** One thing the history shows that the promises forbid. */
export interface Anomaly {
  kind: AnomalyKind;
  message: string;
  /** The tags of the operations involved. */
  operations: string[];
}

/** The operations of some writers' records, in the order they were invoked. */
export function operationsOf(records: readonly HistoryRecord[]): Operation[] {
  const byTag = new Map<string, Operation>();
  for (const record of records) {
    if (record.type === 'invoke') {
      byTag.set(record.tag, { tag: record.tag, writer: record.writer, op: record.op, invokedAt: record.at, completedAt: null, outcome: 'unknown' });
      continue;
    }
    const operation = byTag.get(record.tag);
    if (operation === undefined) continue;
    if (record.type === 'storage') {
      operation.storageFault = record.site;
      continue;
    }
    operation.completedAt = record.at;
    operation.outcome = record.type;
    if (record.type === 'ok' && record.session !== undefined) operation.session = record.session;
  }
  return [...byTag.values()].sort((a, b) => a.invokedAt - b.invokedAt);
}

/** The event that shows an operation took effect (a handoff's also spawns its child: that one is not counted). */
function isPrimary(op: HistoryOp, event: SessionEvent): boolean {
  const data = event.data as { parentSession?: string | null; retryOf?: string };
  switch (op.kind) {
    case 'spawn':
      return event.type === 'SessionSpawned' && data.parentSession === null && data.retryOf === undefined;
    case 'handoff':
      return event.type === 'SessionHandedOff';
    case 'complete':
      return event.type === 'SessionCompleted';
    case 'fail':
      return event.type === 'SessionFailed';
    case 'retry':
      return event.type === 'SessionSpawned' && data.retryOf !== undefined;
  }
}

/** The session an operation's primary event must be of (null: any, a spawn's new one). */
function targetOf(op: HistoryOp): string | null {
  return op.kind === 'spawn' || op.kind === 'retry' ? null : (op.target ?? null);
}

/** Every anomaly of a history against the final log and what readers saw; none when the promises held. */
export function checkHistory(operations: readonly Operation[], log: readonly SessionEvent[], views: readonly ReaderView[] = []): Anomaly[] {
  const anomalies: Anomaly[] = [];
  log.forEach((event, index) => {
    if (event.seq !== index + 1) anomalies.push({ kind: 'seq-gap', message: `the event at position ${index + 1} has seq ${event.seq}`, operations: event.by === undefined ? [] : [event.by] });
  });

  const byTag = new Map<string, SessionEvent[]>();
  for (const event of log) {
    if (event.by === undefined) continue;
    const list = byTag.get(event.by) ?? [];
    list.push(event);
    byTag.set(event.by, list);
  }
  const known = new Set(operations.map((operation) => operation.tag));
  for (const tag of byTag.keys()) {
    if (!known.has(tag)) anomalies.push({ kind: 'phantom', message: `events tagged ${tag}, which no writer invoked`, operations: [tag] });
  }

  // Each operation's primary event, and which operation ended each session (for two winners).
  const primaryOf = new Map<string, SessionEvent>();
  const endedBy = new Map<string, Operation>();
  for (const operation of operations) {
    const primaries = (byTag.get(operation.tag) ?? []).filter((event) => isPrimary(operation.op, event));
    if (primaries.length !== 1) continue;
    primaryOf.set(operation.tag, primaries[0]!);
    if (targetOf(operation.op) !== null) endedBy.set(primaries[0]!.sessionId, operation);
  }
  for (const operation of operations) {
    const primaries = (byTag.get(operation.tag) ?? []).filter((event) => isPrimary(operation.op, event));
    const describe = `${operation.op.kind}${operation.op.target === undefined ? '' : ` of ${operation.op.target}`} (${operation.tag})`;
    if (primaries.length > 1) anomalies.push({ kind: 'duplicated', message: `${describe} is in the log ${primaries.length} times (seqs ${primaries.map((e) => e.seq).join(', ')})`, operations: [operation.tag] });
    if (operation.outcome === 'fail' && primaries.length > 0) anomalies.push({ kind: 'failed-applied', message: `${describe} was refused, yet the log holds it at seq ${primaries[0]!.seq}`, operations: [operation.tag] });
    if (operation.outcome === 'ok' && primaries.length === 0) {
      // A handoff, completion or failure ends an Active session: two acknowledged for one session, one in the log.
      const target = targetOf(operation.op);
      const winner = target === null ? undefined : endedBy.get(target);
      if (winner !== undefined) anomalies.push({ kind: 'two-winners', message: `${describe} and ${winner.tag} were both acknowledged, but the log holds only ${winner.tag}'s`, operations: [operation.tag, winner.tag] });
      else anomalies.push({ kind: 'lost-ack', message: `${describe} was acknowledged at ${operation.completedAt}, but the log does not hold it`, operations: [operation.tag] });
    }
    const target = targetOf(operation.op);
    if (primaries.length > 0 && target !== null && primaries[0]!.sessionId !== target) {
      anomalies.push({ kind: 'wrong-target', message: `${describe} changed session ${primaries[0]!.sessionId}`, operations: [operation.tag] });
    }
    if (operation.outcome === 'ok' && operation.session !== undefined && primaries.length === 1) {
      const made = operation.op.kind === 'handoff' ? (primaries[0]!.data as { childSession?: string }).childSession : primaries[0]!.sessionId;
      if (made !== operation.session) anomalies.push({ kind: 'wrong-target', message: `${describe} answered session ${operation.session}, the log made ${made}`, operations: [operation.tag] });
    }
  }

  // Real time: walking the log backwards, the earliest acknowledgement of what comes later.
  const inLog = operations.filter((operation) => primaryOf.has(operation.tag)).sort((a, b) => primaryOf.get(a.tag)!.seq - primaryOf.get(b.tag)!.seq);
  let earliest: Operation | null = null;
  for (let i = inLog.length - 1; i >= 0; i -= 1) {
    const operation = inLog[i]!;
    if (earliest !== null && earliest.completedAt! < operation.invokedAt) {
      anomalies.push({
        kind: 'real-time',
        message: `${earliest.tag} was acknowledged before ${operation.tag} was invoked, yet comes after it in the log (seq ${primaryOf.get(earliest.tag)!.seq} > ${primaryOf.get(operation.tag)!.seq})`,
        operations: [earliest.tag, operation.tag],
      });
    }
    if (operation.outcome === 'ok' && (earliest === null || operation.completedAt! < earliest.completedAt!)) earliest = operation;
  }

  for (const view of views) {
    let expected = view.seen[0]?.seq ?? 1;
    if (expected !== 1) anomalies.push({ kind: 'reader-prefix', message: `${view.reader} began at seq ${expected}, not 1`, operations: [] });
    for (const { seq, id } of view.seen) {
      if (seq !== expected) {
        anomalies.push({ kind: 'reader-prefix', message: `${view.reader} read seq ${seq} after seq ${expected - 1}: it skipped or repeated one`, operations: [] });
        break;
      }
      if (log[seq - 1]?.id !== id) {
        anomalies.push({ kind: 'reader-prefix', message: `${view.reader} read event ${id} at seq ${seq}, where the final log holds ${log[seq - 1]?.id ?? 'nothing'}`, operations: [] });
        break;
      }
      expected += 1;
    }
  }
  return anomalies;
}
