import { mkdir } from 'node:fs/promises';
import { join } from 'node:path';

/**
 * Environment for the real Claude Code CLI in tests and the demo: a temp HOME (its transcripts land under
 * `$HOME/.claude/projects`), the fake API server, any API key, and no traffic elsewhere.
 */
export async function claudeTestEnv(home: string, apiUrl?: string): Promise<Record<string, string>> {
  await mkdir(join(home, 'tmp'), { recursive: true });
  const env: Record<string, string> = {
    HOME: home,
    CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC: '1',
    DISABLE_AUTOUPDATER: '1',
    DISABLE_TELEMETRY: '1',
    XDG_CONFIG_HOME: join(home, '.config'),
    // The CLI keeps scratch files under $TMPDIR/claude-<uid> (one folder a working directory):
    // under the temp HOME, they go when the test's or the demo's directory goes.
    TMPDIR: join(home, 'tmp'),
    // Fail fast on scripted API errors instead of retrying for minutes.
    CLAUDE_CODE_MAX_RETRIES: '0',
  };
  if (apiUrl !== undefined) Object.assign(env, { ANTHROPIC_BASE_URL: apiUrl, ANTHROPIC_API_KEY: 'sk-test-not-a-real-key' });
  return env;
}
