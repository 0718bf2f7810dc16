import { getSimplePaths } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import { pipelineMachine, type PipelineMachineEvent } from '../../machines/pipeline.machine.js';

const steps = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' },
  { agentName: 'DeployAgent', phase: 'CICD', approval: true },
];

const events: PipelineMachineEvent[] = [
  { type: 'STEP_STARTED', sessionId: 's' },
  { type: 'STEP_SUCCEEDED' },
  { type: 'STEP_FAILED', error: 'boom' },
  { type: 'STEP_INTERRUPTED', error: 'killed' },
  { type: 'STEP_CAPPED', cap: 'budget', error: 'Reached maximum budget' },
  { type: 'HOLD', detail: 'nothing left' },
  { type: 'APPROVED' },
  { type: 'REJECTED', reason: 'no' },
];

describe('governed pipeline machine: every path, by @xstate/graph', () => {
  const paths = getSimplePaths(pipelineMachine, { events, input: { steps, maxRetries: 1 } });
  const endings = paths.filter((p) => p.state.status === 'done');

  it('a gated step starts only after an approval of its gate, never while the run waits', () => {
    expect(endings.some((p) => p.state.value === 'completed')).toBe(true);
    for (const path of paths) {
      let waiting = false;
      for (const { event, state } of path.steps) {
        if (waiting) expect(['APPROVED', 'REJECTED']).toContain(event.type);
        waiting = state.value === 'awaitingApproval';
      }
    }
    for (const path of endings.filter((p) => p.state.value === 'completed')) {
      const types = path.steps.map((s) => s.event.type);
      // Step 2 is gated: its first session starts after an approval.
      const gatedStart = path.steps.findIndex((s) => s.event.type === 'STEP_STARTED' && s.state.context.index === 1);
      expect(types.slice(0, gatedStart)).toContain('APPROVED');
    }
  });

  it('a cap never fails the run: it waits, and only a rejection or a failure ends it Failed', () => {
    for (const path of endings.filter((p) => p.state.value === 'failed')) {
      const last = path.steps.at(-1)!.event.type;
      expect(['STEP_FAILED', 'STEP_INTERRUPTED', 'REJECTED']).toContain(last);
    }
    for (const path of paths) {
      path.steps.forEach(({ event, state }) => {
        if (event.type === 'STEP_CAPPED') expect(state.value).toBe('awaitingApproval');
      });
    }
    // After an approved cap the step runs again as a new session, not counted as a retry.
    const continued = paths.find((p) => p.steps.some((s) => s.event.type === 'STEP_CAPPED') && p.state.value === 'retrying');
    expect(continued?.state.context.retries).toBe(0);
  });

  it('a rejection says why', () => {
    const rejected = endings.find((p) => p.steps.at(-1)!.event.type === 'REJECTED');
    expect(rejected?.state.context.error).toBe('rejected: no');
  });
});
