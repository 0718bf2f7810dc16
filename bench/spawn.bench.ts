import { execa } from 'execa';
import { ClaudeRunner, SessionManager } from '../src/index.js';
import { measurePair, type Row } from './measure.js';
import { scratch } from './work-dir.js';

const RESULT = '{"type":"result","is_error":false,"result":"ok","num_turns":1}\n';

/** Per-session time on top of a bare execa spawn of the same trivial command (printf of a result line). */
export async function spawnBenches(runs: number): Promise<Row[]> {
  const { dir, done } = await scratch('spawn');
  try {
    const n = 30;
    const runner = new ClaudeRunner({ command: 'printf', args: () => [RESULT], completeOnSuccess: true });
    const m = await SessionManager.open(dir, { runner });
    const { ours, baseline: bare } = await measurePair(
      runs,
      1,
      async () => {
        const start = performance.now();
        for (let i = 0; i < n; i += 1) {
          const s = await m.spawnAgentSession('A', 'p', { issueNumber: 1, currentPhase: 'Test', worktreePath: dir });
          await m.waitForAgent(s.id);
        }
        return (performance.now() - start) / n;
      },
      async () => {
        const start = performance.now();
        for (let i = 0; i < n; i += 1) await execa('printf', [RESULT], { cwd: dir });
        return (performance.now() - start) / n;
      },
    );
    await m.close();
    const overhead = { median: ours.median - bare.median, min: ours.min - bare.max, max: ours.max - bare.min, runs };
    return [{ name: 'spawn: manager time per session', unit: 'ms', ours, baseline: bare, baselineName: 'bare execa of the same command', ratio: bare.median / ours.median, target: '≤ 5 ms overhead', note: `overhead ${overhead.median.toFixed(2)} ms (3 durable appends: spawned, agent started, completed)` }];
  } finally {
    await done();
  }
}
