import { setTimeout as sleep } from 'node:timers/promises';
import { createActor } from 'xstate';
import { pipelineMachine, type PipelineStep } from '../../machines/pipeline.machine.js';
import { type Phase } from '../domain/phase.js';
import { parseInput } from '../domain/parse-input.js';
import { PipelineStepsSchema, type PipelineStepInput } from '../domain/pipeline-steps.js';
import type { Session } from '../domain/session.js';
import { SessionError, isSessionError } from '../errors.js';
import { parseSessionId } from '../manager/decide.js';
import type { SessionManager } from '../manager/session-manager.js';

export type { PipelineStepInput } from '../domain/pipeline-steps.js';

/** The default pipeline: CodeGen → Review → Test → Deploy. */
export const DEFAULT_PIPELINE: readonly PipelineStepInput[] = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' },
  { agentName: 'ReviewAgent', phase: 'Review' },
  { agentName: 'TestAgent', phase: 'Test' },
  { agentName: 'DeployAgent', phase: 'CICD' },
];

/** What to run. */
export interface PipelineInput {
  issueNumber: number;
  worktreePath: string;
  /** The first agent's task (default: "Resolve issue #N"). */
  purpose?: string;
  steps?: readonly PipelineStepInput[];
  /** Aborts the running step's agent; the pipeline then fails. */
  signal?: AbortSignal;
  /** Called with the root session's id as soon as it exists: keep it to resume the run after a crash. */
  onRoot?: (rootId: string) => void;
}

/** How a pipeline run ended. */
export interface PipelineResult {
  status: 'Completed' | 'Failed';
  /** Every step's session, root first, as recorded at the end. */
  sessions: Session[];
  /** Why it failed. */
  error?: string;
}

/** How often a step whose agent another manager runs is looked at. */
const POLL_MS = 250;
/** How long a step's session may go without its agent recorded before it counts as never started. */
const START_GRACE_MS = 30_000;

/**
 * Runs agents one after another on one issue (the original's HeadlessOrchestrator use): each
 * step's agent runs; on success its session is handed off to the next step's agent (which
 * continues the conversation), the last one is completed; the first failure stops the run.
 * The steps are recorded in the root session's spawn event, so {@link resumePipeline} can
 * continue the run from the log after a crash; `onRoot` hands over the root's id at once.
 * The manager needs a runner that leaves successful sessions Active (the default).
 * Throws `INVALID_INPUT` for bad steps or a manager without such a runner.
 *
 * @example
 * const run = await runPipeline(manager, { issueNumber: 42, worktreePath: '.worktrees/issue-42', onRoot: (id) => save(id) });
 * console.log(run.status, run.sessions.map((s) => s.agentName));
 */
export async function runPipeline(manager: SessionManager, input: PipelineInput): Promise<PipelineResult> {
  const steps = parseInput(PipelineStepsSchema, input.steps ?? DEFAULT_PIPELINE, 'pipeline steps') as PipelineStepInput[];
  assertPipelineRunner(manager);
  const first = steps[0]!;
  const options = input.signal === undefined ? {} : { signal: input.signal };
  const context = { issueNumber: input.issueNumber, currentPhase: first.phase, worktreePath: input.worktreePath };
  const root = await manager.spawnAgentSession(first.agentName, input.purpose ?? `Resolve issue #${input.issueNumber}`, context, { ...options, pipelineSteps: steps });
  input.onRoot?.(root.id);
  return drive(manager, root, steps, input.signal);
}

/**
 * Continues a pipeline from wherever the log says it stands, after its manager crashed: waits
 * for a running step (its agent adopted by this manager when it runs on here), hands off after
 * a step that succeeded, completes it after the last step, or reports how it ended. It never
 * starts a step's agent a second time. A finished pipeline's result comes back at once.
 * Throws `NOT_FOUND` for an unknown id, `INVALID_INPUT` for a session that is not the root of
 * a pipeline, and `CONFLICT` when another manager moved the same pipeline on first.
 *
 * @example
 * const result = await resumePipeline(manager, rootId);
 */
export async function resumePipeline(manager: SessionManager, rootId: string, options: { signal?: AbortSignal } = {}): Promise<PipelineResult> {
  const id = parseSessionId(rootId);
  const root = await manager.getSession(id);
  if (root === undefined) throw new SessionError('NOT_FOUND', `no session ${id}`, { sessionId: id });
  if (root.pipeline === undefined || root.parentSession !== null) {
    throw new SessionError('INVALID_INPUT', `session ${id} is not the root of a pipeline (it was not started by runPipeline)`, { sessionId: id });
  }
  assertPipelineRunner(manager);
  return drive(manager, root, root.pipeline.steps, options.signal);
}

