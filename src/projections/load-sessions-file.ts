import { closeSync, fstatSync, openSync, read } from 'node:fs';
import { promisify } from 'node:util';
import { crc32 } from 'node:zlib';
import type { Session } from '../domain/session.js';
import { SessionError, isSessionError, storageError } from '../errors.js';
import { SessionArchive } from './session-archive.js';
import { SessionMap } from './session-map.js';
import { decodeRecord } from './session-record.js';
import { TRAILER_BYTES, parseCheckpoint, parseTrailer, type Checkpoint } from './sessions-file.js';

const readAt = promisify(read);
const CHUNK = 4 * 1024 * 1024;

/**
 * Opens sessions.json for a store: checks its checksum over every byte (a streaming CRC-32, fast
 * even for hundreds of MB), reads its checkpoint and index, and parses only the Active
 * sessions; ended ones stay in the file (a {@link SessionMap} reads each when first asked for).
 * `'missing'` when there is no file; `'corrupt'` when it was edited, cut, or not written by this
 * library. Throws `STORAGE` when it cannot be read at all.
 */
export async function loadSessionsFile(path: string): Promise<Checkpoint | 'missing' | 'corrupt'> {
  let fd: number;
  try {
    fd = openSync(path, 'r');
  } catch (error) {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') return 'missing';
    throw storageError('reading', path, error);
  }
  try {
    // The map's archive owns the file from here: closed when its last record is read, or with the map.
    return await loadFrom(fd, path);
  } catch (error) {
    closeSync(fd);
    if (isSessionError(error, 'CORRUPT_CHECKPOINT')) return 'corrupt';
    throw error;
  }
}

async function loadFrom(fd: number, path: string): Promise<Checkpoint> {
  const { size } = fstatSync(fd);
  const end = await readRange(fd, Math.max(0, size - TRAILER_BYTES), Math.min(size, TRAILER_BYTES), path);
  const trailer = parseTrailer(end, size);
  if (trailer === null) throw new SessionError('CORRUPT_CHECKPOINT', `${path} has no checksum: it was not written by this library, or was edited`);
  if ((await checksumOf(fd, trailer.checksumEnd, path)) !== trailer.checksum) {
    throw new SessionError('CORRUPT_CHECKPOINT', `${path} was edited: its checksum does not match its content`);
  }
  const checkpoint = parseCheckpoint(await readRange(fd, trailer.checkpointAt, trailer.checkpointEnd - trailer.checkpointAt, path), path);
  const { layout } = checkpoint;
  const archive = new SessionArchive(fd, path, layout);
  const slots: Array<[string, Session | number]> = new Array(layout.ids.length);
  for (let i = 0; i < layout.ids.length; i += 1) {
    const id = layout.ids[i]!;
    if (layout.starts[i]! + layout.lengths[i]! > trailer.checkpointAt) {
      throw new SessionError('CORRUPT_CHECKPOINT', `${path} has a record index past its records`);
    }
    slots[i] = [id, layout.statuses[i] === 'A' ? decodeRecord(archive.read(i), id, path) : i];
  }
  const sessions = SessionMap.fromArchive(archive, slots, checkpoint.endedStats);
  return { state: { sessions, lastSeq: checkpoint.cursor.seq, lastEventId: checkpoint.eventId }, cursor: checkpoint.cursor };
}

async function checksumOf(fd: number, length: number, path: string): Promise<number> {
  const buffer = Buffer.allocUnsafe(Math.min(CHUNK, Math.max(1, length)));
  let crc = 0;
  for (let position = 0; position < length; ) {
    const { bytesRead } = await readAt(fd, buffer, 0, Math.min(buffer.length, length - position), position).catch((error: unknown) => {
      throw storageError('reading', path, error);
    });
    if (bytesRead === 0) throw new SessionError('CORRUPT_CHECKPOINT', `${path} ended early`);
    crc = crc32(buffer.subarray(0, bytesRead), crc);
    position += bytesRead;
  }
  return crc;
}

async function readRange(fd: number, position: number, length: number, path: string): Promise<Buffer> {
  const buffer = Buffer.allocUnsafe(length);
  let done = 0;
  while (done < length) {
    const { bytesRead } = await readAt(fd, buffer, done, length - done, position + done).catch((error: unknown) => {
      throw storageError('reading', path, error);
    });
    if (bytesRead === 0) throw new SessionError('CORRUPT_CHECKPOINT', `${path} ended early`);
    done += bytesRead;
  }
  return buffer;
}
