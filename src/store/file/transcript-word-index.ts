import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { conversationMessages } from '../../domain/conversation.js';
import { indexedTerms } from '../../domain/search-words.js';
import { storageError } from '../../errors.js';
import { signatureOf, type SignatureBits } from './word-signatures.js';

/** The line that says every transcript stored before it has a line. */
const COMPLETE = '#complete';

/** The signature of a stored transcript's words (those of its messages, as a search reads them). */
export function transcriptSignature(content: Buffer): Buffer {
  const words = new Set<string>();
  for (const message of conversationMessages(content)) indexedTerms(message.text, words);
  return signatureOf(words, words.size);
}

/** The index as read: each line's session and signature, in file order. */
export interface WordIndexRead {
  /** Session ids, a line each, in file order (a line not yet checked may be damaged: see `intact`). */
  sessions: string[];
  /** The signature of each line (its bits, read in place). */
  signatures: SignatureBits[];
  /** Whether line `index` passes its checksum (checked when asked: a search checks its candidates). */
  intact(index: number): boolean;
  /** Whether a line says every transcript stored before it has a line (see {@link TranscriptWordIndex}). */
  complete: boolean;
}

/**
 * The word index beside a file store's transcripts (`transcripts/words.idx`): a line a stored
 * transcript, `<session id> <signature, base64> <crc32>`, appended (and flushed) before the
 * transcript itself is put in place, so every transcript this version stores has a line. Each
 * append starts on a new line, so a line torn by a crash (whose transcript was then never put
 * in place) spoils no other; a line that fails its checksum is skipped. A transcript stored
 * again gets another line; a search takes a session as a candidate when any of its lines may
 * match, and orders sessions by their last line (most recently stored first).
 *
 * Transcripts stored by an earlier version have none: the first search lists the folder,
 * indexes those, and appends `#complete`, after which searches read this file alone. The file
 * is derived data: deleting it costs one slower search, never a conversation.
 */
export class TranscriptWordIndex {
  constructor(readonly path: string) {}

  /** Appends the line of a transcript about to be stored, and flushes it. */
  async add(sessionId: string, content: Buffer): Promise<void> {
    await this.append([lineOf(sessionId, transcriptSignature(content))]);
  }

  /** Appends lines in one write (what a search indexes as it catches up), then `#complete` if `complete`. */
  async append(lines: readonly string[], complete = false): Promise<void> {
    if (lines.length === 0 && !complete) return;
    let handle;
    try {
      handle = await open(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      // One write, on a line of its own: appends by other processes never interleave with it,
      // and bytes a crash left torn before it end at its first newline.
      await handle.write(Buffer.from(`\n${lines.join('')}${complete ? `${COMPLETE}\n` : ''}`));
      await handle.datasync();
    } catch (error) {
      throw storageError('appending to', this.path, error);
    } finally {
      await handle?.close();
    }
  }

  /** Every intact line, in file order (none when there is no index yet). */
  async read(): Promise<WordIndexRead> {
    let bytes: Buffer;
    try {
      const handle = await open(this.path, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        bytes = await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return parseIndex(Buffer.alloc(0));
      throw storageError('reading', this.path, error);
    }
    return parseIndex(bytes);
  }
}

/** The line of a record. */
export function lineOf(sessionId: string, signature: Buffer): string {
  const body = `${sessionId} ${signature.toString('base64')}`;
  return `${body} ${crc32(body).toString(16)}\n`;
}

const NEWLINE = 0x0a;
const SPACE = 0x20;
const ID_LENGTH = 36;
const HYPHEN = 0x2d;

/**
 * The lines of an index file, read in place (no signature is copied). A line's checksum is
 * checked when `intact` asks, so a search pays for the lines it may use, not for every line;
 * lines not shaped as a record are left out at once.
 */
export function parseIndex(bytes: Buffer): WordIndexRead {
  const lines: Buffer[] = [];
  const read: WordIndexRead = {
    sessions: [],
    signatures: [],
    complete: false,
    intact(index) {
      const line = lines[index]!;
      const last = line.lastIndexOf(SPACE);
      return crc32(line.subarray(0, last)).toString(16) === line.toString('latin1', last + 1);
    },
  };
  for (let start = 0; start < bytes.length; ) {
    let end = bytes.indexOf(NEWLINE, start);
    if (end === -1) end = bytes.length;
    const line = bytes.subarray(start, end);
    start = end + 1;
    if (line.length === COMPLETE.length && line.toString('latin1') === COMPLETE) {
      read.complete = true;
      continue;
    }
    const last = line.lastIndexOf(SPACE);
    if (last <= ID_LENGTH + 1 || line[ID_LENGTH] !== SPACE || line[8] !== HYPHEN || line[13] !== HYPHEN || line[18] !== HYPHEN || line[23] !== HYPHEN) continue;
    lines.push(line);
    read.sessions.push(line.toString('latin1', 0, ID_LENGTH));
    read.signatures.push(line.subarray(ID_LENGTH + 1, last));
  }
  return read;
}
