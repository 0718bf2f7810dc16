/*
 * The screenshots of the dashboard in docs/images/, made from a demo store:
 *
 *   npm run screenshots              writes docs/images/dashboard-{overview,pipelines,sessions,pipeline}.png
 *
 * The store: the demo's pipeline for issue #42 (real headless Claude Code agents, model replies
 * scripted by a local API server, as `npm run demo`), then, through the library, a pipeline whose
 * tests fail, one whose review is still running and a few finished ones. The server runs agents
 * as `serve --agents` does, so the failed pipeline's page shows its Retry button. Chromium:
 * Debian's, or CHROMIUM_PATH.
 */
import { mkdir, mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import { fileURLToPath } from 'node:url';
import { chromium } from 'playwright-core';
import { ClaudeRunner, SessionManager, runPipeline } from '../src/index.js';
import { readFileSessions, type SessionReads } from '../src/query/session-reads.js';
import { startDashboard } from '../src/server/dashboard.js';
import { FileEventStore } from '../src/store/file/file-event-store.js';
import { FileTranscripts } from '../src/store/file/file-transcripts.js';
import { claudeTestEnv } from './claude-env.js';
import { lastUserText, startScriptedApi } from './scripted-api-server.js';

const out = fileURLToPath(new URL('../../docs/images/', import.meta.url));
const dir = await mkdtemp(join(tmpdir(), 'dashboard-demo-'));
const worktree = await mkdtemp(join(tmpdir(), 'issue-42-'));
const home = await mkdtemp(join(tmpdir(), 'claude-home-'));
const api = await startScriptedApi(({ body }) => {
  const agent = /You are (\S+),/.exec(lastUserText(body))?.[1] ?? 'agent';
  return { text: `${agent}: step done for issue #42 (scripted reply)` };
});
try {
  const env = await claudeTestEnv(home, api.url);
  const agents = await SessionManager.open(dir, { runner: new ClaudeRunner({ env, inheritEnv: false, timeoutMs: 5 * 60_000 }) });
  await runPipeline(agents, { issueNumber: 42, worktreePath: worktree, purpose: 'Implement issue #42' });
  await agents.close();
  // More of a day's work, through the library (no runner: nothing is started): finished
  // pipelines, one failing its tests, one still in review.
  const manager = await SessionManager.open(dir);
  const result = (output: string, cost: number) => ({ success: true, output, numTurns: 4, durationMs: 1800, totalCostUsd: cost });
  for (const issue of [43, 44, 45]) {
    const codegen = await manager.spawnAgentSession('CodeGenAgent', `Implement issue #${issue}`, { issueNumber: issue, currentPhase: 'CodeGeneration' });
    const review = await manager.handoff(codegen.id, 'ReviewAgent', { issueNumber: issue, currentPhase: 'Review' }, { result: result('diff ready: 3 files changed', 0.021) });
    const test = await manager.handoff(review.id, 'TestAgent', { issueNumber: issue, currentPhase: 'Test' }, { result: result('approved', 0.008) });
    if (issue === 44) {
      await manager.failSession(test.id, 'TestAgent: 2 tests failed in src/parser.test.ts: expected 3 tokens, got 2');
      continue;
    }
    const deploy = await manager.handoff(test.id, 'DeployAgent', { issueNumber: issue, currentPhase: 'CICD' }, { result: result('all 128 tests pass', 0.012) });
    await manager.completeSession(deploy.id, result('deployed to staging', 0.004));
  }
  const running = await manager.spawnAgentSession('CodeGenAgent', 'Implement issue #46', { issueNumber: 46, currentPhase: 'CodeGeneration' });
  await manager.handoff(running.id, 'ReviewAgent', { issueNumber: 46, currentPhase: 'Review' }, { result: result('diff ready: 1 file changed', 0.017) });
  await manager.close();

  // As `serve --agents` runs it: its buttons stop, retry and resume (none is pressed here).
  const steering = await SessionManager.open(dir, { runner: new ClaudeRunner({ env, inheritEnv: false, timeoutMs: 5 * 60_000 }) });
  const dashboard = await startDashboard({
    read: <T>(fn: (reads: SessionReads) => Promise<T>) => readFileSessions(dir, fn),
    store: new FileEventStore(dir),
    transcripts: new FileTranscripts(dir),
    location: '.ai/sessions',
    port: 0,
    actions: { manager: async () => steering, agents: true, localUser: 'you' },
  });
  const browser = await chromium.launch({ executablePath: process.env['CHROMIUM_PATH'] ?? '/usr/bin/chromium', args: ['--no-sandbox', '--disable-gpu', '--disable-background-networking'] });
  try {
    const page = await browser.newPage({ viewport: { width: 1280, height: 860 } });
    await mkdir(out, { recursive: true });
    const failed = await readFileSessions(dir, async (reads) => (await reads.page({ status: 'Failed', limit: 1 })).sessions[0]!);
    // The overview's charts are counted in the background after its first request.
    for (let tries = 0; tries < 100 && !(await (await fetch(dashboard.url)).text()).includes('id="sessions-over-time"'); tries += 1) await new Promise((resolve) => setTimeout(resolve, 100));
    for (const [name, path] of [['overview', ''], ['pipelines', 'pipelines'], ['sessions', 'sessions?issue=44'], ['pipeline', `pipeline/${failed.id}`]] as const) {
      await page.goto(dashboard.url + path);
      await page.screenshot({ path: join(out, `dashboard-${name}.png`), fullPage: name === 'pipeline' || name === 'overview' });
      console.log(`wrote docs/images/dashboard-${name}.png`);
    }
  } finally {
    await browser.close();
    await dashboard.close();
    await steering.close();
  }
} finally {
  await api.close();
  await rm(dir, { recursive: true, force: true });
  await rm(worktree, { recursive: true, force: true });
  await rm(home, { recursive: true, force: true });
}
