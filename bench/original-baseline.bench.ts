import { open, rename } from 'node:fs/promises';
import { join } from 'node:path';
import { v4 as uuidv4 } from 'uuid';
import { SessionManager } from '../src/index.js';
import { writeBigLog } from './big-log.js';
import { measure, type Row } from './measure.js';
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

/** Cost of one transition at 1k, 10k and 100k sessions: the original's rewrite vs our append. */
export async function originalBaselineBenches(runs: number): Promise<Row[]> {
  const rows: Row[] = [];
  for (const size of [1_000, 10_000, 100_000]) {
    const { dir, done } = await scratch(`orig-${size}`);
    try {
      // Ours: a store holding `size` sessions (the generator makes 4 per 16 events).
      await writeBigLog(dir, size * 4);
      const m = await SessionManager.open(dir, { checkpointIdleMs: -1, checkpointEvery: Number.MAX_SAFE_INTEGER });
      const ours = await measure(runs, async () => {
        const start = performance.now();
        for (let i = 0; i < 20; i += 1) await m.spawnAgentSession('CodeGenAgent', 'bench', { issueNumber: 1, currentPhase: 'Test', worktreePath: '/w' });
        return (performance.now() - start) / 20;
      });
      await m.close();
      const records = Array.from({ length: size }, (_, i) => ({
        id: uuidv4(), agent_name: 'CodeGenAgent', purpose: `Resolve issue #${i}`,
        context: { issue_number: i + 1, current_phase: 'CodeGeneration', worktree_path: `/w/issue-${i}` },
        created_at: new Date().toISOString(), status: 'HandedOff', parent_session: null, child_sessions: [uuidv4()], handoff_to: 'ReviewAgent',
      }));
      const original = await measure(runs, async () => {
        let total = 0;
        for (let i = 0; i < 3; i += 1) total += await originalTransition(dir, records);
        return total / 3;
      });
      rows.push({ name: `one transition at ${size.toLocaleString('en-US')} sessions`, unit: 'ms', ours, baseline: original, baselineName: 'original: rewrite sessions.json', ratio: original.median / ours.median, target: 'flat as the store grows' });
    } finally {
      await done();
    }
  }
  return rows;
}
