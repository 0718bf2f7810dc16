import { closeSync, fstatSync, openSync, statSync } from 'node:fs';
import { open } from 'node:fs/promises';
import { dirname, join } from 'node:path';
import { crc32 } from 'node:zlib';
import { SessionError, isSessionError, storageError } from '../errors.js';
import { readBackwards, readRange } from '../store/file/read-range.js';
import { combineCrc32 } from './crc32-patch.js';
import { RecordIndex, decodeIndexInto } from './record-index.js';
import { SessionArchive } from './session-archive.js';
import { SessionMap } from './session-map.js';
import { TRAILER_BYTES, parseCheckpoint, parseTrailer, type Checkpoint, type SessionsFileFacts } from './sessions-file.js';

const CHUNK = 4 * 1024 * 1024;
/** How often a load is tried again when the file changed under it (another process checkpointing). */
const ATTEMPTS = 4;

/** A sessions.json as loaded: the projection, and what its next in-place writer must know. */
export interface LoadedSessionsFile extends Checkpoint {
  facts: SessionsFileFacts;
  index: RecordIndex;
  /** The file's identity (device and inode), to tell whether it is still the one at its path. */
  identity: string;
}

/** The record index file that goes with generation `generation` of `path`. */
export function indexPathOf(path: string, generation: number): string {
  return join(dirname(path), `sessions.${generation}.idx`);
}

/** A file's identity: the same path may hold another file after a rename. */
export function identityOf(fd: number): string {
  const { dev, ino } = fstatSync(fd);
  return `${dev}:${ino}`;
}

/**
 * Opens sessions.json for a store: checks its checksum over every byte (a streaming CRC-32, fast
 * even for hundreds of MB), reads its checkpoint and record index, and parses no session: each
 * stays in the file until first asked for (a {@link SessionMap}).
 * `'missing'` when there is no file; `'unmarked'` when it has no checkpoint trailer at all (a
 * write cut short, or a file this library did not write: the caller must tell which before it
 * rebuilds anything); `'corrupt'` when it was edited, cut, or has no index. A file that changes while it is read (another process writing a
 * checkpoint in place) is read again. Throws `STORAGE` when it cannot be read at all.
 */
export async function loadSessionsFile(path: string): Promise<LoadedSessionsFile | 'missing' | 'corrupt' | 'unmarked'> {
  for (let attempt = 1; ; attempt += 1) {
    const loaded = await loadOnce(path);
    if (loaded !== 'changed') return loaded;
    if (attempt === ATTEMPTS) return 'corrupt';
  }
}

async function loadOnce(path: string): Promise<LoadedSessionsFile | 'missing' | 'corrupt' | 'unmarked' | 'changed'> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw storageError('reading', path, error);
  }
  const before = fstatSync(fd);
  const changed = () => {
    const after = statSync(path, { throwIfNoEntry: false });
    return after === undefined || after.size !== before.size || after.mtimeMs !== before.mtimeMs || after.ino !== before.ino;
  };
  try {
    // The map's archive owns the file from here: closed when its last record is read, or with the map.
    const loaded = await loadFrom(fd, path, before.size);
    if (loaded === 'unmarked') {
      closeSync(fd);
      return changed() ? 'changed' : 'unmarked';
    }
    return loaded;
  } catch (error) {
    closeSync(fd);
    if (!isSessionError(error, 'CORRUPT_CHECKPOINT')) throw error;
    return changed() ? 'changed' : 'corrupt';
  }
}

