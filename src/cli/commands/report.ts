import { writeFile } from 'node:fs/promises';
import { withSessionReads } from '../open-store.js';
import { renderReport } from '../../report/render-report.js';
import { DEFAULT_PIPELINES, selectPipelines } from '../../report/select-pipelines.js';
import { UsageError, intOption, stringOption, type Command } from '../command.js';
import { print } from '../format.js';
import { contextStore } from '../open-store.js';
import { FileTranscripts } from '../../store/file/file-transcripts.js';
import { storedConversations } from '../../report/transcript-text.js';
import type { Session } from '../../domain/session.js';
import type { CommandContext } from '../command.js';
import { FILTER_OPTIONS, queryOf } from './list.js';
import { sessionHistoryOf } from '../open-store.js';
import { canWait } from '../../domain/pipeline-steps.js';
import { pipelineIdOf } from '../../domain/pipeline-id.js';
import { foldPipelineStream, type RecordedWait } from '../../projections/pipeline-stream.js';
import { isPipelineEvent, type PipelineEvent } from '../../events/session-event.js';
import type { StoreCursor } from '../../store/event-store.js';

/** The conversations the log records as stored, read from the store the command names. */
async function conversationsIn(context: CommandContext, sessions: ReadonlyMap<string, Session>): Promise<Map<string, string[]>> {
  const store = contextStore(context);
  try {
    return await storedConversations(store?.transcripts ?? new FileTranscripts(context.dir), sessions);
  } finally {
    await store?.close();
  }
}

/** The waits for a person of the governed pipelines among `sessions`, read from their streams up to `upTo`. */
async function waitsIn(context: CommandContext, sessions: ReadonlyMap<string, Session>, upTo: StoreCursor): Promise<Array<{ rootId: string; wait: RecordedWait }>> {
  const roots = [...sessions.values()].filter((s) => s.parentSession === null && s.pipeline !== undefined && canWait(s.pipeline));
  const waits: Array<{ rootId: string; wait: RecordedWait }> = [];
  for (const root of roots) {
    const events = await sessionHistoryOf(context, pipelineIdOf(root.id), upTo);
    const stream = foldPipelineStream(pipelineIdOf(root.id), root.id, events.filter(isPipelineEvent) as PipelineEvent[]);
    waits.push(...stream.waits.map((wait) => ({ rootId: root.id, wait })));
  }
  return waits;
}

/**
 * `report --out FILE`: one self-contained HTML page with lineage, timeline, sessions, machine and
 * stats, of the newest pipelines (20 unless --newest), of one (--pipeline) or of those a filter
 * finds; it says how much of the store it left out.
 */
export const reportCommand: Command = {
  name: 'report',
  summary: `write one self-contained HTML page of the ${DEFAULT_PIPELINES} newest pipelines (--newest N, --pipeline ROOT, or list's filters): lineage, timeline, sessions with results and errors, machine, stats, conversations`,
  usage: 'report [--out FILE] [--title T] [--newest N] [--pipeline ROOT] [--status S] [--agent A] [--phase P] [--issue N] [--since T] [--until T] [--text T]',
  options: {
    out: { type: 'string', default: 'sessions-report.html' },
    title: { type: 'string' },
    newest: { type: 'string' },
    ...FILTER_OPTIONS,
  },
  async run(context) {
    const out = stringOption(context, 'out') ?? 'sessions-report.html';
    const newest = intOption(context, 'newest') ?? DEFAULT_PIPELINES;
    if (newest < 1) throw new UsageError('--newest must be at least 1');
    const { limit: _limit, after: _after, order: _order, pipeline, ...filter } = queryOf(context);
    const { html, selected, size } = await withSessionReads(context, async (reads) => {
      const selected = await selectPipelines(reads, { pipeline, newest, filter });
      const size = await reads.size();
      const filtered = Object.keys(filter).length > 0;
      const how = pipeline !== undefined ? `Pipeline ${pipeline}` : `The ${newest} newest pipelines${filtered ? ' with a session matching the filter' : ''}`;
      const html = renderReport({
        conversations: await conversationsIn(context, selected.sessions),
        waits: await waitsIn(context, selected.sessions, reads.cursor),
        title: stringOption(context, 'title') ?? `Agent sessions · ${reads.location}`,
        sessions: selected.sessions,
        stats: await reads.stats(),
        lastSeq: reads.lastSeq,
        generatedAt: new Date().toISOString(),
        selection: { pipelines: selected.pipelines, more: selected.more, storeSessions: size, how },
      });
      return { html, selected, size };
    });
    await writeFile(out, html);
    const left = size - selected.sessions.size;
    print(`wrote ${out} (${selected.pipelines} pipelines, ${selected.sessions.size} sessions${left > 0 ? `; ${left} of ${size} left out: --newest N, --pipeline ID or a filter` : ''})`);
    return 0;
  },
};
