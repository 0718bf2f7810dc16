/*
 * A manager whose runner records, as its agent, a process that is not it: the given pid with
 * a start time it never had (what the log shows once the agent died and its pid went to
 * another process). Prints `started <session> <pid>`, then waits to be killed.
 * Usage: node reused-pid-agent.js <store dir> <worktree> <pid>
 */
import { SessionManager, type AgentRunner } from '../../../src/index.js';
import { printWhenStarted } from './print-when-started.js';

const [store, worktree, pid] = process.argv.slice(2) as [string, string, string];
const runner: AgentRunner = {
  forksOnHandoff: false,
  completeOnSuccess: false,
  run: async (spec) => {
    await spec.onStarted({ pid: Number(pid), startTime: '1', command: ['claude'], cwd: worktree });
    return new Promise(() => {});
  },
};
const manager = await SessionManager.open(store, { runner });
const session = await manager.spawnAgentSession('CodeGenAgent', 'write the code', { issueNumber: 1, currentPhase: 'CodeGeneration', worktreePath: worktree });
await printWhenStarted(manager, session.id);
setInterval(() => {}, 1000);
