import { setTimeout as sleep } from 'node:timers/promises';
import { type Phase } from '../domain/phase.js';
import { z } from 'zod';
import { parseInput } from '../domain/parse-input.js';
import { PipelineGovernanceSchema, PipelineStepsSchema, canWait, type PipelineSpec, type PipelineStepInput } from '../domain/pipeline-steps.js';
import type { Session } from '../domain/session.js';
import { SessionError, isSessionError } from '../errors.js';
import { parseSessionId } from '../manager/decide.js';
import type { SessionManager } from '../manager/session-manager.js';
import { replayPipeline, stepAttempts } from './pipeline-progress.js';
import { allowanceOf } from './pipeline-budget.js';
import { decideQueued, decideReject, decideWaiting, type QueuedInput, type WaitInput } from './decide-pipeline.js';
import { retryIdOf } from '../domain/retry-id.js';
import { v4 as uuidv4 } from 'uuid';
import type { RecordedWait } from '../projections/pipeline-stream.js';
import { Notifier } from './notifier.js';
import { notificationsOf } from './notifications.js';
import type { Waiting } from '../../machines/pipeline.machine.js';
import { isInterruption } from '../runner/run-end.js';

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
  /** The issue it works on; null or left out for none (then `purpose` is required). */
  issueNumber?: number | null;
  /** Where its agents work; null or left out: their manager's working directory. */
  worktreePath?: string | null;
  /** The first agent's task (default: "Resolve issue #N"). */
  purpose?: string;
  steps?: readonly PipelineStepInput[];
  /**
   * How many times a step whose work was interrupted (its agent killed or gone with its machine,
   * its manager closed or dead before the agent started) runs again, each time as a new session
   * (`retrySession`); 0–10, default 2. A step that failed by its agent's own verdict, its
   * deadline or an abort is not run again. Recorded with the pipeline, so a resume keeps it.
   */
  maxRetries?: number;
  /**
   * Most US dollars the whole pipeline may cost. Each agent runs with its CLI's own cap set to
   * what is left (of this and of its step's `budgetUsd`); at the cap, or with nothing left
   * before a step, the pipeline waits for a person ({@link approvePipeline}) instead of failing.
   */
  budgetUsd?: number;
  /** A wait for a person not answered within this many ms is rejected (the pipeline fails); default: waits for ever. */
  approvalTimeoutMs?: number;
  /** Webhooks of this pipeline (http(s) URLs), notified besides the manager's own. */
  webhooks?: string[];
  /** Aborts the running step's agent; the pipeline then fails. */
  signal?: AbortSignal;
  /** See {@link ResumeOptions.startGraceMs}. */
  startGraceMs?: number;
  /** Called with the root session's id as soon as it exists: keep it to resume the run after a crash. */
  onRoot?: (rootId: string) => void;
}

/** Options of {@link resumePipeline}. */
export interface ResumeOptions {
  /** Aborts the running step's agent; the pipeline then fails. */
  signal?: AbortSignal;
  /**
   * How long a step's session may go without its agent recorded before it counts as never
   * started (its manager died between the spawn and the agent's start): it is then failed as
   * interrupted, any process of it on this host stopped, and it runs again. Default 30 000 ms;
   * keep it above the longest wait for an agent slot (`maxConcurrent`) of the managers running it.
   */
  startGraceMs?: number;
  /** Who resumes it, when a person does (the dashboard): recorded as `by` on every move this run makes. */
  by?: string;
}

/** How a pipeline run ended. */
export interface PipelineResult {
  status: 'Completed' | 'Failed';
  /** Every step's session, root first, as recorded at the end (a retried step's last attempt). */
  sessions: Session[];
  /** The attempts that were cut short and run again as new sessions, oldest first. */
  retried: Session[];
  /** Why it failed. */
  error?: string;
}

