import { closeSync, fdatasync as fdatasyncCallback, fstatSync, ftruncate as ftruncateCallback, openSync } from 'node:fs';
import { open, readdir, unlink } from 'node:fs/promises';
import { basename, dirname, join } from 'node:path';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import { isSessionError, storageError } from '../errors.js';
import { patchCrc32 } from './crc32-patch.js';
import { identityOf, indexPathOf, type LoadedSessionsFile } from './load-sessions-file.js';
import { RecordIndex, decodeIndexInto, encodeIndexEntries, facetsOf, type IndexEntry } from './record-index.js';
import { SessionArchive } from './session-archive.js';
import { SessionMap, activeSessionsUnordered } from './session-map.js';
import { shouldCompact } from './checkpoint-policy.js';
import {
  FIRST_SEPARATOR, SEPARATOR, TRAILER_BYTES, parseCheckpoint, parseTrailer, renderRecord, renderSessionsFileParts, renderTrailer,
  statusLetter, type SessionsFileFacts,
} from './sessions-file.js';
import type { SessionsState } from '../projections/sessions-projection.js';
import { StatsCounter, computeStats, mergeStats, subtractStats, type SessionStats } from '../projections/stats.js';
import { decodeRecord } from './session-record.js';
import type { StoreCursor } from '../store/event-store.js';
import { writeFileAtomicKeepingFd } from '../store/file/atomic-file.js';
import { readBackwards, readRange } from '../store/file/read-range.js';
import { diskFaults, type DiskSite } from '../store/file/disk-faults.js';
import { writeInPages } from '../store/file/write-in-pages.js';

const fdatasync = promisify(fdatasyncCallback);
const ftruncate = promisify(ftruncateCallback);


/** What one checkpoint write did, for the caller's bookkeeping. */
export interface WriteOutcome {
  kind: 'incremental' | 'full' | 'skipped';
  /** Bytes written to sessions.json and its index. */
  bytes: number;
}

/** What the writer knows of the file at its path: enough to change it without reading it. */
interface KnownFile {
  identity: string;
  facts: SessionsFileFacts;
  index: RecordIndex;
  seq: number;
}

/**
 * Keeps sessions.json current by changing it in place: the records of sessions that changed are
 * appended at the end of the array (over the old trailer), their old records blanked to white
 * space, a new trailer written, and the new index entries appended to the record index file.
 * The whole-file checksum is carried along arithmetically (CRC-32 is affine), so a checkpoint
 * costs what changed, not the store. When the holes outgrow the live records, or the file is
 * unknown, it is rewritten whole (atomically: temp file, fsync, rename) with a new index.
 * Callers serialize writes across processes (the checkpoint lock) and within one.
 */
export class SessionsFileWriter {
  private known: KnownFile | null = null;

  constructor(private readonly path: string) {}

  /** Starts from a file just loaded (its index is shared with the loaded map's archive). */
  adoptLoaded(loaded: LoadedSessionsFile): void {
    this.known = { identity: loaded.identity, facts: loaded.facts, index: loaded.index, seq: loaded.cursor.seq };
  }

  /** Where the file holds a session now, if the writer knows the file (for cost estimates). */
  placeOf(id: string): { start: number; ended: boolean } | null {
    const entry = this.known?.index.liveOf(id);
    if (entry === undefined) return null;
    return { start: this.known!.index.startOf(entry), ended: this.known!.index.statusOf(entry) !== 'A' };
  }

