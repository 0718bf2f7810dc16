import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { measure, type Figure } from './measure.js';
import { scratch } from './work-dir.js';

/** The original's design, honestly: every change rewrites the whole sessions.json (temp, fsync, rename). */
async function originalTransition(dir: string, sessions: Array<Record<string, unknown>>): Promise<number> {
  const start = performance.now();
  sessions[sessions.length - 1]!['status'] = sessions[sessions.length - 1]!['status'] === 'Active' ? 'Completed' : 'Active';
  const temp = join(dir, 'sessions.json.tmp');
  const handle = await open(temp, 'w');
  await handle.writeFile(JSON.stringify({ sessions, version: 1 }, null, 2));
  await handle.sync();
  await handle.close();
  await rename(temp, join(dir, 'sessions.json'));
  return performance.now() - start;
}

/** Milliseconds one transition costs the original's design on a store of `size` sessions. */
export async function originalTransitionMs(runs: number, size: number): Promise<Figure> {
  const { dir, done } = await scratch(`orig-${size}`);
  try {
    const records = Array.from({ length: size }, (_, i) => ({
      id: uuidv4(), agent_name: 'CodeGenAgent', purpose: `Resolve issue #${i}`,
      context: { issue_number: i + 1, current_phase: 'CodeGeneration', worktree_path: `/w/issue-${i}` },
      created_at: new Date().toISOString(), status: 'HandedOff', parent_session: null, child_sessions: [uuidv4()], handoff_to: 'ReviewAgent',
    }));
    return await measure(runs, async () => {
      let total = 0;
      for (let i = 0; i < 3; i += 1) total += await originalTransition(dir, records);
      return total / 3;
    });
  } finally {
    await done();
  }
}
