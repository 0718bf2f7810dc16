import { EVENT_TYPES, type SessionEvent } from '../events/session-event.js';
import type { DecodedLine } from '../store/file/worker-log-read.js';

/*
 * The audit's LinePacker (see worker-log-read.ts): a decoding worker loads this module.
 */

/**
 * Decoded lines packed flat for the trip from a decoding worker to the audit's judging thread:
 * copying whole events between threads costs about what parsing them does, and a flat array of
 * strings and numbers a fraction of it. Each line packs as `false, reason` (not an event) or as
 * `true`, the envelope (`seq`, `txSize`, `imported`, the type's place in {@link EVENT_TYPES}, `id`,
 * `sessionId`: a number is copied for free, a string is made anew on the other side) and then the
 * fields of its data that a rule of the audit reads: the links, the transcript a session ended
 * with, the agent's pid. Free text and results are not sent: the event's schema, checked in
 * the worker, was their only judge. A pipeline stream's event (rare) goes whole.
 */
export type PackedLines = unknown[];

const TYPE_NUMBER = new Map(EVENT_TYPES.map((type, i) => [type, i]));

/** Appends `decoded` to `packed` (see {@link PackedLines}). */
export function packDecodedLine(decoded: DecodedLine, packed: PackedLines): void {
  if (!decoded.ok) return void packed.push(false, decoded.reason);
  const { event } = decoded;
  packed.push(true, event.seq, event.txSize, event.imported, TYPE_NUMBER.get(event.type), event.id, event.sessionId);
  switch (event.type) {
    case 'SessionSpawned':
      return void packed.push(event.data.parentSession, event.data.retryOf);
    case 'SessionAgentStarted':
      return void packed.push(event.data.process.pid);
    case 'SessionHandedOff':
      return void packed.push(event.data.childSession, event.data.toAgent);
    case 'SessionAgentFinished':
    case 'SessionCompleted':
    case 'SessionFailed':
      return void packed.push(event.data.transcript);
    case 'SessionStopRequested':
      return;
    default:
      return void packed.push(event);
  }
}

/**
 * The lines {@link packDecodedLine} packed, as events holding what the audit's rules read
 * (the session machine's guards read no event's payload). Never passed on or shown.
 */
export function unpackDecodedLines(packed: PackedLines): DecodedLine[] {
  const lines: DecodedLine[] = [];
  let i = 0;
  const next = () => packed[i++];
  while (i < packed.length) {
    if (next() === false) {
      lines.push({ ok: false, reason: next() as string });
      continue;
    }
    // One shape for every event (txSize and imported undefined where absent): the rules compare them with undefined.
    const seq = next() as number;
    const txSize = next() as number | undefined;
    const imported = next() as true | undefined;
    const type = EVENT_TYPES[next() as number]!;
    const id = next() as string;
    const sessionId = next() as string;
    let data: Record<string, unknown>;
    switch (type) {
      case 'SessionSpawned':
        data = { parentSession: next(), retryOf: next() };
        break;
      case 'SessionAgentStarted':
        data = { process: { pid: next() } };
        break;
      case 'SessionHandedOff':
        data = { childSession: next(), toAgent: next() };
        break;
      case 'SessionAgentFinished':
      case 'SessionCompleted':
      case 'SessionFailed':
        data = { transcript: next() };
        break;
      case 'SessionStopRequested':
        data = {};
        break;
      default:
        lines.push({ ok: true, event: next() as SessionEvent });
        continue;
    }
    lines.push({ ok: true, event: { seq, id, type, sessionId, txSize, imported, data } as unknown as SessionEvent });
  }
  return lines;
}