  /**
   * Brings the file up to a state: in place with the records of the sessions that changed, or
   * whole when `full` or when in place is not possible. `take` is called synchronously right
   * before anything is rendered and gives the state, its cursor, the sessions changed since
   * `dirtySince` (a superset is fine) and that seq; an older file is rewritten whole.
   * Throws `STORAGE`.
   */
  async write(take: () => CheckpointInput, full: boolean): Promise<WriteOutcome> {
    if (!full) await this.catchUp();
    const { state, cursor, dirty, dirtySince } = take();
    const known = this.known;
    if (full || known === null || known.seq < dirtySince) return this.writeWhole(state, cursor);
    if (known.seq >= cursor.seq) return { kind: 'skipped', bytes: 0 };
    const plan = planChanges(known, state, dirty);
    if (shouldCompact(known.facts.holes + plan.blankBytes, known.facts.recordsEnd)) return this.writeWhole(state, cursor);
    try {
      return await this.writeInPlace(known, plan, state, cursor);
    } catch (error) {
      // Found before anything was written: the file is not what its index says, so rewrite it.
      if (error instanceof NotAsIndexed) return this.writeWhole(state, cursor);
      // Refused before the old checkpoint was touched (a full disk): it still stands as it was.
      if (error instanceof Untouched) throw storageError('writing', this.path, error.cause);
      // The file may now be half changed: it fails its checksum, and the next write is whole.
      this.known = null;
      throw isSessionError(error) ? error : storageError('writing', this.path, error);
    }
  }

  /**
   * If another process changed the file since this writer last saw it, learn its new facts and
   * index entries (or, if it was replaced, its whole index); forget it when it cannot be read.
   */
  private async catchUp(): Promise<void> {
    const known = this.known;
    let fd: number;
    try {
      fd = openSync(this.path, 'r');
    } catch {
      this.known = null;
      return;
    }
    try {
      const { size } = fstatSync(fd);
      const trailer = parseTrailer(await readRange(fd, Math.max(0, size - TRAILER_BYTES), Math.min(size, TRAILER_BYTES), this.path), size);
      if (trailer === null) throw new Error('no trailer');
      const { facts, cursor } = parseCheckpoint(await readRange(fd, trailer.checkpointAt, trailer.checkpointEnd - trailer.checkpointAt, this.path), this.path, trailer.checkpointAt);
      const identity = identityOf(fd);
      if (facts.generation === null) throw new Error('no index');
      if (known !== null && known.identity === identity && sameFacts(known.facts, facts)) return;
      const sameIndex = known !== null && known.identity === identity && known.facts.generation === facts.generation && known.facts.indexBytes <= facts.indexBytes;
      const from = sameIndex ? known.facts.indexBytes : 0;
      const bytes = await readIndexRange(indexPathOf(this.path, facts.generation), from, facts.indexBytes);
      if (crc32(bytes, sameIndex ? known.facts.indexCrc : 0) !== facts.indexCrc) throw new Error('index does not match');
      const index = sameIndex ? known.index : new RecordIndex();
      decodeIndexInto(index, bytes, this.path);
      this.known = { identity, facts, index, seq: cursor.seq };
    } catch (error) {
      if (!(error instanceof Error) || isSessionError(error, 'STORAGE')) throw error;
      this.known = null;
    } finally {
      closeSync(fd);
    }
  }

