import { processBackend, type ProcessTable } from './process-backend.js';

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
   * The agent's start time (as the process backend gives it): nothing older can be its doing,
   * so only younger processes have their environment read (a read per process of the host
   * otherwise, ~5 ms on a quiet one).
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

/** How many processes the host has created since boot, where the backend can tell (`processes` in /proc/stat). */
export function forksSoFar(): number | null {
  return processBackend().forksSoFar();
}

/** The pids that can have been started since `firstPid` was, or null when pids wrapped since (or cannot tell). */
function pidRangeSince(first: FamilyKey['firstPid']): [number, number] | null {
  return first === undefined ? null : processBackend().pidRangeSince(first.pid, first.forks);
}

let wholeScans = 0;
let nextScan: Promise<ProcessTable> | null = null;

/** How many whole scans of the process table stops and the exit hooks have shared so far (for tests). */
export function processTableScans(): number {
  return wholeScans;
}

/** One whole look at the host's processes. */
export function scanWhole(): ProcessTable {
  wholeScans += 1;
  return processBackend().scan(null);
}

/**
 * A look at the processes begun after this call: the next scan, which every caller until it
 * begins shares (it begins on the next turn of the event loop). A closing manager stopping a
 * thousand adopted agents at once thus scans once per round of looks, where a scan per agent
 * per look cost agents × processes reads (over a minute for a thousand).
 */
export function tableFromNow(): Promise<ProcessTable> {
  nextScan ??= new Promise((resolve) =>
    setImmediate(() => {
      nextScan = null;
      resolve(scanWhole());
    }),
  );
  return nextScan;
}

/**
 * The live processes of an agent: its process group, every descendant of its leader (in
 * whatever group or session), and every process carrying its session id in
 * {@link AGENT_SESSION_VARIABLE} (which finds tools that init adopted after the agent died).
 */
export function familyOf(key: FamilyKey): number[] {
  return familyAmong(key, processBackend().scan(pidRangeSince(key.firstPid)));
}

/**
 * {@link familyOf} in one look at the processes, whose environments are read once for all the
 * families looked up in it. (A whole table needs no pid range: the range only spares reads of
 * processes too old to be the agent's doing.)
 */
export function familyAmong(key: FamilyKey, table: ProcessTable): number[] {
  const { processes } = table;
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
  const since = key.since == null ? 0 : Number(key.since);
  for (const p of processes) {
    if (p.startTime >= since && !family.has(p.pid) && p.pid !== process.pid && table.carries(p.pid, AGENT_SESSION_VARIABLE, key.sessionId)) family.add(p.pid);
  }
  family.delete(process.pid);
  return [...family];
}
