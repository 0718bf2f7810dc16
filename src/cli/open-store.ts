import { SlotTable } from '../store/slot-store.js';
import { FileSlotTable } from '../store/file/file-slots.js';
import type { Session } from '../domain/session.js';
import type { SessionEvent } from '../events/session-event.js';
import { emptySessionsState, evolveSessions, type SessionsState } from '../projections/sessions-projection.js';
import { fileStoreToRead, readStore, type ReadLimit } from '../query/read-store.js';
import { readFileSessions, readPostgresSessions, type SessionReads } from '../query/session-reads.js';
import { START, type EventStore, type StoreCursor } from '../store/event-store.js';
import { FileEventStore } from '../store/file/file-event-store.js';
import { FileTranscripts } from '../store/file/file-transcripts.js';
import type { TranscriptStore } from '../store/transcript-store.js';
import { PostgresEventStore } from '../store/postgres/postgres-event-store.js';
import { UsageError, type CommandContext } from './command.js';
import { progressBar } from './progress.js';
import { exportedLine, unpackDecodedLines } from './exported-lines.js';
import { decodeWorkersFor, readLogInWorkers } from '../store/file/worker-log-read.js';
import { workerModule } from '../process/worker-module.js';

/** A store named on the command line: a directory, or a `postgres://…[#schema]` url. */
export function storeFromSpec(spec: string): EventStore {
  if (!/^postgres(ql)?:\/\//.test(spec)) return new FileEventStore(spec);
  const url = new URL(spec);
  const schema = url.hash.slice(1) || undefined;
  url.hash = '';
  return new PostgresEventStore({ connectionString: url.toString(), ...(schema === undefined ? {} : { schema }) });
}

/** The store of `--store`, when one is given. */
export function contextStore(context: CommandContext): EventStore | undefined {
  const spec = context.values['store'];
  if (spec === undefined) return undefined;
  if (typeof spec !== 'string' || !/^postgres(ql)?:\/\//.test(spec)) throw new UsageError('--store takes a postgres:// url (the file store is --dir)');
  return storeFromSpec(spec);
}

/**
 * The sessions of the store the command names, read without writing: the file store through
 * its read-only view, PostgreSQL by replaying its events. `onEvent` sees each event with the
 * state right after it (a full replay); `limit` stops early (time travel).
 */
export async function loadView(
  context: CommandContext,
  limit?: ReadLimit,
  onEvent?: (event: SessionEvent, state: SessionsState) => void,
): Promise<{ state: SessionsState; cursor: StoreCursor }> {
  const store = contextStore(context);
  if (store === undefined) {
    const view = await readStore(context.dir, limit, onEvent === undefined ? undefined : (record, state) => onEvent(record.event, state));
    return { state: view.state, cursor: view.cursor };
  }
  const state = emptySessionsState();
  let cursor: StoreCursor = START;
  try {
    const read = await store.readRecords(null);
    let stopped = false;
    outer: for await (const batch of read.records) {
      for (const record of batch) {
        const { event } = record;
        if ((limit?.seq !== undefined && event.seq > limit.seq) || (limit?.time !== undefined && event.timestamp > limit.time)) {
          stopped = true;
          break outer;
        }
        evolveSessions(state, event);
        cursor = read.cursorAfter(record);
        onEvent?.(event, state);
      }
    }
    if (!stopped) cursor = read.end().cursor;
  } finally {
    await store.close();
  }
  return { state, cursor };
}

/**
 * The line `export --format ndjson` writes of every event of the store the command names, in
 * `seq` order, batch by batch as they are read (see exportedLine): nothing is folded or kept,
 * so memory stays flat whatever the store's size. `each` may wait (for a slow output) before
 * the next batch is read. A big log of a file store is decoded by worker threads, which make
 * the lines too; this thread checks their order and hands them on. A terminal sees a progress bar.
 */
export async function forEachEventLine(context: CommandContext, each: (line: string) => Promise<void> | void): Promise<void> {
  const postgres = contextStore(context);
  const store = postgres ?? (await fileStoreToRead(context.dir));
  try {
    const workers = postgres === undefined ? await decodeWorkersFor(store.location) : 0;
    const inWorkers = workers > 0;
    const read = inWorkers
      ? await readLogInWorkers(store.location, { workers, verify: 'checksum', packer: workerModule('./exported-lines.js', import.meta.url), unpack: unpackDecodedLines })
      : await store.readRecords(null);
    const bar = progressBar('reading', read.size, postgres === undefined ? 'bytes' : 'events');
    for await (const batch of read.records) {
      // The workers made each line (their events hold nothing else); a read here did not.
      for (const { event, json } of batch) await each(inWorkers ? json! : exportedLine(event, json));
      bar.tick(batch.at(-1)!.end);
    }
    bar.done();
  } finally {
    await postgres?.close();
  }
}

/** The events of one session in the store the command names, up to `upTo` (the end of the read the command answers from, where `session` is as given). */
export async function sessionHistory(context: CommandContext, session: Session, upTo: StoreCursor): Promise<SessionEvent[]> {
  const store = contextStore(context) ?? new FileEventStore(context.dir);
  try {
    return await store.readSessionEvents(session.id, upTo, { createdAt: session.createdAt, revision: session.revision });
  } finally {
    await store.close();
  }
}

/** The events of one stream (a pipeline's, by its id) in the store the command names, up to `upTo`. */
export async function sessionHistoryOf(context: CommandContext, streamId: string, upTo: StoreCursor): Promise<SessionEvent[]> {
  const store = contextStore(context) ?? new FileEventStore(context.dir);
  try {
    return await store.readSessionEvents(streamId, upTo);
  } finally {
    await store.close();
  }
}

/**
 * Runs `read` on the sessions of the store the command names, and its stored conversations,
 * without writing (see `SessionReads`; a search may index conversations stored by an earlier version): PostgreSQL through its sessions table, saying on stderr when that stands
 * behind its log and cannot be brought level.
 */
export async function withSessionReads<T>(context: CommandContext, read: (reads: SessionReads, transcripts: TranscriptStore) => Promise<T>): Promise<T> {
  const store = contextStore(context);
  if (store === undefined) return readFileSessions(context.dir, (reads) => read(reads, new FileTranscripts(context.dir)));
  if (!(store instanceof PostgresEventStore)) throw new UsageError('--store takes a postgres:// url');
  try {
    return await readPostgresSessions(store, (reads) => read(reads, store.transcripts), (events, folded, why) =>
      process.stderr.write(`note: the sessions table of ${store.location} is ${events} events behind its log and could not be brought level (${why}): answers stand at seq ${folded}; \`miyabi-sessions migrate --store …\` as a role that may write it brings it level\n`),
    );
  } finally {
    await store.close();
  }
}

/**
 * The concurrency slots of the store the command names (`--store`, else the file store in
 * `--dir`), and a function that lets go of the store. Reading them (`view`) creates nothing.
 */
export function slotTableOf(context: CommandContext): { slots: SlotTable; close: () => Promise<void> } {
  const store = contextStore(context);
  if (store === undefined) return { slots: new SlotTable(new FileSlotTable(context.dir)), close: async () => undefined };
  if (store.slots === undefined) throw new UsageError('--store takes a postgres:// url');
  return { slots: new SlotTable(store.slots), close: () => store.close() };
}
