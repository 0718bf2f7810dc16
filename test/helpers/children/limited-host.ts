/*
 * A manager process running pipelines (CodeGen → Review) of real Claude Code agents against a
 * scripted API, under the store's concurrency limit, with a short slot lease: to run beside
 * another such process, be killed with SIGKILL mid-run, and be restarted to resume its roots.
 * Prints `root <id>` as each root exists and `result <root> <json>` as each pipeline ends.
 * Usage: node limited-host.js <store: dir or postgres://…#schema> <cache dir> <worktree> <home> <api url> <lease ms> run <count> | resume <root>…
 */
import { SessionManager, resumePipeline, runPipeline, type PipelineResult } from '../../../src/index.js';
import { storeFromSpec } from '../../../src/cli/open-store.js';
import { claudeTestRunner } from '../claude-env.js';

const [spec, cache, worktree, home, apiUrl, leaseMs, mode, ...rest] = process.argv.slice(2) as [string, string, string, string, string, string, string, ...string[]];
const steps = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' as const },
  { agentName: 'ReviewAgent', phase: 'Review' as const },
];
const postgres = spec.startsWith('postgres');
const manager = await SessionManager.open(postgres ? cache : spec, {
  runner: await claudeTestRunner(home, apiUrl),
  slotLeaseMs: Number(leaseMs),
  slotPollMs: 100,
  ...(postgres ? { store: storeFromSpec(spec) } : {}),
});
const print = (line: string) => process.stdout.write(`${line}\n`);
const told = (root: string, result: PipelineResult) =>
  print(`result ${root} ${JSON.stringify({ status: result.status, error: result.error, sessions: result.sessions.map((s) => [s.agentName, s.status]), retried: result.retried.map((s) => (s.agent === undefined ? 'never started' : s.error)) })}`);
if (mode === 'run') {
  await Promise.all(
    Array.from({ length: Number(rest[0]) }, async (_, i) => {
      let root = '';
      const result = await runPipeline(manager, { issueNumber: 100 + i, worktreePath: worktree, steps, maxRetries: 1, startGraceMs: 5000, onRoot: (id) => print(`root ${(root = id)}`) });
      told(root, result);
    }),
  );
} else {
  print(`adopted ${manager.openReport.adopted.length}`);
  await Promise.all(rest.map(async (root) => told(root, await resumePipeline(manager, root, { startGraceMs: 5000 }))));
}
await manager.close();
