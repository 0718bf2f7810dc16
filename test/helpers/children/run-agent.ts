/*
 * A manager that starts one long-running fake agent and prints `started <session> <agent pid>`,
 * then waits to be killed. Usage: node run-agent.js <store dir> <worktree>
 */
import { fileURLToPath } from 'node:url';
import { ClaudeRunner, SessionManager } from '../../../src/index.js';
import { printWhenStarted } from './print-when-started.js';

const [store, worktree] = process.argv.slice(2) as [string, string];
const fakeAgent = fileURLToPath(new URL('./fake-agent.js', import.meta.url));
const runner = new ClaudeRunner({
  command: process.execPath,
  args: ({ prompt, sessionId }) => [fakeAgent, '--session-id', sessionId, prompt],
  env: { FAKE_AGENT_MODE: 'sleep' },
});
const manager = await SessionManager.open(store, { runner });
const session = await manager.spawnAgentSession('LongAgent', 'run until killed', { issueNumber: 1, currentPhase: 'Test', worktreePath: worktree });
await printWhenStarted(manager, session.id);
setInterval(() => {}, 1000);
