import type { RecordedWait } from '../projections/pipeline-stream.js';
import { sessionMachine } from '../../machines/session.machine.js';
import type { Session } from '../domain/session.js';
import { agentRunning } from '../projections/sessions-projection.js';
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
  /** When the page shows part of the store: how many pipelines it shows, and whether others matched. */
  selection?: { pipelines: number; more: boolean; storeSessions: number; how: string };
  /** The waits for a person of the pipelines shown (governed pipelines), each with its answer. */
  waits?: ReadonlyArray<{ rootId: string; wait: RecordedWait }>;
}

/** The governed pipelines' waits for a person: when, why, and who answered how. */
function waitsHtml(input: ReportInput): string {
  const waits = input.waits ?? [];
  if (waits.length === 0) return '';
  const rows = waits.map(({ rootId, wait }) => {
    const step = input.sessions.get(rootId)?.pipeline?.steps[wait.step];
    const answer = wait.answer === undefined
      ? 'waiting'
      : wait.answer.approved
        ? `approved${wait.answer.by === undefined ? '' : ` by ${esc(wait.answer.by)}`} at ${esc(wait.answer.at)}${wait.answer.addBudgetUsd === undefined ? '' : `, adding $${esc(String(wait.answer.addBudgetUsd))}`}`
        : `rejected${wait.answer.by === undefined ? '' : ` by ${esc(wait.answer.by)}`} at ${esc(wait.answer.at)}: ${clipped(wait.answer.reason)}`;
    return `<tr><td><code>${esc(rootId.slice(0, 8))}</code></td><td>${wait.step + 1} ${esc(step?.agentName ?? '')}</td><td>${esc(wait.reason)}</td><td>${esc(wait.since)}</td><td class="error">${clipped(wait.detail)}</td><td>${answer}</td></tr>`;
  });
  return `<h2>Waits for a person</h2><div class="scroll"><table class="sessions"><tr><th>pipeline</th><th>step</th><th>why</th><th>since</th><th>what</th><th>answer</th></tr>${rows.join('')}</table></div>`;
}

/** Most of a result or error shown in the sessions table; the rest is in `miyabi-sessions show`. */
const TEXT_CHARS = 2_000;

function clipped(text: string | undefined): string {
  if (text === undefined || text.length === 0) return '<span class="muted">—</span>';
  if (text.length <= 160) return `<span class="text">${esc(text)}</span>`;
  const shown = text.length > TEXT_CHARS ? `${text.slice(0, TEXT_CHARS)}…` : text;
  return `<details><summary>${esc(text.slice(0, 120))}…</summary><pre>${esc(shown)}</pre></details>`;
}

/** For an Active session whose agent runs: which process, on which host. */
function runningAgentNote(s: Session): string {
  if (s.status !== 'Active' || !agentRunning(s)) return '';
  return `<br><span class="muted agent-running">agent pid ${s.agent!.process.pid} on ${esc(s.agent!.process.host)}</span>`;
}

/** One row a session: its place, its issue and phase, what it was for, and what it produced or why it failed (the report's and the dashboard's). */
export function sessionsTableHtml(sessions: readonly Session[], now: number, link?: (session: Session) => string): string {
  const rows = sessions.map((s) => {
    const lasted = s.endedAt === undefined ? (s.status === 'Active' ? now - Date.parse(s.createdAt) : null) : Date.parse(s.endedAt) - Date.parse(s.createdAt);
    return (
      `<tr id="session-${esc(s.id)}" data-session="${esc(s.id)}" data-status="${s.status}">` +
      `<td>${link === undefined ? `<code>${esc(s.id.slice(0, 8))}</code>` : `<a href="${esc(link(s))}"><code>${esc(s.id.slice(0, 8))}</code></a>`}</td><td>${esc(s.agentName)}</td><td>${s.status}${runningAgentNote(s)}</td><td>${esc(s.context.currentPhase)}</td>` +
      `<td>${s.context.issueNumber === null ? '—' : `#${s.context.issueNumber}`}</td><td>${esc(s.createdAt)}</td><td>${lasted === null ? '—' : `${lasted} ms`}</td>` +
      `<td class="purpose">${clipped(s.purpose)}</td><td class="result">${clipped(s.result?.output)}</td><td class="error">${clipped(s.error)}</td></tr>`
    );
  });
  return `<table id="sessions" class="sessions"><tr><th>session</th><th>agent</th><th>status</th><th>phase</th><th>issue</th><th>created</th><th>lasted</th><th>purpose</th><th>result</th><th>error</th></tr>${rows.join('')}</table>`;
}

