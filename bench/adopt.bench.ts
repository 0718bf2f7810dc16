import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { ClaudeRunner, SessionManager } from '../src/index.js';
import { familyOf, terminateFamily } from '../src/runner/agent-family.js';
import { summarize, type Row } from './measure.js';
import { scratch } from './work-dir.js';

const SEEDER = fileURLToPath(new URL('./seed-running-pipelines.js', import.meta.url));

/**
 * A manager opened with a runner on a store of `pipelines` running pipelines whose manager
 * crashed: the open finds every orphan and adopts its agent (still running on this host).
 * Beside it, in the same run, a plain open (no runner) of the same store. Each run seeds the
 * store anew (untimed), since closing the adopting manager stops the agents.
 */
export async function adoptBenches(runs: number, pipelines = 1000): Promise<Row[]> {
  const ours: number[] = [];
  const plain: number[] = [];
  for (let run = 0; run < runs; run += 1) {
    const { dir, done } = await scratch('adopt');
    try {
      await execa(process.execPath, [SEEDER, dir, String(pipelines)], { reject: false });
      let start = performance.now();
      const bare = await SessionManager.open(dir);
      plain.push(performance.now() - start);
      await bare.close();
      start = performance.now();
      const adopter = await SessionManager.open(dir, { runner: new ClaudeRunner({ command: 'sleep' }) });
      ours.push(performance.now() - start);
      if (adopter.openReport.adopted.length !== pipelines) throw new Error(`adopted ${adopter.openReport.adopted.length} of ${pipelines}`);
      // The agents are stopped by pid first: close() would stop each one's family by a /proc
      // scan, a minute for a thousand agents (untimed either way).
      for (const s of await adopter.listActiveSessions()) process.kill(s.agent!.process.pid, 'SIGKILL');
      await adopter.close();
    } finally {
      await stopSeededAgents(dir);
      await done();
    }
  }
  const o = summarize(ours);
  const b = summarize(plain);
  return [{ name: `open and adopt: ${pipelines.toLocaleString('en-US')} running pipelines whose manager crashed (ms)`, unit: 'ms', ours: o, baseline: b, baselineName: 'plain open of the same store (no runner)', ratio: b.median / o.median, target: 'reported', note: 'every agent found alive (pid and start time) and followed' }];
}

/** Stops the agents of sessions still Active (a run that failed half way): nothing of the seed outlives it. */
async function stopSeededAgents(dir: string): Promise<void> {
  const manager = await SessionManager.open(dir).catch(() => null);
  if (manager === null) return;
  const ids = (await manager.listActiveSessions()).map((s) => s.id);
  await manager.close();
  for (const sessionId of ids) if (familyOf({ sessionId }).length > 0) await terminateFamily({ sessionId }, 500);
}
