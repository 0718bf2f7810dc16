import { runCostOf } from '../domain/agent-result.js';
import { sessionMachine } from '../../machines/session.machine.js';
import { PHASES } from '../domain/phase.js';
import type { Session } from '../domain/session.js';
import type { SessionPage } from '../projections/session-query.js';
import type { SessionStats } from '../projections/stats.js';
import { esc } from '../report/html.js';
import { lineageSvg } from '../report/lineage-svg.js';
import { machineSvg } from '../report/machine-svg.js';
import { conversationsHtml, sessionsTableHtml, statsHtml } from '../report/render-report.js';
import { timelineSvg } from '../report/timeline-svg.js';
import { costOverTimeSvg, sessionsOverTimeSvg } from '../report/time-series-svg.js';
import { RECOUNT_MS, type Charts } from './charts.js';
import { LOG_PUBLISH_MS } from '../manager/log-publisher.js';

/** Where a session's pipeline is shown, with the session picked out. */
export const pipelineHref = (session: Session): string => `/pipeline/${encodeURIComponent(session.id)}#session-${session.id}`;

/** The overview's charts over days or hours, or what is happening to them. */
function chartsHtml(charts: Charts | null, bucket: 'day' | 'hour', lastSeq: number): string {
  if (charts === null) return '<p class="muted" id="charts-pending">Counting the sessions over time: the charts appear here when that is done.</p>';
  const series = charts[bucket];
  const other = bucket === 'day' ? '<a href="/?bucket=hour">by hour, the last 48 hours</a>' : '<a href="/">by day, the last 14 days</a>';
  const when = `counted at seq ${charts.seq} in ${(charts.tookMs / 1000).toFixed(1)} s${charts.seq < lastSeq ? ` (the store is at ${lastSeq}: counted again at most every ${RECOUNT_MS / 1000} s)` : ''}`;
  return `<p class="muted">${bucket === 'day' ? 'By day, the last 14 days' : 'By hour, the last 48 hours'} (UTC) · ${other} · ${when}</p>
<div class="charts"><figure><figcaption>Sessions ended, by how; spawned</figcaption>${sessionsOverTimeSvg(series)}</figure>
<figure><figcaption>Cost, by agent</figcaption>${costOverTimeSvg(series)}</figure></div>`;
}

/** The overview: the stats now, what runs now (then `concurrency`, the store's slots, when given), the latest failures, the sessions and their cost over time. */
export function overviewMain(stats: SessionStats, running: SessionPage, failures: SessionPage, now: number, charts: Charts | null, bucket: 'day' | 'hour', lastSeq: number, concurrency = ''): string {
  const more = (page: SessionPage, href: string) => (page.next === null ? '' : `<p><a href="${href}">all of them…</a></p>`);
  return `<section class="cards">${(['active', 'handedOff', 'completed', 'failed'] as const)
    .map((k) => `<div class="card ${k}"><span class="count">${stats[k]}</span> ${{ active: 'running (Active)', handedOff: 'handed off', completed: 'completed', failed: 'failed' }[k]}</div>`)
    .join('')}<div class="card"><span class="count">$${stats.totalCostUsd.toFixed(2)}</span> cost, ${stats.totalTurns} turns</div></section>
<h2>Over time</h2>
${chartsHtml(charts, bucket, lastSeq)}
<h2>Running now</h2>
${running.sessions.length === 0 ? '<p class="muted">No session is Active.</p>' : `<div class="scroll">${sessionsTableHtml(running.sessions, now, pipelineHref)}</div>${more(running, '/sessions?status=Active&order=newest')}`}
${concurrency}
<h2>Latest failures</h2>
${failures.sessions.length === 0 ? '<p class="muted">No session failed.</p>' : `<div class="scroll">${sessionsTableHtml(failures.sessions, now, pipelineHref)}</div>${more(failures, '/sessions?status=Failed&order=newest')}`}
<h2>Stats</h2>
${statsHtml(stats)}`;
}

/** The filters a sessions view takes from its address. */
export const FILTER_FIELDS = ['status', 'agent', 'phase', 'issue', 'text', 'since', 'until', 'order'] as const;

