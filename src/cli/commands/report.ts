import { writeFile } from 'node:fs/promises';
import { computeStats } from '../../projections/stats.js';
import { loadView } from '../open-store.js';
import { renderReport } from '../../report/render-report.js';
import { stringOption, type Command } from '../command.js';
import { print } from '../format.js';

/** `report --out FILE`: one self-contained HTML page with lineage, timeline, machine and stats. */
export const reportCommand: Command = {
  name: 'report',
  summary: 'write one self-contained HTML page: lineage graph, timeline, session machine, stats',
  usage: 'report [--out FILE]',
  options: { out: { type: 'string', default: 'sessions-report.html' }, title: { type: 'string' } },
  async run(context) {
    const out = stringOption(context, 'out') ?? 'sessions-report.html';
    const { state } = await loadView(context);
    const html = renderReport({
      title: stringOption(context, 'title') ?? `Agent sessions · ${context.dir}`,
      sessions: state.sessions,
      stats: computeStats(state.sessions.values()),
      lastSeq: state.lastSeq,
      generatedAt: new Date().toISOString(),
    });
    await writeFile(out, html);
    print(`wrote ${out} (${state.sessions.size} sessions)`);
    return 0;
  },
};
