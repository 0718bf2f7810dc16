import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { pipelineMachine, type PipelineMachineEvent, type PipelineStep } from '../../machines/pipeline.machine.js';

/*
 * What the pipeline machine keeps as it moves, event by event: which sessions ran the steps,
 * where it waits and why, what ended it. (The path tests check where it can go; these, what it
 * knows when it gets there.)
 */
const STEPS: PipelineStep[] = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' },
  { agentName: 'ReviewAgent', phase: 'Review' },
  { agentName: 'DeployAgent', phase: 'CICD', approval: true },
];

function run(events: PipelineMachineEvent[], steps = STEPS, maxRetries = 1) {
  const actor = createActor(pipelineMachine, { input: { steps, maxRetries } }).start();
  for (const event of events) actor.send(event);
  const snapshot = actor.getSnapshot();
  actor.stop();
  return { value: snapshot.value, context: snapshot.context };
}

const started = (sessionId: string): PipelineMachineEvent => ({ type: 'STEP_STARTED', sessionId });
const SUCCEEDED: PipelineMachineEvent = { type: 'STEP_SUCCEEDED' };

describe('the pipeline machine remembers', () => {
  it("each step's session, a retried step's latest attempt in its place, and the retries of the running step only", () => {
    const interrupted: PipelineMachineEvent = { type: 'STEP_INTERRUPTED', error: 'killed' };
    expect(run([started('a'), SUCCEEDED, started('b'), interrupted, started('b2')])).toEqual({
      value: 'running',
      context: expect.objectContaining({ index: 1, sessionIds: ['a', 'b2'], retries: 1 }),
    });
    // A move on resets the count; a person's retry does not count.
    expect(run([started('a'), interrupted, started('a2'), SUCCEEDED, started('b'), { type: 'STEP_RETRIED' }, started('b2')]).context).toMatchObject({ index: 1, sessionIds: ['a2', 'b2'], retries: 0 });
    // Past the budget, the interruption ends the run with its reason.
    expect(run([started('a'), interrupted, started('a2'), interrupted])).toEqual({ value: 'failed', context: expect.objectContaining({ error: 'killed', sessionIds: ['a2'] }) });
    expect(run([started('a'), { type: 'STEP_FAILED', error: 'boom' }])).toEqual({ value: 'failed', context: expect.objectContaining({ error: 'boom' }) });
    expect(run([{ type: 'STEP_FAILED', error: 'no agent' }])).toEqual({ value: 'failed', context: expect.objectContaining({ error: 'no agent', sessionIds: [] }) });
    expect(run([started('a'), SUCCEEDED, started('b'), SUCCEEDED]).context.error).toBeUndefined();
  });

  it('waits at a gate before the gated step, saying which, and goes on to its handoff when approved', () => {
    const atGate = run([started('a'), SUCCEEDED, started('b'), SUCCEEDED]);
    expect(atGate).toEqual({
      value: 'awaitingApproval',
      context: expect.objectContaining({ index: 2, retries: 0, waiting: { reason: 'gate', step: 2, detail: 'step 3 (DeployAgent) requires approval', resumeTo: 'handingOff' } }),
    });
    const approved = run([started('a'), SUCCEEDED, started('b'), SUCCEEDED, { type: 'APPROVED' }]);
    expect(approved.value).toBe('handingOff');
    expect(approved.context.waiting).toBeUndefined();
    expect(run([started('a'), SUCCEEDED, started('b'), SUCCEEDED, { type: 'APPROVED' }, started('c'), SUCCEEDED])).toEqual({ value: 'completed', context: expect.objectContaining({ sessionIds: ['a', 'b', 'c'] }) });
    // No gate on a step that does not ask for one, and none past the last step.
    expect(run([started('a'), SUCCEEDED]).value).toBe('handingOff');
    expect(run([started('a'), SUCCEEDED], [STEPS[0]!]).value).toBe('completed');
  });

  it('waits after a cap to go on as a new session, and at a hold to go on where it stood; a rejection ends the run saying why', () => {
    const capped = run([started('a'), { type: 'STEP_CAPPED', cap: 'turns', error: 'Reached maximum number of turns (3)' }]);
    expect(capped).toEqual({ value: 'awaitingApproval', context: expect.objectContaining({ waiting: { reason: 'turns', step: 0, detail: 'Reached maximum number of turns (3)', resumeTo: 'retrying' } }) });
    const resumed = run([started('a'), { type: 'STEP_CAPPED', cap: 'budget', error: 'spent' }, { type: 'APPROVED' }, started('a2')]);
    expect(resumed).toEqual({ value: 'running', context: expect.objectContaining({ sessionIds: ['a2'], retries: 0 }) });
    const held = run([started('a'), SUCCEEDED, { type: 'HOLD', detail: '$0.00 left of $1.00' }]);
    expect(held).toEqual({ value: 'awaitingApproval', context: expect.objectContaining({ waiting: { reason: 'budget', step: 1, detail: '$0.00 left of $1.00', resumeTo: 'handingOff' } }) });
    expect(run([started('a'), SUCCEEDED, { type: 'HOLD', detail: 'x' }, { type: 'APPROVED' }, started('b')]).context.sessionIds).toEqual(['a', 'b']);
    const heldRetry = run([started('a'), { type: 'STEP_INTERRUPTED', error: 'killed' }, { type: 'HOLD', detail: 'spent' }]);
    expect(heldRetry.context.waiting).toEqual({ reason: 'budget', step: 0, detail: 'spent', resumeTo: 'retrying' });
    expect(run([started('a'), { type: 'STEP_INTERRUPTED', error: 'killed' }, { type: 'HOLD', detail: 'spent' }, { type: 'APPROVED' }]).value).toBe('retrying');
    expect(run([started('a'), SUCCEEDED, { type: 'HOLD', detail: 'x' }, { type: 'REJECTED', reason: 'too costly' }])).toEqual({
      value: 'failed',
      context: expect.objectContaining({ error: 'rejected: too costly', waiting: undefined }),
    });
    // The error of a failure is the failure's, not a later event's.
    expect(run([started('a'), { type: 'STEP_FAILED', error: 'boom' }, SUCCEEDED]).context.error).toBe('boom');
  });
});