  private async writeInPlace(known: KnownFile, plan: Plan, state: SessionsState, cursor: StoreCursor): Promise<WriteOutcome> {
    const facts: SessionsFileFacts = { ...known.facts };
    const { index } = known;
    const handle = await open(this.path, 'r+');
    try {
      // Checked under the checkpoint lock: a file renamed in since catchUp is not the one indexed.
      if (identityOf(handle.fd) !== known.identity) throw new NotAsIndexed();
      const replaced = new StatsCounter();
      const patches = await this.blanks(handle.fd, known, plan.blank, facts, replaced);
      // Appended records go where the old trailer began; the first gets no comma if nothing else is live.
      const entries: IndexEntry[] = [];
      const texts: string[] = [];
      let position = facts.recordsEnd;
      for (const record of plan.append) {
        const separator = facts.firstLive === -1 && entries.length === 0 ? FIRST_SEPARATOR : SEPARATOR;
        const start = position + Buffer.byteLength(separator);
        const length = Buffer.byteLength(record.text);
        texts.push(separator, record.text);
        entries.push({ id: record.id, start, length, crc: record.crc, status: record.status, facets: record.facets });
        if (facts.firstLive === -1 && entries.length === 1) facts.firstLive = start;
        position = start + length;
      }
      const appended = Buffer.from(texts.join(''));
      const indexBytes = encodeIndexEntries(entries);
      const oldIndexBytes = facts.indexBytes;
      facts.recordsCrc = crc32(appended, facts.recordsCrc);
      const tailAt = facts.recordsEnd;
      facts.recordsEnd += appended.length;
      facts.indexCrc = crc32(indexBytes, facts.indexCrc);
      facts.indexBytes += indexBytes.length;
      facts.endedStats = plan.ended.total === 0 ? facts.endedStats : mergeStats(facts.endedStats, plan.ended);
      // The Active stats move by what changed: the replaced records (all Active: ended ones never
      // change) out, the new Active ones in. A file of an earlier version counts them all once.
      facts.activeStats = plan.allActive ?? subtractStats(mergeStats(facts.activeStats!, plan.active), replaced.result());
      const trailer = Buffer.from(renderTrailer(facts, state.lastEventId, cursor));
      // Until the last write the trailer's place holds spaces, which no reader takes for a
      // trailer: a write that fails half way never leaves a trailer vouching for records and
      // blanks that were not all written (another writer catching up would trust it).
      const tail = Buffer.concat([appended, Buffer.alloc(trailer.length, 0x20)]);
      // The index first: entries past the length the trailer names are ignored by readers.
      await writeIndexAt(indexPathOf(this.path, facts.generation!), indexBytes, oldIndexBytes).catch((error: unknown) => {
        throw new Untouched(error);
      });
      const oldSize = await extend(handle.fd, tail, tailAt);
      // Only now is anything the old checkpoint covers overwritten: blocks already allocated, so a
      // full disk cannot stop it half way (a failing device can; then the file has no trailer).
      await pwriteAll(handle.fd, tail.subarray(0, Math.max(0, oldSize - tailAt)), tailAt);
      for (const patch of patches) await pwriteAll(handle.fd, patch.bytes, patch.position);
      await pwriteAll(handle.fd, trailer, tailAt + appended.length);
      diskFaults.allow('checkpoint.truncate');
      await ftruncate(handle.fd, tailAt + tail.length);
      diskFaults.allow('checkpoint.sync');
      await fdatasync(handle.fd);
      for (const entry of entries) index.push(entry);
      this.known = { identity: known.identity, facts, index, seq: cursor.seq };
      return { kind: 'incremental', bytes: tail.length + indexBytes.length + patches.reduce((n, p) => n + p.bytes.length, 0) };
    } finally {
      await handle.close();
    }
  }

  /** The in-place changes that blank superseded records, with the checksum carried over them. */
  private async blanks(fd: number, known: KnownFile, blank: number[], facts: SessionsFileFacts, replaced: StatsCounter): Promise<Array<{ position: number; bytes: Buffer }>> {
    const { index } = known;
    const patches: Array<{ position: number; bytes: Buffer }> = [];
    const change = async (from: number, to: number, check?: (old: Buffer) => boolean) => {
      const old = await readRange(fd, from, to - from, this.path);
      if (check !== undefined && !check(old)) throw new NotAsIndexed();
      const spaces = Buffer.alloc(to - from, 0x20);
      facts.recordsCrc = patchCrc32(facts.recordsCrc, old, spaces, facts.recordsEnd - to);
      facts.holes += to - from;
      patches.push({ position: from, bytes: spaces });
    };
    let firstBlanked = false;
    for (const entry of blank) {
      const start = index.startOf(entry);
      const first = start === facts.firstLive;
      firstBlanked ||= first;
      const separator = first ? FIRST_SEPARATOR : SEPARATOR;
      await change(start - separator.length, start + index.lengthOf(entry), (old) => {
        const record = old.subarray(separator.length);
        if (old.toString('latin1', 0, separator.length) !== separator || crc32(record) !== index.crcOf(entry)) return false;
        replaced.add(decodeRecord(record, index.idOf(entry), this.path));
        return true;
      });
    }
    if (firstBlanked) {
      // The record now first in the file must lose its comma.
      const blanked = new Set(blank);
      let next = -1;
      for (const entry of index.liveEntries()) {
        const start = index.startOf(entry);
        if (!blanked.has(entry) && (next === -1 || start < next)) next = start;
      }
      if (next !== -1) await change(next - SEPARATOR.length, next - SEPARATOR.length + 1, (old) => old[0] === 0x2c);
      facts.firstLive = next;
    }
    return patches;
  }

