import { crc32 } from 'node:zlib';
import { z } from 'zod';
import { PHASES } from '../domain/phase.js';
import { SessionError } from '../errors.js';
import type { StoreCursor } from '../store/event-store.js';
import type { RecordLayout } from './session-archive.js';
import { SessionMap } from './session-map.js';
import { decodeRecord, toRecord } from './session-record.js';
import { emptySessionsState, type SessionsState } from './sessions-projection.js';
import { statsOf, type SessionStats } from './stats.js';

/*
 * sessions.json in the original (Rust) format: `{ "sessions": [...], "version": 1 }` with
 * snake_case keys (the records themselves: session-record.ts), pretty-printed. Three more keys
 * follow, which the original's readers ignore:
 * - `checkpoint`: which prefix of the log the file covers (so an open replays only the tail),
 *   where each record lies in the file with its CRC-32 (so a large file opens without parsing
 *   its ended sessions), and the stats of those ended sessions;
 * - `checkpoint_at`: the byte offset of the `checkpoint` object, so it is found without a scan;
 * - `checksum`: the CRC-32 of every byte before it, so an edited or cut file is rebuilt from the log.
 */

/** A checkpoint read back: the projection and the log position it covers. */
export interface Checkpoint {
  state: SessionsState;
  cursor: StoreCursor;
}

/** A rendered sessions.json: its bytes in pieces, and where each record went. */
export interface RenderedSessionsFile {
  parts: Buffer[];
  layout: RecordLayout;
  /** For every record copied from the map's archive unread: its index in the new file. */
  moved: Map<string, number>;
}

const STATUS_LETTER = { Active: 'A', HandedOff: 'H', Completed: 'C', Failed: 'F' } as const;
const FLUSH_AT = 1024 * 1024;

/**
 * Renders the projection as sessions.json, in pieces. Records still in a {@link SessionMap}'s
 * archive are copied as they are (already checked against their CRC), not parsed and
 * re-rendered. Same state and cursor, same bytes.
 */
export function renderSessionsFileParts(state: SessionsState, cursor: StoreCursor): RenderedSessionsFile {
  const out = new ByteSink();
  const layout: RecordLayout = { ids: [], starts: [], lengths: [], crcs: [], statuses: '' };
  const letters: string[] = [];
  const moved = new Map<string, number>();
  const map = state.sessions instanceof SessionMap ? state.sessions : null;
  const archive = map?.source ?? null;
  const readArchived = archive?.sequentialReader();
  const slots = map === null ? state.sessions.entries() : map.slots();
  out.text('{\n  "sessions": [');
  for (const [id, slot] of slots) {
    out.text(layout.ids.length === 0 ? '\n    ' : ',\n    ');
    const start = out.offset;
    let crc: number;
    if (typeof slot === 'number') {
      out.bytes(readArchived!(slot));
      crc = archive!.crcOf(slot);
      moved.set(id, layout.ids.length);
      letters.push(archive!.statusLetterOf(slot));
    } else {
      const text = JSON.stringify(toRecord(slot), null, 2).replaceAll('\n', '\n    ');
      crc = crc32(text);
      out.text(text);
      letters.push(STATUS_LETTER[slot.status]);
    }
    layout.ids.push(id);
    layout.starts.push(start);
    layout.lengths.push(out.offset - start);
    layout.crcs.push(crc);
  }
  out.text(layout.ids.length === 0 ? '],\n  "version": 1,\n  "checkpoint": ' : '\n  ],\n  "version": 1,\n  "checkpoint": ');
  layout.statuses = letters.join('');
  const checkpointAt = out.offset;
  // The ended sessions are those a reader of the file leaves archived: their stats go with them.
  out.text(renderCheckpoint(state, cursor, layout, statsOf(state.sessions, 'ended')));
  out.text(`,\n  "checkpoint_at": ${checkpointAt}`);
  out.text(`,\n  "checksum": ${out.crc}\n}\n`);
  return { parts: out.finish(), layout, moved };
}

/** Renders the projection as sessions.json, as one string (export, tests). */
export function renderSessionsFile(state: SessionsState, cursor: StoreCursor): string {
  return Buffer.concat(renderSessionsFileParts(state, cursor).parts).toString('utf8');
}

function renderCheckpoint(state: SessionsState, cursor: StoreCursor, layout: RecordLayout, stats: SessionStats): string {
  const fields: Array<[string, unknown]> = [
    ['seq', cursor.seq],
    ['event_id', state.lastEventId],
    ['offset', cursor.offset],
    ['line', cursor.line],
    ['last_line_offset', cursor.lastLineOffset],
    // One line each, not pretty-printed: a store of 250 000 sessions has 250 000 of each.
    ['records', layout],
    ['ended_stats', stats],
  ];
  return `{\n${fields.map(([key, value]) => `    ${JSON.stringify(key)}: ${JSON.stringify(value)}`).join(',\n')}\n  }`;
}

/** Builds the file in ~1 MiB pieces, counting bytes and the running CRC-32 as it goes. */
class ByteSink {
  offset = 0;
  crc = 0;
  private readonly parts: Buffer[] = [];
  private pending: string[] = [];
  private pendingBytes = 0;

