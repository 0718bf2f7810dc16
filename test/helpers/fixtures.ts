import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { SessionContextInput } from '../../src/index.js';

/** A fresh temp directory; `cleanup` removes it. */
export async function tempDir(prefix = 'miyabi-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A valid context for issue 42 in the given phase. */
export function contextFor(currentPhase: SessionContextInput['currentPhase'] = 'CodeGeneration', issueNumber = 42): SessionContextInput {
  return { issueNumber, currentPhase, worktreePath: `.worktrees/issue-${issueNumber}` };
}
