import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SessionError, storageError } from '../../errors.js';
import { digestOf, transcriptKey, type TranscriptDigest, type TranscriptStore } from '../transcript-store.js';
import { writeFileAtomicKeepingFd } from './atomic-file.js';
import { closeSync } from 'node:fs';
import type { SearchPosition } from '../../domain/conversation-search.js';
import { conversationMessages } from '../../domain/conversation.js';
import type { CandidateMessage } from '../transcript-store.js';
import { lineOf, transcriptSignature, TranscriptWordIndex, type WordIndexRecord } from './transcript-word-index.js';
import { mayHoldAll, probeOf } from './word-signatures.js';

/** How many candidate sessions a search asks `accept` about at a time. */
const ACCEPT_BATCH = 64;

/**
 * Transcripts beside a file store's log: `<dir>/transcripts/<session id>.jsonl`, mode 0600 in
 * a 0700 folder (they can hold secrets), each written atomically. Names come only from UUIDs,
 * and neither the folder nor a file is ever followed through a symlink.
 */
export class FileTranscripts implements TranscriptStore {
  readonly dir: string;
  /** The words of every stored transcript, for a search (see TranscriptWordIndex). */
  readonly words: TranscriptWordIndex;

  constructor(storeDir: string) {
    // Absolute: the path is handed to an agent running in another cwd (`--resume <file>`).
    this.dir = resolve(storeDir, 'transcripts');
    this.words = new TranscriptWordIndex(join(this.dir, 'words.idx'));
  }

  fileOf(sessionId: string): string {
    return join(this.dir, `${transcriptKey(sessionId)}.jsonl`);
  }

  async save(sessionId: string, content: Buffer): Promise<TranscriptDigest> {
    const path = this.fileOf(sessionId);
    await mkdir(this.dir, { recursive: true, mode: 0o700 }).catch((error: unknown) => {
      throw storageError('creating', this.dir, error);
    });
    await this.assertRealFolder();
    // Indexed first: a transcript in place always has its line (a line without one costs nothing).
    await this.words.add(sessionId, content);
    closeSync(await writeFileAtomicKeepingFd(path, [content], 0o600));
    return digestOf(content);
  }

  async load(sessionId: string): Promise<Buffer | null> {
    const path = this.fileOf(sessionId);
    if (!(await this.folderExists())) return null;
    let handle;
    try {
      handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
    } catch (error) {
      const code = (error as NodeJS.ErrnoException).code;
      if (code === 'ENOENT') return null;
      if (code === 'ELOOP') throw new SessionError('STORAGE', `${path} is a symlink: a stored transcript is never followed through one`);
      throw storageError('reading', path, error);
    }
    try {
      return await handle.readFile();
    } finally {
      await handle.close();
    }
  }

  async list(): Promise<string[]> {
    if (!(await this.folderExists())) return [];
    return (await readdir(this.dir)).filter((name) => /^[0-9a-f-]{36}\.jsonl$/.test(name)).map((name) => name.slice(0, 36));
  }

  private async folderExists(): Promise<boolean> {
    const info = await lstat(this.dir).catch(() => null);
    if (info === null) return false;
    if (!info.isDirectory()) throw new SessionError('STORAGE', `${this.dir} is not a plain folder (a symlink?): transcripts are never followed through one`);
    return true;
  }

  private async assertRealFolder(): Promise<void> {
    if (!(await this.folderExists())) throw new SessionError('STORAGE', `${this.dir} could not be created`);
  }

  async *candidates(words: readonly string[], after: SearchPosition | null, accept: (ids: string[]) => Promise<Set<string>>): AsyncGenerator<CandidateMessage> {
    const probes = words.map(probeOf);
    const lastLine = new Map<string, number>();
    const matched = new Set<string>();
    (await this.indexedRecords()).forEach((record, line) => {
      lastLine.set(record.sessionId, line);
      if (mayHoldAll(record.signature, probes)) matched.add(record.sessionId);
    });
    let order = [...matched].sort((a, b) => lastLine.get(b)! - lastLine.get(a)!);
    if (after !== null) {
      // Where the page before stopped; a conversation stored since then moved up, past the cursor.
      const stop = lastLine.get(after.sessionId) ?? Number.POSITIVE_INFINITY;
      order = order.filter((id) => id === after.sessionId || lastLine.get(id)! < stop);
    }
    for (let from = 0; from < order.length; from += ACCEPT_BATCH) {
      const batch = order.slice(from, from + ACCEPT_BATCH);
      const accepted = await accept(batch);
      for (const sessionId of batch) {
        if (!accepted.has(sessionId)) continue;
        const content = await this.load(sessionId);
        if (content === null) continue;
        const skip = after?.sessionId === sessionId ? after.message + 1 : 0;
        const messages = conversationMessages(content);
        for (let message = skip; message < messages.length; message += 1) yield { sessionId, message, ...messages[message]! };
      }
    }
  }

  async searchable(): Promise<number> {
    return new Set((await this.indexedRecords()).map((record) => record.sessionId)).size;
  }

  /**
   * The index's records, after indexing the stored transcripts it has no line of (stored by an
   * earlier version, or whose line a crash tore). Those lines are appended for the next search;
   * where the store may not be written, they are used for this one only.
   */
  private async indexedRecords(): Promise<WordIndexRecord[]> {
    const records = await this.words.read();
    const indexed = new Set(records.map((record) => record.sessionId));
    const missing: WordIndexRecord[] = [];
    for (const sessionId of await this.list()) {
      if (indexed.has(sessionId)) continue;
      const content = await this.load(sessionId);
      if (content !== null) missing.push({ sessionId, signature: transcriptSignature(content) });
    }
    if (missing.length > 0) await this.words.append(missing.map((record) => lineOf(record.sessionId, record.signature))).catch(() => undefined);
    return [...records, ...missing];
  }
}