async function loadFrom(fd: number, path: string, size: number): Promise<LoadedSessionsFile | 'unmarked'> {
  const end = await readRange(fd, Math.max(0, size - TRAILER_BYTES), Math.min(size, TRAILER_BYTES), path);
  const trailer = parseTrailer(end, size);
  if (trailer === null) return 'unmarked';
  // The checkpoint and index are read first and trusted only once the checksum over every byte
  // holds: the one pass over the file that checks it also copies out the Active records.
  const { cursor, eventId, facts } = parseCheckpoint(await readRange(fd, trailer.checkpointAt, trailer.checkpointEnd - trailer.checkpointAt, path), path, trailer.checkpointAt);
  const index = await readIndex(path, facts);
  const slots: Array<[string, number]> = [];
  const active: number[] = [];
  for (const [id, entry] of index.latest) {
    if (index.startOf(entry) + index.lengthOf(entry) > facts.recordsEnd) throw new SessionError('CORRUPT_CHECKPOINT', `${path} has a record index past its records`);
    slots.push([id, entry]);
    if (index.statusOf(entry) === 'A') active.push(entry);
  }
  active.sort((a, b) => index.startOf(a) - index.startOf(b));
  const copies = new Map<number, Buffer>();
  if ((await checksumCopying(fd, trailer.checksumEnd, path, index, active, copies)) !== trailer.checksum) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} was edited: its checksum does not match its content`);
  }
  // Taken now: the archive closes the file as soon as it holds no unread record.
  const identity = identityOf(fd);
  // Active records are kept as copied bytes, parsed when first asked for: another process may
  // blank them in the file when their session changes. Ended records never change, so they stay in it.
  const archive = new SessionArchive(fd, path, index, copies);
  const sessions = SessionMap.fromArchive(archive, slots, facts.endedStats);
  return { state: { sessions, lastSeq: cursor.seq, lastEventId: eventId }, cursor, facts, index, identity };
}

/** Reads and checks the record index the checkpoint names. */
async function readIndex(path: string, facts: SessionsFileFacts): Promise<RecordIndex> {
  if (facts.generation === null) throw new SessionError('CORRUPT_CHECKPOINT', `${path} has no record index (an exported copy): it is rebuilt`);
  const indexPath = indexPathOf(path, facts.generation);
  const bytes = await readWhole(indexPath, facts.indexBytes);
  // Bytes past the recorded length are a checkpoint that never finished: not part of this one.
  if (bytes === null || crc32(bytes) !== facts.indexCrc) throw new SessionError('CORRUPT_CHECKPOINT', `${indexPath} is missing or does not match ${path}`);
  const index = new RecordIndex();
  decodeIndexInto(index, bytes.subarray(0, facts.indexBytes), indexPath);
  return index;
}

/**
 * The CRC-32 of the file's first `length` bytes, read in large chunks out of order (see
 * readBackwards: a file changed in place must not sit in large folios) and combined; on the way,
 * the bytes of the records `wanted` (entries sorted by start) are copied into `copies`.
 */
/** The first `length` bytes of a file, read out of order (it is appended to in place later); null when it is missing or shorter. */
async function readWhole(path: string, length: number): Promise<Buffer | null> {
  const handle = await open(path, 'r').catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return null;
    throw storageError('reading', path, error);
  });
  if (handle === null) return null;
  try {
    const bytes = Buffer.allocUnsafe(length);
    await readBackwards(handle.fd, path, 0, length, CHUNK, (position, chunk) => chunk.copy(bytes, position));
    return bytes;
  } catch (error) {
    if (isSessionError(error, 'CORRUPT_CHECKPOINT')) return null;
    throw error;
  } finally {
    await handle.close();
  }
}

async function checksumCopying(fd: number, length: number, path: string, index: RecordIndex, wanted: number[], copies: Map<number, Buffer>): Promise<number> {
  const crcs: Array<[number, number]> = [];
  const ends = wanted.map((entry) => index.startOf(entry) + index.lengthOf(entry));
  await readBackwards(fd, path, 0, length, CHUNK, (position, bytes) => {
    const chunkEnd = position + bytes.length;
    crcs.push([crc32(bytes), bytes.length]);
    // The records that overlap this chunk: the first whose end lies past its start, onwards.
    for (let i = firstEndingAfter(ends, position); i < wanted.length && index.startOf(wanted[i]!) < chunkEnd; i += 1) {
      const entry = wanted[i]!;
      const start = index.startOf(entry);
      let record = copies.get(entry);
      if (record === undefined) copies.set(entry, (record = Buffer.allocUnsafe(index.lengthOf(entry))));
      const from = Math.max(start, position);
      bytes.copy(record, from - start, from - position, Math.min(ends[i]!, chunkEnd) - position);
    }
  });
  let crc = 0;
  for (let i = crcs.length - 1; i >= 0; i -= 1) crc = combineCrc32(crc, crcs[i]![0], crcs[i]![1]);
  return crc;
}

/** The first i with ends[i] > position (ends ascending). */
function firstEndingAfter(ends: number[], position: number): number {
  let low = 0;
  let high = ends.length;
  while (low < high) {
    const middle = (low + high) >>> 1;
    if (ends[middle]! > position) high = middle;
    else low = middle + 1;
  }
  return low;
}
