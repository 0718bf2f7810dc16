import { readdirSync, readFileSync } from 'node:fs';
import type { ProcessBackend, ProcessInfo, ProcessTable } from './process-backend.js';

/** The fields of `/proc/<pid>/stat` after the command name, which may itself hold spaces and parentheses. */
function statFields(pid: number | string): string[] | null {
  try {
    const stat = readFileSync(`/proc/${pid}/stat`, 'utf8');
    return stat.slice(stat.lastIndexOf(')') + 2).split(' ');
  } catch {
    return null;
  }
}

/** Linux's `/proc`: every look is reads of small files, no process spawned. */
export const procfsBackend: ProcessBackend = {
  name: 'proc',

  scan(range) {
    const processes: ProcessInfo[] = [];
    let entries: string[] = [];
    try {
      entries = readdirSync('/proc');
    } catch {
      // no /proc: nothing to see
    }
    for (const entry of entries) {
      if (!/^\d+$/.test(entry)) continue;
      if (range !== null && (Number(entry) < range[0] || Number(entry) > range[1])) continue;
      const fields = statFields(entry);
      // Gone while we looked, or a zombie, which only waits to be reaped.
      if (fields === null || fields[0] === 'Z' || fields[0] === 'X') continue;
      processes.push({ pid: Number(entry), ppid: Number(fields[1]), pgid: Number(fields[2]), startTime: Number(fields[19]) });
    }
    const environs = new Map<number, string | null>();
    const table: ProcessTable = {
      processes,
      carries(pid, name, value) {
        let environ = environs.get(pid);
        if (environ === undefined) {
          try {
            environ = `\0${readFileSync(`/proc/${pid}/environ`, 'latin1')}`;
          } catch {
            environ = null; // gone, or another user's process (not ours to stop)
          }
          environs.set(pid, environ);
        }
        return environ !== null && environ.includes(`\0${name}=${value}\0`);
      },
    };
    return table;
  },

  startTime(pid) {
    return statFields(pid)?.[19] ?? null;
  },

  state(pid) {
    return statFields(pid)?.[0] || null;
  },

  forksSoFar() {
    try {
      const match = /^processes (\d+)$/m.exec(readFileSync('/proc/stat', 'latin1'));
      return match === null ? null : Number(match[1]);
    } catch {
      return null;
    }
  },

  pidRangeSince(pid, forks) {
    if (forks === null) return null;
    try {
      const created = (this.forksSoFar() ?? Number.POSITIVE_INFINITY) - forks;
      const pidMax = Number(readFileSync('/proc/sys/kernel/pid_max', 'utf8'));
      const last = Number(readFileSync('/proc/sys/kernel/ns_last_pid', 'utf8'));
      // Not enough processes created since to have wrapped: every newer pid is above the agent's.
      if (!(pid + created < pidMax) || !Number.isSafeInteger(last) || last < pid) return null;
      return [pid, last];
    } catch {
      return null;
    }
  },
};
