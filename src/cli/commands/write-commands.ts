import { PhaseSchema, type Phase } from '../../domain/phase.js';
import type { AgentResult } from '../../domain/agent-result.js';
import { SessionError } from '../../errors.js';
import { SessionManager } from '../../manager/session-manager.js';
import { UsageError, intOption, requirePositional, stringOption, type Command, type CommandContext } from '../command.js';
import { print, printJson } from '../format.js';
import { contextStore } from '../open-store.js';
import type { Session } from '../../domain/session.js';
import { localUser } from '../local-user.js';

async function withManager(context: CommandContext, act: (m: SessionManager) => Promise<Session>): Promise<number> {
  const store = contextStore(context);
  const manager = await SessionManager.open(context.dir, store === undefined ? {} : { store });
  try {
    const session = await act(manager);
    if (context.json) printJson(session);
    else print(`${session.id} ${session.agentName} [${session.status}]`);
    return 0;
  } finally {
    await manager.close();
  }
}

function phaseOption(context: CommandContext): Phase | undefined {
  const phase = stringOption(context, 'phase');
  if (phase === undefined) return undefined;
  const parsed = PhaseSchema.safeParse(phase);
  if (!parsed.success) throw new UsageError(`--phase must be one of ${PhaseSchema.options.join(', ')}`);
  return parsed.data;
}

function resultOption(context: CommandContext, success: boolean): AgentResult | undefined {
  const output = stringOption(context, 'output');
  return output === undefined ? undefined : { success, output };
}

/** `spawn <agent>`: records a new Active session (no agent process: the CLI only records). */
export const spawnCommand: Command = {
  name: 'spawn',
  summary: 'start a session record for an agent',
  usage: 'spawn <agent> --purpose P --phase PHASE [--issue N] [--worktree PATH] [--session-id UUID]',
  options: { purpose: { type: 'string' }, issue: { type: 'string' }, phase: { type: 'string' }, worktree: { type: 'string' }, 'session-id': { type: 'string' } },
  run(context) {
    const agent = requirePositional(context, 0, 'agent name');
    const purpose = stringOption(context, 'purpose');
    const issueNumber = intOption(context, 'issue');
    const currentPhase = phaseOption(context);
    const worktreePath = stringOption(context, 'worktree');
    if (purpose === undefined || currentPhase === undefined) throw new UsageError('--purpose and --phase are required');
    const sessionId = stringOption(context, 'session-id');
    // Without --issue or --worktree the session has none, as the original allows.
    const sessionContext = { issueNumber: issueNumber ?? null, currentPhase, worktreePath: worktreePath ?? null };
    return withManager(context, (m) => m.spawnAgentSession(agent, purpose, sessionContext, sessionId === undefined ? {} : { sessionId }));
  },
};

/** `handoff <from> <agent>`: ends a session as HandedOff and starts the next one. */
export const handoffCommand: Command = {
  name: 'handoff',
  summary: 'hand a session off to the next agent (context defaults to the parent\'s)',
  usage: 'handoff <from-id> <agent> [--phase PHASE] [--issue N] [--worktree PATH] [--output TEXT]',
  options: { phase: { type: 'string' }, issue: { type: 'string' }, worktree: { type: 'string' }, output: { type: 'string' } },
  run(context) {
    const from = requirePositional(context, 0, 'session id');
    const agent = requirePositional(context, 1, 'agent name');
    return withManager(context, async (m) => {
      const parent = await m.getSession(from);
      if (parent === undefined) throw new SessionError('NOT_FOUND', `no session ${from}`, { sessionId: from });
      const next = {
        issueNumber: intOption(context, 'issue') ?? parent.context.issueNumber,
        currentPhase: phaseOption(context) ?? parent.context.currentPhase,
        worktreePath: stringOption(context, 'worktree') ?? parent.context.worktreePath,
      };
      const result = resultOption(context, true);
      return m.handoff(from, agent, next, result === undefined ? {} : { result });
    });
  },
};

/** `complete <id>`: ends an Active session as Completed. */
export const completeCommand: Command = {
  name: 'complete',
  summary: 'end an Active session as Completed',
  usage: 'complete <id> [--output TEXT]',
  options: { output: { type: 'string' } },
  run(context) {
    const id = requirePositional(context, 0, 'session id');
    return withManager(context, (m) => m.completeSession(id, resultOption(context, true)));
  },
};

/** `fail <id> --error TEXT`: ends an Active session as Failed. */
export const failCommand: Command = {
  name: 'fail',
  summary: 'end an Active session as Failed',
  usage: 'fail <id> --error TEXT',
  options: { error: { type: 'string' } },
  run(context) {
    const id = requirePositional(context, 0, 'session id');
    const error = stringOption(context, 'error');
    if (error === undefined) throw new UsageError('--error is required');
    return withManager(context, (m) => m.failSession(id, error));
  },
};

/** `retry <id>`: records a Failed session's work as run again, in a new session (its retry). */
export const retryCommand: Command = {
  name: 'retry',
  summary: 'start a Failed session again as a new session (its retry, with its own derived id)',
  usage: 'retry <id>',
  options: {},
  run(context) {
    const id = requirePositional(context, 0, 'session id');
    return withManager(context, (m) => m.retrySession(id));
  },
};

/**
 * `stop <id>`: asks the running agent of an Active session to stop, wherever it runs: the request
 * goes into the log, and the manager running the agent stops it and fails the session.
 */
export const stopCommand: Command = {
  name: 'stop',
  summary: "ask a session's running agent to stop, on any host (its manager stops it and fails the session)",
  usage: 'stop <id> [--reason TEXT] [--by NAME]',
  options: { reason: { type: 'string' }, by: { type: 'string' } },
  run(context) {
    const id = requirePositional(context, 0, 'session id');
    const reason = stringOption(context, 'reason');
    const by = stringOption(context, 'by') ?? localUser();
    return withManager(context, (m) => m.requestStop(id, reason === undefined ? { by } : { by, reason }));
  },
};
