import { execa } from 'execa';
import { fileURLToPath } from 'node:url';
import { ClaudeRunner, SessionManager } from '../src/index.js';
import { familyOf } from '../src/process/agent-family.js';
import { terminateFamily } from '../src/process/terminate-family.js';
import { show, summarize, type Row } from './measure.js';
import { scratch } from './work-dir.js';

const SEEDER = fileURLToPath(new URL('./seed-running-pipelines.js', import.meta.url));

/**
 * A manager opened with a runner on a store of `pipelines` running pipelines whose manager
 * crashed: the open finds every orphan and adopts its agent (still running on this host).
 * Beside it, in the same run, a plain open (no runner) of the same store. The note gives the
 * adopting manager's close(), which stops every agent. Each run seeds the store anew (untimed).
 */
export async function adoptBenches(runs: number, pipelines = 1000): Promise<Row[]> {
  const ours: number[] = [];
  const plain: number[] = [];
  const closes: number[] = [];
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
      // close() stops every adopted agent and its family.
      start = performance.now();
      await adopter.close();
      closes.push(performance.now() - start);
    } finally {
      await stopSeededAgents(dir);
      await done();
    }
  }
  const o = summarize(ours);
  const b = summarize(plain);
  const c = summarize(closes);
  return [{ name: `open and adopt: ${pipelines.toLocaleString('en-US')} running pipelines whose manager crashed (ms)`, unit: 'ms', ours: o, baseline: b, baselineName: 'plain open of the same store (no runner)', ratio: b.median / o.median, target: 'reported', note: `every agent found alive (pid and start time) and followed; then close(), which stops all ${pipelines.toLocaleString('en-US')} agents and their families: ${show(c)} ms` }];
}

/** Stops the agents of sessions still Active (a run that failed half way): nothing of the seed outlives it. */
async function stopSeededAgents(dir: string): Promise<void> {
  const manager = await SessionManager.open(dir).catch(() => null);
  if (manager === null) return;
  const ids = (await manager.listActiveSessions()).map((s) => s.id);
  await manager.close();
  for (const sessionId of ids) if (familyOf({ sessionId }).length > 0) await terminateFamily({ sessionId }, 500);
}
