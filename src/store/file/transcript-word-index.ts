import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import { crc32 } from 'node:zlib';
import { conversationMessages } from '../../domain/conversation.js';
import { indexedWords } from '../../domain/search-words.js';
import { storageError } from '../../errors.js';
import { signatureOf } from './word-signatures.js';

/** One record of the word index: a stored conversation's id and the signature of its words. */
export interface WordIndexRecord {
  sessionId: string;
  signature: Buffer;
}

/** The signature of a stored transcript's words (those of its messages, as a search reads them). */
export function transcriptSignature(content: Buffer): Buffer {
  const words = new Set<string>();
  for (const message of conversationMessages(content)) indexedWords(message.text, words);
  return signatureOf(words, words.size);
}

/**
 * The word index beside a file store's transcripts (`transcripts/words.idx`): a line a stored
 * transcript, `<session id> <signature, base64> <crc32>`, appended (and flushed) before the
 * transcript itself is put in place, so every stored transcript has a line. A transcript stored
 * again gets another line; a search takes a session as a candidate when any of its lines may
 * match, and orders sessions by their last line (most recently stored first). A line that fails
 * its checksum (torn by a crash) is skipped: the transcript it stood for, if stored, has no
 * line, and the next search indexes it again. The file is derived data: deleting it costs one
 * slow search, never a conversation.
 */
export class TranscriptWordIndex {
  constructor(readonly path: string) {}

  /** Appends the line of a transcript about to be stored, and flushes it. */
  async add(sessionId: string, content: Buffer): Promise<void> {
    await this.append([lineOf(sessionId, transcriptSignature(content))]);
  }

  /** Appends several lines in one write (what a search indexes as it catches up). */
  async append(lines: readonly string[]): Promise<void> {
    if (lines.length === 0) return;
    let handle;
    try {
      handle = await open(this.path, constants.O_WRONLY | constants.O_APPEND | constants.O_CREAT | constants.O_NOFOLLOW, 0o600);
      // One write: lines appended by other processes at the same time never interleave with it.
      await handle.write(Buffer.from(lines.join('')));
      await handle.datasync();
    } catch (error) {
      throw storageError('appending to', this.path, error);
    } finally {
      await handle?.close();
    }
  }

  /** Every intact record, in file order (none when there is no index yet). */
  async read(): Promise<WordIndexRecord[]> {
    let text: string;
    try {
      const handle = await open(this.path, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        text = (await handle.readFile()).toString('latin1');
      } finally {
        await handle.close();
      }
    } catch (error) {
      if ((error as NodeJS.ErrnoException).code === 'ENOENT') return [];
      throw storageError('reading', this.path, error);
    }
    const records: WordIndexRecord[] = [];
    let start = 0;
    while (start < text.length) {
      let end = text.indexOf('\n', start);
      if (end === -1) end = text.length;
      const record = recordOf(text.slice(start, end));
      if (record !== null) records.push(record);
      start = end + 1;
    }
    return records;
  }
}

/** The line of a record. */
export function lineOf(sessionId: string, signature: Buffer): string {
  const body = `${sessionId} ${signature.toString('base64')}`;
  return `${body} ${crc32(body).toString(16)}\n`;
}

function recordOf(line: string): WordIndexRecord | null {
  const last = line.lastIndexOf(' ');
  if (last === -1) return null;
  const body = line.slice(0, last);
  if (crc32(body).toString(16) !== line.slice(last + 1)) return null;
  const [sessionId, signature] = body.split(' ');
  if (sessionId === undefined || signature === undefined || !/^[0-9a-f-]{36}$/.test(sessionId)) return null;
  return { sessionId, signature: Buffer.from(signature, 'base64') };
}