  text(text: string): void {
    const bytes = Buffer.byteLength(text);
    this.pending.push(text);
    this.pendingBytes += bytes;
    this.offset += bytes;
    this.crc = crc32(text, this.crc);
    if (this.pendingBytes >= FLUSH_AT) this.flush();
  }

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

  private flush(): void {
    if (this.pending.length === 0) return;
    this.parts.push(Buffer.from(this.pending.join('')));
    this.pending = [];
    this.pendingBytes = 0;
  }
}

/** Where the trailer says things are: the checkpoint object's bytes and the checksum. */
export interface SessionsFileTrailer {
  checkpointAt: number;
  /** Offset where the checkpoint object ends and the bytes the checksum covers end. */
  checkpointEnd: number;
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
const CheckpointShape = z.object({
  seq: z.number(),
  event_id: z.string().nullable(),
  offset: z.number(),
  line: z.number(),
  last_line_offset: z.number(),
  // The arrays are checked entry by entry where they are used: a schema pass over 250 000 costs.
  records: z.object({ ids: z.array(z.unknown()), starts: z.array(z.unknown()), lengths: z.array(z.unknown()), crcs: z.array(z.unknown()), statuses: z.string() }),
  ended_stats: Counts.extend({
    byAgent: z.record(z.string(), Counts),
    byPhase: z.record(z.string(), Counts),
    durations: z.object({ ended: z.number(), totalMs: z.number(), meanMs: z.number().nullable(), maxMs: z.number().nullable() }),
    totalCostUsd: z.number(),
    totalTurns: z.number(),
  }),
});

/** The checkpoint object of a sessions.json, checked. */
export interface ParsedCheckpoint {
  cursor: StoreCursor;
  eventId: string | null;
  layout: RecordLayout;
  endedStats: SessionStats;
}

/** Parses the checkpoint object's bytes (already covered by a verified checksum). Throws `CORRUPT_CHECKPOINT`. */
export function parseCheckpoint(bytes: Buffer, path: string): ParsedCheckpoint {
  let parsed;
  try {
    parsed = CheckpointShape.parse(JSON.parse(bytes.toString('utf8')));
  } catch (error) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} has no valid checkpoint`, { cause: error });
  }
  const { records } = parsed;
  const n = records.ids.length;
  if (records.starts.length !== n || records.lengths.length !== n || records.crcs.length !== n || records.statuses.length !== n) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} has an inconsistent record index`);
  }
  for (let i = 0; i < n; i += 1) {
    if (typeof records.ids[i] !== 'string' || !isOffset(records.starts[i]) || !isOffset(records.lengths[i]) || !isOffset(records.crcs[i])) {
      throw new SessionError('CORRUPT_CHECKPOINT', `${path} has a malformed record index entry ${i}`);
    }
  }
  // Stats merge phase by phase: a file from a version that knew other phases is rebuilt instead.
  if (PHASES.some((phase) => parsed.ended_stats.byPhase[phase] === undefined)) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} has stats for other phases than this version's`);
  }
  return {
    cursor: { seq: parsed.seq, offset: parsed.offset, line: parsed.line, lastLineOffset: parsed.last_line_offset },
    eventId: parsed.event_id,
    layout: records as RecordLayout,
    endedStats: parsed.ended_stats as SessionStats,
  };
}

function isOffset(n: unknown): n is number {
  return Number.isSafeInteger(n) && (n as number) >= 0;
}

/**
 * Parses a whole sessions.json held in memory; throws `CORRUPT_CHECKPOINT` if its checksum
 * fails (the file was edited or cut) or it does not hold what this library writes.
 */
export function parseSessionsFile(input: string | Buffer, path: string): Checkpoint {
  const bytes = typeof input === 'string' ? Buffer.from(input) : input;
  const trailer = parseTrailer(bytes.subarray(Math.max(0, bytes.length - TRAILER_BYTES)), bytes.length);
  if (trailer === null) throw new SessionError('CORRUPT_CHECKPOINT', `${path} has no checksum: it was not written by this library, or was edited`);
  if (crc32(bytes.subarray(0, trailer.checksumEnd)) !== trailer.checksum) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} was edited: its checksum does not match its content`);
  }
  const checkpoint = parseCheckpoint(bytes.subarray(trailer.checkpointAt, trailer.checkpointEnd), path);
  const state = emptySessionsState();
  const { ids, starts, lengths } = checkpoint.layout;
  for (let i = 0; i < ids.length; i += 1) {
    const end = starts[i]! + lengths[i]!;
    if (end > trailer.checkpointAt) throw new SessionError('CORRUPT_CHECKPOINT', `${path} has a record index past its records`);
    state.sessions.set(ids[i]!, decodeRecord(bytes.subarray(starts[i], end), ids[i]!, path));
  }
  state.lastSeq = checkpoint.cursor.seq;
  state.lastEventId = checkpoint.eventId;
  return { state, cursor: checkpoint.cursor };
}
