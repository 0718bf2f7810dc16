import { readFileSync } from 'node:fs';
import { hostname } from 'node:os';

/** Who holds a lock: enough to tell later whether that process still lives. */
export interface ProcessIdentity {
  host: string;
  pid: number;
  /** The kernel's start time of the process (Linux), so a recycled pid is not taken for the holder. */
  startTime: string | null;
}

/** Reads a process's start time from /proc (clock ticks since boot); null where /proc is absent. */
export function processStartTime(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    // The command name (field 2) may hold spaces and parentheses, so count fields after the last ')'.
    const fields = stat.slice(stat.lastIndexOf(')') + 2).split(' ');
    return fields[19] ?? null;
  } catch {
    return null;
  }
}

/** The one-letter state of a process from /proc (`R`, `S`, `Z`, …); null where /proc is absent or it is gone. */
export function processState(pid: number): string | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2, stat.lastIndexOf(')') + 3) || null;
  } catch {
    return null;
  }
}

/**
 * Whether a process runs. A zombie does not: where no init reaps orphans (some containers),
 * a dead process can linger as one, and `kill(pid, 0)` still succeeds on it.
 */
export function pidAlive(pid: number): boolean {
  try {
    process.kill(pid, 0);
  } catch (error) {
    return (error as NodeJS.ErrnoException).code === 'EPERM';
  }
  return processState(pid) !== 'Z';
}

let ownStartTime: string | null | undefined;

/** This process's identity (its start time is read once: it never changes). */
export function currentProcess(): ProcessIdentity {
  ownStartTime ??= processStartTime(process.pid);
  return { host: hostname(), pid: process.pid, startTime: ownStartTime };
}

/**
 * Whether the process is certainly gone. Only a process on this host can be judged;
 * one on another host (a shared file system) is presumed alive.
 */
export function isProcessGone(holder: ProcessIdentity): boolean {
  if (holder.host !== hostname()) return false;
  if (!pidAlive(holder.pid)) return true;
  if (holder.startTime === null) return false;
  const now = processStartTime(holder.pid);
  return now !== null && now !== holder.startTime;
}
