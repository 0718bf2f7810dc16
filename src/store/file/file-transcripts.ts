import { constants } from 'node:fs';
import { lstat, mkdir, open, readdir } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { SessionError, storageError } from '../../errors.js';
import { digestOf, transcriptKey, type TranscriptDigest, type TranscriptStore } from '../transcript-store.js';
import { writeFileAtomicKeepingFd } from './atomic-file.js';
import { closeSync } from 'node:fs';

/**
 * Transcripts beside a file store's log: `<dir>/transcripts/<session id>.jsonl`, mode 0600 in
 * a 0700 folder (they can hold secrets), each written atomically. Names come only from UUIDs,
 * and neither the folder nor a file is ever followed through a symlink.
 */
export class FileTranscripts implements TranscriptStore {
  readonly dir: string;

  constructor(storeDir: string) {
    // Absolute: the path is handed to an agent running in another cwd (`--resume <file>`).
    this.dir = resolve(storeDir, 'transcripts');
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
}
