import { assign, setup } from 'xstate';

/*
 * The flow of one pipeline run (CodeGen → Review → Test → Deploy by default): each step's agent
 * runs in its own session; a successful step hands off to the next, the last one completes,
 * the first failure stops the run. A step whose work was interrupted (its agent killed, its
 * machine gone) runs again as a new session, up to `maxRetries` times per step; a failed step a
 * person retried (from the dashboard, or `retrySession`) runs again too, not counted against
 * `maxRetries`: someone decided it should.
 *
 * A governed pipeline also waits for a person (`awaitingApproval`): before a step that requires
 * approval (a gate), when its budget is spent before a step starts (a hold), and when a step's
 * agent was stopped at its cap (budget or turns). An approval goes on: past a gate or a hold to
 * where it stood, after a cap as a new session that continues the stopped one's conversation
 * (not counted against `maxRetries`). A rejection ends the run failed. Self-contained: paste
 * into the Stately editor as is. The machine only decides; runPipeline does the I/O and reports
 * back with events.
 */

/** One step: which agent runs it, in which phase, and whether a person approves its start. */
export interface PipelineStep {
  agentName: string;
  phase: string;
  approval?: boolean;
}

/** Why the run waits for a person. */
export type WaitingReason = 'gate' | 'budget' | 'turns';

/** What a run waiting for a person waits on. */
export interface Waiting {
  reason: WaitingReason;
  /** The step that waits to start or to go on. */
  step: number;
  detail: string;
  /** Where an approval leads: the handoff to the step, or a new session of it. */
  resumeTo: 'handingOff' | 'retrying';
}

/** What a pipeline run carries. */
export interface PipelineMachineContext {
  steps: PipelineStep[];
  /** The step running now (index into `steps`). */
  index: number;
  /** The session of each step started so far (a retried step's latest attempt). */
  sessionIds: string[];
  /** How many times the running step was run again. */
  retries: number;
  /** How many times a step whose work was interrupted may run again. */
  maxRetries: number;
  /** Set while the run waits for a person. */
  waiting?: Waiting;
  error?: string;
}

/** What runPipeline reports. */
export type PipelineMachineEvent =
  | { type: 'STEP_STARTED'; sessionId: string }
  | { type: 'STEP_SUCCEEDED' }
  | { type: 'STEP_FAILED'; error: string }
  | { type: 'STEP_INTERRUPTED'; error: string }
  | { type: 'STEP_RETRIED' }
  | { type: 'STEP_CAPPED'; cap: 'budget' | 'turns'; error: string }
  | { type: 'HOLD'; detail: string }
  | { type: 'APPROVED' }
  | { type: 'REJECTED'; reason: string };

