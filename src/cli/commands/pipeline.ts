import type { Session } from '../../domain/session.js';
import { SessionError } from '../../errors.js';
import { parseSessionId } from '../../manager/decide.js';
import { SessionManager } from '../../manager/session-manager.js';
import { DEFAULT_PIPELINE, resumePipeline, runPipeline, type PipelineResult } from '../../pipeline/run-pipeline.js';
import { ClaudeRunner } from '../../runner/claude-runner.js';
import { UsageError, intOption, requirePositional, stringOption, type Command, type CommandContext } from '../command.js';
import { stepsOption, usdOption } from './pipeline-options.js';
import { approvePipeline, rejectPipeline } from '../../pipeline/approve-pipeline.js';
import { localUser } from '../local-user.js';
import { pipelineIdOf } from '../../domain/pipeline-id.js';
import type { PipelineStepInput } from '../../domain/pipeline-steps.js';
import { foldPipelineStream, type RecordedQueue, type RecordedWait } from '../../projections/pipeline-stream.js';
import { isPipelineEvent, type PipelineEvent } from '../../events/session-event.js';
import { sessionHistoryOf } from '../open-store.js';
import { EXIT } from '../exit-codes.js';
import { print, printJson, table } from '../format.js';
import { contextStore, slotTableOf, withSessionReads } from '../open-store.js';
import { queuedOfPipeline } from '../../store/slot-store.js';
import { replayPipeline, stepAttempts } from '../../pipeline/pipeline-progress.js';

/** A step's lines in `pipeline status`: one per attempt (those run again marked so), or a dash before it started. */
function statusLines(number: number, step: PipelineStepInput, attempts: Session[]): string[][] {
  const line = (session: Session | undefined, note: string) => [String(number), step.agentName, step.phase, `${session?.status ?? '—'}${note}`, session?.id ?? '—'];
  if (attempts.length === 0) return [line(undefined, '')];
  return attempts.map((session, i) => line(session, i < attempts.length - 1 ? ' (retried)' : ''));
}

function report(context: CommandContext, result: PipelineResult): number {
  if (context.json) printJson(result);
  else {
    print(`pipeline ${result.status}${result.error === undefined ? '' : `: ${result.error}`}`);
    print(table(['STEP', 'AGENT', 'STATUS', 'SESSION'], result.sessions.map((s, i) => [String(i + 1), s.agentName, s.status, s.id])));
    for (const attempt of result.retried) print(`retried: ${attempt.id} (${attempt.agentName}): ${attempt.error ?? 'interrupted'}`);
  }
  return result.status === 'Completed' ? EXIT.OK : EXIT.FINDINGS;
}

async function withRunner(context: CommandContext, act: (manager: SessionManager) => Promise<PipelineResult>): Promise<number> {
  const store = contextStore(context);
  const manager = await SessionManager.open(context.dir, { runner: new ClaudeRunner(), ...(store === undefined ? {} : { store }) });
  try {
    return report(context, await act(manager));
  } finally {
    await manager.close();
  }
}

/** How a wait reads in `pipeline status`. */
function waitLine(wait: RecordedWait): string {
  const head = `step ${wait.step + 1} waited (${wait.reason}) since ${wait.since}: ${wait.detail}`;
  if (wait.answer === undefined) return `${head}; waiting: pipeline approve|reject <root>`;
  const who = wait.answer.by === undefined ? '' : ` by ${wait.answer.by}`;
  if (!wait.answer.approved) return `${head}; rejected${who} at ${wait.answer.at}: ${wait.answer.reason}`;
  return `${head}; approved${who} at ${wait.answer.at}${wait.answer.addBudgetUsd === undefined ? '' : ` adding $${wait.answer.addBudgetUsd}`}`;
}

