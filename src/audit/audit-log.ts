import { decodeWorkersFor, readLogInWorkers } from '../store/file/worker-log-read.js';
import { workerModule } from '../process/worker-module.js';
import { unpackDecodedLines } from './audited-part.js';
import { RepeatedIds } from './repeated-ids.js';
import { BackgroundSchemaCheck, schemaVerdicts, type SchemaCheckMode } from './schema-check.js';
import { SessionLedger, type Place } from './session-ledger.js';
import { fileStoreToRead } from '../query/read-store.js';
import type { EventStore, ReadEnd, ReadFinding, StoredRecord } from '../store/event-store.js';
import { digestOf, type TranscriptDigest, type TranscriptStore } from '../store/transcript-store.js';

/** What kind of problem a finding is. */
export type FindingKind = 'line' | 'sequence' | 'duplicate-id' | 'transition' | 'link' | 'torn-tail' | 'transcript';

/** The order of findings at one place: what the line is, then what its event does. */
const KIND_ORDER: readonly FindingKind[] = ['line', 'sequence', 'duplicate-id', 'transition', 'link', 'transcript', 'torn-tail'];

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
 *
 * On a big log worker threads decode the lines (checksum, JSON and schema: most of the work)
 * while this thread judges them in order ({@link readLogInWorkers}).
 */
export async function auditLog(dir: string, onProgress?: (done: number, total: number) => void, tuning: AuditLogTuning = {}): Promise<AuditReport> {
  const store = await fileStoreToRead(dir);
  const workers = tuning.decodeWorkers ?? (await decodeWorkersFor(store.location));
  if (workers === 0) return auditStore(store, onProgress, { schemaCheck: 'thread' });
  // The workers send back only what the rules read (audited-part.ts).
  const decoding = { workers, packer: workerModule('./audited-part.js', import.meta.url), unpack: unpackDecodedLines };
  return (await auditPass(store, onProgress, 'decoded', (onFinding) => readLogInWorkers(store.location, decoding, onFinding)))!;
}

/** How {@link auditLog} runs, for tests and benchmarks: how many worker threads decode the log (0: none, this thread). */
export interface AuditLogTuning {
  decodeWorkers?: number;
}

/** How {@link auditStore} runs, for tests and benchmarks: where it validates events ({@link SchemaCheckMode}). */
export interface AuditTuning {
  schemaCheck?: SchemaCheckMode;
}

/**
 * {@link auditLog} of any store, read through its read-only reader: on PostgreSQL a finding's
 * `line` and `offset` are the event's `seq`. The store is only read, never connected.
 * `onProgress` is told how far the read has got, out of `StoreRead.size`.
 *
 * Its memory does not grow with the log but for a few bytes a session ({@link SessionLedger}):
 * event ids are checked in spilled parts ({@link RepeatedIds}). On a big log a worker thread
 * validates events while they are judged ({@link BackgroundSchemaCheck}); if it refuses any, the
 * judgments that took it as valid cannot stand, and the log is audited again, each event
 * validated before it is judged (a log with such an event is rare: its checksum must match).
 */
export async function auditStore(store: AuditedStore, onProgress?: (done: number, total: number) => void, tuning: AuditTuning = {}): Promise<AuditReport> {
  const read = (onFinding: (f: ReadFinding) => void) => store.readRecords(null, { verify: 'checksum', onFinding });
  return (await auditPass(store, onProgress, tuning.schemaCheck ?? 'auto', read)) ?? (await auditPass(store, onProgress, 'thread', read))!;
}

/** What the audit needs of a store. */
type AuditedStore = Pick<EventStore, 'location' | 'readRecords' | 'transcripts'>;

/** The read an audit pass judges: records in order, and what is left past the last whole transaction. */
interface AuditRead {
  size: number;
  records: AsyncIterable<StoredRecord[]>;
  end(): Pick<ReadEnd, 'line' | 'offset' | 'pendingBytes' | 'pendingLines'>;
}