/** How often a step whose agent another manager runs is looked at. */
const POLL_MS = 250;
/** How long a step's session may go without its agent recorded before it counts as never started. */
const START_GRACE_MS = 30_000;
const GraceSchema = z.number().int().min(0).max(24 * 3_600_000).optional();

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
  const graceMs = parseInput(GraceSchema, input.startGraceMs, 'startGraceMs') ?? START_GRACE_MS;
  assertPipelineRunner(manager);
  const first = steps[0]!;
  const options = input.signal === undefined ? {} : { signal: input.signal };
  const issueNumber = input.issueNumber ?? null;
  const purpose = input.purpose ?? (issueNumber === null ? undefined : `Resolve issue #${issueNumber}`);
  if (purpose === undefined) throw new SessionError('INVALID_INPUT', 'a pipeline without an issue needs a purpose');
  const context = { issueNumber, currentPhase: first.phase, worktreePath: input.worktreePath ?? null };
  const retries = input.maxRetries === undefined ? {} : { pipelineRetries: input.maxRetries };
  const given = { budgetUsd: input.budgetUsd, approvalTimeoutMs: input.approvalTimeoutMs, webhooks: input.webhooks };
  const governance = parseInput(PipelineGovernanceSchema, Object.fromEntries(Object.entries(given).filter(([, value]) => value !== undefined)), 'pipeline governance');
  const spec: PipelineSpec = { steps, ...governance };
  const { caps } = allowanceOf(spec, [], [], 0);
  const root = await manager.spawnAgentSession(first.agentName, purpose, context, { ...options, ...retries, pipelineSteps: steps, pipelineGovernance: governance, caps });
  input.onRoot?.(root.id);
  return drive(manager, root, root.pipeline!, { signal: input.signal, graceMs, by: undefined });
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
export async function resumePipeline(manager: SessionManager, rootId: string, options: ResumeOptions = {}): Promise<PipelineResult> {
  const id = parseSessionId(rootId);
  const graceMs = parseInput(GraceSchema, options.startGraceMs, 'startGraceMs') ?? START_GRACE_MS;
  const root = await manager.getSession(id);
  if (root === undefined) throw new SessionError('NOT_FOUND', `no session ${id}`, { sessionId: id });
  if (root.pipeline === undefined || root.parentSession !== null) {
    throw new SessionError('INVALID_INPUT', `session ${id} is not the root of a pipeline (it was not started by runPipeline)`, { sessionId: id });
  }
  assertPipelineRunner(manager);
  return drive(manager, root, root.pipeline, { signal: options.signal, graceMs, by: options.by });
}

function assertPipelineRunner(manager: SessionManager): void {
  if (!manager.runsAgents || manager.completesOnSuccess) {
    throw new SessionError('INVALID_INPUT', 'a pipeline needs a manager whose runner leaves successful sessions Active (completeOnSuccess: false)');
  }
}

const NO_STREAM = { waits: [] as RecordedWait[], settled: new Set<string>(), state: 'open' as const };

/**
 * Moves the pipeline on until it ends. Each round reads where it stands from the log (the
 * sessions from the root down, and the pipeline's own stream of waits and answers) and replays
 * that into the pipeline machine, the one definition of the flow; nothing of it is kept in
 * memory between rounds, so a crash loses nothing.
 */
async function drive(manager: SessionManager, root: Session, spec: PipelineSpec, how: DriveOptions): Promise<PipelineResult> {
  const notifier = new Notifier(manager, root.id, spec.webhooks ?? []);
  try {
    return await rounds(manager, root, spec, how, notifier);
  } finally {
    notifier.stop();
  }
}

/** How a drive runs: its abort signal, the start grace, and who (a person resuming it). */
interface DriveOptions {
  signal: AbortSignal | undefined;
  graceMs: number;
  by: string | undefined;
}

