/*
 * A manager that runs one real Claude Code agent against a scripted API and prints
 * `started <session> <agent pid>`, then waits to be killed.
 * Usage: node run-claude-agent.js <store dir> <worktree> <home> <api url>
 */
import { SessionManager } from '../../../src/index.js';
import { printWhenStarted } from './print-when-started.js';
import { claudeTestRunner } from '../claude-env.js';

const [store, worktree, home, apiUrl] = process.argv.slice(2) as [string, string, string, string];
const runner = await claudeTestRunner(home, apiUrl, { allowedTools: ['Bash'] });
const manager = await SessionManager.open(store, { runner });
const session = await manager.spawnAgentSession('ToolAgent', 'run the tool', { issueNumber: 1, currentPhase: 'Test', worktreePath: worktree });
await printWhenStarted(manager, session.id);
setInterval(() => {}, 1000);