/**
 * One pass of the audit over `open`'s read; null when the worker refused an event the pass had
 * judged. `'decoded'`: the read validated every event's schema itself (its events may be only
 * the part the rules read); otherwise the read checked checksums, and `mode` says where the
 * schema is checked.
 */
async function auditPass(store: AuditedStore, onProgress: ((done: number, total: number) => void) | undefined, mode: SchemaCheckMode | 'decoded', open: (onFinding: (f: ReadFinding) => void) => Promise<AuditRead>): Promise<AuditReport | null> {
  const file = store.location;
  const findings: AuditFinding[] = [];
  const onFinding = (f: ReadFinding) => findings.push({ kind: f.message.startsWith('seq ') ? 'sequence' : 'line', ...f });
  const ledger = new SessionLedger();
  const ids = new RepeatedIds();
  const background = new BackgroundSchemaCheck(mode === 'decoded' ? 'thread' : mode);
  const transcripts = new Map<string, { record: Place; digest: TranscriptDigest }>();
  let events = 0;
  const judge = (record: StoredRecord) => {
    const { event } = record;
    events += 1;
    ids.add(event.id, event.sessionId, record.line, record.offset);
    const refusal = ledger.refusal(event);
    if (refusal !== null) {
      return void findings.push({ kind: event.type === 'SessionSpawned' ? 'link' : 'transition', line: record.line, offset: record.offset, sessionId: event.sessionId, message: refusal });
    }
    ledger.apply(event, record);
    if ('transcript' in event.data && event.data.transcript !== undefined && 'sha256' in event.data.transcript) {
      transcripts.set(event.sessionId, { record: { line: record.line, offset: record.offset }, digest: event.data.transcript });
    }
  };
  try {
    const read = await open(onFinding);
    for await (const batch of read.records) {
      if (mode === 'decoded') {
        for (const record of batch) judge(record);
      } else {
        // Checksums and JSON in the reader; the schema here, or in the worker (see BackgroundSchemaCheck).
        background.read(batch);
        if (background.taking) {
          background.submit(batch);
          try {
            for (const record of batch) judge(record);
          } catch {
            // An event no schema checked broke a rule's reading of it: it is not valid, and the
            // pass in which each event is validated first will say so.
            return null;
          }
        } else {
          const verdicts = schemaVerdicts(batch);
          for (let i = 0; i < batch.length; i += 1) {
            const invalid = verdicts[i];
            if (invalid === null) judge(batch[i]!);
            else onFinding({ line: batch[i]!.line, offset: batch[i]!.offset, message: invalid! });
          }
        }
      }
      onProgress?.(batch.at(-1)!.end, read.size);
    }
    if ((await background.refused()).length > 0) return null;

    for (const repeat of ids.repeats()) findings.push({ kind: 'duplicate-id', line: repeat.line, offset: repeat.offset, sessionId: repeat.sessionId, message: `event id ${repeat.id} appears again` });
    for (const broken of ledger.brokenHandoffs()) {
      findings.push({ kind: 'link', line: broken.line, offset: broken.offset, sessionId: broken.parent, message: `handed off to ${broken.child}, which was never spawned as its child` });
    }
    if (store.transcripts !== undefined) findings.push(...(await transcriptFindings(store.transcripts, store.location, transcripts)));
    const tail = read.end();
    if (tail.pendingBytes > 0) {
      findings.push({ kind: 'torn-tail', line: tail.line + 1, offset: tail.offset, message: `${tail.pendingBytes} bytes after the last whole transaction (${tail.pendingLines} complete lines of an unfinished transaction); opening the store would cut them` });
    }
    findings.sort((a, b) => a.offset - b.offset || KIND_ORDER.indexOf(a.kind) - KIND_ORDER.indexOf(b.kind));
    return { file, lines: tail.line + tail.pendingLines, events, sessions: ledger.sessions, imported: ledger.imported, findings };
  } finally {
    ids.dispose();
    await background.close();
  }
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
