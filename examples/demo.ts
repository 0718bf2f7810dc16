/*
 * The main job, small: one issue goes through CodeGen → Review → Test → Deploy, each agent
 * handing off to the next with its result, then the lineage and stats are printed.
 * Usage: npm run demo [-- <store dir>]   (default .ai/sessions)
 */
import { SessionManager, type Phase, type SessionContextInput } from '../src/index.js';

const dir = process.argv[2] ?? '.ai/sessions';
const issueNumber = 42;
const context = (currentPhase: Phase): SessionContextInput => ({ issueNumber, currentPhase, worktreePath: `.worktrees/issue-${issueNumber}` });

const manager = await SessionManager.open(dir);
console.log(`store: ${dir} (checkpoint ${manager.openReport.checkpoint}, ${manager.openReport.replayedEvents} events replayed)`);

const steps: Array<[string, Phase, string]> = [
  ['CodeGenAgent', 'CodeGeneration', 'implemented the feature in src/feature.ts'],
  ['ReviewAgent', 'Review', 'review passed: 0 blocking comments'],
  ['TestAgent', 'Test', '128 tests passed'],
  ['DeployAgent', 'CICD', 'deployed to staging'],
];
let session = await manager.spawnAgentSession(steps[0]![0], `Implement issue #${issueNumber}`, context(steps[0]![1]));
for (const [i, [, , output]] of steps.entries()) {
  const next = steps[i + 1];
  const result = { success: true, output };
  session = next === undefined
    ? await manager.completeSession(session.id, result)
    : await manager.handoff(session.id, next[0], context(next[1]), { result });
}

console.log('\nlineage (root → leaf):');
for (const [depth, s] of (await manager.getSessionLineage(session.id)).entries()) {
  console.log(`${'  '.repeat(depth)}└─ ${s.agentName} [${s.status}] ${s.context.currentPhase} ${s.id}`);
}
const stats = await manager.getStats();
console.log(`\nstats: ${stats.total} sessions, ${stats.active} active, ${stats.handedOff} handed off, ${stats.completed} completed, ${stats.failed} failed`);
await manager.close();
