import { setTimeout as sleep } from 'node:timers/promises';
import { familyAmong, familyOf, tableFromNow, type FamilyKey } from './agent-family.js';

/** Sends `signal` to each pid; one already gone is skipped. */
export function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
  for (const pid of pids) {
    try {
      process.kill(pid, signal);
    } catch {
      // already gone
    }
  }
}

/**
 * Ends an agent and everything it started: SIGTERM to each process of its family (so the
 * agent can stop its own tools), then SIGKILL to whatever is left after `graceMs`, the family
 * looked up again each time since it may have started more. Resolves when the family is gone.
 * Each look shares a scan of the processes with the families stopped at the same time, one
 * begun after the look was asked for.
 */
export async function terminateFamily(key: FamilyKey, graceMs: number): Promise<void> {
  const look = async () => familyAmong(key, await tableFromNow());
  let family = await look();
  if (family.length === 0) return;
  signalAll(family, 'SIGTERM');
  const deadline = Date.now() + graceMs;
  while (family.length > 0 && Date.now() < deadline) {
    await sleep(25);
    family = await look();
  }
  for (let round = 0; round < 100 && family.length > 0; round += 1) {
    signalAll(family, 'SIGKILL');
    await sleep(20);
    family = await look();
  }
}

/**
 * Ends whatever of a family still runs, if anything does: the tools an agent leaves behind when
 * it exits, or an orphan's. Only looks when asked; resolves when nothing of it is left.
 */
export async function stopStragglers(key: FamilyKey, graceMs: number): Promise<void> {
  if (familyOf(key).length > 0) await terminateFamily(key, graceMs);
}