  private async writeWhole(state: SessionsState, cursor: StoreCursor): Promise<WriteOutcome> {
    const previous = this.known?.facts.generation ?? null;
    const generation = (previous ?? 0) + 1;
    const { parts, index, facts } = renderSessionsFileParts(state, cursor, generation);
    const indexBytes = index.encode();
    facts.indexBytes = indexBytes.length;
    facts.indexCrc = crc32(indexBytes);
    // The trailer names the index, so render it again now that the index's length and CRC are known.
    parts[parts.length - 1] = Buffer.from(renderTrailer(facts, state.lastEventId, cursor));
    this.known = null;
    await writeIndexAt(indexPathOf(this.path, generation), indexBytes, 0).catch((error: unknown) => {
      throw storageError('writing', indexPathOf(this.path, generation), error);
    });
    const fd = await writeFileAtomicKeepingFd(this.path, parts);
    this.known = { identity: identityOf(fd), facts, index, seq: cursor.seq };
    // Sessions still unread now read from the new file, so the old one can go.
    const kept = state.sessions instanceof SessionMap && state.sessions.adopt(new SessionArchive(fd, this.path, index));
    if (!kept) closeSync(fd);
    await removeOtherIndexes(this.path, generation);
    return { kind: 'full', bytes: parts.reduce((n, p) => n + p.length, 0) + indexBytes.length };
  }
}

/** What a checkpoint is taken from (see {@link SessionsFileWriter.write}). */
export interface CheckpointInput {
  state: SessionsState;
  cursor: StoreCursor;
  dirty: Iterable<string>;
  dirtySince: number;
}

/** The file does not hold what its index says: found by a check before anything is written. */
class NotAsIndexed extends Error {}

/** A write refused before anything the old checkpoint covers was changed. */
class Untouched extends Error {
  constructor(cause: unknown) {
    super('refused before the file was changed', { cause });
  }
}

interface Plan {
  /** Live entries to blank (their sessions get a new record). */
  blank: number[];
  append: Array<Omit<IndexEntry, 'start' | 'length'> & { text: string }>;
  /** Stats of the sessions whose record becomes an ended one: they join the ended stats. */
  ended: SessionStats;
  /** Stats of the sessions whose new record is an Active one: they join the Active stats. */
  active: SessionStats;
  /** Stats of every Active session, for a file of an earlier version that has none to move. */
  allActive: SessionStats | null;
  blankBytes: number;
}

