import { readFileSync } from 'node:fs';
import { procfsBackend } from './procfs-backend.js';
import { psBackend } from './ps-backend.js';

/** A live process as the process room sees it. */
export interface ProcessInfo {
  pid: number;
  ppid: number;
  /** Its process group. */
  pgid: number;
  /** When it started, in the backend's own unit (clock ticks since boot on /proc, seconds since the epoch with ps): only compared with others of the same backend. */
  startTime: number;
}

/** One look at the host's processes: the live ones, and their environments read once each. */
export interface ProcessTable {
  processes: ProcessInfo[];
  /** Whether the process's environment holds `name=value` (false when it is gone or not ours to read). */
  carries(pid: number, name: string, value: string): boolean;
}

/**
 * How the operating system is asked about processes. Two backends: `/proc` on Linux (no process
 * spawned per look), and `ps` everywhere else (macOS, the BSDs), which a test forces on Linux too.
 */
export interface ProcessBackend {
  readonly name: 'proc' | 'ps';
  /** The live processes (zombies left out), or only those of a pid range where the backend can tell (a hint). */
  scan(range: [number, number] | null): ProcessTable;
  /** The start time of a process as an identity string (same backend, same host), or null when it is gone. */
  startTime(pid: number): string | null;
  /** The one-letter state of a process (`R`, `S`, `Z`, …), or null when it is gone. */
  state(pid: number): string | null;
  /** How many processes the host has created since boot, where it can tell: pids are handed out in order until they wrap. */
  forksSoFar(): number | null;
  /** The pids that can have been started since `pid` was, when `forks` were created before it; null when it cannot tell. */
  pidRangeSince(pid: number, forks: number | null): [number, number] | null;
}

let chosen: ProcessBackend | null = null;

/**
 * The backend of this process: `MIYABI_PROCESS_BACKEND` (`proc` or `ps`) when set, else `/proc`
 * where it exists, else `ps`. Chosen once.
 */
export function processBackend(): ProcessBackend {
  if (chosen !== null) return chosen;
  const asked = process.env['MIYABI_PROCESS_BACKEND'];
  if (asked === 'ps') return (chosen = psBackend);
  if (asked === 'proc') return (chosen = procfsBackend);
  try {
    readFileSync('/proc/self/stat');
    chosen = procfsBackend;
  } catch {
    chosen = psBackend;
  }
  return chosen;
}

/**
 * Uses the named backend in this process from now on (and in the processes it starts, through
 * `MIYABI_PROCESS_BACKEND`); returns the function that puts the previous choice back. For tests that run
 * the `ps` backend on Linux.
 */
export function useProcessBackend(name: 'proc' | 'ps'): () => void {
  const previous = { chosen, variable: process.env['MIYABI_PROCESS_BACKEND'] };
  chosen = name === 'ps' ? psBackend : procfsBackend;
  process.env['MIYABI_PROCESS_BACKEND'] = name;
  return () => {
    chosen = previous.chosen;
    if (previous.variable === undefined) delete process.env['MIYABI_PROCESS_BACKEND'];
    else process.env['MIYABI_PROCESS_BACKEND'] = previous.variable;
  };
}
