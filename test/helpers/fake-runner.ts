import { ClaudeRunner } from '../../src/index.js';
import { childScript } from './children.js';

/**
 * A runner of the fake agent CLI (test/helpers/children/fake-agent.ts, run with node):
 * `ok` replies and succeeds, `sleep` runs until stopped; `env` adds its variables
 * (FAKE_AGENT_FAIL=<agent> makes that agent fail by its own verdict).
 */
export function fakeAgentRunner(mode: 'ok' | 'sleep', env: Record<string, string> = {}): ClaudeRunner {
  return new ClaudeRunner({
    command: process.execPath,
    args: ({ prompt, sessionId }) => [childScript('fake-agent'), '--session-id', sessionId, prompt],
    env: { FAKE_AGENT_MODE: mode, ...env },
    killGraceMs: 300,
  });
}
