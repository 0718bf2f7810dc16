import { sessionMachine } from '../../machines/session.machine.js';
import type { Session } from '../domain/session.js';
import type { SessionStats, StatusCounts } from '../projections/stats.js';
import { esc } from './html.js';
import { lineageSvg } from './lineage-svg.js';
import { machineSvg } from './machine-svg.js';
import { timelineSvg } from './timeline-svg.js';

/** What the report shows. */
export interface ReportInput {
  title: string;
  sessions: ReadonlyMap<string, Session>;
  stats: SessionStats;
  lastSeq: number;
  generatedAt: string;
  /** Stored conversations by session id, as readable messages (see transcriptMessages). */
  conversations?: ReadonlyMap<string, string[]>;
}

/** Most of one conversation shown in the page; the rest is for `miyabi-sessions transcript`. */
const CONVERSATION_CHARS = 100_000;

function conversationsHtml(sessions: ReadonlyMap<string, Session>, conversations: ReadonlyMap<string, string[]>): string {
  if (conversations.size === 0) return '';
  const items = [...conversations].map(([id, messages]) => {
    const session = sessions.get(id);
    let text = messages.join('\n\n');
    const cut = text.length > CONVERSATION_CHARS;
    if (cut) text = `${text.slice(0, CONVERSATION_CHARS)}\n…`;
    const more = cut ? ` (cut; all of it: <code>miyabi-sessions transcript ${esc(id)}</code>)` : '';
    return `<details id="conversation-${esc(id)}"><summary>${esc(session?.agentName ?? '?')} · ${esc(id)} · ${messages.length} messages${more}</summary><pre>${esc(text)}</pre></details>`;
  });
  return `<h2>Conversations</h2>\n${items.join('\n')}\n`;
}

/** How many sessions came from the original's sessions.json rather than being observed here. */
function importedNote(sessions: readonly Session[]): string {
  const imported = sessions.filter((s) => s.imported === true).length;
  return imported === 0 ? '' : ` (<span id="imported">${imported} imported</span> from the original's sessions.json, their end times not recorded)`;
}

const countsRow = (name: string, c: StatusCounts) =>
  `<tr><th>${esc(name)}</th><td>${c.total}</td><td>${c.active}</td><td>${c.handedOff}</td><td>${c.completed}</td><td>${c.failed}</td></tr>`;

/**
 * One self-contained HTML page (no script, no network): the lineage graph, a timeline of the
 * sessions, the session machine's diagram, the stats, and each stored conversation.
 */
export function renderReport(input: ReportInput): string {
  const { stats } = input;
  const sessions = [...input.sessions.values()];
  const head = '<tr><th></th><th>total</th><th>active</th><th>handed off</th><th>completed</th><th>failed</th></tr>';
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1f2328}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
svg text{font:12px system-ui,sans-serif;fill:#1f2328}svg text.muted,.muted{fill:#656d76;color:#656d76}svg text.event{fill:#57606a;font-size:11px}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eaeef2;text-align:right}th:first-child{text-align:left}
.scroll{overflow-x:auto}pre{white-space:pre-wrap;background:#f6f8fa;padding:8px;max-height:480px;overflow:auto}
</style></head><body>
<h1>${esc(input.title)}</h1>
<p class="muted">${sessions.length} sessions${importedNote(sessions)} · log up to seq ${input.lastSeq} · generated ${esc(input.generatedAt)}</p>
<h2>Lineage</h2><div class="scroll">${lineageSvg(input.sessions)}</div>
<h2>Timeline</h2><div class="scroll">${timelineSvg(sessions, Date.parse(input.generatedAt))}</div>
<h2>Session machine</h2>${machineSvg(sessionMachine)}
<h2>Stats</h2>
<table id="stats">${head}${countsRow('all sessions', stats)}</table>
<h3>By agent</h3><table id="stats-by-agent">${head}${Object.entries(stats.byAgent).map(([a, c]) => countsRow(a, c)).join('')}</table>
<h3>By phase</h3><table id="stats-by-phase">${head}${Object.entries(stats.byPhase).filter(([, c]) => c.total > 0).map(([p, c]) => countsRow(p, c)).join('')}</table>
<p>Ended sessions: ${stats.durations.ended}; mean ${stats.durations.meanMs === null ? '—' : `${Math.round(stats.durations.meanMs)} ms`}; cost $${stats.totalCostUsd.toFixed(4)}; ${stats.totalTurns} turns.</p>
${conversationsHtml(input.sessions, input.conversations ?? new Map())}</body></html>
`;
}
