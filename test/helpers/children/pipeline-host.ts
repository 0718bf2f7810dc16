/*
 * A manager process driving a pipeline of real Claude Code agents against a scripted API, to
 * be killed and resumed. Prints `root <id>` as soon as the root exists and `result <json>` at
 * the end. Usage: node pipeline-host.js <store> <worktree> <home> <api url> run|resume <root>|first-step
 * (env START_GRACE_MS: see ResumeOptions.startGraceMs)
 * `first-step` spawns the root of a two-step pipeline, waits for its agent to finish, prints
 * `finished`, and waits to be killed (a crash between a step's end and its handoff).
 */
import { SessionManager, resumePipeline, runPipeline } from '../../../src/index.js';
import { claudeTestRunner } from '../claude-env.js';

const [store, worktree, home, apiUrl, mode, root] = process.argv.slice(2) as [string, string, string, string, string, string?];
const steps = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' as const },
  { agentName: 'ReviewAgent', phase: 'Review' as const },
  { agentName: 'TestAgent', phase: 'Test' as const },
];
const manager = await SessionManager.open(store, { runner: await claudeTestRunner(home, apiUrl) });
const print = (line: string) => process.stdout.write(`${line}\n`);
if (mode === 'first-step') {
  const first = await manager.spawnAgentSession(steps[0]!.agentName, 'Resolve issue #14', { issueNumber: 14, currentPhase: steps[0]!.phase, worktreePath: worktree }, { pipelineSteps: steps.slice(0, 2) });
  print(`root ${first.id}`);
  await manager.waitForAgent(first.id);
  print('finished');
  setInterval(() => {}, 1000);
} else {
  // START_GRACE_MS shortens the wait before a step whose agent was never recorded runs again.
  const grace = process.env['START_GRACE_MS'] === undefined ? {} : { startGraceMs: Number(process.env['START_GRACE_MS']) };
  const result = mode === 'run'
    ? await runPipeline(manager, { issueNumber: 14, worktreePath: worktree, steps, onRoot: (id) => print(`root ${id}`), ...grace })
    : await resumePipeline(manager, root!, grace);
  print(`result ${JSON.stringify({ status: result.status, error: result.error, sessions: result.sessions.map((s) => [s.agentName, s.status]), retried: result.retried.map((s) => [s.agentName, s.status]) })}`);
  await manager.close();
}
