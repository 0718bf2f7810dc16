import { ClaudeRunner, type ClaudeRunnerOptions } from '../../src/index.js';
import { claudeTestEnv } from '../../examples/claude-env.js';

/*
 * The one place tests (and their child processes) take the real CLI's test environment and the
 * scripted Messages API from. Both stay in examples/, where the demo uses them too.
 */
export { claudeTestEnv } from '../../examples/claude-env.js';
export { lastUserText, startScriptedApi, type RecordedRequest, type ScriptedReply } from '../../examples/scripted-api-server.js';

/**
 * A runner of the real CLI for tests: its agents get only the environment built here (HOME under
 * the test's dir, the scripted API at `apiUrl`, any key), never the developer's login or config.
 */
export async function claudeTestRunner(home: string, apiUrl: string, options: ClaudeRunnerOptions = {}): Promise<ClaudeRunner> {
  return new ClaudeRunner({ inheritEnv: false, env: await claudeTestEnv(home, apiUrl), ...options });
}
