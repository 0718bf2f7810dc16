/*
 * Run as an unprivileged user (root ignores permission bits): appends, takes away its own write
 * permission on the store directory, tries an append and a checkpoint, gives it back, appends
 * again; prints one JSON line with what happened. Usage: node permission-writer.js <dir>
 */
import { chmod } from 'node:fs/promises';
import { SessionManager, isSessionError } from '../../../src/index.js';

const dir = process.argv[2]!;
const context = { issueNumber: 3, currentPhase: 'Test' as const, worktreePath: '/w' };
const outcome = async (call: () => Promise<unknown>) => {
  try {
    await call();
    return 'ok';
  } catch (error) {
    return isSessionError(error) ? `${error.code}: ${error.message}` : `unexpected: ${String(error)}`;
  }
};
const manager = await SessionManager.open(dir, { checkpointIdleMs: -1, lockLeaseMs: 0 });
const first = await manager.spawnAgentSession('A', 'before', context);
await chmod(dir, 0o555);
const denied = await outcome(() => manager.spawnAgentSession('A', 'denied', context));
const checkpoint = await outcome(() => manager.checkpoint());
await chmod(dir, 0o755);
const after = await outcome(() => manager.spawnAgentSession('A', 'after', context));
await manager.close();
process.stdout.write(`${JSON.stringify({ first: first.id, denied, checkpoint, after })}\n`);
