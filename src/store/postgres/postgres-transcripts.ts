import type pg from 'pg';
import { SessionError } from '../../errors.js';
import { digestOf, transcriptKey, type TranscriptDigest, type TranscriptStore } from '../transcript-store.js';
import { withRetry } from './with-retry.js';

/**
 * Transcripts in the store's schema (table `transcripts`: session id, size, SHA-256, the bytes),
 * so that a handoff run on any host can fork the conversation. Values are bound parameters.
 */
export class PostgresTranscripts implements TranscriptStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly ready: () => Promise<void>,
  ) {}

  async save(sessionId: string, content: Buffer): Promise<TranscriptDigest> {
    const key = transcriptKey(sessionId);
    const digest = digestOf(content);
    await this.ready();
    // Not retried: an insert whose outcome is unknown is reported, never repeated blindly.
    await this.pool.query(
      `INSERT INTO ${this.schema}.transcripts (session_id, bytes, sha256, content) VALUES ($1, $2, $3, $4)
       ON CONFLICT (session_id) DO UPDATE SET bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256, content = EXCLUDED.content, saved_at = now()`,
      [key, digest.bytes, digest.sha256, content],
    ).catch((error: unknown) => {
      throw new SessionError('STORAGE', `storing the transcript of ${key} failed: ${(error as Error).message}`, { cause: error });
    });
    return digest;
  }

  async load(sessionId: string): Promise<Buffer | null> {
    const key = transcriptKey(sessionId);
    await this.ready();
    const { rows } = await withRetry('reading a transcript', () =>
      this.pool.query<{ content: Buffer }>(`SELECT content FROM ${this.schema}.transcripts WHERE session_id = $1`, [key]),
    );
    return rows[0]?.content ?? null;
  }

  async list(): Promise<string[]> {
    await this.ready();
    const { rows } = await withRetry('listing transcripts', () => this.pool.query<{ id: string }>(`SELECT session_id::text AS id FROM ${this.schema}.transcripts ORDER BY session_id`));
    return rows.map((r) => r.id);
  }
}
