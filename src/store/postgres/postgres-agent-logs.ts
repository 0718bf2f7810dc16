import type pg from 'pg';
import { SessionError } from '../../errors.js';
import type { AgentLogStore } from '../agent-log-store.js';
import { transcriptKey } from '../transcript-store.js';
import { withRetry } from './with-retry.js';

/**
 * The ends of running agents' logs in the store's schema (table `agent_logs`: session id, the
 * bytes, when), published by the manager running each agent. Values are bound parameters.
 */
export class PostgresAgentLogs implements AgentLogStore {
  constructor(
    private readonly pool: pg.Pool,
    private readonly schema: string,
    private readonly ready: () => Promise<void>,
  ) {}

  async publish(sessionId: string, tail: Buffer): Promise<void> {
    const key = transcriptKey(sessionId);
    await this.ready();
    await this.pool
      .query(
        `INSERT INTO ${this.schema}.agent_logs (session_id, tail) VALUES ($1, $2)
         ON CONFLICT (session_id) DO UPDATE SET tail = EXCLUDED.tail, published_at = now()`,
        [key, tail],
      )
      .catch((error: unknown) => {
        throw new SessionError('STORAGE', `publishing the log of ${key} failed: ${(error as Error).message}`, { cause: error });
      });
  }

  async read(sessionId: string): Promise<Buffer | null> {
    const key = transcriptKey(sessionId);
    await this.ready();
    const { rows } = await withRetry('reading an agent log', () =>
      this.pool.query<{ tail: Buffer }>(`SELECT tail FROM ${this.schema}.agent_logs WHERE session_id = $1`, [key]),
    );
    return rows[0]?.tail ?? null;
  }
}
