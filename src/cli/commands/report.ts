import { writeFile } from 'node:fs/promises';
import { computeStats } from '../../projections/stats.js';
import { loadView } from '../open-store.js';
import { renderReport } from '../../report/render-report.js';
import { stringOption, type Command } from '../command.js';
import { print } from '../format.js';
import { contextStore } from '../open-store.js';
import { FileTranscripts } from '../../store/file/file-transcripts.js';
import { transcriptMessages } from '../../report/transcript-text.js';
import type { Session } from '../../domain/session.js';
import type { CommandContext } from '../command.js';

/** The conversations the log records as stored, read from the store, as readable messages. */
async function storedConversations(context: CommandContext, sessions: ReadonlyMap<string, Session>): Promise<Map<string, string[]>> {
  const store = contextStore(context);
  const transcripts = store?.transcripts ?? new FileTranscripts(context.dir);
  const conversations = new Map<string, string[]>();
  try {
    for (const session of sessions.values()) {
      if (session.agent?.transcript === undefined || !('sha256' in session.agent.transcript)) continue;
      const content = await transcripts.load(session.id).catch(() => null);
      if (content !== null) conversations.set(session.id, transcriptMessages(content));
    }
  } finally {
    await store?.close();
  }
  return conversations;
}

/** `report --out FILE`: one self-contained HTML page with lineage, timeline, machine and stats. */
export const reportCommand: Command = {
  name: 'report',
  summary: 'write one self-contained HTML page: lineage graph, timeline, session machine, stats, conversations',
  usage: 'report [--out FILE]',
  options: { out: { type: 'string', default: 'sessions-report.html' }, title: { type: 'string' } },
  async run(context) {
    const out = stringOption(context, 'out') ?? 'sessions-report.html';
    const { state } = await loadView(context);
    const html = renderReport({
      conversations: await storedConversations(context, state.sessions),
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
