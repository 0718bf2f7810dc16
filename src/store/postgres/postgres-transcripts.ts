import type pg from 'pg';
import { SessionError } from '../../errors.js';
import type { SearchPosition } from '../../domain/conversation-search.js';
import { digestOf, transcriptKey, type CandidateMessage, type TranscriptCandidates, type TranscriptDigest, type TranscriptStore } from '../transcript-store.js';
import { messageRows, tsqueryText } from './transcript-rows.js';
import { withRetry } from './with-retry.js';
import { inTransaction } from './transaction.js';

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
    await inTransaction(() => this.pool.connect(), async (client) => {
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

  async search(words: readonly string[], after: SearchPosition | null, accept: (ids: string[]) => Promise<Set<string>>): Promise<TranscriptCandidates> {
    await this.ready();
    await this.indexUnindexed();
    const s = this.schema;
    const { rows } = await withRetry('counting the searchable conversations', () =>
      this.pool.query<{ n: string; at: string | null }>(
        `SELECT (SELECT count(*) FROM ${s}.transcripts) - (SELECT count(*) FROM ${s}.transcripts WHERE indexed_sha256 IS DISTINCT FROM sha256) AS n,
           (SELECT saved_at::text FROM ${s}.transcripts WHERE session_id = $1) AS at`,
        [after?.sessionId ?? null],
      ),
    );
    const at = rows[0]!.at;
    const from = after === null || at === null ? null : { savedAt: at, sessionId: after.sessionId, message: after.message };
    return { searchable: Number(rows[0]!.n), messages: this.candidates(tsqueryText(words), from, accept) };
  }

  private async *candidates(query: string, start: { savedAt: string; sessionId: string; message: number } | null, accept: (ids: string[]) => Promise<Set<string>>): AsyncGenerator<CandidateMessage> {
    const s = this.schema;
    let from = start;
    for (;;) {
      const position = from;
      const { rows } = await withRetry('searching the conversations', () =>
        // Ordered by the columns (not their text): the order index serves a word found everywhere.
        this.pool.query<{ sid: string; message: number; role: string; text: string; at: string }>(
          `SELECT m.session_id::text AS sid, m.message, m.role, m.text, m.saved_at::text AS at FROM ${s}.transcript_messages m
           WHERE (m.words @@ $1::tsquery OR m.words IS NULL)
             AND ($2::timestamptz IS NULL OR (m.saved_at, m.session_id) < ($2::timestamptz, $3::uuid)
                  OR (m.saved_at = $2::timestamptz AND m.session_id = $3::uuid AND m.message > $4))
           ORDER BY m.saved_at DESC, m.session_id DESC, m.message
           LIMIT ${CANDIDATE_BATCH}`,
          [query, position?.savedAt ?? null, position?.sessionId ?? null, position?.message ?? 0],
        ),
      );
      if (rows.length === 0) return;
      const accepted = await accept([...new Set(rows.map((row) => row.sid))]);
      for (const row of rows) {
        if (accepted.has(row.sid)) yield { sessionId: row.sid, message: row.message, role: row.role, text: row.text };
      }
      const last = rows.at(-1)!;
      from = { savedAt: last.at, sessionId: last.sid, message: last.message };
      if (rows.length < CANDIDATE_BATCH) return;
    }
  }

  /**
   * Indexes the transcripts whose messages are not in the table (stored by an earlier version);
   * resolves with how many it indexed. A role that may not write leaves them unindexed, and
   * they are not searched (nor counted). Every search runs it first; so does `migrate`.
   */
  async indexUnindexed(): Promise<number> {
    await this.ready();
    let indexed = 0;
    const s = this.schema;
    const { rows } = await withRetry('finding unindexed transcripts', () =>
      this.pool.query<{ id: string }>(`SELECT session_id::text AS id FROM ${s}.transcripts WHERE indexed_sha256 IS DISTINCT FROM sha256`),
    );
    for (const { id } of rows) {
      await inTransaction(() => this.pool.connect(), async (client) => {
        // Locked, so a transcript stored at the same time is indexed by whichever runs last, as stored.
        const { rows: found } = await client.query<{ content: Buffer; saved_at: Date }>(`SELECT content, saved_at FROM ${s}.transcripts WHERE session_id = $1 FOR UPDATE`, [id]);
        if (found[0] === undefined) return;
        await this.storeMessages(client, id, found[0].content, found[0].saved_at);
        await client.query(`UPDATE ${s}.transcripts SET indexed_sha256 = sha256 WHERE session_id = $1`, [id]);
        indexed += 1;
      }).catch(() => undefined);
    }
    return indexed;
  }

  /** Replaces the message rows of a transcript saved at `savedAt` (now, by default), in the caller's transaction. */
  private async storeMessages(client: pg.PoolClient, sessionId: string, content: Buffer, savedAt: Date | null = null): Promise<void> {
    const s = this.schema;
    await client.query(`DELETE FROM ${s}.transcript_messages WHERE session_id = $1`, [sessionId]);
    const rows = messageRows(content);
    if (rows.length === 0) return;
    await client.query(
      `INSERT INTO ${s}.transcript_messages (session_id, message, saved_at, role, text, words)
       SELECT $1, r.message, coalesce($3::timestamptz, now()), r.role, r.text, r.words::tsvector FROM json_to_recordset($2::json) AS r (message integer, role text, text text, words text)`,
      [sessionId, JSON.stringify(rows), savedAt],
    );
  }
}
