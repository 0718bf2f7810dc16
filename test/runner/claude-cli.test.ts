import { existsSync } from 'node:fs';
import { readdir, readFile, stat } from 'node:fs/promises';
import { join } from 'node:path';
import { afterEach, beforeEach, describe, expect } from 'vitest';
import { pidAlive } from '../../src/process/process-identity.js';
import { tempDir } from '../helpers/fixtures.js';
import { logEvents } from '../helpers/log-files.js';
import { test, type RealClaude } from '../helpers/real-claude.js';

/** Every transcript file Claude Code wrote under the temp HOME, by session id. */
async function transcripts(home: string): Promise<Map<string, string>> {
  const found = new Map<string, string>();
  const projects = join(home, '.claude', 'projects');
  for (const project of await readdir(projects).catch(() => [])) {
    for (const file of await readdir(join(projects, project))) {
      if (file.endsWith('.jsonl')) found.set(file.slice(0, -6), join(projects, project, file));
    }
  }
  return found;
}

describe('the real Claude Code CLI as the agent', () => {
  // A developer's shell: their own config dir and login token. None of it may reach the agents.
  const developer = { CLAUDE_CONFIG_DIR: '', ANTHROPIC_AUTH_TOKEN: 'developer-real-token', CLAUDE_CODE_USE_BEDROCK: '1' };
  const saved = new Map<string, string | undefined>();
  let removeDeveloper: () => Promise<void>;
  beforeEach(async () => {
    const developerHome = await tempDir();
    removeDeveloper = developerHome.cleanup;
    developer.CLAUDE_CONFIG_DIR = join(developerHome.dir, 'developer-claude-config');
    for (const [name, value] of Object.entries(developer)) {
      saved.set(name, process.env[name]);
      process.env[name] = value;
    }
  });
  afterEach(async () => {
    // Nothing was written to the developer's config: the agents never saw it.
    expect(existsSync(developer.CLAUDE_CONFIG_DIR)).toBe(false);
    for (const [name, value] of saved) {
      if (value === undefined) delete process.env[name];
      else process.env[name] = value;
    }
    await removeDeveloper();
  });

  const context = (claude: RealClaude) => ({ issueNumber: 42, currentPhase: 'CodeGeneration' as const, worktreePath: claude.dir });

  test('without credentials the session fails with Claude\'s own message', async ({ claude }) => {
    const manager = await claude.open({ runner: { env: { ...(await claude.env()), ANTHROPIC_API_KEY: '', ANTHROPIC_BASE_URL: '' } } });
    const session = await manager.spawnAgentSession('CodeGenAgent', 'Implement #42', context(claude));
    const ended = await manager.waitForAgent(session.id);
    expect(ended.status).toBe('Failed');
    expect(ended.error).toMatch(/Not logged in · Please run \/login/);
    expect(ended.result).toMatchObject({ success: false, output: 'Not logged in · Please run /login' });
    await manager.close();
  });

  test('a spawn runs a whole session against the API: the scripted reply is the result, output logged 0600, transcript written', async ({ claude }) => {
    claude.reply = () => ({ text: 'Implemented feature X in src/x.ts' });
    const { requests } = claude.api;
    const manager = await claude.open({ runner: { completeOnSuccess: true } });
    const session = await manager.spawnAgentSession('CodeGenAgent', 'Implement feature X', context(claude));
    const ended = await manager.waitForAgent(session.id);
    expect(ended).toMatchObject({ status: 'Completed', result: { success: true, output: 'Implemented feature X in src/x.ts', numTurns: 1 } });
    expect(ended.result?.totalCostUsd).toBeGreaterThan(0);
    expect(ended.result?.usage?.['output_tokens']).toBe(7);
    expect(ended.agent).toMatchObject({ cwd: claude.dir, resumedFrom: null, logFile: manager.logFileOf(session.id) });
    expect(ended.agent?.command).toContain('<prompt>');
    const firstPrompt = JSON.stringify(requests[0]!.body['messages']);
    expect(firstPrompt).toContain('Implement feature X');
    expect(firstPrompt).toContain('issue #42');
    const log = await readFile(manager.logFileOf(session.id), 'utf8');
    expect(log).toContain(`"session_id":"${session.id}"`);
    expect((await stat(manager.logFileOf(session.id))).mode & 0o777).toBe(0o600);
    expect((await transcripts(claude.home())).has(session.id)).toBe(true);
    // The CLI keeps its scratch files (claude-<uid>/, cc-socks/) under $TMPDIR: the temp HOME's,
    // which the test removes, never the machine's temp dir, where every run left them behind.
    expect(existsSync(join(claude.home(), 'tmp', `claude-${process.getuid?.() ?? 0}`))).toBe(true);
    const types = (await logEvents(claude.store)).map((e) => e['type']);
    expect(types).toEqual(['SessionSpawned', 'SessionAgentStarted', 'SessionCompleted']);
    await manager.close();
  });

  test('a handoff forks the parent\'s conversation: the child\'s request carries it, both transcripts exist', async ({ claude }) => {
    claude.reply = (_, i) => ({ text: i === 0 ? 'PARENT-ANSWER: wrote the code' : 'CHILD-ANSWER: reviewed' });
    const { requests } = claude.api;
    const manager = await claude.open();
    const parent = await manager.spawnAgentSession('CodeGenAgent', 'Write the code', context(claude));
    const finished = await manager.waitForAgent(parent.id);
    expect(finished).toMatchObject({ status: 'Active', result: { success: true, output: 'PARENT-ANSWER: wrote the code' } });
    const child = await manager.handoff(parent.id, 'ReviewAgent', { ...context(claude), currentPhase: 'Review' });
    expect(child.context.previousResults[0]).toMatchObject({ agentName: 'CodeGenAgent', output: 'PARENT-ANSWER: wrote the code' });
    const reviewed = await manager.waitForAgent(child.id);
    expect(reviewed).toMatchObject({ status: 'Active', result: { output: 'CHILD-ANSWER: reviewed' } });
    expect(reviewed.agent?.resumedFrom).toBe(parent.id);
    const childRequest = JSON.stringify(requests.at(-1)!.body['messages']);
    expect(childRequest).toContain('Write the code');
    expect(childRequest).toContain('PARENT-ANSWER: wrote the code');
    expect(childRequest).toContain('Review phase');
    const files = await transcripts(claude.home());
    expect(files.has(parent.id) && files.has(child.id)).toBe(true);
    await manager.completeSession(child.id, reviewed.result);
    expect((await manager.getSession(parent.id))?.status).toBe('HandedOff');
    await manager.close();
  });

  for (const [status, type] of [[500, 'api_error'], [401, 'authentication_error']] as const) {
    test(`an API answering ${status} fails the session with the API's error`, async ({ claude }) => {
      claude.reply = () => ({ status, error: { type, message: `scripted ${status}` } });
      const manager = await claude.open();
      const session = await manager.spawnAgentSession('CodeGenAgent', 'p', context(claude));
      const ended = await manager.waitForAgent(session.id);
      expect(ended.status).toBe('Failed');
      expect(ended.error).toMatch(new RegExp(`${status}|scripted`));
      await manager.close();
    });
  }

  test('an API that hangs past the timeout fails the session as timed out, and no process is left', async ({ claude }) => {
    claude.reply = () => ({ hang: true });
    const manager = await claude.open({ runner: { timeoutMs: 4000, killGraceMs: 500 } });
    const session = await manager.spawnAgentSession('CodeGenAgent', 'p', context(claude));
    const ended = await manager.waitForAgent(session.id);
    expect(ended.status).toBe('Failed');
    expect(ended.error).toMatch(/timed out after 4000 ms/);
    expect(pidAlive(ended.agent!.process.pid)).toBe(false);
    await manager.close();
  });
});
