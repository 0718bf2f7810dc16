import { setTimeout as sleep } from 'node:timers/promises';
import { SessionError } from '../../errors.js';

const TRANSIENT = new Set(['ECONNREFUSED', 'ECONNRESET', 'ETIMEDOUT', 'EPIPE', '57P01', '57P02', '57P03', '08000', '08003', '08006', '08001', '08004']);

/** True for errors that a new connection may cure (server restarting, connection cut). */
export function isTransient(error: unknown): boolean {
  const code = (error as { code?: string } | null)?.code;
  return code !== undefined && TRANSIENT.has(code);
}

/**
 * Runs `attempt` again after a transient connection error, with exponential backoff; anything
 * else, or the last failure, becomes a `STORAGE` error naming `what`. Only for steps that are
 * safe to repeat (connecting, reading) — never for a commit whose outcome is unknown.
 */
export async function withRetry<T>(what: string, attempt: () => Promise<T>, retries = 4): Promise<T> {
  for (let i = 0; ; i += 1) {
    try {
      return await attempt();
    } catch (error) {
      if (error instanceof SessionError) throw error;
      if (!isTransient(error) || i >= retries) throw new SessionError('STORAGE', `${what} failed: ${(error as Error).message}`, { cause: error });
      await sleep(50 * 2 ** i);
    }
  }
}
