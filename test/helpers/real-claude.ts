import { join } from 'node:path';
import { test as base } from 'vitest';
import { SessionManager, type ClaudeRunner, type ClaudeRunnerOptions, type SessionManagerOptions } from '../../src/index.js';
import { claudeTestEnv, claudeTestRunner, lastUserText, startScriptedApi, type RecordedRequest, type ScriptedReply } from './claude-env.js';
import { tempDir } from './fixtures.js';

/** The scripted API as a test sees it: its address, what it was asked, and its end. */
export type ScriptedApi = Awaited<ReturnType<typeof startScriptedApi>>;

/** What the scripted API answers to one request. */
export type Reply = (request: RecordedRequest, index: number) => ScriptedReply;

/** The default answer: the agent's name (from its prompt) and "step done". */
export const namedStepDone = (delayMs = 0): Reply => (request) => ({ text: `${/You are (\w+)/.exec(lastUserText(request.body))?.[1] ?? 'agent'}: step done`, delayMs });

/** Everything a test of the real Claude Code CLI needs, made fresh for it and torn down after it. */
export interface RealClaude {
  /** A temp directory of the test's own; removed after it. */
  dir: string;
  /** The default store: `<dir>/store`. */
  store: string;
  /** The scripted Messages API (127.0.0.1) the agents talk to; it answers with {@link reply}. */
  api: ScriptedApi;
  /** What the API answers; a test sets its own (default {@link namedStepDone}). */
  reply: Reply;
  /** A host's HOME: `<dir>/home`, or `<dir>/<host>/home` for another host (its own config dir). */
  home(host?: string): string;
  /** A host's agent environment, built from nothing: its HOME, the scripted API, any key. Never the developer's login. */
  env(host?: string): Promise<Record<string, string>>;
  /** A runner that gives its agents only {@link env} (`inheritEnv: false`). */
  runner(options?: ClaudeRunnerOptions & { host?: string }): Promise<ClaudeRunner>;
  /** A manager with such a runner on a store (default {@link store}); closed after the test if still open. */
  open(options?: { store?: string; host?: string; runner?: ClaudeRunnerOptions; manager?: SessionManagerOptions }): Promise<SessionManager>;
}

/**
 * A {@link RealClaude} made now; `teardown` closes its managers, stops the API and removes the dir.
 * For a suite that shares one across its tests (beforeAll/afterAll); one test uses {@link test}.
 */
export async function realClaude(): Promise<RealClaude & { teardown(): Promise<void> }> {
  const { dir, cleanup } = await tempDir();
  const managers: SessionManager[] = [];
  let reply: Reply = namedStepDone();
  const api = await startScriptedApi((request, index) => reply(request, index));
  const home = (host?: string) => (host === undefined ? join(dir, 'home') : join(dir, host, 'home'));
  const env = (host?: string) => claudeTestEnv(home(host), api.url);
  const runner = (options: ClaudeRunnerOptions & { host?: string } = {}) => {
    const { host, ...rest } = options;
    return claudeTestRunner(home(host), api.url, rest);
  };
  return {
    dir,
    store: join(dir, 'store'),
    api,
    get reply() {
      return reply;
    },
    set reply(next: Reply) {
      reply = next;
    },
    home,
    env,
    runner,
    open: async (options = {}) => {
      const host = options.host === undefined ? {} : { host: options.host };
      const manager = await SessionManager.open(options.store ?? join(dir, 'store'), { ...options.manager, runner: await runner({ ...options.runner, ...host }) });
      managers.push(manager);
      return manager;
    },
    teardown: async () => {
      for (const manager of managers) await manager.close().catch(() => undefined);
      await api.close();
      await cleanup();
    },
  };
}

/**
 * `test` with a `claude` fixture ({@link RealClaude}): the real CLI against the scripted API, in a
 * temp dir, all torn down after the test.
 *
 * @example
 * test('a session runs the real CLI', async ({ claude }) => {
 *   claude.reply = () => ({ text: 'done' });
 *   const manager = await claude.open();
 * });
 */
export const test = base.extend<{ claude: RealClaude }>({
  // Vitest reads which fixtures a fixture needs from its first parameter's pattern: none here.
  claude: async ({}, use) => {
    const claude = await realClaude();
    try {
      await use(claude);
    } finally {
      await claude.teardown();
    }
  },
});
