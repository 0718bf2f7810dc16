import { constants } from 'node:fs';
import { open } from 'node:fs/promises';
import type { TranscriptRef } from '../domain/transcript-ref.js';
import { FileTranscripts } from '../store/file/file-transcripts.js';
import type { TranscriptStore } from '../store/transcript-store.js';

/** How a manager keeps its agents' conversations. */
export interface TranscriptPolicy {
  /** Where they are stored (the event store's transcripts, else files beside the manager's cache). */
  store: TranscriptStore;
  /** This host's manager folder: copies of stored transcripts a fork needs go to its `transcripts`. */
  localDir: string;
  /** False: nothing is stored (`storeTranscripts: false`); the sessions record that. */
  enabled: boolean;
  /** Larger transcripts are not stored; the session records why. */
  maxBytes: number;
}

/** The default size limit of a stored transcript: 50 MiB. */
export const DEFAULT_MAX_TRANSCRIPT_BYTES = 50 * 1024 * 1024;

/**
 * Stores the conversation an agent left when it ended, and finds a stored one again as a file
 * on this host for a fork. Storing never fails the session: what could not be stored is
 * recorded as skipped, with the reason.
 */
export class TranscriptKeeper {
  private readonly cache: FileTranscripts;

  constructor(private readonly policy: TranscriptPolicy) {
    this.cache = new FileTranscripts(policy.localDir);
  }

  /** Stores the transcript file `path` (the agent's own) as the session's; what to record. */
  async keep(sessionId: string, path: string | undefined): Promise<TranscriptRef | undefined> {
    if (path === undefined) return undefined;
    if (!this.policy.enabled) return { skipped: 'storing transcripts is turned off (storeTranscripts: false)' };
    let content: Buffer;
    try {
      // The agent's own file, never followed through a symlink.
      const handle = await open(path, constants.O_RDONLY | constants.O_NOFOLLOW);
      try {
        const { size } = await handle.stat();
        if (size > this.policy.maxBytes) return { skipped: `the transcript is ${size} bytes, over the limit of ${this.policy.maxBytes} (maxTranscriptBytes)` };
        content = await handle.readFile();
      } finally {
        await handle.close();
      }
    } catch (error) {
      return { skipped: `the transcript could not be read: ${(error as Error).message}`.slice(0, 2000) };
    }
    try {
      return await this.policy.store.save(sessionId, content);
    } catch (error) {
      return { skipped: `the transcript could not be stored: ${(error as Error).message}`.slice(0, 2000) };
    }
  }

  /**
   * A file on this host with the stored conversation of `sessionId`, for `--resume <file>`, or
   * null when the store has none (or cannot be read: the runner then looks on this host).
   */
  async fileFor(sessionId: string): Promise<string | null> {
    try {
      const content = await this.policy.store.load(sessionId);
      if (content === null) return null;
      const own = this.policy.store.fileOf?.(sessionId);
      if (own !== undefined) return own;
      await this.cache.save(sessionId, content);
      return this.cache.fileOf(sessionId);
    } catch {
      return null;
    }
  }
}
