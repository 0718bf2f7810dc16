import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { PHASES } from '../domain/phase.js';
import type { Session } from '../domain/session.js';
import { SessionError } from '../errors.js';
import type { StoreCursor } from '../store/event-store.js';
import { RecordIndex, STATUS_LETTER, facetsOf, type IndexEntry, type StatusLetter } from './record-index.js';
import { SessionMap, activeSessionsUnordered } from './session-map.js';
import { decodeRecord, toRecord } from './session-record.js';
import { emptySessionsState, type SessionsState } from '../projections/sessions-projection.js';
import { streamSessions } from '../projections/session-query.js';
import { StatsCounter, computeStats, statsOf, type SessionStats } from '../projections/stats.js';

/*
 * sessions.json in the original (Rust) format: `{ "sessions": [...], "version": 1 }` with
 * snake_case keys (the records themselves: session-record.ts), one record a line. It is kept up to
 * date in place (sessions-file-writer.ts): a changed session's record is written anew at the end
 * of the array and its old one blanked to white space, so a checkpoint costs what changed, not
 * the whole store. The array's order is therefore not spawn order; the original's readers never
 * relied on one (it kept a hash map). Three more keys follow, which those readers ignore:
 * - `checkpoint`: which prefix of the log the file covers (so an open replays only the tail),
 *   where the records region ends and its CRC-32 (so the next writer appends without reading),
 *   the record index file it goes with (generation, length, CRC-32), and the ended sessions' stats;
 * - `checkpoint_at`: the byte offset of the `checkpoint` object, so it is found without a scan;
 * - `checksum`: the CRC-32 of every byte before it, so an edited or cut file is rebuilt from the log.
 */

/** The bytes the file starts with; the first record follows. */
export const FILE_HEADER = '{\n  "sessions": [';
/** What stands before every record but the first live one. */
export const SEPARATOR = ',\n    ';
/** What stands before the first record. */
export const FIRST_SEPARATOR = '\n    ';

/** What a writer must know of a sessions.json to change it in place without reading it. */
export interface SessionsFileFacts {
  /** Which record index file goes with it; null for a copy that has none (an export). */
  generation: number | null;
  indexBytes: number;
  indexCrc: number;
  /** Where the records region (header and every record) ends: the trailer starts there. */
  recordsEnd: number;
  /** CRC-32 of the records region. */
  recordsCrc: number;
  /** Start of the live record that stands first in the file (it has no comma); -1 when none. */
  firstLive: number;
  /** Bytes of blanked (superseded) records. */
  holes: number;
  /** Stats of every ended session in the file. */
  endedStats: SessionStats;
  /** Stats of every Active session in the file; null in a file of an earlier version. */
  activeStats: SessionStats | null;
}

/** A checkpoint read back: the projection and the log position it covers. */
export interface Checkpoint {
  state: SessionsState;
  cursor: StoreCursor;
}

/** A sessions.json rendered whole, compactly: its bytes, its index and what a writer needs. */
export interface RenderedSessionsFile {
  parts: Buffer[];
  index: RecordIndex;
  facts: SessionsFileFacts;
}

const FLUSH_AT = 1024 * 1024;

/**
 * A session's record as it stands in the file: one line. JSON readers ignore white space, and
 * a record pretty-printed took twice the bytes, which every open checks and every checkpoint
 * that changes the session writes again.
 */
export function renderRecord(session: Session): string {
  return JSON.stringify(toRecord(session));
}

/** The status letter of a session for the index. */
export function statusLetter(session: Session): StatusLetter {
  return STATUS_LETTER[session.status];
}

/**
 * Renders the projection as a compact sessions.json (no holes), in pieces: records still in a
 * {@link SessionMap}'s archive first, copied as they are in their file order (checked against
 * their CRC, not parsed and re-rendered), then the sessions in memory in spawn order. The index
 * lists every session in spawn order. Same state, cursor and generation, same bytes.
 */
