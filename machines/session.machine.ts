import { assign, setup } from 'xstate';

/*
 * The lifecycle of one agent session. Self-contained on purpose: paste this file into the
 * Stately editor (stately.ai) as is. It only decides what is allowed and how the record
 * changes; writing events, spawning agents and files are the manager's job.
 */

/** The agent's result as the machine stores it (validated before it gets here). */
export interface SessionMachineResult {
  success: boolean;
  output: string;
  [key: string]: unknown;
}

/** The agent process of a session, as far as the machine cares. */
export interface SessionMachineAgent {
  pid: number;
  finished: boolean;
  /** Someone asked for it to stop; the manager running it has not stopped it yet. */
  stopRequested?: boolean;
}

/** The record a session actor carries. */
export interface SessionMachineContext {
  id: string;
  agentName: string;
  agent?: SessionMachineAgent;
  handoffTo?: string;
  childSessions: string[];
  endedAt?: string;
  result?: SessionMachineResult;
  error?: string;
}

/** What may happen to an active session. `at` is the ISO time it happened. */
export type SessionMachineEvent =
  | { type: 'HAND_OFF'; toAgent: string; childSession: string; result?: SessionMachineResult; at: string }
  | { type: 'COMPLETE'; result?: SessionMachineResult; at: string }
  | { type: 'FAIL'; error: string; result?: SessionMachineResult; at: string }
  | { type: 'AGENT_STARTED'; pid: number; at: string }
  | { type: 'AGENT_FINISHED'; result: SessionMachineResult; at: string }
  | { type: 'REQUEST_STOP'; reason: string; at: string };

/**
 * The session state machine: `active` → `handedOff` | `completed` | `failed`, all three final.
 * While active, an agent process may be started once at a time (`AGENT_STARTED`) and report a
 * clean finish (`AGENT_FINISHED`) without ending the session; someone may ask a running agent
 * to stop, once (`REQUEST_STOP`): the session ends when its manager has stopped it.
 * Any event in a final state is refused (the snapshot's `can()` is false).
 */
export const sessionMachine = setup({
  // Stryker disable next-line ObjectLiteral: equivalent, `types` is for the compiler; xstate reads nothing from it
  types: {
    context: {} as SessionMachineContext,
    events: {} as SessionMachineEvent,
    input: {} as SessionMachineContext,
  },
  guards: {
    noAgentRunning: ({ context }) => context.agent === undefined || context.agent.finished,
    agentRunning: ({ context }) => context.agent !== undefined && !context.agent.finished,
    agentStoppable: ({ context }) => context.agent !== undefined && !context.agent.finished && context.agent.stopRequested !== true,
  },
  actions: {
    // Stryker disable next-line ConditionalExpression: equivalent, the action runs on this event only (the check narrows its type).
    recordAgentStart: assign(({ event }) => (event.type === 'AGENT_STARTED' ? { agent: { pid: event.pid, finished: false } } : {})),
    recordAgentFinish: assign(({ context, event }) => {
      // Stryker disable next-line ConditionalExpression,LogicalOperator: equivalent, the action runs on this event only, and its guard (agentRunning) says an agent is recorded.
      if (event.type !== 'AGENT_FINISHED' || context.agent === undefined) return {};
      return { agent: { ...context.agent, finished: true }, result: event.result };
    }),
    // Stryker disable next-line ConditionalExpression: equivalent, its guard (agentStoppable) says an agent is recorded.
    recordStopRequest: assign(({ context }) => (context.agent === undefined ? {} : { agent: { ...context.agent, stopRequested: true } })),
    // A session that ends while its agent runs ends its agent's run with it (the record says finished).
    recordAgentEnded: assign(({ context }) => (context.agent === undefined || context.agent.finished ? {} : { agent: { ...context.agent, finished: true } })),
    recordHandoff: assign(({ context, event }) => {
      // Stryker disable next-line ConditionalExpression: equivalent, the action runs on this event only (the check narrows its type).
      if (event.type !== 'HAND_OFF') return {};
      const handedOff = {
        handoffTo: event.toAgent,
        childSessions: [...context.childSessions, event.childSession],
        endedAt: event.at,
      };
      return event.result === undefined ? handedOff : { ...handedOff, result: event.result };
    }),
    recordCompletion: assign(({ event }) => {
      // Stryker disable next-line ConditionalExpression: equivalent, the action runs on this event only (the check narrows its type).
      if (event.type !== 'COMPLETE') return {};
      return event.result === undefined ? { endedAt: event.at } : { endedAt: event.at, result: event.result };
    }),
    recordFailure: assign(({ event }) => {
      // Stryker disable next-line ConditionalExpression: equivalent, the action runs on this event only (the check narrows its type).
      if (event.type !== 'FAIL') return {};
      return event.result === undefined
        ? { endedAt: event.at, error: event.error }
        : { endedAt: event.at, error: event.error, result: event.result };
    }),
  },
}).createMachine({
  id: 'session',
  context: ({ input }) => input,
  initial: 'active',
  states: {
    active: {
      on: {
        AGENT_STARTED: { guard: 'noAgentRunning', actions: 'recordAgentStart' },
        AGENT_FINISHED: { guard: 'agentRunning', actions: 'recordAgentFinish' },
        REQUEST_STOP: { guard: 'agentStoppable', actions: 'recordStopRequest' },
        HAND_OFF: { target: 'handedOff', actions: ['recordAgentEnded', 'recordHandoff'] },
        COMPLETE: { target: 'completed', actions: ['recordAgentEnded', 'recordCompletion'] },
        FAIL: { target: 'failed', actions: ['recordAgentEnded', 'recordFailure'] },
      },
    },
    handedOff: { type: 'final' },
    completed: { type: 'final' },
    failed: { type: 'final' },
  },
});
