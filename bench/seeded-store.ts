import { cp } from 'node:fs/promises';
import { SessionManager } from '../src/index.js';
import { writeBigLog } from './big-log.js';
import { scratch } from './work-dir.js';

/** A store of about `sessions` sessions, `activeShare` of them Active, with its sessions.json. */
export interface SeededStore {
  dir: string;
  sessions: number;
  events: number;
  logBytes: number;
  done: () => Promise<void>;
  /** A fresh copy of the store (for a run that must start from the same state). */
  copy: () => Promise<{ dir: string; done: () => Promise<void> }>;
}

/**
 * Writes a store of pipelines (bench/big-log.ts) with `activeShare` of its sessions Active, then
 * opens it once with the defaults so that its sessions.json exists, as a user's store would.
 */
export async function seededStore(sessions: number, activeShare: number): Promise<SeededStore> {
  const { dir, done } = await scratch(`store-${sessions}`);
  // Four events a pipeline session, two a lone Active one.
  const events = Math.round(sessions * ((1 - activeShare) * 4 + activeShare * 2));
  const log = await writeBigLog(dir, events, activeShare);
  const manager = await SessionManager.open(dir);
  await manager.close();
  return {
    dir,
    sessions: log.sessions,
    events: log.events,
    logBytes: log.bytes,
    done,
    copy: async () => {
      const copy = await scratch(`copy-${sessions}`);
      await cp(dir, copy.dir, { recursive: true });
      return copy;
    },
  };
}
