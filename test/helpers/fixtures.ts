import { mkdtemp, rm } from 'node:fs/promises';
import { tmpdir } from 'node:os';
import { join } from 'node:path';
import type { Session, SessionContextInput } from '../../src/index.js';

/** A fresh temp directory; `cleanup` removes it. */
export async function tempDir(prefix = 'miyabi-'): Promise<{ dir: string; cleanup: () => Promise<void> }> {
  const dir = await mkdtemp(join(tmpdir(), prefix));
  return { dir, cleanup: () => rm(dir, { recursive: true, force: true }) };
}

/** A valid context for issue 42 in the given phase. */
export function contextFor(currentPhase: SessionContextInput['currentPhase'] = 'CodeGeneration', issueNumber = 42): SessionContextInput {
  return { issueNumber, currentPhase, worktreePath: `.worktrees/issue-${issueNumber}` };
}

/** A fixed UUID numbered `n` (`3f1d8a52-0000-4000-8000-00000000000n`, another first group with `prefix`): ids a test can name and order. */
export function numberedId(n: number, prefix = '3f1d8a52'): string {
  return `${prefix}-0000-4000-8000-${String(n).padStart(12, '0')}`;
}

/** When {@link sessionFixture} sessions are created. */
export const FIXTURE_AT = '2026-11-30T06:00:00.000Z';

/** An Active root session numbered `n` (a CodeGenAgent's, issue 1, at revision 1), with `over` laid on it: for the pure functions that read sessions. */
export function sessionFixture(n: number, over: Partial<Session> = {}): Session {
  return {
    id: numberedId(n),
    agentName: 'CodeGenAgent',
    purpose: 'p',
    context: { issueNumber: 1, currentPhase: 'CodeGeneration', worktreePath: '/w', previousResults: [] },
    createdAt: FIXTURE_AT,
    status: 'Active',
    parentSession: null,
    childSessions: [],
    revision: 1,
    ...over,
  } as Session;
}
