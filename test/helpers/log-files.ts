import { readFile } from 'node:fs/promises';
import { parseSessionsFile, type Session } from '../../src/index.js';
import { join } from 'node:path';

/** The raw bytes of a store's log ('' when missing). */
export async function logBytes(dir: string): Promise<string> {
  return readFile(join(dir, 'events.ndjson'), 'utf8').catch(() => '');
}

/**
 * The decoded whole lines of a store's log. A line still being written (no newline yet) is left
 * out, as the store's own readers leave it: a test that polls the log while a writer appends
 * may read part of a write (a dashboard test failed on "Unterminated string in JSON" so).
 */
export async function logEvents<T = Record<string, unknown>>(dir: string): Promise<T[]> {
  const bytes = await logBytes(dir);
  return bytes
    .slice(0, bytes.lastIndexOf('\n') + 1)
    .split('\n')
    .filter((l) => l.length > 0)
    .map((l) => JSON.parse(l) as T);
}

/**
 * What a store's sessions.json says, whatever its layout (written in place, with holes, or
 * whole): the seq it covers and every session by id. Throws if its checksum fails.
 */
export async function sessionsFileContent(dir: string): Promise<{ seq: number; sessions: Record<string, Session> }> {
  const path = join(dir, 'sessions.json');
  const { state, cursor } = parseSessionsFile(await readFile(path), path);
  return { seq: cursor.seq, sessions: byId(state.sessions.values()) };
}

/** Sessions keyed by id, in id order, so two sets compare whatever order they came in. */
export function byId(sessions: Iterable<Session>): Record<string, Session> {
  return Object.fromEntries([...sessions].sort((a, b) => a.id.localeCompare(b.id)).map((s) => [s.id, s]));
}