/** The pipeline run machine: `running` ⇄ `handingOff` (or `retrying`, or `awaitingApproval`), ending `completed` or `failed`. */
export const pipelineMachine = setup({
  // Stryker disable next-line ObjectLiteral: equivalent, `types` is for the compiler; xstate reads nothing from it
  types: {
    context: {} as PipelineMachineContext,
    events: {} as PipelineMachineEvent,
    input: {} as { steps: PipelineStep[]; maxRetries: number },
  },
  guards: {
    hasNextStep: ({ context }) => context.index + 1 < context.steps.length,
    nextStepGated: ({ context }) => context.steps[context.index + 1]?.approval === true,
    hasRetryLeft: ({ context }) => context.retries < context.maxRetries,
    // Stryker disable next-line OptionalChaining: equivalent, only a run that waits (waiting set) is asked.
    resumesHandoff: ({ context }) => context.waiting?.resumeTo === 'handingOff',
  },
  actions: {
    // Stryker disable next-line ConditionalExpression: equivalent, the action runs on this event only (the check narrows its type).
    recordSession: assign(({ context, event }) => (event.type === 'STEP_STARTED' ? { sessionIds: [...context.sessionIds, event.sessionId] } : {})),
    // Stryker disable next-line ConditionalExpression: equivalent, the action runs on this event only (the check narrows its type).
    replaceSession: assign(({ context, event }) => (event.type === 'STEP_STARTED' ? { sessionIds: [...context.sessionIds.slice(0, -1), event.sessionId] } : {})),
    advance: assign(({ context }) => ({ index: context.index + 1, retries: 0 })),
    countRetry: assign(({ context }) => ({ retries: context.retries + 1 })),
    // Stryker disable next-line ConditionalExpression: equivalent, the action runs on these events only (the check narrows their type).
    recordError: assign(({ event }) => (event.type === 'STEP_FAILED' || event.type === 'STEP_INTERRUPTED' ? { error: event.error } : {})),
    waitAtGate: assign(({ context }) => ({
      waiting: { reason: 'gate' as const, step: context.index + 1, detail: `step ${context.index + 2} (${context.steps[context.index + 1]!.agentName}) requires approval`, resumeTo: 'handingOff' as const },
      index: context.index + 1,
      retries: 0,
    })),
    // Stryker disable next-line ConditionalExpression: equivalent, the action runs on this event only (the check narrows its type).
    waitAfterCap: assign(({ context, event }) => (event.type === 'STEP_CAPPED' ? { waiting: { reason: event.cap, step: context.index, detail: event.error, resumeTo: 'retrying' as const } } : {})),
    // Stryker disable next-line ConditionalExpression: equivalent, the action runs on this event only (the check narrows its type).
    holdHandoff: assign(({ context, event }) => (event.type === 'HOLD' ? { waiting: { reason: 'budget' as const, step: context.index, detail: event.detail, resumeTo: 'handingOff' as const } } : {})),
    // Stryker disable next-line ConditionalExpression: equivalent, the action runs on this event only (the check narrows its type).
    holdRetry: assign(({ context, event }) => (event.type === 'HOLD' ? { waiting: { reason: 'budget' as const, step: context.index, detail: event.detail, resumeTo: 'retrying' as const } } : {})),
    stopWaiting: assign({ waiting: undefined }),
    // Stryker disable next-line ConditionalExpression: equivalent, the action runs on this event only (the check narrows its type).
    recordRejection: assign(({ event }) => (event.type === 'REJECTED' ? { error: `rejected: ${event.reason}`, waiting: undefined } : {})),
  },
}).createMachine({
  id: 'pipeline',
  context: ({ input }) => ({ steps: input.steps, index: 0, sessionIds: [], retries: 0, maxRetries: input.maxRetries }),
  initial: 'starting',
  states: {
    starting: {
      on: {
        STEP_STARTED: { target: 'running', actions: 'recordSession' },
        STEP_FAILED: { target: 'failed', actions: 'recordError' },
      },
    },
    running: {
      on: {
        STEP_SUCCEEDED: [
          { guard: 'nextStepGated', target: 'awaitingApproval', actions: 'waitAtGate' },
          { guard: 'hasNextStep', target: 'handingOff', actions: 'advance' },
          { target: 'completed' },
        ],
        STEP_FAILED: { target: 'failed', actions: 'recordError' },
        STEP_INTERRUPTED: [{ guard: 'hasRetryLeft', target: 'retrying', actions: 'countRetry' }, { target: 'failed', actions: 'recordError' }],
        STEP_RETRIED: { target: 'retrying' },
        STEP_CAPPED: { target: 'awaitingApproval', actions: 'waitAfterCap' },
      },
    },
    retrying: {
      on: {
        STEP_STARTED: { target: 'running', actions: 'replaceSession' },
        STEP_FAILED: { target: 'failed', actions: 'recordError' },
        HOLD: { target: 'awaitingApproval', actions: 'holdRetry' },
      },
    },
    handingOff: {
      on: {
        STEP_STARTED: { target: 'running', actions: 'recordSession' },
        STEP_FAILED: { target: 'failed', actions: 'recordError' },
        HOLD: { target: 'awaitingApproval', actions: 'holdHandoff' },
      },
    },
    awaitingApproval: {
      on: {
        APPROVED: [
          { guard: 'resumesHandoff', target: 'handingOff', actions: 'stopWaiting' },
          { target: 'retrying', actions: 'stopWaiting' },
        ],
        REJECTED: { target: 'failed', actions: 'recordRejection' },
      },
    },
    completed: { type: 'final' },
    failed: { type: 'final' },
  },
});
