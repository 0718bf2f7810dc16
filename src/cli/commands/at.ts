import { computeStats } from '../../projections/stats.js';
import type { ReadLimit } from '../../query/read-store.js';
import { loadView } from '../open-store.js';
import { UsageError, requirePositional, type Command } from '../command.js';
import { print, writeSessionsTable } from '../format.js';
import { LinesOut } from '../ndjson-out.js';
import { safeJson } from '../../domain/visible-text.js';
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
    const { sessions } = state;
    const stats = computeStats(sessions.values());
    // Written as it is made, whatever the store's size: the same bytes as one JSON value or one table.
    const out = new LinesOut();
    if (context.json) {
      const indented = (value: unknown, by: string) => safeJson(value, 2).replaceAll('\n', `\n${by}`);
      await out.line(`{\n  "seq": ${state.lastSeq},\n  "sessions": [${sessions.size === 0 ? '],' : ''}`);
      let left = sessions.size;
      for (const session of sessions.values()) await out.line(`    ${indented(session, '    ')}${--left > 0 ? ',' : ''}`);
      if (sessions.size > 0) await out.line('  ],');
      await out.line(`  "stats": ${indented(stats, '  ')}\n}`);
      await out.flush();
      return 0;
    }
    print(`as of seq ${state.lastSeq}${limit.time === undefined ? '' : ` (${limit.time})`}:`);
    if (sessions.size === 0) print('(no sessions)');
    else await writeSessionsTable(() => sessions.values(), out);
    await out.flush();
    print('');
    printStats(stats);
    return 0;
  },
};