/** `pipeline run|resume|status|approve|reject`: run agents step by step, continue a run after a crash, show where one stands, or answer one that waits for a person. */
export const pipelineCommand: Command = {
  name: 'pipeline',
  summary: 'run a pipeline of Claude Code agents, resume one after a crash, show where one stands, or approve or reject one that waits (exit 1 if it failed)',
  usage:
    'pipeline run [--issue N] [--worktree PATH] [--steps agent:phase[:approval][:budget=USD][:turns=N],…] [--purpose P] [--max-retries N] [--budget USD] [--approval-timeout MS] [--webhook URL] | pipeline resume <root-id> | pipeline status <root-id> | pipeline approve <root-id> [--add-budget USD] [--by NAME] [--resume] | pipeline reject <root-id> [--reason TEXT] [--by NAME]',
  options: {
    issue: { type: 'string' },
    worktree: { type: 'string' },
    steps: { type: 'string' },
    purpose: { type: 'string' },
    'max-retries': { type: 'string' },
    budget: { type: 'string' },
    'approval-timeout': { type: 'string' },
    webhook: { type: 'string', multiple: true },
    'add-budget': { type: 'string' },
    by: { type: 'string' },
    reason: { type: 'string' },
    resume: { type: 'boolean' },
  },
  example: 'root 4d66d01b-4085-4c47-8a1e-1398cfb590d7\npipeline Completed\nSTEP  AGENT         STATUS     SESSION\n1     CodeGenAgent  HandedOff  4d66d01b-…',
  async run(context) {
    const action = requirePositional(context, 0, 'run, resume, status, approve or reject');
    if (action === 'run') {
      const issueNumber = intOption(context, 'issue');
      const worktreePath = stringOption(context, 'worktree');
      const steps = stepsOption(context) ?? [...DEFAULT_PIPELINE];
      const purpose = stringOption(context, 'purpose');
      if (issueNumber === undefined && purpose === undefined) throw new UsageError('--issue or --purpose is required');
      const maxRetries = intOption(context, 'max-retries');
      const budgetUsd = usdOption(context, 'budget');
      const approvalTimeoutMs = intOption(context, 'approval-timeout');
      const webhooks = context.values['webhook'] as string[] | undefined;
      const governance = { ...(budgetUsd === undefined ? {} : { budgetUsd }), ...(approvalTimeoutMs === undefined ? {} : { approvalTimeoutMs }), ...(webhooks === undefined ? {} : { webhooks }) };
      // The root's id comes first, at once: what `pipeline resume` and `pipeline approve` need.
      return withRunner(context, (m) => runPipeline(m, { issueNumber: issueNumber ?? null, worktreePath: worktreePath ?? null, steps, ...(purpose === undefined ? {} : { purpose }), ...(maxRetries === undefined ? {} : { maxRetries }), ...governance, onRoot: (id) => (context.json ? process.stderr : process.stdout).write(`root ${id}\n`) }));
    }
    const rootId = parseSessionId(requirePositional(context, 1, 'root session id'));
    if (action === 'resume') return withRunner(context, (m) => resumePipeline(m, rootId));
    if (action === 'approve' || action === 'reject') return answer(context, action, rootId);
    if (action !== 'status') throw new UsageError(`unknown pipeline action "${action}": run, resume, status, approve or reject`);
    return status(context, rootId);
  },
};

/** `pipeline approve|reject`: answers the wait on the pipeline's stream; `approve --resume` then runs the pipeline on here. */
async function answer(context: CommandContext, action: 'approve' | 'reject', rootId: string): Promise<number> {
  const by = stringOption(context, 'by') ?? localUser();
  const addBudgetUsd = usdOption(context, 'add-budget');
  const reason = stringOption(context, 'reason');
  if (action === 'reject' && (addBudgetUsd !== undefined || context.values['resume'] === true)) throw new UsageError('pipeline reject takes --reason and --by only');
  if (action === 'approve' && reason !== undefined) throw new UsageError('pipeline approve takes --add-budget, --by and --resume; --reason is for reject');
  const store = contextStore(context);
  const resume = action === 'approve' && context.values['resume'] === true;
  const manager = await SessionManager.open(context.dir, { ...(resume ? { runner: new ClaudeRunner() } : {}), ...(store === undefined ? {} : { store }) });
  try {
    const wait = action === 'approve'
      ? await approvePipeline(manager, rootId, { by, ...(addBudgetUsd === undefined ? {} : { addBudgetUsd }) })
      : await rejectPipeline(manager, rootId, { by, ...(reason === undefined ? {} : { reason }) });
    if (context.json && !resume) printJson(wait);
    else print(waitLine(wait));
    if (resume) return report(context, await resumePipeline(manager, rootId, { by }));
    return EXIT.OK;
  } finally {
    await manager.close();
  }
}

