import { spawnSync } from 'node:child_process';
import type { ProcessBackend, ProcessInfo, ProcessTable } from './process-backend.js';

/*
 * `ps`, where there is no /proc (macOS, the BSDs). BSD-style options, which procps on Linux and
 * the BSDs' ps both take: `axeww` lists every process with its environment after its command
 * (`e`), unabridged (`ww`). `lstart` is the start time to the second.
 */

const COLUMNS = 'pid=,ppid=,pgid=,stat=,lstart=';

function ps(args: string[]): string {
  const result = spawnSync('ps', args, { encoding: 'utf8', maxBuffer: 256 * 1024 * 1024, env: { ...process.env, LC_ALL: 'C' } });
  // ps exits 1 when asked about a pid that is gone: no lines, which is the answer.
  return result.stdout ?? '';
}

/** `Sun Nov 29 05:16:30 2026` as seconds since the epoch (local time, as ps prints it). */
function epochSeconds(words: string[]): number {
  return Math.floor(new Date(words.join(' ')).getTime() / 1000);
}

interface Row {
  info: ProcessInfo;
  state: string;
  rest: string;
}

/** One line of `ps -o pid=,ppid=,pgid=,stat=,lstart=[,args=]`. */
function parseRow(line: string): Row | null {
  const words = line.trim().split(/\s+/);
  if (words.length < 9 || !/^\d+$/.test(words[0]!)) return null;
  const [pid, ppid, pgid, state] = words as [string, string, string, string];
  return { info: { pid: Number(pid), ppid: Number(ppid), pgid: Number(pgid), startTime: epochSeconds(words.slice(4, 9)) }, state, rest: ` ${words.slice(9).join(' ')} ` };
}

/** The processes as `ps` lists them, with the environment it prints after each command. */
export const psBackend: ProcessBackend = {
  name: 'ps',

  scan() {
    const processes: ProcessInfo[] = [];
    const environs = new Map<number, string>();
    for (const line of ps(['axeww', '-o', `${COLUMNS},args=`]).split('\n')) {
      const row = parseRow(line);
      if (row === null || row.state.startsWith('Z')) continue;
      processes.push(row.info);
      environs.set(row.info.pid, row.rest);
    }
    const table: ProcessTable = {
      processes,
      // The environment follows the command, words apart: a whole word `name=value` is the mark.
      carries: (pid, name, value) => environs.get(pid)?.includes(` ${name}=${value} `) === true,
    };
    return table;
  },

  startTime(pid) {
    const row = parseRow(ps(['-o', COLUMNS, '-p', String(pid)]));
    return row === null ? null : String(row.info.startTime);
  },

  state(pid) {
    return parseRow(ps(['-o', COLUMNS, '-p', String(pid)]))?.state.slice(0, 1) ?? null;
  },

  forksSoFar: () => null,
  pidRangeSince: () => null,
};
