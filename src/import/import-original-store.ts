import { createHash } from 'node:crypto';
import { mkdir, open, readFile, unlink } from 'node:fs/promises';
import { join, resolve } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import type { SessionStatus } from '../domain/session-status.js';
import { SessionError, storageError } from '../errors.js';
import { Checkpointer } from '../checkpoint/checkpointer.js';
import { checkpointPolicyOf } from '../checkpoint/checkpoint-policy.js';
import { parseTrailer, TRAILER_BYTES } from '../checkpoint/sessions-file.js';
import { projectionSink } from '../projections/projection-sink.js';
import { emptySessionsState, type SessionsState } from '../projections/sessions-projection.js';
import type { EventStore } from '../store/event-store.js';
import { fsyncDirectory } from '../store/file/atomic-file.js';
import { FileEventStore } from '../store/file/file-event-store.js';
import { parseOriginalStore } from './original-store.js';
import { planImport } from './plan-import.js';

/** What to import, and where to. */
export interface ImportOptions {
  /** The store directory (default `.ai/sessions`): the copy of the original and sessions.json go here. */
  dir?: string;
  /** The original's sessions.json (default: `<dir>/sessions.json`). */
  from?: string;
  /** The store to append to (default: the file store in `dir`). Closed when the import ends. */
  store?: EventStore;
}

/** What an import did. */
export interface ImportReport {
  /** The file imported. */
  from: string;
  /** Where its bytes are kept, as they were. */
  kept: string;
  sessions: number;
  events: number;
  byStatus: Record<SessionStatus, number>;
  /** True when this call finished an import that an earlier one had appended but not checkpointed. */
  resumed: boolean;
}

/**
 * Imports the original (Rust) session manager's `sessions.json` into a store: checks the whole
 * file first, keeps its bytes beside the store (`sessions.original.json`, fsynced) before anything
 * else is written, appends the events that replay to its sessions in one atomic append (each
 * marked `imported`), then writes this store's sessions.json in its place. All or nothing: on any
 * failure the store is as it was (the kept copy, if this call made it, is removed again).
 * Throws `INVALID_INPUT` for a file that is not a valid original store (naming the session and
 * field, nothing written), `NOT_FOUND` when the file is missing, `ALREADY_EXISTS` when its
 * sessions are in the store already (a second import), `STORAGE`.
 *
 * @example
 * const report = await importOriginalStore({ dir: '.ai/sessions' });
 * console.log(`${report.sessions} sessions imported; the original is kept as ${report.kept}`);
 */
export async function importOriginalStore(options: ImportOptions = {}): Promise<ImportReport> {
  const dir = options.dir ?? '.ai/sessions';
  const from = options.from ?? join(dir, 'sessions.json');
  const checkpointPath = join(dir, 'sessions.json');
  const store = options.store ?? new FileEventStore(dir);
  try {
    const bytes = await readOriginal(from);
    const events = planImport(parseOriginalStore(bytes, from), from, { now: new Date().toISOString(), newId: uuidv4 });
    await mkdir(dir, { recursive: true }).catch((error: unknown) => {
      throw storageError('creating directory', dir, error);
    });
    const state = emptySessionsState();
    await store.connect(projectionSink(state), null);
    const ids = events.filter((e) => e.type === 'SessionSpawned').map((e) => e.sessionId);
    const done = (kept: string, resumed: boolean): ImportReport => ({ from, kept, sessions: ids.length, events: events.length, byStatus: countStatuses(ids, state), resumed });
    if (alreadyImported(ids, state, from, checkpointPath)) {
      // Appended before a crash, not yet checkpointed: the original still sits at sessions.json.
      const kept = await keepOriginal(dir, bytes);
      await writeCheckpoint(checkpointPath, state, store);
      return done(kept.path, true);
    }
    const taken = ids.find((id) => state.sessions.has(id));
    if (taken !== undefined) {
      const how = state.sessions.get(taken)!.imported === true ? 'was imported already' : 'exists already';
      throw new SessionError('ALREADY_EXISTS', `cannot import ${from}: session ${taken} ${how} in ${store.location}; nothing was written`, { sessionId: taken });
    }
    const kept = await keepOriginal(dir, bytes);
    try {
      if (events.length > 0) await store.append({ events, expectedRevisions: new Map(ids.map((id) => [id, 0])) });
    } catch (error) {
      if (kept.created) await unlink(kept.path).catch(() => undefined);
      throw error;
    }
    // Replaces the original's file (its bytes are kept) with this store's checkpoint.
    await writeCheckpoint(checkpointPath, state, store);
    return done(kept.path, false);
  } finally {
    await store.close();
  }
}

async function readOriginal(path: string): Promise<Buffer> {
  const bytes = await readFile(path).catch((error: unknown) => {
    if ((error as NodeJS.ErrnoException).code === 'ENOENT') throw new SessionError('NOT_FOUND', `no file ${path} to import`);
    throw storageError('reading', path, error);
  });
  if (parseTrailer(bytes.subarray(Math.max(0, bytes.length - TRAILER_BYTES)), bytes.length) !== null) {
    throw new SessionError('INVALID_INPUT', `cannot import ${path}: it is this library's own sessions.json, not the original's; nothing was written`);
  }
  return bytes;
}

/**
 * Keeps the original's bytes as `sessions.original.json` in `dir` (or, when that name holds
 * other bytes, `sessions.original.<sha256 prefix>.json`), written and fsynced before any event.
 * A copy already there with the same bytes is used as it is.
 */
async function keepOriginal(dir: string, bytes: Buffer): Promise<{ path: string; created: boolean }> {
  const digest = createHash('sha256').update(bytes).digest('hex');
  for (const name of ['sessions.original.json', `sessions.original.${digest.slice(0, 12)}.json`]) {
    const path = join(dir, name);
    const existing = await readFile(path).catch(() => null);
    if (existing !== null) {
      if (existing.equals(bytes)) return { path, created: false };
      continue;
    }
    const handle = await open(path, 'wx', 0o600).catch((error: unknown) => {
      throw storageError('keeping the original as', path, error);
    });
    try {
      await handle.writeFile(bytes);
      await handle.sync();
    } catch (error) {
      await handle.close();
      await unlink(path).catch(() => undefined);
      throw storageError('keeping the original as', path, error);
    }
    await handle.close();
    await fsyncDirectory(dir);
    return { path, created: true };
  }
  throw new SessionError('STORAGE', `cannot keep the original in ${dir}: sessions.original.json and its alternative hold other files`);
}

/** Every session of the file is in the store, imported, and the file is still the store's sessions.json: an import cut short. */
function alreadyImported(ids: readonly string[], state: SessionsState, from: string, checkpointPath: string): boolean {
  return ids.length > 0 && resolve(from) === resolve(checkpointPath) && ids.every((id) => state.sessions.get(id)?.imported === true);
}

async function writeCheckpoint(path: string, state: SessionsState, store: EventStore): Promise<void> {
  const checkpointer = new Checkpointer(path, () => ({ state, cursor: store.cursor() }), checkpointPolicyOf({}), 10_000);
  await checkpointer.write(true);
}

function countStatuses(ids: readonly string[], state: SessionsState): Record<SessionStatus, number> {
  const counts: Record<SessionStatus, number> = { Active: 0, HandedOff: 0, Completed: 0, Failed: 0 };
  for (const id of ids) {
    const status = state.sessions.get(id)?.status;
    if (status !== undefined) counts[status] += 1;
  }
  return counts;
}
