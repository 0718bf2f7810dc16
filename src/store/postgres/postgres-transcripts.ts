import type pg from 'pg';
import { SessionError } from '../../errors.js';
import type { SearchPosition } from '../../domain/conversation-search.js';
import { digestOf, transcriptKey, type CandidateMessage, type TranscriptDigest, type TranscriptStore } from '../transcript-store.js';
import { messageRows, tsqueryText } from './transcript-rows.js';
import { withRetry } from './with-retry.js';

/** How many candidate messages a search fetches at a time. */
const CANDIDATE_BATCH = 200;

/**
 * Transcripts in the store's schema (table `transcripts`: session id, size, SHA-256, the bytes),
 * so that a handoff run on any host can fork the conversation, and their messages in
 * `transcript_messages` for a search (see the migration). Values are bound parameters.
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
    await this.inTransaction(async (client) => {
      await client.query(
        `INSERT INTO ${this.schema}.transcripts (session_id, bytes, sha256, content, indexed_sha256) VALUES ($1, $2, $3, $4, $3)
         ON CONFLICT (session_id) DO UPDATE SET bytes = EXCLUDED.bytes, sha256 = EXCLUDED.sha256, content = EXCLUDED.content,
           indexed_sha256 = EXCLUDED.sha256, saved_at = now()`,
        [key, digest.bytes, digest.sha256, content],
      );
      await this.storeMessages(client, key, content);
    }).catch((error: unknown) => {
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

  async *candidates(words: readonly string[], after: SearchPosition | null, accept: (ids: string[]) => Promise<Set<string>>): AsyncGenerator<CandidateMessage> {
    await this.ready();
    await this.indexUnindexed();
    const s = this.schema;
    let position: { savedAt: string; sessionId: string; message: number } | null = null;
    if (after !== null) {
      const { rows } = await withRetry('reading a search cursor', () =>
        this.pool.query<{ saved_at: string }>(`SELECT saved_at::text FROM ${s}.transcripts WHERE session_id = $1`, [after.sessionId]),
      );
      if (rows[0] !== undefined) position = { savedAt: rows[0].saved_at, sessionId: after.sessionId, message: after.message };
    }
    const query = tsqueryText(words);
    for (;;) {
      const from = position;
      const { rows } = await withRetry('searching the conversations', () =>
        this.pool.query<{ session_id: string; message: number; role: string; text: string; saved_at: string }>(
          `SELECT m.session_id::text, m.message, m.role, m.text, t.saved_at::text
           FROM ${s}.transcript_messages m JOIN ${s}.transcripts t ON t.session_id = m.session_id AND t.indexed_sha256 = t.sha256
           WHERE (m.words @@ $1::tsquery OR m.words IS NULL)
             AND ($2::timestamptz IS NULL OR (t.saved_at, t.session_id) < ($2::timestamptz, $3::uuid)
                  OR (t.saved_at = $2::timestamptz AND t.session_id = $3::uuid AND m.message > $4))
           ORDER BY t.saved_at DESC, t.session_id DESC, m.message
           LIMIT ${CANDIDATE_BATCH}`,
          [query, from?.savedAt ?? null, from?.sessionId ?? null, from?.message ?? 0],
        ),
      );
      if (rows.length === 0) return;
      const accepted = await accept([...new Set(rows.map((row) => row.session_id))]);
      for (const row of rows) {
        if (accepted.has(row.session_id)) yield { sessionId: row.session_id, message: row.message, role: row.role, text: row.text };
      }
      const last = rows.at(-1)!;
      position = { savedAt: last.saved_at, sessionId: last.session_id, message: last.message };
      if (rows.length < CANDIDATE_BATCH) return;
    }
  }

  async searchable(): Promise<number> {
    await this.ready();
    await this.indexUnindexed();
    const { rows } = await withRetry('counting the searchable conversations', () =>
      this.pool.query<{ n: string }>(`SELECT count(*)::text AS n FROM ${this.schema}.transcripts WHERE indexed_sha256 = sha256`),
    );
    return Number(rows[0]!.n);
  }

  /**
   * Indexes the transcripts whose messages are not in the table (stored by an earlier version).
   * A role that may not write leaves them unindexed, and they are not searched (nor counted).
   */
  private async indexUnindexed(): Promise<void> {
    const s = this.schema;
    const { rows } = await withRetry('finding unindexed transcripts', () =>
      this.pool.query<{ id: string }>(`SELECT session_id::text AS id FROM ${s}.transcripts WHERE indexed_sha256 IS DISTINCT FROM sha256`),
    );
    for (const { id } of rows) {
      await this.inTransaction(async (client) => {
        // Locked, so a transcript stored at the same time is indexed by whichever runs last, as stored.
        const { rows: found } = await client.query<{ content: Buffer; sha256: string }>(`SELECT content, sha256 FROM ${s}.transcripts WHERE session_id = $1 FOR UPDATE`, [id]);
        if (found[0] === undefined) return;
        await this.storeMessages(client, id, found[0].content);
        await client.query(`UPDATE ${s}.transcripts SET indexed_sha256 = sha256 WHERE session_id = $1`, [id]);
      }).catch(() => undefined);
    }
  }

  /** Replaces the message rows of a transcript, in the caller's transaction. */
  private async storeMessages(client: pg.PoolClient, sessionId: string, content: Buffer): Promise<void> {
    const s = this.schema;
    await client.query(`DELETE FROM ${s}.transcript_messages WHERE session_id = $1`, [sessionId]);
    const rows = messageRows(content);
    if (rows.length === 0) return;
    await client.query(
      `INSERT INTO ${s}.transcript_messages (session_id, message, role, text, words)
       SELECT $1, r.message, r.role, r.text, r.words::tsvector FROM json_to_recordset($2::json) AS r (message integer, role text, text text, words text)`,
      [sessionId, JSON.stringify(rows)],
    );
  }

  /** Runs `work` in one transaction; a failed one never goes back to the pool. */
  private async inTransaction(work: (client: pg.PoolClient) => Promise<void>): Promise<void> {
    const client = await this.pool.connect();
    try {
      await client.query('BEGIN');
      await work(client);
      await client.query('COMMIT');
      client.release();
    } catch (error) {
      client.release(true);
      throw error;
    }
  }
}