export function renderSessionsFileParts(state: SessionsState, cursor: StoreCursor, generation: number | null = null): RenderedSessionsFile {
  const out = new ByteSink();
  // First, as it reads every Active record: what stays archived and is copied is then ended
  // only, and ended records never change, so the new file can serve them to this process.
  // Stryker disable next-line StringLiteral: equivalent, statsOf counts any `which` but 'all' as 'ended'
  const endedStats = statsOf(state.sessions, 'ended');
  const activeStats = computeStats(activeSessionsUnordered(state.sessions));
  const map = state.sessions instanceof SessionMap ? state.sessions : null;
  const archive = map?.source ?? null;
  const slots = [...(map === null ? state.sessions.entries() : map.slots())];
  // Archived records go first, in their old file order, so they are read sequentially; the
  // index still lists every session in spawn order, which is what readers rebuild.
  const order = slots.map((_, i) => i);
  // Stryker disable next-line ConditionalExpression: equivalent, without an archive every slot is a session, placed at Infinity, so the sort keeps index order
  if (archive !== null) {
    const place = (i: number) => (typeof slots[i]![1] === 'number' ? archive.index.startOf(slots[i]![1] as number) : Infinity);
    // Stryker disable next-line ArithmeticOperator: equivalent for `a - b`, the order starts in index order and ties only meet in it, where a + b gives the same sign
    order.sort((a, b) => place(a) - place(b) || a - b);
  }
  const readArchived = archive?.sequentialReader();
  // Stryker disable next-line ArrayDeclaration: equivalent, an array grows as entries are set; the length only sizes it once
  const entries = new Array<IndexEntry>(slots.length);
  out.text(FILE_HEADER);
  for (const i of order) {
    const [id, slot] = slots[i]!;
    out.text(i === order[0] ? FIRST_SEPARATOR : SEPARATOR);
    const start = out.offset;
    if (typeof slot === 'number') {
      out.bytes(readArchived!(slot));
      entries[i] = { id, start, length: out.offset - start, crc: archive!.crcOf(slot), status: archive!.statusOf(slot), facets: archive!.index.facetsOf(slot) };
    } else {
      const text = renderRecord(slot);
      out.text(text);
      entries[i] = { id, start, length: out.offset - start, crc: crc32(text), status: statusLetter(slot), facets: facetsOf(slot) };
    }
  }
  const index = new RecordIndex();
  for (const entry of entries) index.push(entry);
  const facts: SessionsFileFacts = {
    generation,
    indexBytes: 0,
    indexCrc: 0,
    recordsEnd: out.offset,
    recordsCrc: out.crc,
    firstLive: order.length === 0 ? -1 : entries[order[0]!]!.start,
    holes: 0,
    endedStats,
    activeStats,
  };
  return { parts: [...out.finish(), Buffer.from(renderTrailer(facts, state.lastEventId, cursor))], index, facts };
}

/**
 * Renders the projection as one compact sessions.json string in spawn order (export,
 * comparisons): the same sessions give the same bytes, however they were loaded. A
 * {@link SessionMap}'s archived records are read first, in file order.
 */
export function renderSessionsFile(state: SessionsState, cursor: StoreCursor): string {
  if (state.sessions instanceof SessionMap) state.sessions.loadAll();
  return Buffer.concat(renderSessionsFileParts(state, cursor).parts).toString('utf8');
}

/**
 * Whether two states render the same sessions.json at one cursor, found without rendering
 * either: the same records in the same (spawn) order, the same last event, the same stats (as
 * values: their agents in any order). A loaded file's records are walked one at a time and none
 * is kept, so stores of any size compare in the memory of one record; rendered whole, 250,000
 * sessions made two strings of 250 MB, and past ~530,000 a string longer than one may be.
 * Throws `CORRUPT_CHECKPOINT` when a loaded record fails its checksum as it is read.
 */
export function sameRendering(a: SessionsState, b: SessionsState): boolean {
  if (a.lastEventId !== b.lastEventId || a.sessions.size !== b.sessions.size) return false;
  const theirs = streamSessions(b.sessions);
  for (const mine of streamSessions(a.sessions)) {
    const other = theirs.next();
    if (other.done === true || renderRecord(other.value) !== renderRecord(mine)) return false;
  }
  if (theirs.next().done !== true) return false;
  const both = [a, b].map((state) => [statsOf(state.sessions, 'ended'), computeStats(activeSessionsUnordered(state.sessions))].map(sortedStats));
  return JSON.stringify(both[0]) === JSON.stringify(both[1]);
}

