import { readdirSync, readFileSync } from 'node:fs';
import { setTimeout as sleep } from 'node:timers/promises';

/**
 * The variable every agent is started with, set to its session id. Its children inherit it,
 * and so do processes that leave the agent's process group: Claude Code runs each Bash tool
 * call in a shell of its own session (setsid), which a signal to the agent's group misses,
 * and which init adopts once the agent dies. The variable still finds them.
 */
export const AGENT_SESSION_VARIABLE = 'MIYABI_SESSION_ID';

/** Whom an agent's family is looked up by. */
export interface FamilyKey {
  /** The agent's pid, which leads its process group; only when it is known to still be that agent. */
  leader?: number;
  /** The session id the agent and everything it started carry in {@link AGENT_SESSION_VARIABLE}. */
  sessionId: string;
  /**
   * The agent's start time (clock ticks since boot, as /proc gives it): nothing older can be
   * its doing, so only younger processes have their environment read (a read per process of
   * the host otherwise, ~5 ms on a quiet one).
   */
  since?: string | null;
  /**
   * The agent's pid, when it is known to have been this agent's (even if it has exited), and
   * how many processes the host had created when it started ({@link forksSoFar}). Pids are
   * handed out in increasing order until they wrap at `pid_max`: while too few processes were
   * created since to wrap, only pids from the agent's up can be its doing, and no other
   * process is read.
   */
  firstPid?: { pid: number; forks: number | null };
}

/** How many processes the host has created since boot (`processes` in /proc/stat), or null. */
export function forksSoFar(): number | null {
  try {
    const match = /^processes (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'));
    return match === null ? null : Number(match[1]);
  } catch {
    return null;
  }
}

interface ProcessEntry {
  pid: number;
  ppid: number;
  pgid: number;
  startTime: number;
}

/** The pids that can have been started since `firstPid` was, or null when pids wrapped since (or cannot tell). */
function pidRangeSince(first: FamilyKey['firstPid']): [number, number] | null {
  if (first === undefined || first.forks === null) return null;
  try {
    const created = (forksSoFar() ?? Number.POSITIVE_INFINITY) - first.forks;
    const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
    const last = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
    // Not enough processes created since to have wrapped: every newer pid is above the agent's.
    if (!(first.pid + created < pidMax) || !Number.isSafeInteger(last) || last < first.pid) return null;
    return [first.pid, last];
  } catch {
    return null;
  }
}

/** Every live process (zombies, which only wait to be reaped, are left out), or those of a pid range. */
function liveProcesses(range: [number, number] | null = null): ProcessEntry[] {
  const found: ProcessEntry[] = [];
  let entries: string[];
  try {
    entries = readdirSync('/proc');
  } catch {
    return found;
  }
  for (const entry of entries) {
    if (!/^\d+$/.test(entry)) continue;
    if (range !== null && (Number(entry) < range[0] || Number(entry) > range[1])) continue;
    try {
      const stat = readFileSync(`/proc/${entry}/stat`, 'utf8');
      const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
      if (fields[0] === 'Z' || fields[0] === 'X') continue;
      found.push({ pid: Number(entry), ppid: Number(fields[1]), pgid: Number(fields[2]), startTime: Number(fields[19]) });
    } catch {
      // exited while we looked
    }
  }
  return found;
}

/** One look at /proc: its live processes, and the environments read from it so far. */
interface ProcessTable {
  processes: ProcessEntry[];
  environs: Map<number, string | null>;
}

let wholeScans = 0;
let nextScan: Promise<ProcessTable> | null = null;

/** How many whole scans of /proc stops and the exit hooks have shared so far (for tests). */
export function processTableScans(): number {
  return wholeScans;
}

function scanWhole(): ProcessTable {
  wholeScans += 1;
  return { processes: liveProcesses(), environs: new Map() };
}

/**
 * A look at /proc begun after this call: the next scan, which every caller until it begins
 * shares (it begins on the next turn of the event loop). A closing manager stopping a thousand
 * adopted agents at once thus scans /proc once per round of looks, where a scan per agent per
 * look cost agents × processes reads (over a minute for a thousand).
 */
function tableFromNow(): Promise<ProcessTable> {
  nextScan ??= new Promise((resolve) =>
    setImmediate(() => {
      nextScan = null;
      resolve(scanWhole());
    }),
  );
  return nextScan;
}

function carriesMark(pid: number, mark: string, table: ProcessTable | null): boolean {
  let environ = table?.environs.get(pid);
  if (environ === undefined) {
    try {
      environ = `\0${readFileSync(`/proc/${pid}/environ`, 'latin1')}`;
    } catch {
      environ = null; // gone, or another user's process (not ours to stop)
    }
    table?.environs.set(pid, environ);
  }
  return environ !== null && environ.includes(mark);
}

/**
 * The live processes of an agent: its process group, every descendant of its leader (in
 * whatever group or session), and every process carrying its session id in
 * {@link AGENT_SESSION_VARIABLE} (which finds tools that init adopted after the agent died).
 */
export function familyOf(key: FamilyKey): number[] {
  return familyAmong(key, liveProcesses(pidRangeSince(key.firstPid)), null);
}

/**
 * {@link familyOf} among `processes`; with the `table` they come from, whose environments are
 * read once for all the families looked up in it. (A whole table needs no pid range: the range
 * only spares reads of processes too old to be the agent's doing.)
 */
function familyAmong(key: FamilyKey, processes: readonly ProcessEntry[], table: ProcessTable | null): number[] {
  const family = new Set<number>();
  if (key.leader !== undefined) {
    for (const p of processes) if (p.pgid === key.leader || p.pid === key.leader) family.add(p.pid);
    // Descendants: repeat until no new child is found (parents may come after children in /proc).
    for (let grew = true; grew;) {
      grew = false;
      for (const p of processes) {
        if (!family.has(p.pid) && family.has(p.ppid)) {
          family.add(p.pid);
          grew = true;
        }
      }
    }
  }
  const mark = `\0${AGENT_SESSION_VARIABLE}=${key.sessionId}\0`;
  const since = key.since == null ? 0 : Number(key.since);
  for (const p of processes) {
    if (p.startTime >= since && !family.has(p.pid) && p.pid !== process.pid && carriesMark(p.pid, mark, table)) family.add(p.pid);
  }
  family.delete(process.pid);
  return [...family];
}

function signalAll(pids: readonly number[], signal: NodeJS.Signals): void {
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
 * Each look shares a scan of /proc with the families stopped at the same time, one begun after
 * the look was asked for.
 */
export async function terminateFamily(key: FamilyKey, graceMs: number): Promise<void> {
  const look = async () => {
    const table = await tableFromNow();
    return familyAmong(key, table.processes, table);
  };
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
  const families = [...tracked.values()].map((key) => familyAmong(key, table.processes, table));
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
