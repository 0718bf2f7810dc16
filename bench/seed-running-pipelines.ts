/*
 * Seeds a store with N running pipelines, then dies as a crashed manager does (SIGKILL): each
 * pipeline's root session is Active with its agent (a `sleep`, carrying the session's id like
 * a real agent) still running on this host. Prints nothing; exits by its own SIGKILL.
 * Usage: node seed-running-pipelines.js <store dir> <N>
 */
import { spawn } from 'node:child_process';
import { SessionManager, DEFAULT_PIPELINE, type AgentRunner } from '../src/index.js';
import { processStartTime } from '../src/process/process-identity.js';

const [dir, count] = process.argv.slice(2) as [string, string];
const runner: AgentRunner = {
  forksOnHandoff: true,
  completeOnSuccess: false,
  run: async (spec) => {
    const agent = spawn('sleep', ['600'], { detached: true, stdio: 'ignore', env: { MIYABI_SESSION_ID: spec.session.id } });
    agent.unref();
    await spec.onStarted({ pid: agent.pid!, startTime: processStartTime(agent.pid!), command: ['sleep', '600'], cwd: spec.session.context.worktreePath ?? process.cwd() });
    return new Promise(() => {});
  },
};
const manager = await SessionManager.open(dir, { runner });
const n = Number(count);
for (let i = 0; i < n; i += 100) {
  await Promise.all(
    Array.from({ length: Math.min(100, n - i) }, (_, j) =>
      manager.spawnAgentSession('CodeGenAgent', `Resolve issue #${i + j}`, { issueNumber: i + j + 1, currentPhase: 'CodeGeneration', worktreePath: dir }, { pipelineSteps: [...DEFAULT_PIPELINE] }),
    ),
  );
}
for (;;) {
  const running = (await manager.listActiveSessions()).filter((s) => s.agent !== undefined).length;
  if (running >= n) break;
  await new Promise((r) => setTimeout(r, 50));
}
await manager.checkpoint();
process.kill(process.pid, 'SIGKILL');
