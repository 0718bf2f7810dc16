import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SessionError, storageError } from '../../errors.js';
import { digestOf, transcriptKey, type TranscriptDigest, type TranscriptStore } from '../transcript-store.js';
import { writeFileAtomicKeepingFd } from './atomic-file.js';
import { closeSync } from 'node:fs';
import type { SearchPosition } from '../../domain/conversation-search.js';
import { conversationMessages } from '../../domain/conversation.js';
import type { CandidateMessage, TranscriptCandidates } from '../transcript-store.js';
import { lineOf, parseIndex, transcriptSignature, TranscriptWordIndex, type WordIndexRead } from './transcript-word-index.js';
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

  async search(words: readonly string[], after: SearchPosition | null, accept: (ids: string[]) => Promise<Set<string>>): Promise<TranscriptCandidates> {
    const probes = words.map(probeOf);
    const { sessions, signatures, intact } = await this.indexRead();
    const lastLine = new Map<string, number>();
    const matched = new Set<string>();
    for (let line = 0; line < sessions.length; line += 1) {
      lastLine.set(sessions[line]!, line);
      // A candidate's line is checked before its id is used: a damaged one is no candidate.
      if (mayHoldAll(signatures[line]!, probes) && intact(line)) matched.add(sessions[line]!);
    }
    let order = [...matched].sort((a, b) => lastLine.get(b)! - lastLine.get(a)!);
    if (after !== null) {
      // Where the page before stopped; a conversation stored since then moved up, past the cursor.
      const stop = lastLine.get(after.sessionId) ?? Number.POSITIVE_INFINITY;
      order = order.filter((id) => id === after.sessionId || lastLine.get(id)! < stop);
    }
    return { searchable: lastLine.size, messages: this.messagesOf(order, after, accept) };
  }

  private async *messagesOf(order: string[], after: SearchPosition | null, accept: (ids: string[]) => Promise<Set<string>>): AsyncGenerator<CandidateMessage> {
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

  /**
   * The index as read, once every stored transcript has a line: until the index says so
   * (`#complete`), the folder is listed and the transcripts without one (stored by an earlier
   * version) are indexed, their lines appended for the next search; where the store may not be
   * written, they are used for this one only.
   */
  private async indexRead(): Promise<WordIndexRead> {
    const read = await this.words.read();
    if (read.complete) return read;
    const indexed = new Set(read.sessions.filter((_, line) => read.intact(line)));
    const lines: string[] = [];
    for (const sessionId of await this.list()) {
      if (indexed.has(sessionId)) continue;
      const content = await this.load(sessionId);
      if (content !== null) lines.push(lineOf(sessionId, transcriptSignature(content)));
    }
    await this.words.append(lines, true).catch(() => undefined);
    if (lines.length === 0) return read;
    // This search reads them as the next one will (and as it must, where they could not be appended).
    const added = parseIndex(Buffer.from(lines.join('')));
    const sessions = [...read.sessions, ...added.sessions];
    return {
      sessions,
      signatures: [...read.signatures, ...added.signatures],
      complete: true,
      intact: (line) => (line < read.sessions.length ? read.intact(line) : added.intact(line - read.sessions.length)),
    };
  }
}
