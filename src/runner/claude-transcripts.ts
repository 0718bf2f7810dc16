import { lstat, readdir } from 'node:fs/promises';
import { homedir } from 'node:os';
import { join } from 'node:path';

/**
 * Where Claude Code keeps its configuration, and so its transcripts, for an agent with this
 * environment: `CLAUDE_CONFIG_DIR`, else `$HOME/.claude`.
 */
export function claudeConfigDir(env: Readonly<Record<string, string | undefined>>): string {
  return env['CLAUDE_CONFIG_DIR'] || join(env['HOME'] || homedir(), '.claude');
}

/**
 * The transcript Claude Code wrote for a session: `<config dir>/projects/<project>/<id>.jsonl`.
 * The project folder is named after the agent's cwd (long names are cut and hashed), so every
 * project folder is looked in; session ids are unique. Only a regular file counts (never a
 * symlink). `sessionId` must already be a validated UUID.
 */
export async function findClaudeTranscript(configDir: string, sessionId: string): Promise<string | null> {
  const projects = join(configDir, 'projects');
  const folders = await readdir(projects, { withFileTypes: true }).catch(() => []);
  for (const folder of folders) {
    if (!folder.isDirectory()) continue;
    const file = join(projects, folder.name, `${sessionId}.jsonl`);
    if ((await lstat(file).catch(() => null))?.isFile() === true) return file;
  }
  return null;
}
