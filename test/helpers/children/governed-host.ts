/*
 * A manager process driving a governed pipeline (a $0.05 budget over CodeGen → Review) of real
 * Claude Code agents against a scripted API, to be killed while it waits and resumed. Prints
 * `root <id>` as soon as the root exists and `result <json>` at the end.
 * Usage: node governed-host.js <store: dir or postgres://…#schema> <cache dir> <worktree> <home> <api url> run|resume <root>
 */
import { SessionManager, resumePipeline, runPipeline } from '../../../src/index.js';
import { storeFromSpec } from '../../../src/cli/open-store.js';
import { claudeTestRunner } from '../claude-env.js';

const [spec, cache, worktree, home, apiUrl, mode, root] = process.argv.slice(2) as [string, string, string, string, string, string, string?];
const steps = [
  { agentName: 'CodeGenAgent', phase: 'CodeGeneration' as const },
  { agentName: 'ReviewAgent', phase: 'Review' as const },
];
const postgres = spec.startsWith('postgres');
const manager = await SessionManager.open(postgres ? cache : spec, { runner: await claudeTestRunner(home, apiUrl), ...(postgres ? { store: storeFromSpec(spec) } : {}) });
const print = (line: string) => process.stdout.write(`${line}\n`);
const result = mode === 'run'
  ? await runPipeline(manager, { issueNumber: 26, worktreePath: worktree, steps, budgetUsd: 0.05, onRoot: (id) => print(`root ${id}`) })
  : await resumePipeline(manager, root!);
print(`result ${JSON.stringify({ status: result.status, error: result.error, sessions: result.sessions.map((s) => [s.agentName, s.status]), retried: result.retried.map((s) => [s.agentName, s.status, s.capped]) })}`);
await manager.close();
