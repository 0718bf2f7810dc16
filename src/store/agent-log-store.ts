import { open } from 'node:fs/promises';

/**
 * How much of an agent's log a page shows, and a store keeps for one run on another host: its
 * end. Big enough for the last screens of output, small enough to publish every few seconds.
 */
export const AGENT_LOG_TAIL_BYTES = 32 * 1024;

/**
 * Where a store keeps the end of each running agent's log, published by the manager that runs
 * it, so that a page served on another host can show it (PostgreSQL, whose managers run on
 * many hosts; a file store's agents write their logs beside it, on its one host).
 */
export interface AgentLogStore {
  /** Replaces the kept end of a session's agent log. */
  publish(sessionId: string, tail: Buffer): Promise<void>;
  /** The kept end of a session's agent log, or null when none was published. */
  read(sessionId: string): Promise<Buffer | null>;
}

/**
 * The end of the log file at `path` (at most {@link AGENT_LOG_TAIL_BYTES}), from its first whole
 * line when the end starts inside one; null when there is no such file.
 */
export async function logFileTail(path: string): Promise<Buffer | null> {
  const handle = await open(path, 'r').catch(() => null);
  if (handle === null) return null;
  try {
    const { size } = await handle.stat();
    const length = Math.min(size, AGENT_LOG_TAIL_BYTES);
    const { buffer, bytesRead } = await handle.read(Buffer.alloc(length), 0, length, size - length);
    const tail = buffer.subarray(0, bytesRead);
    return size > length ? tail.subarray(tail.indexOf(0x0a) + 1) : tail;
  } finally {
    await handle.close();
  }
}