/** Which records a write in place changes: those of `dirty` whose record differs from the file's. */
function planChanges(known: KnownFile, state: SessionsState, dirty: Iterable<string>): Plan {
  const { index } = known;
  const plan: Plan = { blank: [], append: [], ended: computeStats([]), active: computeStats([]), allActive: null, blankBytes: 0 };
  // Counted now, with the records rendered: the sessions change on while the write awaits the disk.
  const ended = new StatsCounter();
  const active = new StatsCounter();
  for (const id of dirty) {
    const live = index.liveOf(id);
    // An ended session's record is final: once the file holds it, it never changes.
    if (live !== undefined && index.statusOf(live) !== 'A') continue;
    const session = state.sessions.get(id);
    if (session === undefined) continue;
    const text = renderRecord(session);
    const crc = crc32(text);
    if (live !== undefined && index.crcOf(live) === crc && index.lengthOf(live) === Buffer.byteLength(text)) continue;
    if (live !== undefined) {
      plan.blank.push(live);
      plan.blankBytes += index.lengthOf(live) + SEPARATOR.length;
    }
    plan.append.push({ id, text, crc, status: statusLetter(session), facets: facetsOf(session) });
    if (session.status !== 'Active') ended.add(session);
    else active.add(session);
  }
  plan.ended = ended.result();
  plan.active = active.result();
  if (known.facts.activeStats === null) plan.allActive = computeStats(activeSessionsUnordered(state.sessions));
  plan.blank.sort((a, b) => index.startOf(a) - index.startOf(b));
  return plan;
}

function sameFacts(a: SessionsFileFacts, b: SessionsFileFacts): boolean {
  return a.generation === b.generation && a.indexBytes === b.indexBytes && a.indexCrc === b.indexCrc && a.recordsEnd === b.recordsEnd && a.recordsCrc === b.recordsCrc;
}

/**
 * Writes the part of a new tail that lies past the file's end first: the only part that needs
 * new space. If the disk is full it is cut off again, so the file is as it was, and `Untouched`
 * is thrown. Resolves with the file's old size.
 */
async function extend(fd: number, tail: Buffer, tailAt: number): Promise<number> {
  const oldSize = fstatSync(fd).size;
  const past = Math.max(0, oldSize - tailAt);
  if (past >= tail.length) return oldSize;
  try {
    await pwriteAll(fd, tail.subarray(past), tailAt + past, 'checkpoint.write');
  } catch (error) {
    await ftruncate(fd, oldSize).then(() => fdatasync(fd)).catch(() => undefined);
    throw new Untouched(error);
  }
  return oldSize;
}

/** Writes in place, page by page (see writeInPages: a change must cost its pages, not its folio). */
async function pwriteAll(fd: number, bytes: Buffer, position: number, site: DiskSite = 'checkpoint.patch'): Promise<void> {
  await writeInPages(fd, [bytes], position, site);
}

/** Writes index entries at `at` (cutting anything after: an unfinished write's), durably. */
async function writeIndexAt(path: string, bytes: Buffer, at: number): Promise<void> {
  const handle = await open(path, at === 0 ? 'w' : 'r+', 0o644);
  try {
    await writeInPages(handle.fd, [bytes], at, 'index.write');
    await handle.truncate(at + bytes.length);
    diskFaults.allow('checkpoint.sync');
    await handle.datasync();
  } catch (error) {
    // Entries past the length a checkpoint names are ignored, but leave none behind if possible.
    await handle.truncate(at).catch(() => undefined);
    throw error;
  } finally {
    await handle.close();
  }
}

/** Index bytes `[from, to)`, read out of order (see readBackwards: the index is appended to in place). */
async function readIndexRange(path: string, from: number, to: number): Promise<Buffer> {
  const handle = await open(path, 'r');
  try {
    const bytes = Buffer.allocUnsafe(to - from);
    await readBackwards(handle.fd, path, from, to, 4 * 1024 * 1024, (position, chunk) => chunk.copy(bytes, position - from));
    return bytes;
  } finally {
    await handle.close();
  }
}

/** Index files of other generations are left by earlier whole writes or crashes: nothing reads them now. */
async function removeOtherIndexes(path: string, generation: number): Promise<void> {
  const keep = basename(indexPathOf(path, generation));
  const names = await readdir(dirname(path)).catch(() => [] as string[]);
  for (const name of names) if (/^sessions\.\d+\.idx$/.test(name) && name !== keep) await unlink(join(dirname(path), name)).catch(() => undefined);
}