/** The rounds of {@link drive}, each moving the pipeline one step on from what the log says. */
async function rounds(manager: SessionManager, root: Session, spec: PipelineSpec, how: DriveOptions, notifier: Notifier): Promise<PipelineResult> {
  const by = how.by === undefined ? {} : { by: how.by };
  const options = how.signal === undefined ? by : { signal: how.signal, ...by };
  const contextOf = (phase: Phase) => ({ issueNumber: root.context.issueNumber, currentPhase: phase, worktreePath: root.context.worktreePath });
  // The pipeline's own stream is read only where it can hold something: waits, or deliveries.
  const readsStream = canWait(spec) || notifier.active;
  for (;;) {
    const lookup = (id: string) => manager.getSession(id);
    const current = (await lookup(root.id))!;
    const steps = await stepAttempts(current, lookup);
    const attempts = steps.flat();
    const stream = readsStream ? await manager.pipelineStream(root.id) : NO_STREAM;
    const run = replayPipeline(spec, attempts, stream.waits);
    try {
      const snapshot = run.getSnapshot();
      const last = attempts.at(-1)!;
      if (notifier.active) {
        const ended = snapshot.status !== 'done' ? null : snapshot.value === 'completed' ? { status: 'Completed' as const } : { status: 'Failed' as const, error: snapshot.context.error ?? 'the pipeline failed' };
        notifier.offer(notificationsOf({ root: current, spec, steps, stream, ended }), stream);
      }
      if (snapshot.status === 'done') {
        if (last.status === 'Active') {
          // The move the run ended on is not in the log yet: the last step's completion, or the end of a step held at a gate that was rejected.
          await movedOn(root.id, async () => {
            if (snapshot.value === 'completed') await manager.completeSession(last.id, last.result, by);
            else await manager.failSession(last.id, `the pipeline was ${snapshot.context.error ?? 'rejected'}`, undefined, by);
          });
          continue;
        }
        // The end is told before the run returns: a receiver that is down delays the return, never a step.
        await notifier.settled();
        const sessions = steps.map((tries) => tries.at(-1)!);
        const retried = steps.flatMap((tries) => tries.slice(0, -1));
        return snapshot.value === 'completed'
          ? { status: 'Completed', sessions, retried }
          : { status: 'Failed', sessions, retried, error: snapshot.context.error ?? 'the pipeline failed' };
      }
      if (snapshot.value === 'awaitingApproval') {
        await awaitAnswer(manager, root.id, spec, { waiting: snapshot.context.waiting!, recorded: run.recorded, last, waits: stream.waits });
        continue;
      }
      if (snapshot.value === 'retrying' || snapshot.value === 'handingOff') {
        const index = snapshot.context.index;
        const allowance = allowanceOf(spec, steps, stream.waits, index);
        if (allowance.spent !== undefined) {
          // Nothing left to spend: the step does not start; a person may add to the budget.
          await recordWait(manager, root.id, { reason: 'budget', step: index, sessionId: last.id, detail: allowance.spent });
          continue;
        }
        const caps = allowance.caps;
        const notBefore = snapshot.value === 'retrying' && last.retryAfter !== undefined ? Date.parse(last.retryAfter) - Date.now() : 0;
        if (notBefore > 0 && how.signal?.aborted !== true) {
          // Stopped by a rate or usage limit: waited out in short naps, so a crash meanwhile loses nothing (the time is in the log).
          // An abort meanwhile ends the wait: the retry then starts aborted, and fails the pipeline as any abort does.
          await sleep(Math.min(notBefore, 1000), undefined, how.signal === undefined ? {} : { signal: how.signal }).catch(() => undefined);
          continue;
        }
        const step = spec.steps[index]!;
        // Under a store concurrency limit the step may wait for a slot before it spawns: the stream records that it is queued.
        const queued = (sessionId: string) => ({ onQueued: ({ position }: { position: number }) => recordQueued(manager, root.id, { step: index, sessionId, agentName: step.agentName, position }) });
        if (snapshot.value === 'retrying') {
          // Never a second agent under the same id: the step runs again as a new session; after its cap, it goes on from its own conversation.
          await movedOn(root.id, () => manager.retrySession(last.id, { ...options, caps, continueAttempt: last.capped !== undefined, ...queued(retryIdOf(last.id)) }).then(() => undefined));
        } else {
          const sessionId = uuidv4();
          await movedOn(root.id, () => manager.handoff(last.id, step.agentName, contextOf(step.phase), { ...options, caps, sessionId, ...queued(sessionId) }).then(() => undefined));
        }
        continue;
      }
      const ended = await agentEnd(manager, last, how.graceMs);
      if (ended.status === 'Active' && ended.agent?.finishedAt !== undefined && ended.result?.success !== true) {
        await movedOn(root.id, () => manager.failSession(ended.id, ended.error ?? `step ${steps.length} (${ended.agentName}) did not succeed`, ended.result, by).then(() => undefined));
      }
    } finally {
      run.stop();
    }
  }
}

