import { SessionStatusSchema } from '../../domain/session-status.js';
import { loadView } from '../open-store.js';
import { UsageError, intOption, stringOption, type Command } from '../command.js';
import { print, printJson, sessionsTable } from '../format.js';

/** `list`: the sessions, filtered by status, agent or issue. */
export const listCommand: Command = {
  name: 'list',
  summary: 'list sessions (filter with --status, --agent, --issue)',
  usage: 'list [--status S] [--agent A] [--issue N]',
  options: { status: { type: 'string' }, agent: { type: 'string' }, issue: { type: 'string' } },
  example: 'ID                                    AGENT         STATUS     PHASE           ISSUE  CREATED                   DURATION\n6f3d9a21-9f3c-4cef-a8c1-2df6efa770e3  CodeGenAgent  HandedOff  CodeGeneration  #42    2026-11-25T16:30:10.881Z  963 ms',
  async run(context) {
    const status = stringOption(context, 'status');
    if (status !== undefined && !SessionStatusSchema.safeParse(status).success) {
      throw new UsageError(`--status must be one of ${SessionStatusSchema.options.join(', ')}`);
    }
    const agent = stringOption(context, 'agent');
    const issue = intOption(context, 'issue');
    const { state } = await loadView(context);
    const sessions = [...state.sessions.values()].filter(
      (s) => (status === undefined || s.status === status) && (agent === undefined || s.agentName === agent) && (issue === undefined || s.context.issueNumber === issue),
    );
    if (context.json) printJson(sessions);
    else print(sessions.length === 0 ? '(no sessions)' : sessionsTable(sessions));
    return 0;
  },
};
