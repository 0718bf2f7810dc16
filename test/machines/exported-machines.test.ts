import { getSimplePaths } from '@xstate/graph';
import { describe, expect, it } from 'vitest';
import { createMachine, type AnyStateMachine } from 'xstate';
import { pipelineMachine, type PipelineMachineEvent } from '../../machines/pipeline.machine.js';
import { sessionMachine, type SessionMachineEvent } from '../../machines/session.machine.js';
import { machineConfigOf } from '../../src/report/machine-export.js';

/*
 * What `machines export` writes as `<id>.machine.json` loads with `createMachine`, and, given the
 * named guards and actions and the context factory (code, which JSON cannot hold), a walk of every
 * simple path with @xstate/graph takes the same transitions as the machine in machines/.
 */
const AT = '2026-11-30T00:00:00.000Z';
const SESSION_EVENTS: SessionMachineEvent[] = [
  { type: 'HAND_OFF', toAgent: 'ReviewAgent', childSession: 'c', at: AT },
  { type: 'COMPLETE', result: { success: true, output: 'ok' }, at: AT },
  { type: 'FAIL', error: 'boom', at: AT },
  { type: 'AGENT_STARTED', pid: 4242, at: AT },
  { type: 'AGENT_FINISHED', result: { success: true, output: 'done' }, at: AT },
  { type: 'REQUEST_STOP', reason: 'runaway', at: AT },
];
const PIPELINE_EVENTS: PipelineMachineEvent[] = [
  { type: 'STEP_STARTED', sessionId: 's' },
  { type: 'STEP_SUCCEEDED' },
  { type: 'STEP_FAILED', error: 'boom' },
  { type: 'STEP_INTERRUPTED', error: 'killed' },
  { type: 'STEP_RETRIED' },
  { type: 'STEP_CAPPED', cap: 'budget', error: 'Reached maximum budget' },
  { type: 'HOLD', detail: 'nothing left' },
  { type: 'APPROVED' },
  { type: 'REJECTED', reason: 'no' },
];
const CASES = [
  { machine: sessionMachine as AnyStateMachine, events: SESSION_EVENTS, input: { id: 's', agentName: 'CodeGenAgent', childSessions: [] } },
  {
    machine: pipelineMachine as AnyStateMachine,
    events: PIPELINE_EVENTS,
    input: { steps: [{ agentName: 'CodeGenAgent', phase: 'CodeGeneration' }, { agentName: 'DeployAgent', phase: 'CICD', approval: true }], maxRetries: 1 },
  },
];

/** Every simple path as the states it passes and the events that move it, with the context it ends in. */
function walk(machine: AnyStateMachine, events: readonly unknown[], input: unknown): string[] {
  // Bounded: a config that lost a guard may loop without end (the walk throws at the limit instead of hanging).
  const paths = getSimplePaths(machine, { events: events as never, input, limit: 5_000 } as never);
  // Each path with, at its end, which events the state takes: a transition that changes nothing still shows as can().
  return paths
    .map((path) => JSON.stringify([path.steps.map((step) => [step.event.type, step.state.value]), path.state.context, events.map((event) => path.state.can(event as never))]))
    .sort();
}

describe('exported machine configs', () => {
  it.each(CASES)('$machine.id: the JSON loads with createMachine and walks every path as the original does', ({ machine, events, input }) => {
    const json = JSON.parse(JSON.stringify(machineConfigOf(machine))) as Record<string, unknown>;
    expect(() => createMachine(json)).not.toThrow();
    const loaded = createMachine({ ...json, context: (machine.config as { context: unknown }).context } as never).provide(machine.implementations as never);
    const ours = walk(loaded as AnyStateMachine, events, input);
    expect(ours.length).toBeGreaterThan(3);
    expect(ours).toEqual(walk(machine, events, input));
  });
});