function selectionNote(input: ReportInput, shown: number): string {
  const selection = input.selection;
  if (selection === undefined) return '';
  const left = selection.storeSessions - shown;
  const more = left > 0 ? ` <strong id="left-out">${left} of the store's ${selection.storeSessions} sessions are left out</strong>: ask for more with <code>--newest N</code>, one pipeline with <code>--pipeline ID</code>, or filter (<code>--status</code>, <code>--agent</code>, <code>--issue</code>, <code>--text</code>…).` : '';
  return `<p class="selection">${esc(selection.how)}: ${selection.pipelines} pipeline${selection.pipelines === 1 ? '' : 's'}, ${shown} sessions.${more}</p>`;
}

/** Most of one conversation shown in the page; the rest is for `miyabi-sessions transcript`. */
const CONVERSATION_CHARS = 100_000;

/** Each stored conversation, folded, under a heading (the report's and the dashboard's). */
export function conversationsHtml(sessions: ReadonlyMap<string, Session>, conversations: ReadonlyMap<string, string[]>): string {
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

/** The stats as tables: every session, by agent, by phase, and the ended sessions' durations, cost and turns (the report's and the dashboard's). */
export function statsHtml(stats: SessionStats): string {
  const head = '<tr><th></th><th>total</th><th>active</th><th>handed off</th><th>completed</th><th>failed</th></tr>';
  return `<table id="stats">${head}${countsRow('all sessions', stats)}</table>
<h3>By agent</h3><table id="stats-by-agent">${head}${Object.entries(stats.byAgent).map(([a, c]) => countsRow(a, c)).join('')}</table>
<h3>By phase</h3><table id="stats-by-phase">${head}${Object.entries(stats.byPhase).filter(([, c]) => c.total > 0).map(([p, c]) => countsRow(p, c)).join('')}</table>
<p>Ended sessions: ${stats.durations.ended}; mean ${stats.durations.meanMs === null ? '—' : `${Math.round(stats.durations.meanMs)} ms`}; cost $${stats.totalCostUsd.toFixed(4)}; ${stats.totalTurns} turns.</p>`;
}

/**
 * One self-contained HTML page (no script, no network): the lineage graph, a timeline of the
 * sessions, the session machine's diagram, the stats, and each stored conversation.
 */
export function renderReport(input: ReportInput): string {
  const { stats } = input;
  const sessions = [...input.sessions.values()];
  return `<!doctype html>
<html lang="en"><head><meta charset="utf-8"><title>${esc(input.title)}</title>
<style>
body{font:14px/1.45 system-ui,-apple-system,"Segoe UI",sans-serif;margin:24px;color:#1f2328}
h1{font-size:22px}h2{font-size:17px;margin-top:28px;border-bottom:1px solid #d0d7de;padding-bottom:4px}
svg text{font:12px system-ui,sans-serif;fill:#1f2328}svg text.muted,.muted{fill:#656d76;color:#656d76}svg text.event{fill:#57606a;font-size:11px}
table{border-collapse:collapse}td,th{padding:3px 10px;border-bottom:1px solid #eaeef2;text-align:right}th:first-child{text-align:left}
.scroll{overflow-x:auto}table.sessions td,table.sessions th{text-align:left;vertical-align:top}table.sessions td.purpose,table.sessions td.result,table.sessions td.error{max-width:300px;overflow-wrap:anywhere}.selection{background:#fff8c5;padding:6px 10px;border-radius:6px}pre{white-space:pre-wrap;background:#f6f8fa;padding:8px;max-height:480px;overflow:auto}
</style></head><body>
<h1>${esc(input.title)}</h1>
<p class="muted">${sessions.length} sessions${importedNote(sessions)} · log up to seq ${input.lastSeq} · generated ${esc(input.generatedAt)}</p>
${selectionNote(input, sessions.length)}
<h2>Lineage</h2><div class="scroll">${lineageSvg(input.sessions)}</div>
<h2>Timeline</h2><div class="scroll">${timelineSvg(sessions, Date.parse(input.generatedAt))}</div>
<h2>Sessions</h2><div class="scroll">${sessionsTableHtml(sessions, Date.parse(input.generatedAt))}</div>
${waitsHtml(input)}
<h2>Session machine</h2>${machineSvg(sessionMachine)}
<h2>Stats</h2><p class="muted">Of every session in the store.</p>
${statsHtml(stats)}
${conversationsHtml(input.sessions, input.conversations ?? new Map())}</body></html>
`;
}
