import { retryIdOf } from '../domain/retry-id.js';
import type { Session } from '../domain/session.js';
import { replayPipeline, stepAttempts } from '../pipeline/pipeline-progress.js';
import { agentRunning } from '../projections/sessions-projection.js';
import { esc } from '../report/html.js';
import type { PipelineStream, RecordedWait } from '../projections/pipeline-stream.js';

/*
 * What a person may do to a pipeline from its page, decided from what the log says, and the
 * forms that do it. The library decides again when the form is sent (the session machine
 * refuses what is no longer allowed); this only keeps the page from offering it.
 */

/** What the server can do besides reading. */
export interface SteeringPowers {
  /** Append stop requests (not `--read-only`). */
  stop: boolean;
  /** Start agents on this host (`serve --agents`): retry a failed step, resume a pipeline. */
  agents: boolean;
}

/** An action a form asks for. */
export type ActionKind = 'retry' | 'stop' | 'resume' | 'approve' | 'reject';

/** The path a form posts to: `/action/<kind>/<session id>` (a pipeline's root for approve and reject). */
export const ACTION_PATH = /^\/action\/(retry|stop|resume|approve|reject)\/([0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12})$/;

/** Whether a pipeline stands unfinished with no agent of it running: what `pipeline resume` moves on. */
export async function resumable(members: ReadonlyMap<string, Session>, root: Session): Promise<boolean> {
  if (root.pipeline === undefined || root.parentSession !== null) return false;
  if ([...members.values()].some((s) => s.status === 'Active' && agentRunning(s))) return false;
  const attempts = (await stepAttempts(root, (id) => members.get(id))).flat();
  const run = replayPipeline(root.pipeline, attempts);
  try {
    // Ended, unless its last move is not in the log yet (a step's agent finished, its session still Active).
    if (run.getSnapshot().status === 'done') return attempts.at(-1)?.status === 'Active';
    // Waiting on a step whose agent never started is the driver's to judge (its grace), not a person's.
    const last = attempts.at(-1)!;
    return run.getSnapshot().value === 'retrying' || last.agent !== undefined;
  } finally {
    run.stop();
  }
}

const button = (kind: ActionKind, id: string, label: string, confirm: string, reason = false, budget = false) =>
  `<form class="action" method="post" action="/action/${kind}/${esc(id)}" data-confirm="${esc(confirm)}">` +
  (budget ? '<input name="add_budget" size="8" maxlength="12" inputmode="decimal" placeholder="add USD" aria-label="US dollars to add">' : '') +
  (reason ? '<input name="reason" size="24" maxlength="500" placeholder="why (optional)" aria-label="why">' : '') +
  `<button type="submit" data-action="${kind}">${esc(label)}</button></form>`;

/** A pipeline's waits for a person: each with its answer, and for the open one (when this server may write) Approve and Reject. */
function waitsSection(root: Session, waits: readonly RecordedWait[], open: boolean, powers: SteeringPowers): string {
  if (waits.length === 0) return '';
  const lines = waits.map((wait, i) => {
    const head = `step ${wait.step + 1} (${esc(root.pipeline?.steps[wait.step]?.agentName ?? '?')}) waited for <strong>${esc(wait.reason)}</strong> since ${esc(wait.since)}: ${esc(wait.detail)}`;
    const answer = wait.answer;
    if (answer === undefined) {
      if (!(open && i === waits.length - 1)) return `<li>${head}</li>`;
      const forms = powers.stop
        ? ` ${button('approve', root.id, 'Approve', `Let the pipeline go on${wait.reason === 'budget' ? ' with the US dollars added' : ''}?`, false, wait.reason !== 'gate')} ${button('reject', root.id, 'Reject', 'End the pipeline Failed?', true)}`
        : '';
      return `<li data-waiting="${esc(wait.reason)}"><span class="pending">${head}: waiting for a person</span>${forms}</li>`;
    }
    const who = answer.by === undefined ? '' : ` by <strong>${esc(answer.by)}</strong>`;
    if (!answer.approved) return `<li>${head} · rejected${who} at ${esc(answer.at)}: ${esc(answer.reason)}</li>`;
    return `<li>${head} · approved${who} at ${esc(answer.at)}${answer.addBudgetUsd === undefined ? '' : `, adding $${esc(String(answer.addBudgetUsd))}`}</li>`;
  });
  return `<ul class="steer waits">${lines.join('')}</ul>`;
}

