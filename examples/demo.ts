/*
 * The main job: issue #42 goes through CodeGen → Review → Test → Deploy. Each agent is a real
 * headless Claude Code process; each hands off to the next, which continues its conversation.
 *
 *   npm run demo                     model replies scripted by a local API server (no credentials needed)
 *   npm run demo -- --real           the real Anthropic API, with your own ANTHROPIC_API_KEY / login
 *   npm run demo -- --dir <store>    where the store goes (default .ai/sessions)
 */
import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { parseArgs } from 'node:util';
import { ClaudeRunner, SessionManager, runPipeline } from '../src/index.js';
import { claudeTestEnv } from './claude-env.js';
import { lastUserText, startScriptedApi } from './scripted-api-server.js';

const { values } = parseArgs({ options: { real: { type: 'boolean', default: false }, dir: { type: 'string', default: '.ai/sessions' } } });
const issueNumber = 42;
const worktree = await mkdtemp(join(tmpdir(), `issue-${issueNumber}-`));

const api = values.real
  ? null
  : await startScriptedApi(({ body }) => {
      const agent = /You are (\S+),/.exec(lastUserText(body))?.[1] ?? 'agent';
      return { text: `${agent}: step done for issue #${issueNumber} (scripted reply)` };
    });
const home = api === null ? null : await mkdtemp(join(tmpdir(), 'claude-home-'));
const env = home === null || api === null ? {} : await claudeTestEnv(home, api.url);

// Scripted, the agents get an environment built from nothing: your own login and config stay out of it.
const manager = await SessionManager.open(values.dir, { runner: new ClaudeRunner({ env, inheritEnv: api === null, timeoutMs: 10 * 60_000 }) });
console.log(`store ${values.dir} · model replies ${api === null ? 'from the real API' : `scripted by ${api.url}`}\n`);
const run = await runPipeline(manager, { issueNumber, worktreePath: worktree, purpose: `Implement issue #${issueNumber}` });

console.log(`pipeline ${run.status}${run.error === undefined ? '' : `: ${run.error}`}\n\nlineage (root → leaf):`);
for (const [depth, s] of run.sessions.entries()) {
  const ms = s.endedAt === undefined ? 0 : Date.parse(s.endedAt) - Date.parse(s.createdAt);
  console.log(`${'   '.repeat(depth)}└─ ${s.agentName} [${s.status}] ${s.context.currentPhase} ${ms} ms ${s.id}`);
  console.log(`${'   '.repeat(depth)}   ${s.result?.output ?? s.error ?? ''}`);
}
const stats = await manager.getStats();
console.log(`\nstats: ${stats.total} sessions, ${stats.active} active, ${stats.handedOff} handed off, ${stats.completed} completed, ${stats.failed} failed · cost $${stats.totalCostUsd.toFixed(4)} · ${stats.totalTurns} turns`);
console.log(`agent output: ${join(values.dir, 'logs')}/<session id>.log`);
await manager.close();
await api?.close();
// The scratch worktree and the scripted agents' home go; what the run left is in the store.
await rm(worktree, { recursive: true, force: true });
if (home !== null) await rm(home, { recursive: true, force: true });
process.exitCode = run.status === 'Completed' ? 0 : 1;
