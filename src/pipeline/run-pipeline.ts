import { createActor } from 'xstate';
import { pipelineMachine, type PipelineStep } from '../../machines/pipeline.machine.js';
import { PhaseSchema, type Phase } from '../domain/phase.js';
import { parseInput } from '../domain/parse-input.js';
import { AgentNameSchema } from '../domain/limits.js';
import type { Session } from '../domain/session.js';
import { SessionError } from '../errors.js';
import type { SessionManager } from '../manager/session-manager.js';
import { z } from 'zod';

/** One step of a pipeline: the agent and the phase it works in. */
export interface PipelineStepInput {
  agentName: string;
  phase: Phase;
}

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
}

/** How a pipeline run ended. */
export interface PipelineResult {
  status: 'Completed' | 'Failed';
  /** Every step's session, root first, as recorded at the end. */
  sessions: Session[];
  /** Why it failed. */
  error?: string;
}

const StepsSchema = z.array(z.strictObject({ agentName: AgentNameSchema, phase: PhaseSchema })).min(1).max(64);

/**
 * Runs agents one after another on one issue (the original's HeadlessOrchestrator use): each
 * step's agent runs; on success its session is handed off to the next step's agent (which
 * continues the conversation), the last one is completed; the first failure stops the run.
 * The manager needs a runner that leaves successful sessions Active (the default).
 * Throws `INVALID_INPUT` for bad steps or a manager without such a runner.
 *
 * @example
 * const run = await runPipeline(manager, { issueNumber: 42, worktreePath: '.worktrees/issue-42' });
 * console.log(run.status, run.sessions.map((s) => s.agentName));
 */
export async function runPipeline(manager: SessionManager, input: PipelineInput): Promise<PipelineResult> {
  const steps = parseInput(StepsSchema, input.steps ?? DEFAULT_PIPELINE, 'pipeline steps') as PipelineStep[];
  if (!manager.runsAgents || manager.completesOnSuccess) {
    throw new SessionError('INVALID_INPUT', 'runPipeline needs a manager whose runner leaves successful sessions Active (completeOnSuccess: false)');
  }
  const context = (phase: string) => ({ issueNumber: input.issueNumber, currentPhase: phase as Phase, worktreePath: input.worktreePath });
  const options = input.signal === undefined ? {} : { signal: input.signal };
  const run = createActor(pipelineMachine, { input: { steps } }).start();
  const first = steps[0]!;
  let session = await manager.spawnAgentSession(first.agentName, input.purpose ?? `Resolve issue #${input.issueNumber}`, context(first.phase), options);
  run.send({ type: 'STEP_STARTED', sessionId: session.id });

  while (run.getSnapshot().status !== 'done') {
    const ended = await manager.waitForAgent(session.id);
    const succeeded = ended.status === 'Active' && ended.result?.success === true;
    if (!succeeded) {
      const error = ended.error ?? `step ${run.getSnapshot().context.index + 1} (${ended.agentName}) did not succeed`;
      if (ended.status === 'Active') await manager.failSession(ended.id, error, ended.result);
      run.send({ type: 'STEP_FAILED', error });
      break;
    }
    run.send({ type: 'STEP_SUCCEEDED' });
    const snapshot = run.getSnapshot();
    if (snapshot.value === 'completed') {
      await manager.completeSession(ended.id, ended.result);
      break;
    }
    const next = snapshot.context.steps[snapshot.context.index]!;
    session = await manager.handoff(ended.id, next.agentName, context(next.phase), options);
    run.send({ type: 'STEP_STARTED', sessionId: session.id });
  }

  const final = run.getSnapshot();
  run.stop();
  const sessions = await manager.getSessionLineage(session.id);
  return final.value === 'completed'
    ? { status: 'Completed', sessions }
    : { status: 'Failed', sessions, error: final.context.error ?? 'the pipeline failed' };
}