/** Stats with their agents in name order, for a comparison that their order must not sway. */
function sortedStats(stats: SessionStats): SessionStats {
  const byName = <T>(record: Record<string, T>) => Object.fromEntries(Object.entries(record).sort(([x], [y]) => (x < y ? -1 : x > y ? 1 : 0)));
  return { ...stats, byAgent: byName(stats.byAgent), spendByAgent: byName(stats.spendByAgent) };
}

/** A session to write into a sessions.json, with its record's bytes when they were read from one. */
export interface FiledSession {
  readonly session: Session;
  /** The record as a sessions.json holds it, checksum-verified: written as it stands. */
  readonly record?: { bytes: Buffer };
  /** Its status, when known without decoding the session. */
  readonly status?: Session['status'];
}

/**
 * A compact sessions.json of these sessions (in spawn order), this cursor and last event id, as
 * they are read: pieces of about 1 MiB, so memory holds one piece and two stats counters
 * however large the store (an export of 250,000 sessions is 250 MB; as one string it held
 * 1.3 GB, and past ~530,000 sessions it is longer than a string may be). A record read from a
 * sessions.json is copied as it stands, as a checkpoint copies it (writing each record again
 * took half the time); the others are rendered. Records this version wrote make the same bytes
 * as {@link renderSessionsFile} of the same state. `endedStats`, the ended sessions' stats when
 * they are counted already (a loaded file counted its own): an ended session whose status and
 * record are known is then written without being decoded at all.
 */
export async function* streamSessionsFile(sessions: AsyncIterable<FiledSession>, cursor: StoreCursor, lastEventId: string | null, endedStats?: SessionStats): AsyncGenerator<Buffer> {
  const out = new ByteSink();
  const ended = new StatsCounter();
  const active = new StatsCounter();
  let firstLive = -1;
  out.text(FILE_HEADER);
  for await (const filed of sessions) {
    out.text(firstLive === -1 ? FIRST_SEPARATOR : SEPARATOR);
    if (firstLive === -1) firstLive = out.offset;
    if (filed.record === undefined) out.text(renderRecord(filed.session));
    else out.copy(filed.record.bytes);
    if ((filed.status ?? filed.session.status) === 'Active') active.add(filed.session);
    else if (endedStats === undefined) ended.add(filed.session);
    yield* out.take();
  }
  const facts: SessionsFileFacts = {
    generation: null,
    indexBytes: 0,
    indexCrc: 0,
    recordsEnd: out.offset,
    recordsCrc: out.crc,
    firstLive,
    holes: 0,
    endedStats: endedStats ?? ended.result(),
    activeStats: active.result(),
  };
  yield* out.finish();
  yield Buffer.from(renderTrailer(facts, lastEventId, cursor));
}

/**
 * Everything after the records: the array's end, `version`, the checkpoint object, its offset
 * and the checksum, which continues the records region's CRC-32 over these bytes.
 */
