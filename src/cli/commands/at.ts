import { computeStats } from '../../projections/stats.js';
import type { ReadLimit } from '../../query/read-store.js';
import { loadView } from '../open-store.js';
import { UsageError, requirePositional, type Command } from '../command.js';
import { print, printJson, sessionsTable } from '../format.js';
import { printStats } from './stats.js';

/** Parses `<seq|timestamp>`. */
export function parsePoint(text: string): ReadLimit {
  if (/^\d+$/.test(text)) return { seq: Number(text) };
  const time = Date.parse(text);
  if (Number.isNaN(time)) throw new UsageError(`"${text}" is neither a seq nor a timestamp`);
  return { time: new Date(time).toISOString() };
}

/** `at <seq|timestamp>`: the sessions and stats as they were at that point of the log. */
export const atCommand: Command = {
  name: 'at',
  summary: 'time travel: sessions and stats as they were after event <seq>, or at <timestamp>',
  usage: 'at <seq|timestamp>',
  async run(context) {
    const limit = parsePoint(requirePositional(context, 0, 'seq or timestamp'));
    const { state } = await loadView(context, limit);
    const sessions = [...state.sessions.values()];
    const stats = computeStats(sessions);
    if (context.json) {
      printJson({ seq: state.lastSeq, sessions, stats });
      return 0;
    }
    print(`as of seq ${state.lastSeq}${limit.time === undefined ? '' : ` (${limit.time})`}:`);
    print(sessions.length === 0 ? '(no sessions)' : sessionsTable(sessions));
    print('');
    printStats(stats);
    return 0;
  },
};
