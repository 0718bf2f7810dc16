/*
 * A manager process driving a gated pipeline (CodeGen → Deploy, which requires approval) of real
 * Claude Code agents against a scripted API, notifying a webhook, to be killed between an event
 * and its delivery and resumed. Prints `root <id>` as soon as the root exists and `result <json>`.
 * Usage: node notify-host.js <store> <worktree> <home> <api url> <webhook url> run|resume <root>
 */
import { SessionManager, resumePipeline, runPipeline } from '../../../src/index.js';
import { claudeTestRunner } from '../claude-env.js';

const [store, worktree, home, apiUrl, webhook, mode, root] = process.argv.slice(2) as [string, string, string, string, string, string, string?];
const steps = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' as const },
  { agentName: 'DeployAgent', phase: 'CICD' as const, approval: true },
];
const manager = await SessionManager.open(store, { runner: await claudeTestRunner(home, apiUrl), notify: { secret: 'test-secret', backoffMs: 100, timeoutMs: 60_000 } });
const print = (line: string) => process.stdout.write(`${line}\n`);
const result = mode === 'run'
  ? await runPipeline(manager, { issueNumber: 26, worktreePath: worktree, steps, webhooks: [webhook], onRoot: (id) => print(`root ${id}`) })
  : await resumePipeline(manager, root!);
print(`result ${JSON.stringify({ status: result.status, error: result.error })}`);
await manager.close();
