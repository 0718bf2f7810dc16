import { assign, setup } from 'xstate';

/*
 * The flow of one pipeline run (CodeGen → Review → Test → Deploy by default): each step's agent
 * runs in its own session; a successful step hands off to the next, the last one completes,
 * the first failure stops the run. A step whose work was interrupted (its agent killed, its
 * machine gone) runs again as a new session, up to `maxRetries` times per step; a failed step a
 * person retried (from the dashboard, or `retrySession`) runs again too, not counted against
 * `maxRetries`: someone decided it should. Self-contained:
 * paste into the Stately editor as is. The machine only decides; runPipeline does the I/O and
 * reports back with events.
 */

/** One step: which agent runs it, in which phase. */
export interface PipelineStep {
  agentName: string;
  phase: string;
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
  error?: string;
}

/** What runPipeline reports. */
export type PipelineMachineEvent =
  | { type: 'STEP_STARTED'; sessionId: string }
  | { type: 'STEP_SUCCEEDED' }
  | { type: 'STEP_FAILED'; error: string }
  | { type: 'STEP_INTERRUPTED'; error: string }
  | { type: 'STEP_RETRIED' };

/** The pipeline run machine: `running` ⇄ `handingOff` (or `retrying`), ending `completed` or `failed`. */
export const pipelineMachine = setup({
  types: {
    context: {} as PipelineMachineContext,
    events: {} as PipelineMachineEvent,
    input: {} as { steps: PipelineStep[]; maxRetries: number },
  },
  guards: {
    hasNextStep: ({ context }) => context.index + 1 < context.steps.length,
    hasRetryLeft: ({ context }) => context.retries < context.maxRetries,
  },
  actions: {
    recordSession: assign(({ context, event }) => (event.type === 'STEP_STARTED' ? { sessionIds: [...context.sessionIds, event.sessionId] } : {})),
    replaceSession: assign(({ context, event }) => (event.type === 'STEP_STARTED' ? { sessionIds: [...context.sessionIds.slice(0, -1), event.sessionId] } : {})),
    advance: assign(({ context }) => ({ index: context.index + 1, retries: 0 })),
    countRetry: assign(({ context }) => ({ retries: context.retries + 1 })),
    recordError: assign(({ event }) => (event.type === 'STEP_FAILED' || event.type === 'STEP_INTERRUPTED' ? { error: event.error } : {})),
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
        STEP_SUCCEEDED: [{ guard: 'hasNextStep', target: 'handingOff', actions: 'advance' }, { target: 'completed' }],
        STEP_FAILED: { target: 'failed', actions: 'recordError' },
        STEP_INTERRUPTED: [{ guard: 'hasRetryLeft', target: 'retrying', actions: 'countRetry' }, { target: 'failed', actions: 'recordError' }],
        STEP_RETRIED: { target: 'retrying' },
      },
    },
    retrying: {
      on: {
        STEP_STARTED: { target: 'running', actions: 'replaceSession' },
        STEP_FAILED: { target: 'failed', actions: 'recordError' },
      },
    },
    handingOff: {
      on: {
        STEP_STARTED: { target: 'running', actions: 'recordSession' },
        STEP_FAILED: { target: 'failed', actions: 'recordError' },
      },
    },
    completed: { type: 'final' },
    failed: { type: 'final' },
  },
});
