import { familyAmong, scanWhole, type FamilyKey } from './agent-family.js';
import { signalAll } from './terminate-family.js';

/** Families of running agents, so the manager's process never exits leaving one behind. */
const tracked = new Map<number, FamilyKey>();
let hooksInstalled = false;

/**
 * Tracks an agent's family: on exit, and on SIGINT/SIGTERM/SIGHUP (which would otherwise end
 * Node without an 'exit' event), every process of every tracked family gets SIGKILL. The
 * families are looked up first, so tools in sessions of their own are found before their
 * agent dies. Returns the function that stops tracking it.
 */
export function trackFamily(key: FamilyKey & { leader: number }): () => void {
  installHooks();
  tracked.set(key.leader, key);
  return () => tracked.delete(key.leader);
}

function killAll(): void {
  // One scan for all of them: the process may be exiting.
  const table = scanWhole();
  const families = [...tracked.values()].map((key) => familyAmong(key, table));
  tracked.clear();
  for (const family of families) signalAll(family, 'SIGKILL');
}

function installHooks(): void {
  if (hooksInstalled) return;
  hooksInstalled = true;
  process.on('exit', killAll);
  for (const signal of ['SIGINT', 'SIGTERM', 'SIGHUP'] as const) {
    const onSignal = () => {
      killAll();
      // Only stand in for Node's default (exit by the signal) when nobody else handles it.
      if (process.listenerCount(signal) === 1) {
        process.removeListener(signal, onSignal);
        process.kill(process.pid, signal);
      }
    };
    process.on(signal, onSignal);
  }
}
