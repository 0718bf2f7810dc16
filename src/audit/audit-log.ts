import type { Session } from '../domain/session.js';
import type { SessionEvent } from '../events/session-event.js';
import { machineEventOf, snapshotOf } from '../manager/machine-bridge.js';
import { emptySessionsState, evolveSessions, spawnRefusal } from '../projections/sessions-projection.js';
import { UuidSet } from './uuid-set.js';
import { fileStoreToRead } from '../query/read-store.js';
import type { EventStore, ReadFinding, StoredRecord } from '../store/event-store.js';
import { digestOf, type TranscriptDigest, type TranscriptStore } from '../store/transcript-store.js';

/** Where an event stands in the log. */
type Place = Pick<StoredRecord, 'line' | 'offset'>;

/** What kind of problem a finding is. */
export type FindingKind = 'line' | 'sequence' | 'duplicate-id' | 'transition' | 'link' | 'torn-tail' | 'transcript';

/** One problem in the log, with where it is. */
export interface AuditFinding {
  kind: FindingKind;
  line: number;
  offset: number;
  sessionId?: string;
  message: string;
}

/** The audit's verdict on a log. */
export interface AuditReport {
  file: string;
  lines: number;
  events: number;
  sessions: number;
  /** Sessions imported from the original's sessions.json (their events are marked `imported`), not observed here. */
  imported: number;
  findings: AuditFinding[];
}

/**
 * Verifies a log without changing it: every line's checksum and schema, gap-free `seq`, unique
 * event ids, every transition allowed by the session machine, parent/child links that agree,
 * every transcript the log records as stored (there, with the recorded SHA-256), and whether
 * the end is torn. Unlike opening a store it does not stop at the first problem.
 * Throws `NOT_FOUND` when `dir` does not exist, `FOREIGN_STORE` when its sessions.json is the original's.
 */
export async function auditLog(dir: string, onProgress?: (done: number, total: number) => void): Promise<AuditReport> {
  return auditStore(await fileStoreToRead(dir), onProgress);
}

/**
 * {@link auditLog} of any store, read through its read-only reader: on PostgreSQL a finding's
 * `line` and `offset` are the event's `seq`. The store is only read, never connected.
 * `onProgress` is told how far the read has got, out of `StoreRead.size`.
 */
export async function auditStore(store: Pick<EventStore, 'location' | 'readRecords' | 'transcripts'>, onProgress?: (done: number, total: number) => void): Promise<AuditReport> {
  const file = store.location;
  const findings: AuditFinding[] = [];
  const onFinding = (f: ReadFinding) => findings.push({ kind: f.message.startsWith('seq ') ? 'sequence' : 'line', ...f });
  const state = emptySessionsState();
  const ids = new UuidSet();
  const transcripts = new Map<string, { record: Place; digest: TranscriptDigest }>();
  let events = 0;
  const check = (record: StoredRecord) => {
    const { event } = record;
    const at = { line: record.line, offset: record.offset, sessionId: event.sessionId };
    events += 1;
    if (!ids.add(event.id)) findings.push({ kind: 'duplicate-id', ...at, message: `event id ${event.id} appears again` });
    const refusal = transitionRefusal(state.sessions, event);
    if (refusal !== null) {
      findings.push({ kind: event.type === 'SessionSpawned' ? 'link' : 'transition', ...at, message: refusal });
      return;
    }
    try {
      evolveSessions(state, event);
    } catch (error) {
      findings.push({ kind: 'transition', ...at, message: (error as Error).message });
      return;
    }
    const session = keepWhatChecksRead(state.sessions.get(event.sessionId)!);
    if (event.type === 'SessionSpawned') session.spawnedAt = { line: record.line, offset: record.offset };
    if ('transcript' in event.data && event.data.transcript !== undefined && 'sha256' in event.data.transcript) {
      transcripts.set(event.sessionId, { record: { line: record.line, offset: record.offset }, digest: event.data.transcript });
    }
  };
  const read = await store.readRecords(null, { verify: 'schema', onFinding });
  for await (const batch of read.records) {
    for (const record of batch) check(record);
    onProgress?.(batch.at(-1)!.end, read.size);
  }

  for (const session of state.sessions.values()) {
    for (const child of session.childSessions) {
      if (state.sessions.get(child)?.parentSession !== session.id) {
        const record = (session as AuditedSession).spawnedAt!;
        findings.push({ kind: 'link', line: record.line, offset: record.offset, sessionId: session.id, message: `handed off to ${child}, which was never spawned as its child` });
      }
    }
  }
  if (store.transcripts !== undefined) findings.push(...(await transcriptFindings(store.transcripts, store.location, transcripts)));
  const tail = read.end();
  if (tail.pendingBytes > 0) {
    findings.push({ kind: 'torn-tail', line: tail.line + 1, offset: tail.offset, message: `${tail.pendingBytes} bytes after the last whole transaction (${tail.pendingLines} complete lines of an unfinished transaction); opening the store would cut them` });
  }
  findings.sort((a, b) => a.offset - b.offset);
  let imported = 0;
  for (const session of state.sessions.values()) if (session.imported === true) imported += 1;
  return { file, lines: tail.line + tail.pendingLines, events, sessions: state.sessions.size, imported, findings };
}

