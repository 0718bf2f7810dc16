/*
 * Crash-test writer: appends spawns and handoffs as fast as it can and prints `ack <id>` after
 * each call resolves, and `checkpoint <n>` each time its in-place checkpoints reach n, until it
 * is killed. Usage: node append-loop.js <dir>
 */
import { SessionManager } from '../../../src/index.js';

const dir = process.argv[2]!;
const context = { issueNumber: 7, currentPhase: 'CodeGeneration' as const, worktreePath: '/tmp/w' };
const manager = await SessionManager.open(dir, { checkpointEvery: 50, checkpointIdleMs: -1 });
process.stdout.write('ready\n');
let checkpoints = 0;
for (let i = 0; ; i += 1) {
  const session = await manager.spawnAgentSession('CodeGenAgent', `crash loop ${i}`, context);
  process.stdout.write(`ack ${session.id}\n`);
  if (manager.checkpointCounters.incremental > checkpoints) {
    checkpoints = manager.checkpointCounters.incremental;
    process.stdout.write(`checkpoint ${checkpoints}\n`);
  }
  if (i % 3 === 0) {
    const child = await manager.handoff(session.id, 'ReviewAgent', { ...context, currentPhase: 'Review' });
    process.stdout.write(`ack ${child.id} handoff ${session.id}\n`);
  }
}