/** A step of the pipeline waiting in the store's queue now, with its place. */
interface QueuedStep {
  step: number | null;
  agentName: string;
  sessionId: string;
  since: string;
  place: number;
  of: number;
}

/** The pipeline's steps in the store's queue for a slot now (read from the slot table, which holds the live places). */
async function queuedSteps(context: CommandContext, rootId: string, recorded: readonly RecordedQueue[], sessions: ReadonlyMap<string, Session>): Promise<QueuedStep[]> {
  const { slots, close } = slotTableOf(context);
  try {
    const view = await slots.view();
    return queuedOfPipeline(view, rootId).flatMap(({ entry, place }) => {
      if (sessions.has(entry.holder)) return [];
      const record = recorded.find((q) => q.sessionId === entry.holder);
      return [{ step: record?.step ?? null, agentName: entry.agent, sessionId: entry.holder, since: new Date(entry.since).toISOString(), place, of: view.queue.length }];
    });
  } finally {
    await close();
  }
}

/** `pipeline status`: the steps, each attempt, and the pipeline's waits for a person with their answers. */
async function status(context: CommandContext, rootId: string): Promise<number> {
  // The pipeline's own sessions only (none for an unknown id), and its own stream, read up to the same point.
  const { sessions, events } = await withSessionReads(context, async (reads) => {
    const members = await reads.pipeline(rootId);
    const root = members.get(rootId);
    // A pipeline's stream holds its waits for a person and its steps' waits for a slot.
    const ofPipeline = root?.pipeline !== undefined && root.parentSession === null;
    return { sessions: members, events: ofPipeline ? await sessionHistoryOf(context, pipelineIdOf(rootId), reads.cursor) : [] };
  });
  const root = sessions.get(rootId);
  if (root === undefined) throw new SessionError('NOT_FOUND', `no session ${rootId}`, { sessionId: rootId });
  if (root.pipeline === undefined || root.parentSession !== null) throw new SessionError('INVALID_INPUT', `session ${rootId} is not the root of a pipeline`, { sessionId: rootId });
  const stream = foldPipelineStream(pipelineIdOf(rootId), rootId, events.filter(isPipelineEvent) as PipelineEvent[]);
  const steps = await stepAttempts(root, (id) => sessions.get(id));
  const run = replayPipeline(root.pipeline, steps.flat(), stream.waits);
  const snapshot = run.getSnapshot();
  run.stop();
  const last = steps.at(-1)?.at(-1);
  const ended = last !== undefined && last.status !== 'Active';
  const state = snapshot.value === 'completed' && ended ? 'Completed' : snapshot.value === 'failed' && ended ? 'Failed' : snapshot.value === 'awaitingApproval' ? 'Waiting' : 'Running';
  const rows = root.pipeline.steps.map((step, i) => ({ step, attempts: steps[i] ?? [] }));
  const queue = ended ? [] : await queuedSteps(context, rootId, stream.queued, sessions);
  if (context.json) {
    printJson({ status: state, ...(snapshot.context.waiting === undefined ? {} : { waiting: snapshot.context.waiting }), steps: rows.map((r) => ({ ...r.step, session: r.attempts.at(-1) ?? null, retried: r.attempts.slice(0, -1) })), waits: stream.waits, queued: queue });
  } else {
    print(`pipeline ${state}${state === 'Failed' && snapshot.context.error !== undefined ? `: ${snapshot.context.error}` : ''}${state === 'Waiting' ? `: ${snapshot.context.waiting?.detail ?? ''}` : ''}`);
    print(table(['STEP', 'AGENT', 'PHASE', 'STATUS', 'SESSION'], rows.flatMap((r, i) => statusLines(i + 1, r.step, r.attempts))));
    for (const wait of stream.waits) print(waitLine(wait));
    for (const q of queue) print(`step ${q.step === null ? '?' : q.step + 1} (${q.agentName}) waits for a concurrency slot since ${q.since}: place ${q.place} of ${q.of} in the store's queue, as session ${q.sessionId}`);
  }
  return state === 'Failed' ? EXIT.FINDINGS : EXIT.OK;
}