/** One session's line of the steering section: what was done to it, by whom, and what may be done now. */
function sessionLine(session: Session, members: ReadonlyMap<string, Session>, powers: SteeringPowers, inPipeline: boolean): string {
  const name = `${esc(session.agentName)} <a href="#session-${esc(session.id)}"><code>${esc(session.id.slice(0, 8))}</code></a>`;
  const notes: string[] = [];
  if (session.startedBy !== undefined) notes.push(`started by <strong>${esc(session.startedBy)}</strong>${session.retryOf === undefined ? '' : ` (a retry of <code>${esc(session.retryOf.slice(0, 8))}</code>)`}`);
  if (session.endedBy !== undefined) notes.push(`ended by <strong>${esc(session.endedBy)}</strong>`);
  const stop = session.agent?.stopRequest;
  const forms: string[] = [];
  if (session.status === 'Active' && agentRunning(session)) {
    if (stop !== undefined) notes.push(`<span class="pending" data-pending="stop">stop requested by <strong>${esc(stop.by)}</strong> at ${esc(stop.at)} (${esc(stop.reason)}): pending until its agent has stopped</span>`);
    else if (powers.stop) forms.push(button('stop', session.id, 'Stop agent', `Stop the agent of ${session.agentName} (${session.id.slice(0, 8)})? Its session fails.`, true));
  }
  if (session.status === 'Failed' && powers.agents && !members.has(retryIdOf(session.id))) {
    const after = inPipeline ? ', and the pipeline on after it' : '';
    forms.push(button('retry', session.id, 'Retry', `Run ${session.agentName} (${session.id.slice(0, 8)}) again as a new session${after}?`));
  }
  if (notes.length === 0 && forms.length === 0) return '';
  return `<li data-session="${esc(session.id)}">${name}: ${session.status}${notes.length === 0 ? '' : ` · ${notes.join(' · ')}`} ${forms.join(' ')}</li>`;
}

/**
 * The pipeline page's steering section: per session, who started or ended it when a person did,
 * a pending stop request, and the buttons this server offers (stop a running agent; with agents,
 * retry a failed step); for the pipeline, resume. Empty when there is nothing to show.
 */
export async function steeringSection(members: ReadonlyMap<string, Session>, root: Session, powers: SteeringPowers, stream?: Pick<PipelineStream, 'waits' | 'state'>): Promise<string> {
  // Sessions spawned one by one (not by runPipeline) have no pipeline to move on after a retry.
  const inPipeline = root.pipeline !== undefined;
  const lines = [...members.values()].map((s) => sessionLine(s, members, powers, inPipeline)).filter((line) => line !== '');
  const resume = powers.agents && (await resumable(members, root))
    ? `<p>${button('resume', root.id, 'Resume pipeline', 'Move this pipeline on from where the log says it stands, with agents run on this server?')}</p>`
    : '';
  const waits = stream === undefined ? '' : waitsSection(root, stream.waits, stream.state === 'waiting', powers);
  if (lines.length === 0 && resume === '' && waits === '') return '';
  return `<h2>Steer</h2>${waits}${resume}${lines.length === 0 ? '' : `<ul class="steer">${lines.join('')}</ul>`}`;
}

/** What the page says after an action, by the code its address carries (never text from the address). */
export const ACTION_NOTICES: Readonly<Record<string, string>> = {
  retried: 'Retried: the new session runs its agent on this server, and the pipeline goes on after it.',
  'retried-alone': 'Retried: the new session runs its agent on this server.',
  'retried-already': 'That session was retried already; nothing more was done.',
  'stop-requested': 'Stop requested: the manager running the agent stops it and fails its session.',
  'stop-refused': 'Not stopped: the session has no running agent, or a stop was requested already.',
  resuming: 'Resuming: this server moves the pipeline on.',
  'resuming-already': 'This server is moving that pipeline on already.',
  'not-resumable': 'Not resumed: the pipeline has ended, or one of its agents still runs.',
  refused: 'Not done: the session is no longer in a state that allows it.',
  approved: 'Approved: whichever process runs the pipeline goes on with it.',
  rejected: 'Rejected: whichever process runs the pipeline ends it Failed.',
  'answered-already': 'Not done: the pipeline does not wait for an answer (someone answered first).',
};