export function renderTrailer(facts: SessionsFileFacts, eventId: string | null, cursor: StoreCursor): string {
  const head = `\n  ],\n  "version": 1,\n  "checkpoint": `;
  const checkpointAt = facts.recordsEnd + Buffer.byteLength(head);
  const fields: Array<[string, unknown]> = [
    ['format', CHECKPOINT_FORMAT],
    ['seq', cursor.seq],
    ['event_id', eventId],
    // The store's own position, which only the store reads.
    ['position', cursor.position],
    ['index', facts.generation === null ? null : { generation: facts.generation, bytes: facts.indexBytes, crc: facts.indexCrc }],
    ['records_end', facts.recordsEnd],
    ['records_crc', facts.recordsCrc],
    ['first_live', facts.firstLive],
    ['holes', facts.holes],
    ['ended_stats', facts.endedStats],
    ['active_stats', facts.activeStats],
  ];
  const covered = `${head}{\n${fields.map(([key, value]) => `    ${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(',\n')}\n  },\n  "checkpoint_at": ${checkpointAt}`;
  return `${covered},\n  "checksum": ${crc32(covered, facts.recordsCrc)}\n}\n`;
}

/** Builds the file in ~1 MiB pieces, counting bytes and the running CRC-32 as it goes. */
class ByteSink {
  offset = 0;
  crc = 0;
  private readonly parts: Buffer[] = [];
  private pending: Buffer[] = [];
  private pendingBytes = 0;

  text(text: string): void {
    this.add(Buffer.from(text));
  }

  /** Adds bytes the caller may reuse (a window of a walk): copied now. */
  copy(bytes: Buffer): void {
    this.add(Buffer.from(bytes));
  }

  /** Adds bytes that stay as they are, as a piece of their own. */
  bytes(bytes: Buffer): void {
    this.flush();
    this.parts.push(bytes);
    this.offset += bytes.length;
    this.crc = crc32(bytes, this.crc);
  }

  finish(): Buffer[] {
    this.flush();
    return this.parts;
  }

  /** The whole pieces made so far, given up (a stream writes them out as it goes). */
  take(): Buffer[] {
    return this.parts.splice(0);
  }

  private add(bytes: Buffer): void {
    this.pending.push(bytes);
    this.pendingBytes += bytes.length;
    this.offset += bytes.length;
    this.crc = crc32(bytes, this.crc);
    // Stryker disable next-line EqualityOperator: equivalent, '>' differs only when the pending bytes are exactly 1 MiB, a piece of 1 MiB and one byte then
    if (this.pendingBytes >= FLUSH_AT) this.flush();
  }

  private flush(): void {
    if (this.pending.length === 0) return;
    this.parts.push(Buffer.concat(this.pending, this.pendingBytes));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** Where the trailer says things are: the checkpoint object's bytes and the checksum. */
export interface SessionsFileTrailer {
  checkpointAt: number;
  /** Offset where the checkpoint object ends. */
  checkpointEnd: number;
  /** Offset where the bytes the checksum covers end. */
  checksumEnd: number;
  checksum: number;
}

const TRAILER = /\n {2}\},\n {2}"checkpoint_at": (\d{1,15}),\n {2}"checksum": (\d{1,10})\n\}\n$/;
/** How many bytes at the end of the file hold the trailer. */
export const TRAILER_BYTES = 96;

/** Reads the trailer from the last {@link TRAILER_BYTES} bytes of a file of `size` bytes; null if it has none. */
export function parseTrailer(end: Buffer, size: number): SessionsFileTrailer | null {
  const match = TRAILER.exec(end.toString('latin1'));
  if (match === null) return null;
  const at = size - end.length + match.index;
  const checkpointEnd = at + 4;
  const checksumEnd = checkpointEnd + `,\n  "checkpoint_at": ${match[1]}`.length;
  const checkpointAt = Number(match[1]);
  if (checkpointAt >= checkpointEnd) return null;
  return { checkpointAt, checkpointEnd, checksumEnd, checksum: Number(match[2]) };
}

const Counts = z.object({ total: z.number(), active: z.number(), handedOff: z.number(), completed: z.number(), failed: z.number() });
const Offset = z.number().int().nonnegative();
const Stats = Counts.extend({
  byAgent: z.record(z.string(), Counts),
  byPhase: z.record(z.string(), Counts),
  durations: z.object({ ended: z.number(), totalMs: z.number(), meanMs: z.number().nullable(), maxMs: z.number().nullable() }),
  totalCostUsd: z.number(),
  totalTurns: z.number(),
  // Written since stats kept each agent's spend; a file without it is rebuilt from the log at open.
  spendByAgent: z.record(z.string(), z.object({ costUsd: z.number(), turns: z.number() })),
});
/**
 * The records' format: 2 writes `error_message` (the original's key) and `null` for what is
 * absent; 3 keeps each session's agent, phase and issue in its index entry (see Facets). A file
 * of another format is rebuilt from the log at open, so every record and entry is in this one.
 */
const CHECKPOINT_FORMAT = 3;
const CheckpointShape = z.object({
  format: z.literal(CHECKPOINT_FORMAT),
  seq: Offset,
  event_id: z.string().nullable(),
  position: z.record(z.string(), Offset),
  index: z.object({ generation: Offset, bytes: Offset, crc: Offset }).nullable(),
  records_end: Offset,
  records_crc: Offset,
  first_live: z.number().int().min(-1),
  holes: Offset,
  ended_stats: Stats,
  // Written since checkpoint files counted their Active sessions too; older ones lack it.
  active_stats: Stats.nullable().default(null),
});

/** The checkpoint object of a sessions.json, checked. */
export interface ParsedCheckpoint {
  cursor: StoreCursor;
  eventId: string | null;
  facts: SessionsFileFacts;
}

/** Parses the checkpoint object's bytes (already covered by a verified checksum). Throws `CORRUPT_CHECKPOINT`. */
export function parseCheckpoint(bytes: Buffer, path: string, checkpointAt: number): ParsedCheckpoint {
  let parsed;
  try {
    parsed = CheckpointShape.parse(JSON.parse(bytes.toString('utf8')));
  } catch (error) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} has no valid checkpoint (a file of another version is rebuilt)`, { cause: error });
  }
  // Stats merge phase by phase: a file from a version that knew other phases is rebuilt instead.
  if (PHASES.some((phase) => parsed.ended_stats.byPhase[phase] === undefined || (parsed.active_stats !== null && parsed.active_stats.byPhase[phase] === undefined))) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} has stats for other phases than this version's`);
  }
  if (parsed.records_end >= checkpointAt || parsed.first_live >= parsed.records_end) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} has a checkpoint that does not fit the file`);
  }
  return {
    cursor: { seq: parsed.seq, position: parsed.position },
    eventId: parsed.event_id,
    facts: {
      generation: parsed.index?.generation ?? null,
      indexBytes: parsed.index?.bytes ?? 0,
      indexCrc: parsed.index?.crc ?? 0,
      recordsEnd: parsed.records_end,
      recordsCrc: parsed.records_crc,
      firstLive: parsed.first_live,
      holes: parsed.holes,
      endedStats: parsed.ended_stats as SessionStats,
      activeStats: parsed.active_stats as SessionStats | null,
    },
  };
}

/**
 * Parses a whole sessions.json held in memory, index or not (an export, a copy): every session
 * in file order and the log position it covers. Throws `CORRUPT_CHECKPOINT` if its checksum
 * fails (the file was edited or cut) or it does not hold what this library writes.
 */
export function parseSessionsFile(input: string | Buffer, path: string): Checkpoint {
  // Stryker disable next-line ConditionalExpression: equivalent, Buffer.from of a Buffer is a copy of the same bytes
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  // Stryker disable next-line MethodExpression: equivalent, Math.min hands parseTrailer the whole file (or its last bytes), whose end it matches the same: only slower
  const trailer = parseTrailer(bytes.subarray(Math.max(0, bytes.length - TRAILER_BYTES)), bytes.length);
  if (trailer === null) throw new SessionError('CORRUPT_CHECKPOINT', `${path} has no checksum: it was not written by this library, or was edited`);
  if (crc32(bytes.subarray(0, trailer.checksumEnd)) !== trailer.checksum) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} was edited: its checksum does not match its content`);
  }
  const checkpoint = parseCheckpoint(bytes.subarray(trailer.checkpointAt, trailer.checkpointEnd), path, trailer.checkpointAt);
  let records: unknown;
  try {
    records = (JSON.parse(bytes.toString('utf8')) as { sessions: unknown }).sessions;
  } catch (error) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} is not JSON`, { cause: error });
  }
  if (!Array.isArray(records)) throw new SessionError('CORRUPT_CHECKPOINT', `${path} has no sessions array`);
  const state = emptySessionsState();
  for (const record of records) {
    const id = (record as { id?: unknown }).id;
    if (typeof id !== 'string' || state.sessions.has(id)) throw new SessionError('CORRUPT_CHECKPOINT', `${path} holds a record without a unique id`);
    state.sessions.set(id, decodeRecord(Buffer.from(JSON.stringify(record)), id, path));
  }
  state.lastSeq = checkpoint.cursor.seq;
  state.lastEventId = checkpoint.eventId;
  return { state, cursor: checkpoint.cursor };
}

/** True when two projections hold the same sessions with the same records, in whatever order. */
export function sameSessions(a: ReadonlyMap<string, Session>, b: ReadonlyMap<string, Session>): boolean {
  if (a.size !== b.size) return false;
  // A loaded file's sessions are walked one record at a time, none kept: 250,000 of them parsed
  // at once took as much memory as the fold they are compared with.
  if (b instanceof SessionMap) {
    for (const { session } of b.walk({ keep: false })) {
      const mine = a.get(session.id);
      if (mine === undefined || renderRecord(mine) !== renderRecord(session)) return false;
    }
    return true;
  }
  for (const [id, session] of a) {
    const other = b.get(id);
    if (other === undefined || renderRecord(other) !== renderRecord(session)) return false;
  }
  return true;
}
