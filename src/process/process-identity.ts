import { hostname } from 'node:os';
import { processBackend } from './process-backend.js';

/** A process, identified so that a later reader can tell whether it still runs. */
export interface ProcessIdentity {
  host: string;
  pid: number;
  /** When the process started (the backend's own identity string), so a recycled pid is not taken for it. */
  startTime: string | null;
}

/** A process's start time as an identity string; null when it is gone or cannot be told. */
export function processStartTime(pid: number): string | null {
  return processBackend().startTime(pid);
}

/** The one-letter state of a process (`R`, `S`, `Z`, …); null when it is gone or cannot be told. */
export function processState(pid: number): string | null {
  return processBackend().state(pid);
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
let ownHost: string | undefined;

/**
 * This machine's host name, read once (a system call each time took 3% of a busy manager's
 * appends: every agent start records it twice). A host renamed while a manager runs keeps its
 * old name in what that manager records, as its other processes' records do.
 */
export function hostName(): string {
  ownHost ??= hostname();
  return ownHost;
}

/** This process's identity (its start time is read once: it never changes). */
export function currentProcess(): ProcessIdentity {
  ownStartTime ??= processStartTime(process.pid);
  return { host: hostName(), pid: process.pid, startTime: ownStartTime };
}

/**
 * Whether the process is certainly gone. Only a process on this host can be judged;
 * one on another host (a shared file system) is presumed alive.
 */
export function isProcessGone(holder: ProcessIdentity): boolean {
  if (holder.host !== hostName()) return false;
  if (!pidAlive(holder.pid)) return true;
  if (holder.startTime === null) return false;
  const now = processStartTime(holder.pid);
  return now !== null && now !== holder.startTime;
}
