/*
 * "Host A": its own HOME and manager folder, a manager process on a shared PostgreSQL store
 * that runs one real Claude Code agent against a scripted API, waits for it to finish, prints
 * the session as one JSON line and exits.
 * Usage: node pg-host.js <manager dir> <home> <pg url> <schema> <api url> <worktree> [--no-store]
 */
import { PostgresEventStore, SessionManager } from '../../../src/index.js';
import { claudeTestRunner } from '../claude-env.js';

const [dir, home, url, schema, apiUrl, worktree, flag] = process.argv.slice(2) as [string, string, string, string, string, string, string?];
const manager = await SessionManager.open(dir, {
  store: new PostgresEventStore({ connectionString: url, schema }),
  runner: await claudeTestRunner(home, apiUrl),
  storeTranscripts: flag !== '--no-store',
});
const parent = await manager.spawnAgentSession('CodeGenAgent', 'Write the code', { issueNumber: 13, currentPhase: 'CodeGeneration', worktreePath: worktree });
const ran = await manager.waitForAgent(parent.id);
await manager.close();
process.stdout.write(`${JSON.stringify(ran)}\n`);