/** How often a waiting pipeline looks for its answer. */
const ANSWER_POLL_MS = 500;

/**
 * One look at a pipeline waiting for a person: records the wait if the log does not hold it
 * yet, rejects it once its time is up, and otherwise waits a little and catches up with the log
 * (an answer may come from any process).
 */
async function awaitAnswer(manager: SessionManager, rootId: string, spec: PipelineSpec, at: { waiting: Waiting; recorded: boolean; last: Session; waits: readonly RecordedWait[] }): Promise<void> {
  const { waiting } = at;
  if (!at.recorded) return recordWait(manager, rootId, { reason: waiting.reason, step: waiting.step, sessionId: at.last.id, detail: waiting.detail });
  const since = Date.parse(at.waits.at(-1)!.since);
  if (spec.approvalTimeoutMs !== undefined && Date.now() - since >= spec.approvalTimeoutMs) {
    const reason = `no answer within ${spec.approvalTimeoutMs} ms (approvalTimeoutMs) to: ${waiting.detail}`;
    await movedOnStream(() => manager.appendToPipeline(rootId, (stream, clock) => decideReject(stream, { reason }, clock)));
    return;
  }
  await sleep(ANSWER_POLL_MS);
  await manager.refresh();
}

/** Records that a step waits for a slot; a record that no longer fits (a person answered, another manager moved on) is left out. */
async function recordQueued(manager: SessionManager, rootId: string, queued: QueuedInput): Promise<void> {
  await movedOnStream(() => manager.appendToPipeline(rootId, (stream, clock) => decideQueued(stream, queued, clock)));
}

async function recordWait(manager: SessionManager, rootId: string, wait: WaitInput): Promise<void> {
  await movedOnStream(() => manager.appendToPipeline(rootId, (stream, clock) => decideWaiting(stream, wait, clock)));
}

/** Records on the pipeline's stream; another manager (or a person) having moved it first is no error: the next round reads what they did. */
async function movedOnStream(move: () => Promise<unknown>): Promise<void> {
  try {
    await move();
  } catch (error) {
    if (!isSessionError(error, 'INVALID_TRANSITION') && !isSessionError(error, 'CONFLICT')) throw error;
  }
}

/**
 * The step's session once its agent has ended (or the session has): waits for an agent this
 * manager runs or adopted, and otherwise watches the log, letting the manager adopt the agent
 * (or fail its session) should the manager running it die meanwhile.
 */
async function agentEnd(manager: SessionManager, session: Session, graceMs: number): Promise<Session> {
  for (;;) {
    const current = await manager.waitForAgent(session.id);
    if (current.status !== 'Active' || current.agent?.finishedAt !== undefined) return current;
    if (current.agent === undefined && Date.now() - Date.parse(current.createdAt) > graceMs) {
      // Its manager died before the agent's start was recorded: never started twice, it runs again as
      // a retry (failing it stops an agent that started unrecorded on this host).
      const reason = 'its agent never started: the manager that spawned it died first';
      // Only as it was read: its agent's start recorded late (a slow start) makes it wait on.
      await movedOn(session.id, () =>
        manager.failSession(current.id, reason, undefined, { interrupted: isInterruption('never-started'), expectedRevision: current.revision }).then(
          () => undefined,
          (error: unknown) => {
            if (!isSessionError(error, 'CONFLICT')) throw error;
          },
        ),
      );
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
    if (isSessionError(error, 'INVALID_TRANSITION') || isSessionError(error, 'CONFLICT') || isSessionError(error, 'ALREADY_EXISTS')) {
      throw new SessionError('CONFLICT', `another manager moved the pipeline of ${rootId} on first: ${(error as Error).message}`, { cause: error });
    }
    throw error;
  }
}