/** The filter form of the sessions or pipelines view: a GET form, so the view's state is its address. */
export function filterForm(params: URLSearchParams, action: '/sessions' | '/pipelines' = '/sessions'): string {
  const value = (name: string) => esc(params.get(name) ?? '');
  const options = (name: string, choices: readonly string[], any: string) =>
    `<option value="">${any}</option>${choices.map((c) => `<option${params.get(name) === c ? ' selected' : ''}>${esc(c)}</option>`).join('')}`;
  return `<form class="filters" method="get" action="${action}" role="search">
<label>status <select name="status">${options('status', ['Active', 'HandedOff', 'Completed', 'Failed'], 'any')}</select></label>
<label>agent <input name="agent" value="${value('agent')}" size="14"></label>
<label>phase <select name="phase">${options('phase', PHASES, 'any')}</select></label>
<label>issue <input name="issue" value="${value('issue')}" size="6" inputmode="numeric"></label>
<label>text <input name="text" value="${value('text')}" size="18" placeholder="in purpose, result, error"></label>
<label>since <input name="since" value="${value('since')}" size="20" placeholder="2026-11-29T00:00:00Z"></label>
<label>until <input name="until" value="${value('until')}" size="20"></label>
<label>order <select name="order">${options('order', ['spawn', 'newest', 'failures-first'], 'newest')}</select></label>
<button type="submit">Filter</button> <a href="${action}">clear</a>
</form>`;
}

/** The link to the page after this one: the same address with its cursor; nothing on the last page. */
function nextPageLink(view: '/sessions' | '/pipelines', params: URLSearchParams, next: string | null): string {
  if (next === null) return '';
  const after = new URLSearchParams(params);
  after.set('after', next);
  return `<p><a id="next" href="${view}?${esc(after.toString())}">next page →</a></p>`;
}

/** One page of sessions matching the filters, and the link to the next. */
export function sessionsMain(page: SessionPage, params: URLSearchParams, now: number): string {
  if (page.sessions.length === 0) return '<p class="muted">No session matches.</p>';
  const next = nextPageLink('/sessions', params, page.next);
  return `<p class="muted">${page.sessions.length} sessions${page.next === null ? '' : ', more follow'}. Each links to its pipeline.</p>
<div class="scroll">${sessionsTableHtml(page.sessions, now, pipelineHref)}</div>${next}`;
}

/**
 * A running agent's log, which the page's script keeps reading while the page is open: this
 * host's file, or for an agent on another host what its manager publishes to the store (when
 * the store keeps them: PostgreSQL), or else where its log is.
 */
const liveLog = (session: Session, running: RunningAgents): string => {
  const head = `<h2>Live log · ${esc(session.agentName)} <code>${esc(session.id.slice(0, 8))}</code></h2>`;
  const agent = session.agent!.process;
  const where = `host <code>${esc(agent.host)}</code> (pid ${agent.pid})`;
  const pre = `<pre class="live-log" data-log="/log/${esc(session.id)}">(reading…)</pre>`;
  if (agent.host === running.host) return `${head}${pre}`;
  if (running.published) return `${head}<p class="muted">Its agent runs on ${where}: its manager publishes the log's end to the store every ${LOG_PUBLISH_MS / 1000} s.</p>${pre}`;
  return `${head}<p class="muted">Its agent runs on ${where}: its log is there, in <code>${esc(session.agent!.logFile)}</code>.</p>`;
};

/** The running agents of a page, this server's host, and whether the store keeps the logs of other hosts' agents. */
export interface RunningAgents {
  sessions: readonly Session[];
  host: string;
  published: boolean;
}

/** The session machine's state of each status. */
const STATE_OF = { Active: 'active', HandedOff: 'handedOff', Completed: 'completed', Failed: 'failed' } as const;

/** The session machine with the state of `session` picked out, and the way to Stately's editor. */
export function machineSection(session: Session): string {
  return `<h2>Session machine</h2>
<p>Session <a href="#session-${esc(session.id)}"><code>${esc(session.id.slice(0, 8))}</code></a> (${esc(session.agentName)}) is in <strong id="machine-state">${STATE_OF[session.status]}</strong>.
To explore the machine, open <a href="https://stately.ai/editor" rel="noopener noreferrer" target="_blank">Stately's editor</a> (the one link that leaves this machine) and paste <code>machines/session.machine.ts</code> into it.</p>
${machineSvg(sessionMachine, STATE_OF[session.status])}`;
}