function assertPipelineRunner(manager: SessionManager): void {
  if (!manager.runsAgents || manager.completesOnSuccess) {
    throw new SessionError('INVALID_INPUT', 'a pipeline needs a manager whose runner leaves successful sessions Active (completeOnSuccess: false)');
  }
}

/**
 * Moves the pipeline on until it ends. Each round reads where it stands from the log (the
 * sessions from the root down) and replays that into the pipeline machine, the one definition
 * of the flow; nothing of it is kept in memory between rounds, so a crash loses nothing.
 */
async function drive(manager: SessionManager, root: Session, steps: PipelineStepInput[], signal: AbortSignal | undefined): Promise<PipelineResult> {
  const options = signal === undefined ? {} : { signal };
  const contextOf = (phase: Phase) => ({ issueNumber: root.context.issueNumber, currentPhase: phase, worktreePath: root.context.worktreePath });
  for (;;) {
    const chain = await stepSessions(manager, root.id);
    const run = replay(steps, chain);
    const snapshot = run.getSnapshot();
    if (snapshot.status === 'done') {
      run.stop();
      return snapshot.value === 'completed'
        ? { status: 'Completed', sessions: chain }
        : { status: 'Failed', sessions: chain, error: snapshot.context.error ?? 'the pipeline failed' };
    }
    const ended = await agentEnd(manager, chain.at(-1)!);
    if (ended.status !== 'Active') continue;
    await movedOn(root.id, async () => {
      if (ended.result?.success !== true) {
        const index = chain.length;
        await manager.failSession(ended.id, ended.error ?? `step ${index} (${ended.agentName}) did not succeed`, ended.result);
        return;
      }
      run.send({ type: 'STEP_SUCCEEDED' });
      const next = run.getSnapshot();
      if (next.value === 'completed') await manager.completeSession(ended.id, ended.result);
      else {
        const step = next.context.steps[next.context.index]!;
        await manager.handoff(ended.id, step.agentName, contextOf(step.phase as Phase), options);
      }
    });
    run.stop();
  }
}

/** The pipeline machine fed with what the log says happened, step by step. */
function replay(steps: PipelineStepInput[], chain: Session[]) {
  const run = createActor(pipelineMachine, { input: { steps: steps as PipelineStep[] } }).start();
  for (const [i, session] of chain.entries()) {
    run.send({ type: 'STEP_STARTED', sessionId: session.id });
    const last = i === chain.length - 1;
    if (session.status === 'HandedOff') run.send({ type: 'STEP_SUCCEEDED' });
    else if (session.status === 'Failed') run.send({ type: 'STEP_FAILED', error: session.error ?? `step ${i + 1} (${session.agentName}) failed` });
    else if (session.status === 'Completed') {
      run.send({ type: 'STEP_SUCCEEDED' });
      if (run.getSnapshot().status !== 'done') run.send({ type: 'STEP_FAILED', error: `step ${i + 1} (${session.agentName}) was completed outside the pipeline` });
    }
    if (!last && session.status !== 'HandedOff') break;
  }
  return run;
}

/** The sessions of a pipeline from its root down (each handoff's one child). */
async function stepSessions(manager: SessionManager, rootId: string): Promise<Session[]> {
  const chain: Session[] = [];
  let id: string | undefined = rootId;
  while (id !== undefined) {
    const session: Session = (await manager.getSession(id))!;
    chain.push(session);
    id = session.childSessions[0];
  }
  return chain;
}

/**
 * The step's session once its agent has ended (or the session has): waits for an agent this
 * manager runs or adopted, and otherwise watches the log, letting the manager adopt the agent
 * (or fail its session) should the manager running it die meanwhile.
 */
async function agentEnd(manager: SessionManager, session: Session): Promise<Session> {
  for (;;) {
    const current = await manager.waitForAgent(session.id);
    if (current.status !== 'Active' || current.agent?.finishedAt !== undefined) return current;
    if (current.agent === undefined && Date.now() - Date.parse(current.createdAt) > START_GRACE_MS) {
      // Its manager died before the agent's start was recorded: it is not started twice.
      await movedOn(session.id, () => manager.failSession(current.id, 'its agent never started: the manager that spawned it died first').then(() => undefined));
      continue;
    }
    await manager.reapOrphans();
    await sleep(POLL_MS);
  }
}

/** Runs a step's move; if another manager made it first, says so with CONFLICT. */
async function movedOn(rootId: string, move: () => Promise<void>): Promise<void> {
  try {
    await move();
  } catch (error) {
    if (isSessionError(error, 'INVALID_TRANSITION') || isSessionError(error, 'CONFLICT')) {
      throw new SessionError('CONFLICT', `another manager moved the pipeline of ${rootId} on first: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
}
