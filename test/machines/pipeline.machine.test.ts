import { getSimplePaths } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import { createActor } from 'xstate';
import { pipelineMachine, type PipelineMachineEvent } from '../../machines/pipeline.machine.js';
import { sessionMachine } from '../../machines/session.machine.js';

const steps = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' },
  { agentName: 'ReviewAgent', phase: 'Review' },
];

describe('pipeline machine', () => {
  it('every path ends completed only after every step succeeded, or failed at the first failure or the interruption past its retries', () => {
    const events: PipelineMachineEvent[] = [
      { type: 'STEP_STARTED', sessionId: 's' },
      { type: 'STEP_SUCCEEDED' },
      { type: 'STEP_FAILED', error: 'boom' },
      { type: 'STEP_INTERRUPTED', error: 'killed' },
      { type: 'STEP_RETRIED' },
    ];
    const maxRetries = 1;
    const paths = getSimplePaths(pipelineMachine, { events, input: { steps, maxRetries } });
    const endings = paths.filter((p) => p.state.status === 'done');
    expect(endings.length).toBeGreaterThan(0);
    expect(endings.some((p) => p.state.value === 'completed' && p.steps.some((s) => s.event.type === 'STEP_INTERRUPTED'))).toBe(true);
    // A person's retry is not counted against maxRetries: past the budget, it still runs the step again.
    const retriedPastBudget = endings.find((p) => p.state.value === 'completed' && p.steps.filter((s) => s.event.type === 'STEP_INTERRUPTED' || s.event.type === 'STEP_RETRIED').length > maxRetries);
    expect(retriedPastBudget).toBeDefined();
    for (const path of endings) {
      const types = path.steps.map((s) => s.event.type);
      const succeeded = types.filter((t) => t === 'STEP_SUCCEEDED').length;
      // An interruption within the budget is followed by the step's new session (or the failure to start it), never by a move on.
      types.forEach((t, i) => {
        if ((t === 'STEP_INTERRUPTED' || t === 'STEP_RETRIED') && i < types.length - 1) expect(['STEP_STARTED', 'STEP_FAILED']).toContain(types[i + 1]);
      });
      if (path.state.value === 'completed') {
        expect(succeeded).toBe(steps.length);
        expect(types).not.toContain('STEP_FAILED');
        expect(path.state.context.sessionIds).toHaveLength(steps.length);
      } else {
        expect(path.state.value).toBe('failed');
        const last = types.at(-1);
        if (last === 'STEP_INTERRUPTED') {
          // Only past the budget: the step's interruptions since its last success exceed maxRetries.
          const sinceSuccess = types.slice(types.lastIndexOf('STEP_SUCCEEDED') + 1);
          expect(sinceSuccess.filter((t) => t === 'STEP_INTERRUPTED').length).toBe(maxRetries + 1);
          expect(path.state.context.error).toBe('killed');
        } else {
          expect(last).toBe('STEP_FAILED');
          expect(path.state.context.error).toBe('boom');
        }
      }
    }
  });

  it('a step that cannot start again, on a retry or a handoff, fails the run with its error', () => {
    for (const before of [{ type: 'STEP_INTERRUPTED', error: 'killed' } as const, { type: 'STEP_SUCCEEDED' } as const]) {
      const run = createActor(pipelineMachine, { input: { steps, maxRetries: 1 } }).start();
      run.send({ type: 'STEP_STARTED', sessionId: 's' });
      run.send(before);
      expect(run.getSnapshot().value).toBe(before.type === 'STEP_SUCCEEDED' ? 'handingOff' : 'retrying');
      run.send({ type: 'STEP_FAILED', error: 'could not spawn' });
      expect([run.getSnapshot().value, run.getSnapshot().context.error]).toEqual(['failed', 'could not spawn']);
      run.stop();
    }
  });

  it('opens in Stately as it runs here: its id, and a run starts in its first state', () => {
    expect([pipelineMachine.id, pipelineMachine.config.initial]).toEqual(['pipeline', 'starting']);
    expect([sessionMachine.id, sessionMachine.config.initial]).toEqual(['session', 'active']);
  });
});
