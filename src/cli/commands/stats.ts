import type { SessionStats, StatusCounts } from '../../projections/stats.js';
import { withSessionReads } from '../open-store.js';
import type { Command } from '../command.js';
import { duration, print, printJson, table } from '../format.js';

const row = (name: string, c: StatusCounts) => [name, String(c.total), String(c.active), String(c.handedOff), String(c.completed), String(c.failed)];
const HEADER = ['', 'TOTAL', 'ACTIVE', 'HANDED OFF', 'COMPLETED', 'FAILED'];

/** Prints stats as tables: totals, per agent, per phase. */
export function printStats(stats: SessionStats): void {
  print(table(HEADER, [row('all sessions', stats)]));
  print('');
  print(table(['AGENT', ...HEADER.slice(1)], Object.entries(stats.byAgent).map(([a, c]) => row(a, c))));
  print('');
  print(table(['PHASE', ...HEADER.slice(1)], Object.entries(stats.byPhase).filter(([, c]) => c.total > 0).map(([p, c]) => row(p, c))));
  print('');
  const { durations } = stats;
  print(`ended sessions: ${durations.ended}, mean ${duration(durations.meanMs === null ? null : Math.round(durations.meanMs))}, longest ${duration(durations.maxMs)}`);
  print(`cost: $${stats.totalCostUsd.toFixed(4)}, turns: ${stats.totalTurns}`);
}

/** `stats`: totals by status, agent and phase; durations; cost. */
export const statsCommand: Command = {
  name: 'stats',
  summary: 'totals by status, agent and phase; durations, cost, turns',
  usage: 'stats',
  example: '              TOTAL  ACTIVE  HANDED OFF  COMPLETED  FAILED\nall sessions  4      0       3           1          0',
  async run(context) {
    // Files: from the checkpoint's counts and the sessions changed since, no record read; PostgreSQL: one GROUP BY.
    const stats = await withSessionReads(context, (reads) => reads.stats());
    if (context.json) printJson(stats);
    else printStats(stats);
    return 0;
  },
};