/** A transcript the log records as stored but that is missing, or whose bytes are not the ones recorded. */
async function transcriptFindings(stored: TranscriptStore, where: string, recorded: Map<string, { record: Place; digest: TranscriptDigest }>): Promise<AuditFinding[]> {
  const findings: AuditFinding[] = [];
  for (const [sessionId, { record, digest }] of recorded) {
    const at = { kind: 'transcript' as const, line: record.line, offset: record.offset, sessionId };
    let content: Buffer | null;
    try {
      content = await stored.load(sessionId);
    } catch (error) {
      findings.push({ ...at, message: `the recorded transcript cannot be read: ${(error as Error).message}` });
      continue;
    }
    if (content === null) {
      findings.push({ ...at, message: `the recorded transcript (${digest.bytes} bytes) is missing from ${where}` });
      continue;
    }
    const found = digestOf(content);
    if (found.sha256 !== digest.sha256) findings.push({ ...at, message: `the stored transcript (${found.bytes} bytes, sha256 ${found.sha256.slice(0, 12)}…) is not the one recorded (${digest.bytes} bytes, sha256 ${digest.sha256.slice(0, 12)}…)` });
  }
  return findings;
}

/** A session as the audit keeps it (see {@link keepWhatChecksRead}), with where its spawn is. */
type AuditedSession = Session & { spawnedAt?: Place };

/** The context every session keeps in the audit: what it worked on is not what the audit checks. */
const NO_CONTEXT: Session['context'] = Object.freeze({ issueNumber: null, currentPhase: 'CodeGeneration', worktreePath: null, previousResults: [] });

/**
 * Drops what no check of the audit reads from a session it has just folded. The audit holds
 * every session of the log at once, and whole sessions made it hold the store (650 MB at
 * 250,000 sessions). Its checks read the status and the agent's run (the machine's guards), the
 * links (children, parent, the Failed session a retry retries) and the imported mark; the rest
 * (purpose, context, times, results, errors, the agent's command) is dropped. The fold goes on
 * from what is kept: it reads no more than the checks do.
 */
function keepWhatChecksRead(session: AuditedSession): AuditedSession {
  session.agentName = '';
  session.purpose = '';
  session.context = NO_CONTEXT;
  session.createdAt = '';
  delete session.endedAt;
  delete session.handoffTo;
  delete session.result;
  delete session.error;
  delete session.pipeline;
  const agent = session.agent;
  if (agent !== undefined) {
    const process = { host: '', pid: agent.process.pid, startTime: null };
    session.agent = { process, supervisor: process, command: [], cwd: '', logFile: '', resumedFrom: null, startedAt: '' };
    // Only whether it finished counts, not when.
    if (agent.finishedAt !== undefined) session.agent.finishedAt = '';
  }
  return session;
}

/** Why the session machine (or the lineage rules) refuse this event, or null when it fits. */
function transitionRefusal(sessions: ReadonlyMap<string, Session>, event: SessionEvent): string | null {
  const session = sessions.get(event.sessionId);
  if (event.type === 'SessionSpawned') return spawnRefusal(sessions, event);
  if (session === undefined) return `${event.type} for session ${event.sessionId}, which was never spawned`;
  const machineEvent = machineEventOf(event)!;
  if (!snapshotOf(session).can(machineEvent)) return `${event.type} is not allowed: session ${session.id} is ${session.status}`;
  return null;
}