/** A pipeline: its lineage, its timeline, each session with what it produced or why it failed, what a person may do (`steer`), the running agents' logs (or, on another host, where they are), the machine of `focus`, its conversations. */
export function pipelineMain(sessions: ReadonlyMap<string, Session>, conversations: ReadonlyMap<string, string[]>, now: number, focus: Session, running: RunningAgents = { sessions: [], host: '', published: false }, steer = ''): string {
  const list = [...sessions.values()];
  const cost = list.reduce((sum, s) => sum + runCostOf(s.result), 0);
  const turns = list.reduce((sum, s) => sum + (s.result?.numTurns ?? 0), 0);
  const root = list[0]!;
  return `<p class="muted">${list.length} sessions · issue ${root.context.issueNumber === null ? '—' : `#${root.context.issueNumber}`} · cost $${cost.toFixed(4)} · ${turns} turns</p>
<h2>Lineage</h2><div class="scroll">${lineageSvg(sessions)}</div>
<h2>Timeline</h2><div class="scroll">${timelineSvg(list, now)}</div>
<h2>Sessions</h2><div class="scroll">${sessionsTableHtml(list, now)}</div>
<div id="steer">${steer}</div>
${running.sessions.map((session) => liveLog(session, running)).join('')}
${machineSection(focus)}
${conversationsHtml(sessions, conversations)}`;
}

/** One pipeline as a row of the pipelines view: its root and its steps. */
export interface PipelineRow {
  root: Session;
  steps: Session[];
}

const stepChip = (s: Session) => `<a class="step ${s.status}" href="${esc(pipelineHref(s))}" title="${esc(`${s.agentName}: ${s.status}${s.error === undefined ? '' : ` · ${s.error}`}`)}">${esc(s.agentName)}</a>`;

/** How the pipelines view says its order. */
const ORDER_WORDS: Readonly<Record<string, string>> = { newest: 'newest first', spawn: 'oldest first', 'failures-first': 'those with a failure first' };

/** The pipelines view: each pipeline with its issue, purpose, steps (by status), start, cost and turns; a link to the next page. */
export function pipelinesMain(rows: readonly PipelineRow[], next: string | null, params: URLSearchParams): string {
  if (rows.length === 0) return '<p class="muted">No pipeline has a session that matches.</p>';
  const body = rows.map(({ root, steps }) => {
    const last = steps[steps.length - 1]!;
    const failed = steps.some((s) => s.status === 'Failed');
    const cost = steps.reduce((sum, s) => sum + runCostOf(s.result), 0);
    const turns = steps.reduce((sum, s) => sum + (s.result?.numTurns ?? 0), 0);
    return `<tr data-pipeline="${esc(root.id)}"><td><a href="/pipeline/${esc(root.id)}"><code>${esc(root.id.slice(0, 8))}</code></a></td>` +
      `<td>${root.context.issueNumber === null ? '—' : `#${root.context.issueNumber}`}</td><td class="purpose">${esc(root.purpose)}</td>` +
      `<td class="steps">${steps.map(stepChip).join(' → ')}</td><td>${failed ? 'Failed' : last.status}</td><td>${esc(root.createdAt)}</td><td>$${cost.toFixed(4)}</td><td>${turns}</td></tr>`;
  });
  const more = nextPageLink('/pipelines', params, next);
  const order = ORDER_WORDS[params.get('order') ?? ''] ?? ORDER_WORDS['newest'];
  return `<p class="muted">${rows.length} pipeline${rows.length === 1 ? '' : 's'}, ${order}${next === null ? '' : ', more follow'}.</p>
<div class="scroll"><table id="pipelines" class="sessions"><tr><th>pipeline</th><th>issue</th><th>purpose</th><th>steps</th><th>status</th><th>started</th><th>cost</th><th>turns</th></tr>${body.join('')}</table></div>${more}`;
}
