/*
 * A manager that starts one long-running fake agent and prints `started <session> <agent pid>`,
 * then waits to be killed. Usage: node run-agent.js <store dir> <worktree> [<pg url> <schema>]
 * (with a PostgreSQL store, <store dir> is only this manager's own folder: another "host").
 */
import { fileURLToPath } from 'node:url';
import { ClaudeRunner, PostgresEventStore, SessionManager } from '../../../src/index.js';
import { printWhenStarted } from './print-when-started.js';

const [store, worktree, pgUrl, schema] = process.argv.slice(2) as [string, string, string?, string?];
const fakeAgent = fileURLToPath(new URL('./fake-agent.js', import.meta.url));
const runner = new ClaudeRunner({
  command: process.execPath,
  args: ({ prompt, sessionId }) => [fakeAgent, '--session-id', sessionId, prompt],
  env: { FAKE_AGENT_MODE: 'sleep' },
});
const shared = pgUrl === undefined ? {} : { store: new PostgresEventStore({ connectionString: pgUrl, schema: schema! }) };
const manager = await SessionManager.open(store, { runner, ...shared });
const session = await manager.spawnAgentSession('LongAgent', 'run until killed', { issueNumber: 1, currentPhase: 'Test', worktreePath: worktree });
await printWhenStarted(manager, session.id);
setInterval(() => {}, 1000);
